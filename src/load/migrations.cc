#include "load/migrations.h"

#include <iterator>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace covid {
namespace {

struct Migration {
  const char* sqlite;
  const char* postgres;                           // nullptr: generated_postgres() gives it
  const char* (*generated_postgres)() = nullptr;  // built once, on first use
};

// --- step 10: foreign keys as statement triggers ---------------------------------------------
//
// A foreign key of a table replaced by statement-level triggers with transition tables, which hold
// the same rules at commit: rows inserted or updated into the table must name an existing row of
// each referenced table (the referenced rows are locked FOR KEY SHARE once per key, as a foreign
// key's check locks them once per row, so that no concurrent transaction deletes them before the
// commit); a referenced row that the table names cannot be deleted, have its id changed, or be
// truncated away. Errors are foreign_key_violation (23503). Every referenced table's key is its
// column `id`; the foreign key to drop is PostgreSQL's default name for it, TABLE_COLUMN_fkey.
struct StatementKey {
  const char* column;  // of the table: location
  const char* type;    // its type: text (quoted in messages) or bigint
  const char* table;   // the referenced table: locations
  const char* name;    // in the names of triggers and in messages: location
  const char* ids;     // the check function's array of the keys written: loc_ids
};

// The statements that replace `table`'s foreign keys `keys` (at least one) by triggers: the
// foreign keys dropped; TABLE_keys_check(), run after each INSERT and UPDATE statement on the
// table, checks every key; TABLE_referenced_check(COLUMN) refuses a DELETE, an UPDATE of id or a
// TRUNCATE of a referenced table that would leave the table's COLUMN naming a row that is gone.
std::string statement_keys_sql(const std::string& table, std::span<const StatementKey> keys) {
  const std::string t = "{s}." + table;
  std::string out;
  for (const StatementKey& k : keys) {
    out += "ALTER TABLE " + t + " DROP CONSTRAINT " + table + "_" + k.column + "_fkey;\n";
  }
  out += "\nCREATE FUNCTION " + t + "_keys_check() RETURNS trigger LANGUAGE plpgsql AS $f$\n";
  out += "DECLARE\n";
  for (const StatementKey& k : keys) out += "  " + std::string(k.ids) + " " + k.type + "[];\n";
  out += "  found bigint;\n  missing text;\nBEGIN\n";
  for (const StatementKey& k : keys) {
    out += "  SELECT array_agg(" + std::string(k.column) + ") INTO " + k.ids +
           " FROM (SELECT DISTINCT " + k.column + " FROM written) k;\n";
  }
  out += "  IF " + std::string(keys[0].ids) + " IS NULL THEN\n    RETURN NULL;\n  END IF;\n";
  for (const StatementKey& k : keys) {
    const std::string ref = "{s}." + std::string(k.table), ids = k.ids;
    out += "  PERFORM 1 FROM " + ref + " WHERE id = ANY (" + ids + ") FOR KEY SHARE;\n";
    out += "  GET DIAGNOSTICS found = ROW_COUNT;\n";
    out += "  IF found <> cardinality(" + ids + ") THEN\n";
    out += "    SELECT k INTO missing FROM unnest(" + ids + ") k\n";
    out += "      WHERE NOT EXISTS (SELECT 1 FROM " + ref + " " + k.table[0] + " WHERE " +
           k.table[0] + ".id = k) LIMIT 1;\n";
    out += "    RAISE foreign_key_violation USING MESSAGE = format(\n";
    out += "      'insert or update on table \"" + table + "\" violates its key: " + k.name +
           " %s is not in table \"" + k.table + "\"',\n";
    out += std::string("      ") +
           (std::string_view(k.type) == "text" ? "quote_literal(missing)" : "missing") + ");\n";
    out += "  END IF;\n";
  }
  out += "  RETURN NULL;\nEND\n$f$;\n";
  for (const char* op : {"insert", "update"}) {
    std::string upper = op == std::string_view("insert") ? "INSERT" : "UPDATE";
    out += "CREATE TRIGGER " + table + "_keys_" + op + " AFTER " + upper + " ON " + t + "\n";
    out += "  REFERENCING NEW TABLE AS written FOR EACH STATEMENT EXECUTE FUNCTION " + t +
           "_keys_check();\n";
  }
  // A referenced row that the table still names cannot go: deleted (checked once per statement),
  // its id changed (a row trigger that fires only when the id changes: the daily run's updates of
  // names and records cost nothing) or truncated. TG_ARGV[0]: the column of the table that names
  // the referenced table's id.
  out += "\nCREATE FUNCTION " + t + "_referenced_check() RETURNS trigger LANGUAGE plpgsql AS $f$\n";
  std::string body = R"sql(DECLARE
  gone text;
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    IF EXISTS (SELECT 1 FROM {t}) THEN
      RAISE foreign_key_violation USING MESSAGE = format(
        'cannot truncate table %I: table "{table}" refers to it', TG_TABLE_NAME);
    END IF;
    RETURN NULL;
  ELSIF TG_OP = 'DELETE' THEN
    EXECUTE format('SELECT o.id::text FROM old_ids o WHERE EXISTS '
                   '(SELECT 1 FROM {t} x WHERE x.%I = o.id) LIMIT 1', TG_ARGV[0])
      INTO gone;
  ELSE
    EXECUTE format('SELECT $1::text WHERE EXISTS '
                   '(SELECT 1 FROM {t} x WHERE x.%I = $1)', TG_ARGV[0])
      INTO gone USING OLD.id;
  END IF;
  IF gone IS NOT NULL THEN
    RAISE foreign_key_violation USING MESSAGE = format(
      'update or delete on table %I violates the key of table "{table}": %s is named there',
      TG_TABLE_NAME, quote_literal(gone));
  END IF;
  RETURN NULL;
END
$f$;
)sql";
  for (auto [from, to] :
       {std::pair<std::string_view, const std::string&>{"{t}", t}, {"{table}", table}}) {
    for (size_t at = body.find(from); at != std::string::npos;
         at = body.find(from, at + to.size())) {
      body.replace(at, from.size(), to);
    }
  }
  out += body;
  for (const StatementKey& k : keys) {
    const std::string trigger = "CREATE TRIGGER " + table + "_" + k.name + "_";
    const std::string ref = "{s}." + std::string(k.table);
    const std::string check = "{s}." + table + "_referenced_check('" + k.column + "');\n";
    out += trigger + "delete AFTER DELETE ON " + ref + "\n";
    out += "  REFERENCING OLD TABLE AS old_ids FOR EACH STATEMENT\n  EXECUTE FUNCTION " + check;
    out += trigger + "update AFTER UPDATE OF id ON " + ref + "\n";
    out += "  FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id)\n  EXECUTE FUNCTION " + check;
    out += trigger + "truncate BEFORE TRUNCATE ON " + ref + "\n";
    out += "  FOR EACH STATEMENT EXECUTE FUNCTION " + check;
  }
  return out;
}

// The keys of observations that step 10 checks by triggers.
const StatementKey kObservationKeys[] = {
    {"location", "text", "locations", "location", "loc_ids"},
    {"run_id", "bigint", "runs", "run", "run_ids"},
};

const char* observations_keys_sql() {
  static const std::string text = "\n" + statement_keys_sql("observations", kObservationKeys);
  return text.c_str();
}

// The steps, in order. Never edit one that has shipped; append a new one.
const Migration kMigrations[] = {
    // 1: locations, runs, observations, revisions, source_state
    {R"sql(
CREATE TABLE locations (
  id    TEXT PRIMARY KEY,   -- 'US'; a state's 2-digit FIPS; a county's 5-digit FIPS or 'SS:Name'
  type  TEXT NOT NULL CHECK (type IN ('nation', 'state', 'county')),
  name  TEXT NOT NULL,
  state TEXT,
  fips  TEXT
) WITHOUT ROWID;
INSERT INTO locations (id, type, name) VALUES ('US', 'nation', 'United States');

CREATE TABLE runs (
  id          INTEGER PRIMARY KEY,
  started_at  TEXT NOT NULL,
  finished_at TEXT,
  status      TEXT NOT NULL CHECK (status IN ('running', 'ok', 'unchanged', 'failed')),
  stage       TEXT,
  rows_read   INTEGER NOT NULL DEFAULT 0,
  inserted    INTEGER NOT NULL DEFAULT 0,
  updated     INTEGER NOT NULL DEFAULT 0,
  unchanged   INTEGER NOT NULL DEFAULT 0,
  missing     INTEGER NOT NULL DEFAULT 0,
  warnings    INTEGER NOT NULL DEFAULT 0,
  errors      INTEGER NOT NULL DEFAULT 0,
  first_date  TEXT,
  last_date   TEXT,
  error       TEXT,
  sources     TEXT,          -- JSON: what was fetched from each source
  duration_ms INTEGER
);

CREATE TABLE observations (
  location  TEXT NOT NULL REFERENCES locations (id),
  date      TEXT NOT NULL,   -- YYYY-MM-DD
  cases     INTEGER,         -- NULL: unknown
  deaths    INTEGER,
  recovered INTEGER,
  run_id    INTEGER NOT NULL REFERENCES runs (id),  -- the run that last wrote the row
  PRIMARY KEY (location, date)
) WITHOUT ROWID;

CREATE TABLE revisions (
  run_id        INTEGER NOT NULL REFERENCES runs (id),
  location      TEXT NOT NULL,
  date          TEXT NOT NULL,
  old_cases     INTEGER, old_deaths INTEGER, old_recovered INTEGER,
  new_cases     INTEGER, new_deaths INTEGER, new_recovered INTEGER,
  PRIMARY KEY (run_id, location, date)
);

CREATE TABLE source_state (
  url           TEXT PRIMARY KEY,
  etag          TEXT,
  last_modified TEXT,
  content_hash        TEXT,
  bytes         INTEGER,
  run_id        INTEGER REFERENCES runs (id)
);
)sql",
     R"sql(
CREATE TABLE {s}.locations (
  id    text PRIMARY KEY,   -- 'US'; a state's 2-digit FIPS; a county's 5-digit FIPS or 'SS:Name'
  type  text NOT NULL CHECK (type IN ('nation', 'state', 'county')),
  name  text NOT NULL,
  state text,
  fips  text
);
INSERT INTO {s}.locations (id, type, name) VALUES ('US', 'nation', 'United States');

CREATE TABLE {s}.runs (
  id          bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  started_at  timestamptz NOT NULL,
  finished_at timestamptz,
  status      text NOT NULL CHECK (status IN ('running', 'ok', 'unchanged', 'failed')),
  stage       text,
  rows_read   bigint NOT NULL DEFAULT 0,
  inserted    bigint NOT NULL DEFAULT 0,
  updated     bigint NOT NULL DEFAULT 0,
  unchanged   bigint NOT NULL DEFAULT 0,
  missing     bigint NOT NULL DEFAULT 0,
  warnings    bigint NOT NULL DEFAULT 0,
  errors      bigint NOT NULL DEFAULT 0,
  first_date  date,
  last_date   date,
  error       text,
  sources     json,          -- what was fetched from each source
  duration_ms bigint
);

CREATE TABLE {s}.observations (
  location  text NOT NULL REFERENCES {s}.locations (id),
  date      date NOT NULL,
  cases     bigint,          -- NULL: unknown
  deaths    bigint,
  recovered bigint,
  run_id    bigint NOT NULL REFERENCES {s}.runs (id),  -- the run that last wrote the row
  PRIMARY KEY (location, date)
);

CREATE TABLE {s}.revisions (
  run_id        bigint NOT NULL REFERENCES {s}.runs (id),
  location      text NOT NULL,
  date          date NOT NULL,
  old_cases     bigint, old_deaths bigint, old_recovered bigint,
  new_cases     bigint, new_deaths bigint, new_recovered bigint,
  PRIMARY KEY (run_id, location, date)
);

CREATE TABLE {s}.source_state (
  url           text PRIMARY KEY,
  etag          text,
  last_modified text,
  content_hash  text,
  bytes         bigint,
  run_id        bigint REFERENCES {s}.runs (id)
);
)sql"},
    // 2: the outbox of notifications
    {R"sql(
CREATE TABLE outbox (
  id           INTEGER PRIMARY KEY,
  run_id       INTEGER REFERENCES runs (id),
  channel      TEXT NOT NULL,   -- the [[notify]] entry's name
  event        TEXT NOT NULL,   -- success, unchanged, failure
  subject      TEXT NOT NULL,
  body         TEXT NOT NULL,   -- the human message
  payload      TEXT NOT NULL,   -- JSON: the run summary
  status       TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts     INTEGER NOT NULL DEFAULT 0,
  last_error   TEXT,
  created_at   TEXT NOT NULL,
  lease_until  TEXT,            -- a process is delivering it until then
  delivered_at TEXT
);
CREATE INDEX outbox_pending ON outbox (status, id);
)sql",
     R"sql(
CREATE TABLE {s}.outbox (
  id           bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  run_id       bigint REFERENCES {s}.runs (id),
  channel      text NOT NULL,   -- the [[notify]] entry's name
  event        text NOT NULL,   -- success, unchanged, failure
  subject      text NOT NULL,
  body         text NOT NULL,   -- the human message
  payload      json NOT NULL,   -- the run summary
  status       text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts     integer NOT NULL DEFAULT 0,
  last_error   text,
  created_at   timestamptz NOT NULL,
  lease_until  timestamptz,     -- a process is delivering it until then
  delivered_at timestamptz
);
CREATE INDEX outbox_pending ON {s}.outbox (status, id);
)sql"},
    // 3: the date digests (load/date_digest.h)
    {R"sql(
CREATE TABLE date_digests (
  level       TEXT NOT NULL CHECK (level IN ('nation', 'state', 'county')),
  date        TEXT NOT NULL,      -- YYYY-MM-DD
  rows        INTEGER NOT NULL,   -- rows the source gave for the date when it last changed
  hash        TEXT NOT NULL,      -- their digest (load/date_digest.h)
  stored_rows INTEGER NOT NULL,   -- rows held for the date (more when the source dropped some)
  PRIMARY KEY (level, date)
) WITHOUT ROWID;
)sql",
     R"sql(
CREATE TABLE {s}.date_digests (
  level       text NOT NULL CHECK (level IN ('nation', 'state', 'county')),
  date        date NOT NULL,
  rows        bigint NOT NULL,   -- rows the source gave for the date when it last changed
  hash        text NOT NULL,     -- their digest (load/date_digest.h)
  stored_rows bigint NOT NULL,   -- rows held for the date (more when the source dropped some)
  PRIMARY KEY (level, date)
);
)sql"},
    // 4: the date digests' bytes hash
    {R"sql(
-- The hash of the date's lines as they stood in the source file (load/date_digest.h BytesDigest);
-- NULL when not known.
ALTER TABLE date_digests ADD COLUMN bytes_hash TEXT;
)sql",
     R"sql(
-- The hash of the date's lines as they stood in the source file (load/date_digest.h BytesDigest);
-- NULL when not known.
ALTER TABLE {s}.date_digests ADD COLUMN bytes_hash text;
)sql"},
    // 5: what a run keeps of each source for the data-quality and freshness checks
    // (pipeline/quality.h, pipeline/freshness.h)
    {R"sql(
-- The source's name and dataset, its header's columns, when its content last changed and when a
-- notification said it was stale (common/records.h SourceState).
ALTER TABLE source_state ADD COLUMN name TEXT;
ALTER TABLE source_state ADD COLUMN dataset TEXT;
ALTER TABLE source_state ADD COLUMN header TEXT;
ALTER TABLE source_state ADD COLUMN changed_at TEXT;
ALTER TABLE source_state ADD COLUMN stale_told_at TEXT;
)sql",
     R"sql(
-- The source's name and dataset, its header's columns, when its content last changed and when a
-- notification said it was stale (common/records.h SourceState).
ALTER TABLE {s}.source_state ADD COLUMN name text;
ALTER TABLE {s}.source_state ADD COLUMN dataset text;
ALTER TABLE {s}.source_state ADD COLUMN header text;
ALTER TABLE {s}.source_state ADD COLUMN changed_at text;
ALTER TABLE {s}.source_state ADD COLUMN stale_told_at text;
)sql"},
    // 6: populations (reference data, transform/reference.h), keyed by location id without a
    // reference to locations: a population may come before its location's rows, or without them
    {R"sql(
CREATE TABLE populations (
  location   TEXT PRIMARY KEY,   -- a location id: 'US', a state's FIPS, a county's, 'FRA'
  population INTEGER NOT NULL,
  source     TEXT NOT NULL,      -- who published the figure
  year       INTEGER,            -- the year the figure stands for; NULL when not known
  run_id     INTEGER NOT NULL REFERENCES runs (id)  -- the run that last wrote it
) WITHOUT ROWID;
)sql",
     R"sql(
CREATE TABLE {s}.populations (
  location   text PRIMARY KEY,   -- a location id: 'US', a state's FIPS, a county's, 'FRA'
  population bigint NOT NULL,
  source     text NOT NULL,      -- who published the figure
  year       integer,            -- the year the figure stands for; NULL when not known
  run_id     bigint NOT NULL REFERENCES {s}.runs (id)  -- the run that last wrote it
);
)sql"},
    // 7: annotations (transform/reference.h; keyed as transform/annotation.h says)
    {R"sql(
CREATE TABLE annotations (
  location       TEXT NOT NULL,   -- a Location id (not a reference: a note may name a place
                                  -- with no rows loaded)
  from_date      TEXT NOT NULL,   -- YYYY-MM-DD
  type           TEXT NOT NULL CHECK (type IN ('cases', 'deaths', 'both')),
  kind           TEXT NOT NULL CHECK (kind IN ('note', 'adjustment')),
  to_date        TEXT,            -- the last date of a range; NULL for one day
  omit_from_average      INTEGER NOT NULL,  -- 0 or 1
  omit_on_subgeographies INTEGER NOT NULL,  -- 0 or 1
  adjusted_count INTEGER NOT NULL,
  text           TEXT NOT NULL,
  run_id         INTEGER NOT NULL REFERENCES runs (id),  -- the run that last wrote it
  PRIMARY KEY (location, from_date, type, kind)
) WITHOUT ROWID;
)sql",
     R"sql(
CREATE TABLE {s}.annotations (
  location       text NOT NULL,   -- a Location id (not a reference: a note may name a place
                                  -- with no rows loaded)
  from_date      date NOT NULL,
  type           text NOT NULL CHECK (type IN ('cases', 'deaths', 'both')),
  kind           text NOT NULL CHECK (kind IN ('note', 'adjustment')),
  to_date        date,            -- the last date of a range; NULL for one day
  omit_from_average      boolean NOT NULL,
  omit_on_subgeographies boolean NOT NULL,
  adjusted_count bigint NOT NULL,
  text           text NOT NULL,
  run_id         bigint NOT NULL REFERENCES {s}.runs (id),  -- the run that last wrote it
  PRIMARY KEY (location, from_date, type, kind)
);
)sql"},
    // 8: locations of type 'country'; each dataset's cadence.
    // SQLite cannot alter a CHECK constraint: the table is rebuilt as SQLite's documentation says
    // (create the new table, copy, drop the old, rename the new). The store runs migrations with
    // foreign keys off (observations reference locations) and checks them before committing.
    {R"sql(
CREATE TABLE locations_new (
  id    TEXT PRIMARY KEY,   -- 'US'; a state's 2-digit FIPS; a county's 5-digit FIPS or 'SS:Name'; a country's ISO alpha-3
  type  TEXT NOT NULL CHECK (type IN ('nation', 'state', 'county', 'country')),
  name  TEXT NOT NULL,
  state TEXT,
  fips  TEXT
) WITHOUT ROWID;
INSERT INTO locations_new (id, type, name, state, fips) SELECT id, type, name, state, fips FROM locations;
DROP TABLE locations;
ALTER TABLE locations_new RENAME TO locations;

-- The days between consecutive dates of a dataset's series (1: daily, 7: weekly), as last loaded.
CREATE TABLE dataset_cadence (
  dataset TEXT PRIMARY KEY,
  days    INTEGER NOT NULL CHECK (days > 0)
);
)sql",
     R"sql(
ALTER TABLE {s}.locations DROP CONSTRAINT locations_type_check;
ALTER TABLE {s}.locations ADD CONSTRAINT locations_type_check
  CHECK (type IN ('nation', 'state', 'county', 'country'));

-- The days between consecutive dates of a dataset's series (1: daily, 7: weekly), as last loaded.
CREATE TABLE {s}.dataset_cadence (
  dataset text PRIMARY KEY,
  days    integer NOT NULL CHECK (days > 0)
);
)sql"},
    // 9: a run's data-quality warnings counted by kind (common/records.h RunRecord::quality_json)
    {R"sql(
ALTER TABLE runs ADD COLUMN quality TEXT;  -- JSON: {"deaths_above_cases": 1, "outlier": 2}
)sql",
     R"sql(
ALTER TABLE {s}.runs ADD COLUMN quality json;  -- {"deaths_above_cases": 1, "outlier": 2}
)sql"},
    // 10: PostgreSQL: the keys of observations (location -> locations, run_id -> runs) checked
    // once per statement for the whole set of rows it wrote, instead of once per row: a county
    // load's COPY writes two million rows, and the foreign keys' checks (two queries and two row
    // locks per row) were half its time. The SQL: statement_keys_sql() below, from the table
    // kObservationKeys. SQLite keeps its foreign keys.
    {R"sql(
SELECT 1;  -- nothing to do: SQLite checks its foreign keys as before
)sql",
     nullptr, observations_keys_sql},
    // 11: PostgreSQL: the referenced side of step 10's keys refuses to run outside READ COMMITTED.
    // Its query (does observations still name a deleted location or run?) reads with the
    // statement's snapshot: under READ COMMITTED a new one, which sees every row committed before
    // the statement (and a row still being inserted holds its location FOR KEY SHARE, so the
    // DELETE waits for it); under REPEATABLE READ or SERIALIZABLE the transaction's first, which
    // does not see rows committed since, so a location could be deleted under a row inserted
    // meanwhile, an orphan that a foreign key (checked with a fresh snapshot) would refuse. A
    // trigger cannot take a fresh snapshot, so there it refuses: a DELETE of at least one row, an
    // UPDATE of an id, a TRUNCATE (object_not_in_prerequisite_state, 55000, saying why). The
    // function is step 10's but for that test; the triggers stay. SQLite keeps its foreign keys.
    {R"sql(
SELECT 1;  -- nothing to do: SQLite checks its foreign keys as before
)sql",
     R"sql(
CREATE OR REPLACE FUNCTION {s}.observations_referenced_check() RETURNS trigger LANGUAGE plpgsql AS $f$
DECLARE
  gone text;
BEGIN
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    IF TG_OP = 'DELETE' THEN
      PERFORM 1 FROM old_ids LIMIT 1;
      IF NOT FOUND THEN
        RETURN NULL;  -- nothing deleted
      END IF;
    END IF;
    RAISE object_not_in_prerequisite_state USING MESSAGE = format(
      'cannot %s table %I in a %s transaction: table "observations" refers to it, and its key '
      'is checked by a trigger that sees the rows other transactions commit only under READ '
      'COMMITTED', lower(TG_OP), TG_TABLE_NAME, upper(current_setting('transaction_isolation'))),
      HINT = 'Run it in a READ COMMITTED transaction (BEGIN ISOLATION LEVEL READ COMMITTED).';
  END IF;
  IF TG_OP = 'TRUNCATE' THEN
    IF EXISTS (SELECT 1 FROM {s}.observations) THEN
      RAISE foreign_key_violation USING MESSAGE = format(
        'cannot truncate table %I: table "observations" refers to it', TG_TABLE_NAME);
    END IF;
    RETURN NULL;
  ELSIF TG_OP = 'DELETE' THEN
    EXECUTE format('SELECT o.id::text FROM old_ids o WHERE EXISTS '
                   '(SELECT 1 FROM {s}.observations x WHERE x.%I = o.id) LIMIT 1', TG_ARGV[0])
      INTO gone;
  ELSE
    EXECUTE format('SELECT $1::text WHERE EXISTS '
                   '(SELECT 1 FROM {s}.observations x WHERE x.%I = $1)', TG_ARGV[0])
      INTO gone USING OLD.id;
  END IF;
  IF gone IS NOT NULL THEN
    RAISE foreign_key_violation USING MESSAGE = format(
      'update or delete on table %I violates the key of table "observations": %s is named there',
      TG_TABLE_NAME, quote_literal(gone));
  END IF;
  RETURN NULL;
END
$f$;
)sql"},
};

}  // namespace

int sql_schema_version() { return int(std::size(kMigrations)); }

const char* migration_sql(int from, SqlDialect dialect) {
  const Migration& m = kMigrations[from];
  if (dialect == SqlDialect::kSqlite) return m.sqlite;
  return m.postgres != nullptr ? m.postgres : m.generated_postgres();
}

}  // namespace covid
