#include "load/postgres/postgres_store.h"

#include <algorithm>
#include <cstdlib>

#include "common/secrets.h"
#include "load/migrations.h"
#include "load/postgres/libpq.h"
#include "load/postgres/pg_binary.h"
#include "load/store_rules.h"
#include "transform/annotation.h"

namespace covid {
namespace {

// RFC 3339 UTC with milliseconds, as format_timestamp() writes it.
#define COVID_PG_TIME(col) \
  "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

// The load's statements. The staging table lives in the session's temporary schema and goes
// with the transaction.
constexpr const char* kCreateStaging = R"sql(
DROP TABLE IF EXISTS pg_temp.covid_etl_staging;
CREATE TEMPORARY TABLE covid_etl_staging (
  location text NOT NULL, date date NOT NULL, cases bigint, deaths bigint, recovered bigint,
  revised boolean NOT NULL, old_cases bigint, old_deaths bigint, old_recovered bigint
) ON COMMIT DROP)sql";

constexpr const char* kCopyStaging = "COPY pg_temp.covid_etl_staging FROM STDIN (FORMAT binary)";

// Returns how many rows it inserted and how many it updated: a row the upsert inserted has no
// xmax yet, one it updated has this transaction's.
constexpr const char* kUpsert = R"sql(
WITH written AS (
  INSERT INTO {s}.observations AS o (location, date, cases, deaths, recovered, run_id)
  SELECT location, date, cases, deaths, recovered, $1::bigint FROM pg_temp.covid_etl_staging
  ON CONFLICT (location, date) DO UPDATE
    SET cases = excluded.cases, deaths = excluded.deaths, recovered = excluded.recovered,
        run_id = excluded.run_id
    WHERE (o.cases, o.deaths, o.recovered)
          IS DISTINCT FROM (excluded.cases, excluded.deaths, excluded.recovered)
  RETURNING xmax = 0 AS inserted)
SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM written)sql";

constexpr const char* kInsertRevisions = R"sql(
INSERT INTO {s}.revisions (run_id, location, date, old_cases, old_deaths, old_recovered,
                           new_cases, new_deaths, new_recovered)
SELECT $1::bigint, location, date, old_cases, old_deaths, old_recovered, cases, deaths, recovered
FROM pg_temp.covid_etl_staging WHERE revised)sql";
constexpr size_t kCopyChunk = 1 << 20;

using Params = std::vector<std::optional<std::string>>;

std::optional<std::string> text_or_null(const std::string& s) {
  return s.empty() ? std::nullopt : std::optional<std::string>(s);
}

std::string flatten(std::string text) {
  std::string out;
  for (char c : text) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    if (c == ' ' && (out.empty() || out.back() == ' ')) continue;
    out += c;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// PostgreSQL array literals of text elements, for `= ANY($1::text[])` and unnest(): one
// parameter for many values. Each element is quoted (an id such as '36:New York City' may hold
// spaces, commas or quotes); std::nullopt is NULL.
void append_element(std::string& out, const std::optional<std::string>& item) {
  if (out.size() > 1) out += ',';
  if (!item) {
    out += "NULL";
    return;
  }
  out += '"';
  for (char c : *item) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

std::string text_array(const std::vector<std::optional<std::string>>& items) {
  std::string out = "{";
  for (const auto& item : items) append_element(out, item);
  return out + "}";
}

std::string text_array(const std::vector<std::string>& items) {
  std::string out = "{";
  for (const std::string& item : items) append_element(out, item);
  return out + "}";
}

void silent_notices(void*, const char*) {}

int64_t to_int64(const char* text) {
  return text == nullptr || *text == '\0' ? 0 : std::strtoll(text, nullptr, 10);
}

// The one decoder of observations, for every query that reads them in binary: a row's columns
// are, in this order, the location (text) unless the query fixes it, the date (date) unless the
// query fixes it, then cases, deaths and recovered (bigint; NULL: unknown).
struct ObservationColumns {
  bool location = true;  // false: the caller sets it (one location asked for)
  bool date = true;      // false: the caller sets it (one date asked for)
};

// Row `i` of `res` into `o`, which keeps its location or date where the query fixes them; false
// when a column is not of its type (then `o` is left part written).
bool decode_observation(const LibPq& pq, const PGresult* res, int i, ObservationColumns columns,
                        Observation& o) {
  int col = 0;
  if (columns.location) {
    o.location.assign(pq.getvalue(res, i, col), size_t(pq.getlength(res, i, col)));
    ++col;
  }
  if (columns.date) {
    if (pq.getlength(res, i, col) != 4) return false;
    o.date = from_pg_date(int32_t(read_be32(pq.getvalue(res, i, col))));
    ++col;
  }
  for (int64_t* count : {&o.cases, &o.deaths, &o.recovered}) {
    if (pq.getlength(res, i, col) % 8 != 0) return false;
    *count = pq.getisnull(res, i, col) ? kUnknown : int64_t(read_be64(pq.getvalue(res, i, col)));
    ++col;
  }
  return true;
}

}  // namespace

int PostgresStore::schema_version() { return sql_schema_version(); }

int32_t PostgresStore::lock_key(std::string_view schema) {
  uint32_t h = 2166136261u;
  for (char c : schema) {
    h ^= static_cast<unsigned char>(c);
    h *= 16777619u;
  }
  return static_cast<int32_t>(h);
}

PostgresStore::PostgresStore(const LibPq* pq, pg_conn* conn, PgTarget target, StoreOptions options)
    : pq_(pq), conn_(conn), target_(std::move(target)), options_(options) {}

PostgresStore::~PostgresStore() {
  if (session_locks_ && pq_->status(conn_) == CONNECTION_OK &&
      pq_->transaction_status(conn_) == PQTRANS_IDLE)
    (void)exec("giving back the session's locks", "SELECT pg_advisory_unlock_all()");
  pq_->finish(conn_);
}

std::string PostgresStore::describe() const {
  return target_.display + " (schema " + target_.schema + ")";
}

std::string PostgresStore::sql(std::string_view tmpl) const {
  std::string quoted = quote_identifier(target_.schema);
  std::string out;
  out.reserve(tmpl.size() + 64);
  for (size_t i = 0; i < tmpl.size();) {
    if (tmpl.compare(i, 3, "{s}") == 0) {
      out += quoted;
      i += 3;
    } else {
      out += tmpl[i++];
    }
  }
  return out;
}

Status PostgresStore::error(const char* what, const pg_result* result) const {
  std::string message;
  const char* sqlstate = nullptr;
  if (result != nullptr) {
    sqlstate = pq_->result_error_field(result, PG_DIAG_SQLSTATE);
    const char* primary = pq_->result_error_field(result, PG_DIAG_MESSAGE_PRIMARY);
    if (primary != nullptr) message = primary;
  }
  if (message.empty()) message = pq_->error_message(conn_);
  message = flatten(scrub(scrub_secrets(std::move(message), target_.secrets)));
  if (sqlstate != nullptr && std::string_view(sqlstate) == "55P03") {  // lock_not_available
    return Status::Load(lock_timeout_message(describe(), options_.lock_timeout) + " (" + what +
                        ": " + message + ")");
  }
  if (pq_->status(conn_) == CONNECTION_BAD) {
    return Status::Load("PostgreSQL " + describe() + ": " + what +
                        ": lost the connection to the server: " + message +
                        (committing_ ? "; the server may or may not have committed the load"
                                     : "; nothing of this run was written"));
  }
  return Status::Load("PostgreSQL " + describe() + ": " + what + ": " + message);
}

Result<std::shared_ptr<pg_result>> PostgresStore::query(const char* what,
                                                        const std::string& statement,
                                                        const Params& params, bool binary) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  PGresult* r = pq_->exec_params(conn_, statement.c_str(), int(values.size()), nullptr,
                                 values.data(), nullptr, nullptr, binary ? 1 : 0);
  std::shared_ptr<pg_result> result(r, pq_->clear);
  ExecStatusType st = r == nullptr ? PGRES_FATAL_ERROR : pq_->result_status(r);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) return error(what, r);
  return result;
}

Status PostgresStore::exec(const char* what, const std::string& statements) {
  PGresult* r = pq_->exec(conn_, statements.c_str());
  std::shared_ptr<pg_result> result(r, pq_->clear);
  ExecStatusType st = r == nullptr ? PGRES_FATAL_ERROR : pq_->result_status(r);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) return error(what, r);
  return Status::Ok();
}

Status PostgresStore::bad_observations() const {
  return Status::Load("PostgreSQL " + describe() + ": unexpected column types in observations");
}

Status PostgresStore::rollback() {
  if (pq_->status(conn_) != CONNECTION_OK) return Status::Ok();
  if (pq_->transaction_status(conn_) == PQTRANS_IDLE) return Status::Ok();
  return exec("rolling back", "ROLLBACK");
}

Result<std::unique_ptr<Store>> PostgresStore::open(const std::string& url,
                                                   const StoreOptions& options) {
  auto target = parse_postgres_url(url);
  if (!target.ok()) return target.status();
  if (const char* env = std::getenv("PGPASSWORD"); env != nullptr && *env != '\0') {
    target->secrets.push_back(env);
  }
  for (const std::string& secret : target->secrets) remember_secret(secret);
  std::string load_error;
  const LibPq* pq = LibPq::get(&load_error);
  if (pq == nullptr) return Status::Load(load_error);
  // libpq's own reading of the string: every password it will use is a secret to scrub, however
  // it was written (user info, ?password=, password=, quoted, escaped).
  char* parse_error = nullptr;
  if (PQconninfoOption* options = pq->conninfo_parse(target->conninfo.c_str(), &parse_error)) {
    for (const PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
      std::string_view key = o->keyword;
      if ((key == "password" || key == "sslpassword") && o->val != nullptr && *o->val != '\0') {
        target->secrets.push_back(o->val);
        remember_secret(o->val);
      }
    }
    pq->conninfo_free(options);
  } else if (parse_error != nullptr) {
    pq->freemem(parse_error);  // connecting reports it, scrubbed, as before
  }

  // Array entries before dbname are overridden by the URL's own; those after it override it.
  std::vector<const char*> keys, values;
  if (std::getenv("PGCONNECT_TIMEOUT") == nullptr) {
    keys.push_back("connect_timeout");
    values.push_back("10");
  }
  keys.insert(keys.end(), {"keepalives_idle", "keepalives_interval", "keepalives_count", "dbname",
                           "fallback_application_name", "client_encoding"});
  values.insert(values.end(), {"30", "10", "3", target->conninfo.c_str(), "covid-etl", "UTF8"});
  keys.push_back(nullptr);
  values.push_back(nullptr);
  PGconn* conn = pq->connectdb_params(keys.data(), values.data(), 1);
  if (conn == nullptr)
    return Status::Load("cannot connect to PostgreSQL " + target->display + ": out of memory");
  std::unique_ptr<PostgresStore> store(new PostgresStore(pq, conn, std::move(*target), options));
  if (pq->status(conn) != CONNECTION_OK) {
    return Status::Load(
        "cannot connect to PostgreSQL " + store->target_.display + ": " +
        flatten(scrub(scrub_secrets(pq->error_message(conn), store->target_.secrets))));
  }
  pq->set_notice_processor(conn, silent_notices, nullptr);
  if (options.read_only) {
    COVID_RETURN_IF_ERROR(
        store->exec("opening read-only", "SET default_transaction_read_only = on"));
  }
  auto version = store->read_version();
  if (!version.ok()) return version.status();
  COVID_RETURN_IF_ERROR(
      check_schema_version(*version, schema_version(), "PostgreSQL " + store->describe()));
  if (options.read_only) {
    if (*version == 0 && options.missing_ok) {
      store->empty_ = true;
    } else if (*version == 0) {
      return Status::Load("no covid-etl data in PostgreSQL " + store->describe() +
                          " (run `covid-etl run` first)");
    }
  } else if (*version < schema_version()) {
    COVID_RETURN_IF_ERROR(store->migrate());
  }
  return std::unique_ptr<Store>(std::move(store));
}

Result<int> PostgresStore::read_version() {
  auto exists = has_table("schema_version");
  if (!exists.ok()) return exists.status();
  if (!*exists) return 0;
  auto v = query("reading the schema version", sql("SELECT version FROM {s}.schema_version"));
  if (!v.ok()) return v.status();
  if (pq_->ntuples(v->get()) == 0) return 0;
  return int(to_int64(pq_->getvalue(v->get(), 0, 0)));
}

Status PostgresStore::lock(const char* what) {
  std::string cls = std::to_string(kLockClass), key = std::to_string(lock_key(target_.schema));
  if (options_.lock_timeout.count() == 0) {
    auto got = query(what, "SELECT pg_try_advisory_xact_lock($1::int4, $2::int4)", {cls, key});
    if (!got.ok()) return got.status();
    if (std::string_view(pq_->getvalue(got->get(), 0, 0)) != "t") {
      return Status::Load(lock_timeout_message(describe(), options_.lock_timeout));
    }
    return Status::Ok();
  }
  auto set = query(what, "SELECT set_config('lock_timeout', $1, true)",
                   {std::to_string(options_.lock_timeout.count()) + "ms"});
  if (!set.ok()) return set.status();
  auto got = query(what, "SELECT pg_advisory_xact_lock($1::int4, $2::int4)", {cls, key});
  return got.ok() ? Status::Ok() : got.status();
}

Status PostgresStore::migrate() {
  COVID_RETURN_IF_ERROR(exec("migrating", "BEGIN"));
  auto fail = [this](Status s) {
    (void)rollback();
    return s;
  };
  Status s = lock("waiting for the run lock to migrate");
  if (!s.ok()) return fail(s);
  // Under the lock: another run may have migrated meanwhile. A schema that exists is used as
  // it is (a DBA may create it for a role that may not create schemas in the database).
  auto missing = query("creating the schema", "SELECT to_regnamespace($1) IS NULL",
                       {quote_identifier(target_.schema)});
  if (!missing.ok()) return fail(missing.status());
  if (std::string_view(pq_->getvalue(missing->get(), 0, 0)) == "t") {
    s = exec("creating the schema", sql("CREATE SCHEMA {s}"));
    if (!s.ok()) return fail(s);
  }
  s = exec("creating the schema",
           sql("CREATE TABLE IF NOT EXISTS {s}.schema_version (\n"
               "  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),\n"
               "  version   integer NOT NULL\n"
               ")"));
  if (!s.ok()) return fail(s);
  auto version = read_version();
  if (!version.ok()) return fail(version.status());
  s = check_schema_version(*version, schema_version(), "PostgreSQL " + describe());
  if (!s.ok()) return fail(s);
  for (int i = *version; i < schema_version(); ++i) {
    std::string what = "migrating to schema version " + std::to_string(i + 1);
    s = exec(what.c_str(), sql(migration_sql(i, SqlDialect::kPostgres)));
    if (!s.ok()) return fail(s);
  }
  auto set = query("recording the schema version",
                   sql("INSERT INTO {s}.schema_version (version) VALUES ($1::int4) "
                       "ON CONFLICT (singleton) DO UPDATE SET version = excluded.version"),
                   {std::to_string(schema_version())});
  if (!set.ok()) return fail(set.status());
  s = exec("committing the migration", "COMMIT");
  if (!s.ok()) return fail(s);
  migrated_ = *version < schema_version();
  return s;
}

Result<int64_t> PostgresStore::begin_run(const std::string& started_at,
                                         const InterruptedOutbox& tell) {
  // Committed without waiting for the WAL flush: the load's commit (or finish_run's) flushes it
  // first, and a server that loses it in a crash has also ended this run's connection. It saves
  // a disk flush per run.
  COVID_RETURN_IF_ERROR(exec("recording the run", "BEGIN; SET LOCAL synchronous_commit = off"));
  auto r = query("recording the run",
                 sql("INSERT INTO {s}.runs (started_at, status) VALUES ($1::timestamptz, "
                     "'running') RETURNING id"),
                 {started_at});
  if (!r.ok()) {
    (void)rollback();
    return r.status();
  }
  int64_t id = to_int64(pq_->getvalue(r->get(), 0, 0));
  // The run is live while this session holds the advisory lock (lock_key(schema), id): a
  // session-level lock, which the server drops when the connection ends, however it ends. It is
  // taken before the record commits, so no other run sees the one without the other. Then the
  // records of `running` runs whose lock is gone are closed.
  std::string schema_key = std::to_string(uint32_t(lock_key(target_.schema)));
  auto marked =
      query("marking the run live", "SELECT pg_advisory_lock($1::bigint << 32 | $2::bigint)",
            {schema_key, std::to_string(id & 0xffffffff)});
  Status s = marked.ok() ? Status::Ok() : marked.status();
  if (s.ok()) session_locks_ = true;
  if (s.ok()) {
    auto closed = query("closing interrupted runs", sql(R"sql(
UPDATE {s}.runs r SET status = 'failed', error = $2
WHERE status = 'running' AND id <> $1::bigint AND NOT EXISTS (
  SELECT 1 FROM pg_locks l
  WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
    AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
    AND l.classid = $3::bigint::oid AND l.objid = (r.id & 4294967295)::oid)
RETURNING id, )sql" COVID_PG_TIME("started_at")),
                        {std::to_string(id), interrupted_run_message(id), schema_key});
    if (!closed.ok()) s = closed.status();
    std::vector<InterruptedRun> gone;
    for (int i = 0, n = closed.ok() ? pq_->ntuples(closed->get()) : 0; i < n; ++i) {
      gone.push_back(InterruptedRun{to_int64(pq_->getvalue(closed->get(), i, 0)),
                                    pq_->getvalue(closed->get(), i, 1)});
    }
    // The statement above has closed their records already: only the outbox is left to write.
    if (s.ok()) {
      s = close_interrupted_runs(
          gone, id, tell, [this](const RunRecord&, const std::vector<OutboxMessage>& outbox) {
            return insert_outbox(outbox);
          });
    }
  }
  if (s.ok()) s = exec("recording the run", "COMMIT");
  if (!s.ok()) {
    (void)rollback();
    return s;
  }
  return id;
}

Status PostgresStore::write_run_and_outbox(const RunRecord& r,
                                           const std::vector<OutboxMessage>& outbox) {
  auto n = [](uint64_t v) { return std::optional<std::string>(std::to_string(v)); };
  auto updated = query(
      "recording the run", sql(R"sql(
UPDATE {s}.runs SET finished_at = $1::timestamptz, status = $2, stage = $3, rows_read = $4::bigint,
  inserted = $5::bigint, updated = $6::bigint, unchanged = $7::bigint, missing = $8::bigint,
  warnings = $9::bigint, errors = $10::bigint, first_date = $11::date, last_date = $12::date,
  error = $13, sources = $14::json, duration_ms = $15::bigint, quality = $17::json
WHERE id = $16::bigint)sql"),
      {text_or_null(r.finished_at), std::string(to_string(r.status)), text_or_null(r.stage),
       n(r.counts.rows_read), n(r.counts.inserted), n(r.counts.updated), n(r.counts.unchanged),
       n(r.counts.missing), n(r.counts.warnings), n(r.counts.errors), text_or_null(r.first_date),
       text_or_null(r.last_date), text_or_null(r.error), text_or_null(r.sources_json),
       std::to_string(r.duration_ms), std::to_string(r.id), text_or_null(r.quality_json)});
  if (!updated.ok()) return updated.status();
  return insert_outbox(outbox);
}

Status PostgresStore::insert_outbox(const std::vector<OutboxMessage>& outbox) {
  std::string insert =
      sql("INSERT INTO {s}.outbox (run_id, channel, event, subject, body, payload, created_at) "
          "VALUES ($1::bigint, $2, $3, $4, $5, $6::json, $7::timestamptz)");
  for (const OutboxMessage& m : outbox) {
    auto in =
        query("writing the outbox", insert,
              {m.run_id != 0 ? std::optional<std::string>(std::to_string(m.run_id)) : std::nullopt,
               m.channel, m.event, m.subject, m.body, m.payload, m.created_at});
    if (!in.ok()) return in.status();
  }
  return Status::Ok();
}

Status PostgresStore::finish_run(const RunRecord& run, const std::vector<OutboxMessage>& outbox) {
  COVID_RETURN_IF_ERROR(exec("recording the run", "BEGIN"));
  Status s = write_run_and_outbox(run, outbox);
  if (s.ok()) s = exec("committing the run record", "COMMIT");
  if (!s.ok()) (void)rollback();
  return s;
}

// The load transaction: BEGIN and the run lock on begin(), ROLLBACK unless committed.
class PostgresLoad final : public LoadTransaction {
 public:
  explicit PostgresLoad(PostgresStore& store) : store_(store) {}
  ~PostgresLoad() override {
    if (open_) (void)store_.rollback();
  }

  // READ COMMITTED whatever the database's default: the load reads what earlier runs committed
  // once it holds the run lock, and a --replace-dataset deletes locations, whose key trigger
  // refuses to run under another isolation (schema step 11, load/migrations.cc).
  Status begin() {
    COVID_RETURN_IF_ERROR(store_.exec("starting the load", "BEGIN ISOLATION LEVEL READ COMMITTED"));
    open_ = true;
    return store_.lock("waiting for the run lock");
  }

  Result<std::vector<Observation>> existing(std::string_view location) override {
    return store_.read_series(location, std::nullopt, std::nullopt);
  }

  // Many locations (counties): one query for the whole table, sorted here (the server's
  // collation need not order text as std::string does); rows of other locations are skipped.
  Result<std::vector<Observation>> existing_many(
      const std::vector<std::string>& locations) override {
    if (locations.size() <= 64) return LoadTransaction::existing_many(locations);
    auto r = store_.query(
        "reading observations",
        store_.sql("SELECT location, date, cases, deaths, recovered FROM {s}.observations"), {},
        /*binary=*/true);
    if (!r.ok()) return r.status();
    const PGresult* res = r->get();
    auto& pq = *store_.pq_;
    int rows = pq.ntuples(res);
    std::vector<Observation> out;
    for (int i = 0; i < rows; ++i) {
      std::string_view location(pq.getvalue(res, i, 0), size_t(pq.getlength(res, i, 0)));
      if (!std::binary_search(locations.begin(), locations.end(), location)) continue;
      Observation o;
      if (!decode_observation(pq, res, i, {}, o)) return store_.bad_observations();
      out.push_back(std::move(o));
    }
    std::sort(out.begin(), out.end(), by_location_date);
    return out;
  }

  Result<std::vector<Observation>> existing_on(Date date,
                                               const std::vector<std::string>& locations) override {
    if (locations.empty()) return std::vector<Observation>();
    return rows_on(date,
                   store_.sql("SELECT location, cases, deaths, recovered FROM {s}.observations "
                              "WHERE date = $1::date AND location = ANY($2::text[])"),
                   text_array(locations));
  }

  Result<std::vector<Observation>> existing_on_date(std::string_view level, Date date) override {
    return rows_on(
        date,
        store_.sql(
            "SELECT o.location, o.cases, o.deaths, o.recovered FROM {s}.observations o "
            "JOIN {s}.locations l ON l.id = o.location WHERE o.date = $1::date AND l.type = $2"),
        std::string(level));
  }

  // Rows the store does not have (the county dates new to it, two million on a first load):
  // one binary COPY straight into the table, without the staging table and upsert that write()
  // needs for revisions. A row that is there after all violates the primary key, and the load
  // fails whole.
  Status insert_sorted(int64_t run_id, RowCursor& rows) override {
    return copy_in(
        "inserting observations",
        store_.sql("COPY {s}.observations (location, date, cases, deaths, recovered, run_id) "
                   "FROM STDIN (FORMAT binary)"),
        [&](CopyBinaryWriter& w, auto& flush) -> Status {
          for (;;) {
            auto row = rows.next();
            if (!row.ok()) return row.status();
            const Observation* o = *row;
            if (o == nullptr) return Status::Ok();
            w.begin_row(6);
            w.text(o->location);
            w.date(o->date);
            write_count(w, o->cases);
            write_count(w, o->deaths);
            write_count(w, o->recovered);
            w.int8(run_id);
            flush(false);
          }
        });
  }

  Result<uint64_t> delete_level(std::string_view level) override {
    const std::string what = "deleting the " + std::string(level) + " rows";
    auto r = store_.query(what.c_str(), store_.sql(R"sql(
WITH d AS (DELETE FROM {s}.observations WHERE location IN
             (SELECT id FROM {s}.locations WHERE type = $1) RETURNING 1)
SELECT count(*) FROM d)sql"),
                          {std::string(level)});
    if (!r.ok()) return r.status();
    uint64_t deleted = uint64_t(to_int64(store_.pq_->getvalue(r->get(), 0, 0)));
    for (const char* sql : {"DELETE FROM {s}.date_digests WHERE level = $1",
                            "DELETE FROM {s}.locations WHERE type = $1"}) {
      auto d = store_.query(what.c_str(), store_.sql(sql), {std::string(level)});
      if (!d.ok()) return d.status();
    }
    return deleted;
  }

  Status save_cadence(std::string_view dataset, int days) override {
    auto r = store_.query("saving the cadence", store_.sql(R"sql(
INSERT INTO {s}.dataset_cadence (dataset, days) VALUES ($1, $2::integer)
ON CONFLICT (dataset) DO UPDATE SET days = excluded.days)sql"),
                          {std::string(dataset), std::to_string(days)});
    return r.ok() ? Status::Ok() : r.status();
  }

  // All the digests in one statement: up to a thousand dates a run.
  Result<std::vector<Annotation>> existing_annotations() override {
    return store_.read_annotations("", std::nullopt, std::nullopt);
  }

  // One statement for them all, as arrays.
  Status save_annotations(int64_t run_id, const std::vector<Annotation>& annotations) override {
    if (annotations.empty()) return Status::Ok();
    std::vector<std::string> loc, from, type, kind, omit, omit_sub, adj, text;
    std::vector<std::optional<std::string>> to;
    for (const Annotation& a : annotations) {
      loc.push_back(a.location);
      from.push_back(format_date(a.from));
      type.push_back(a.type);
      kind.push_back(annotation_kind(a));
      to.push_back(a.to ? std::optional<std::string>(format_date(*a.to)) : std::nullopt);
      omit.push_back(a.omit_from_average ? "true" : "false");
      omit_sub.push_back(a.omit_on_subgeographies ? "true" : "false");
      adj.push_back(std::to_string(a.adjusted_count));
      text.push_back(a.text);
    }
    auto r = store_.query("saving the annotations", store_.sql(R"sql(
INSERT INTO {s}.annotations (location, from_date, type, kind, to_date, omit_from_average,
  omit_on_subgeographies, adjusted_count, text, run_id)
SELECT l, f, ty, k, t, o, os, a, tx, $10::bigint
FROM unnest($1::text[], $2::date[], $3::text[], $4::text[], $5::date[], $6::boolean[],
  $7::boolean[], $8::bigint[], $9::text[]) AS u (l, f, ty, k, t, o, os, a, tx)
ON CONFLICT (location, from_date, type, kind) DO UPDATE SET to_date = excluded.to_date,
  omit_from_average = excluded.omit_from_average,
  omit_on_subgeographies = excluded.omit_on_subgeographies,
  adjusted_count = excluded.adjusted_count, text = excluded.text, run_id = excluded.run_id)sql"),
                          {text_array(loc), text_array(from), text_array(type), text_array(kind),
                           text_array(to), text_array(omit), text_array(omit_sub), text_array(adj),
                           text_array(text), std::to_string(run_id)});
    return r.ok() ? Status::Ok() : r.status();
  }

  Status save_date_digests(std::string_view level,
                           const std::map<Date, StoredDigest>& digests) override {
    if (digests.empty()) return Status::Ok();
    std::vector<std::string> dates, rows, hashes, stored;
    std::vector<std::optional<std::string>> bytes;
    for (const auto& [date, d] : digests) {
      dates.push_back(format_date(date));
      rows.push_back(std::to_string(d.source.rows));
      hashes.push_back(d.source.hash_hex());
      stored.push_back(std::to_string(d.stored_rows));
      bytes.push_back(d.bytes ? std::optional<std::string>(d.bytes->hex()) : std::nullopt);
    }
    auto r = store_.query("saving the date digests", store_.sql(R"sql(
INSERT INTO {s}.date_digests (level, date, rows, hash, stored_rows, bytes_hash)
SELECT $1, d, r, h, sr, b FROM unnest($2::date[], $3::bigint[], $4::text[], $5::bigint[], $6::text[]) AS t (d, r, h, sr, b)
ON CONFLICT (level, date) DO UPDATE SET rows = excluded.rows, hash = excluded.hash,
  stored_rows = excluded.stored_rows, bytes_hash = excluded.bytes_hash)sql"),
                          {std::string(level), text_array(dates), text_array(rows),
                           text_array(hashes), text_array(stored), text_array(bytes)});
    return r.ok() ? Status::Ok() : r.status();
  }

  Status write(int64_t run_id, const ChangeSet& changes) override {
    if (changes.empty()) return Status::Ok();
    COVID_RETURN_IF_ERROR(store_.exec("creating the staging table", kCreateStaging));
    COVID_RETURN_IF_ERROR(copy(changes));
    std::string run = std::to_string(run_id);
    auto upsert = store_.query("writing observations", store_.sql(kUpsert), {run});
    if (!upsert.ok()) return upsert.status();
    // The consistency check: the rows written are exactly the ChangeSet's. Anything else means
    // the stored rows were not those the ChangeSet was classified from.
    uint64_t inserted = uint64_t(to_int64(store_.pq_->getvalue(upsert->get(), 0, 0)));
    uint64_t updated = uint64_t(to_int64(store_.pq_->getvalue(upsert->get(), 0, 1)));
    if (inserted != changes.inserted.size() || updated != changes.updated.size()) {
      return Status::Load("PostgreSQL " + store_.describe() + ": the load inserted " +
                          std::to_string(inserted) + " and updated " + std::to_string(updated) +
                          " observations where " + std::to_string(changes.inserted.size()) +
                          " were new and " + std::to_string(changes.updated.size()) +
                          " revised: the stored data changed under the run; nothing was written");
    }
    if (changes.updated.empty()) return Status::Ok();
    auto revisions = store_.query("recording revisions", store_.sql(kInsertRevisions), {run});
    return revisions.ok() ? Status::Ok() : revisions.status();
  }

  // One statement per location: fine for the 56 states; counties want a COPY.
  Status save_locations(const std::vector<Location>& locations) override {
    const std::string statement = store_.sql(R"sql(
INSERT INTO {s}.locations (id, type, name, state, fips) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (id) DO UPDATE SET type = excluded.type, name = excluded.name, state = excluded.state,
  fips = excluded.fips
WHERE ({s}.locations.type, {s}.locations.name, {s}.locations.state, {s}.locations.fips)
      IS DISTINCT FROM (excluded.type, excluded.name, excluded.state, excluded.fips))sql");
    for (const Location& l : locations) {
      auto r = store_.query("saving the locations", statement,
                            {l.id, l.type, l.name, text_or_null(l.state), text_or_null(l.fips)});
      if (!r.ok()) return r.status();
    }
    return Status::Ok();
  }

  Result<std::vector<Population>> populations() override { return store_.populations(); }

  // One statement for them all (some 3,500): arrays unnested.
  Status save_populations(int64_t run_id, const std::vector<Population>& populations) override {
    if (populations.empty()) return Status::Ok();
    std::vector<std::string> ids, figures, sources;
    std::vector<std::optional<std::string>> years;
    for (const Population& p : populations) {
      ids.push_back(p.location);
      figures.push_back(std::to_string(p.population));
      sources.push_back(p.source);
      years.push_back(p.year != 0 ? std::optional(std::to_string(p.year)) : std::nullopt);
    }
    auto r = store_.query("saving the populations", store_.sql(R"sql(
INSERT INTO {s}.populations (location, population, source, year, run_id)
SELECT l, p, s, y, $5::bigint FROM unnest($1::text[], $2::bigint[], $3::text[], $4::integer[]) AS t (l, p, s, y)
ON CONFLICT (location) DO UPDATE SET population = excluded.population, source = excluded.source,
  year = excluded.year, run_id = excluded.run_id)sql"),
                          {text_array(ids), text_array(figures), text_array(sources),
                           text_array(years), std::to_string(run_id)});
    return r.ok() ? Status::Ok() : r.status();
  }

  Status save_source(int64_t run_id, const SourceState& st) override {
    auto r = store_.query(
        "saving the source state", store_.sql(R"sql(
INSERT INTO {s}.source_state (url, etag, last_modified, content_hash, bytes, run_id, name,
  dataset, header, changed_at, stale_told_at)
VALUES ($1, $2, $3, $4, $5::bigint, $6::bigint, $7, $8, $9, $10, $11)
ON CONFLICT (url) DO UPDATE SET etag = excluded.etag, last_modified = excluded.last_modified,
  content_hash = excluded.content_hash, bytes = excluded.bytes, run_id = excluded.run_id,
  name = excluded.name, dataset = excluded.dataset, header = excluded.header,
  changed_at = excluded.changed_at, stale_told_at = excluded.stale_told_at)sql"),
        {st.url, text_or_null(st.validators.etag), text_or_null(st.validators.last_modified),
         text_or_null(st.content_hash), std::to_string(st.bytes), std::to_string(run_id),
         text_or_null(st.name), text_or_null(st.dataset), text_or_null(st.header),
         text_or_null(st.changed_at), text_or_null(st.stale_told_at)});
    return r.ok() ? Status::Ok() : r.status();
  }

  Status forget_source(const std::string& url) override {
    auto r = store_.query("removing an old source state",
                          store_.sql("DELETE FROM {s}.source_state WHERE url = $1"), {url});
    return r.ok() ? Status::Ok() : r.status();
  }

  Status finish_run(const RunRecord& run, const std::vector<OutboxMessage>& outbox) override {
    return store_.write_run_and_outbox(run, outbox);
  }

  Status commit() override {
    PGTransactionStatusType ts = store_.pq_->transaction_status(store_.conn_);
    if (ts == PQTRANS_INERROR) {
      return Status::Load("PostgreSQL " + store_.describe() +
                          ": committing the load: a statement of the load failed; nothing of "
                          "this run was written");
    }
    if (ts != PQTRANS_INTRANS) return store_.error("committing the load", nullptr);
    store_.committing_ = true;
    Status s = store_.exec("committing the load", "COMMIT");
    store_.committing_ = false;
    COVID_RETURN_IF_ERROR(s);
    open_ = false;
    return Status::Ok();
  }

 private:
  // The inserted and updated rows into the staging table.
  Status copy(const ChangeSet& changes) {
    return copy_in("copying to staging", kCopyStaging,
                   [&](CopyBinaryWriter& w, auto& flush) -> Status {
                     auto row = [&](const Observation& o, const Observation* before) {
                       w.begin_row(9);
                       w.text(o.location);
                       w.date(o.date);
                       write_count(w, o.cases);
                       write_count(w, o.deaths);
                       write_count(w, o.recovered);
                       w.boolean(before != nullptr);
                       if (before != nullptr) {
                         write_count(w, before->cases);
                         write_count(w, before->deaths);
                         write_count(w, before->recovered);
                       } else {
                         w.null();
                         w.null();
                         w.null();
                       }
                       flush(false);
                     };
                     for (const Observation& o : changes.inserted) row(o, nullptr);
                     for (const Revision& r : changes.updated) row(r.after, &r.before);
                     return Status::Ok();
                   });
  }

  static void write_count(CopyBinaryWriter& w, int64_t v) {
    if (v == kUnknown)
      w.null();
    else
      w.int8(v);
  }

  // One binary COPY ... FROM STDIN: `produce(w, flush)` writes the rows into `w`, calling
  // flush(false) after each so that the data goes out a chunk at a time.
  template <typename Produce>
  Status copy_in(const char* what, const std::string& statement, Produce produce) {
    const LibPq& pq = *store_.pq_;
    PGconn* conn = store_.conn_;
    {
      PGresult* r = pq.exec(conn, statement.c_str());
      std::shared_ptr<pg_result> result(r, pq.clear);
      if (r == nullptr || pq.result_status(r) != PGRES_COPY_IN) return store_.error(what, r);
    }
    CopyBinaryWriter w;
    bool sent = true;
    auto flush = [&](bool force) {
      if (!sent || (!force && w.size() < kCopyChunk)) return;
      std::string chunk = w.take();
      sent = pq.put_copy_data(conn, chunk.data(), int(chunk.size())) == 1;
    };
    Status produced = produce(w, flush);
    w.finish();
    flush(true);
    bool ok = produced.ok() && sent;
    const char* abort = !produced.ok() ? "covid-etl: reading the rows failed"
                                       : "covid-etl: sending the rows failed";
    bool ended = pq.put_copy_end(conn, ok ? nullptr : abort) == 1;
    Status status = Status::Ok();
    while (PGresult* r = pq.get_result(conn)) {
      std::shared_ptr<pg_result> result(r, pq.clear);
      if (status.ok() && pq.result_status(r) != PGRES_COMMAND_OK) status = store_.error(what, r);
    }
    if (!produced.ok()) return produced;
    if (status.ok() && (!sent || !ended)) status = store_.error(what, nullptr);
    return status;
  }

  // The rows of one date a statement selects as (location, cases, deaths, recovered) with the
  // date and one more parameter, sorted by location in byte order.
  Result<std::vector<Observation>> rows_on(Date date, const std::string& statement,
                                           std::string param) {
    auto r = store_.query("reading observations", statement, {format_date(date), std::move(param)},
                          /*binary=*/true);
    if (!r.ok()) return r.status();
    const PGresult* res = r->get();
    const LibPq& pq = *store_.pq_;
    std::vector<Observation> out;
    for (int i = 0, rows = pq.ntuples(res); i < rows; ++i) {
      Observation o;
      o.date = date;
      if (!decode_observation(pq, res, i, {.date = false}, o)) return store_.bad_observations();
      out.push_back(std::move(o));
    }
    std::sort(out.begin(), out.end(),
              by_location_date);  // the server's collation need not be byte order
    return out;
  }

  PostgresStore& store_;
  bool open_ = false;
};

Result<std::unique_ptr<LoadTransaction>> PostgresStore::begin_load() {
  auto load = std::make_unique<PostgresLoad>(*this);
  COVID_RETURN_IF_ERROR(load->begin());
  return std::unique_ptr<LoadTransaction>(std::move(load));
}

Result<std::vector<Observation>> PostgresStore::read_series(std::string_view location,
                                                            std::optional<Date> from,
                                                            std::optional<Date> to) {
  if (empty_) return std::vector<Observation>();
  auto r = query("reading observations",
                 sql("SELECT date, cases, deaths, recovered FROM {s}.observations "
                     "WHERE location = $1 AND date BETWEEN $2::date AND $3::date ORDER BY date"),
                 {std::string(location), from ? format_date(*from) : std::string("-infinity"),
                  to ? format_date(*to) : std::string("infinity")},
                 /*binary=*/true);
  if (!r.ok()) return r.status();
  const PGresult* res = r->get();
  int rows = pq_->ntuples(res);
  std::vector<Observation> out;
  out.reserve(size_t(rows));
  for (int i = 0; i < rows; ++i) {
    Observation o;
    o.location = std::string(location);
    if (!decode_observation(*pq_, res, i, {.location = false}, o)) return bad_observations();
    out.push_back(std::move(o));
  }
  return out;
}

Result<std::vector<Annotation>> PostgresStore::read_annotations(std::string_view location,
                                                                std::optional<Date> from,
                                                                std::optional<Date> to) {
  std::vector<Annotation> out;
  if (empty_) return out;
  auto has = has_table("annotations");  // none before step 7
  if (!has.ok()) return has.status();
  if (!*has) return out;
  auto r = query("reading annotations", sql(R"sql(
SELECT location, to_char(from_date, 'YYYY-MM-DD'), to_char(to_date, 'YYYY-MM-DD'), type,
  omit_from_average, omit_on_subgeographies, adjusted_count, text FROM {s}.annotations
WHERE ($1 = '' OR location = $1) AND from_date <= $2::date
  AND coalesce(to_date, from_date) >= $3::date)sql"),
                 {std::string(location), to ? format_date(*to) : std::string("infinity"),
                  from ? format_date(*from) : std::string("-infinity")});
  if (!r.ok()) return r.status();
  const PGresult* res = r->get();
  for (int i = 0, rows = pq_->ntuples(res); i < rows; ++i) {
    auto text = [&](int col) { return std::string(pq_->getvalue(res, i, col)); };  // NULL: ""
    Annotation a;
    a.location = text(0);
    Date d;
    if (parse_date(text(1), &a.from) != DateError::kNone ||
        (!text(2).empty() && parse_date(text(2), &d) != DateError::kNone)) {
      return Status::Load("PostgreSQL " + describe() + ": a bad date in annotations (" + text(1) +
                          ")");
    }
    if (!text(2).empty()) a.to = d;
    a.type = text(3);
    a.omit_from_average = text(4) == "t";
    a.omit_on_subgeographies = text(5) == "t";
    a.adjusted_count = to_int64(pq_->getvalue(res, i, 6));
    a.text = text(7);
    out.push_back(std::move(a));
  }
  std::sort(out.begin(), out.end(), annotation_key_less);
  return out;
}

Result<std::optional<std::map<Date, StoredDigest>>> PostgresStore::date_digests(
    std::string_view level) {
  std::map<Date, StoredDigest> out;
  if (empty_) return std::optional(std::move(out));
  auto r = query("reading the date digests",
                 sql("SELECT to_char(date, 'YYYY-MM-DD'), rows, hash, stored_rows, bytes_hash "
                     "FROM {s}.date_digests WHERE level = $1"),
                 {std::string(level)});
  if (!r.ok()) return r.status();
  const PGresult* res = r->get();
  for (int i = 0, rows = pq_->ntuples(res); i < rows; ++i) {
    auto text = [&](int col) { return std::string(pq_->getvalue(res, i, col)); };  // NULL: ""
    Date date;
    StoredDigest d;
    bool good = parse_date(text(0), &date) == DateError::kNone && d.source.set_hash_hex(text(2));
    if (good && !text(4).empty()) good = d.bytes.emplace().set_hex(text(4));
    if (!good)
      return Status::Load("PostgreSQL " + describe() + ": a bad row in date_digests (" + text(0) +
                          ")");
    d.source.rows = uint64_t(to_int64(pq_->getvalue(res, i, 1)));
    d.stored_rows = uint64_t(to_int64(pq_->getvalue(res, i, 3)));
    out.emplace(date, d);
  }
  return date_digests_answer(std::move(out), [&]() -> Result<bool> {
    auto any = query("reading locations",
                     sql("SELECT EXISTS (SELECT 1 FROM {s}.locations WHERE type = $1)"),
                     {std::string(level)});
    if (!any.ok()) return any.status();
    return std::string_view(pq_->getvalue(any->get(), 0, 0)) == "t";
  });
}

Result<std::optional<int>> PostgresStore::dataset_cadence(std::string_view dataset) {
  if (empty_) return std::optional<int>();
  auto has = has_table("dataset_cadence");  // none before step 8 (a dry run): nothing kept
  if (!has.ok()) return has.status();
  if (!*has) return std::optional<int>();
  auto r =
      query("reading the cadence", sql("SELECT days FROM {s}.dataset_cadence WHERE dataset = $1"),
            {std::string(dataset)});
  if (!r.ok()) return r.status();
  if (pq_->ntuples(r->get()) == 0) return std::optional<int>();
  return std::optional<int>(int(to_int64(pq_->getvalue(r->get(), 0, 0))));
}

namespace {

#define COVID_PG_RUN_COLUMNS \
  "id, " COVID_PG_TIME("started_at") ", " COVID_PG_TIME("finished_at") ", status, stage, rows_read, " \
  "inserted, updated, unchanged, missing, warnings, errors, to_char(first_date, 'YYYY-MM-DD'), "   \
  "to_char(last_date, 'YYYY-MM-DD'), error, sources, duration_ms"

// Row i of a result of PostgresStore::run_columns(): COVID_PG_RUN_COLUMNS and the quality.
RunRecord read_run(const LibPq& pq, const PGresult* res, int i) {
  auto text = [&](int col) { return std::string(pq.getvalue(res, i, col)); };
  auto u = [&](int col) { return uint64_t(to_int64(pq.getvalue(res, i, col))); };
  RunRecord rec;
  rec.id = to_int64(pq.getvalue(res, i, 0));
  rec.started_at = text(1);
  rec.finished_at = text(2);
  rec.status = stored_run_status(text(3));
  rec.stage = text(4);
  rec.counts = RunCounts{u(5), u(6), u(7), u(8), u(9), u(10), u(11)};
  rec.first_date = text(12);
  rec.last_date = text(13);
  rec.error = text(14);
  rec.sources_json = text(15);
  rec.duration_ms = to_int64(pq.getvalue(res, i, 16));
  rec.quality_json = text(17);
  return rec;
}

}  // namespace

Result<bool> PostgresStore::has_table(const char* table) {
  auto r = query("reading the schema", "SELECT to_regclass($1) IS NOT NULL",
                 {sql("{s}.") + quote_identifier(table)});
  if (!r.ok()) return r.status();
  return std::string_view(pq_->getvalue(r->get(), 0, 0)) == "t";
}

Result<bool> PostgresStore::has_column(const char* table, const char* column) {
  auto r = query("reading the schema",
                 "SELECT 1 FROM information_schema.columns WHERE table_schema = $1 AND "
                 "table_name = $2 AND column_name = $3",
                 {target_.schema, std::string(table), std::string(column)});
  if (!r.ok()) return r.status();
  return pq_->ntuples(r->get()) > 0;
}

Result<std::string> PostgresStore::run_columns() {
  auto quality = has_column("runs", "quality");
  if (!quality.ok()) return quality.status();
  return std::string(COVID_PG_RUN_COLUMNS) + (*quality ? ", quality" : ", ''");
}

Result<std::vector<RunRecord>> PostgresStore::list_runs(size_t limit) {
  if (empty_) return std::vector<RunRecord>();
  auto columns = run_columns();
  if (!columns.ok()) return columns.status();
  auto r = query("reading runs",
                 sql("SELECT " + *columns + " FROM {s}.runs ORDER BY id DESC LIMIT $1::bigint"),
                 {std::to_string(limit)});
  if (!r.ok()) return r.status();
  const PGresult* res = r->get();
  std::vector<RunRecord> out;
  for (int i = 0, rows = pq_->ntuples(res); i < rows; ++i) out.push_back(read_run(*pq_, res, i));
  return out;
}

Result<uint64_t> PostgresStore::data_version() {
  if (empty_) {  // opened before the first run: whether the schema exists now
    auto v = read_version();
    if (!v.ok()) return v.status();
    return uint64_t(*v);
  }
  // Every run rewrites its record in its commit: the newest records tell a commit from none.
  auto r =
      query("reading the data version",
            sql("SELECT id, status, " COVID_PG_TIME("finished_at") " FROM {s}.runs "
                                                                   "ORDER BY id DESC LIMIT 8"));
  if (!r.ok()) return r.status();
  uint64_t h = 1469598103934665603ull;  // FNV-1a, as Store::data_version()
  const PGresult* res = r->get();
  for (int i = 0, rows = pq_->ntuples(res); i < rows; ++i) {
    for (int col = 0; col < 3; ++col) {
      for (const char* c = pq_->getvalue(res, i, col); *c != '\0'; ++c)
        h = (h ^ static_cast<unsigned char>(*c)) * 1099511628211ull;
      h = (h ^ 0xff) * 1099511628211ull;
    }
  }
  return h;
}

Result<std::optional<std::string>> PostgresStore::claim_schedule() {
  const std::string cls = std::to_string(kScheduleClass);
  const std::string key = std::to_string(lock_key(target_.schema));
  const std::string ucls = std::to_string(uint32_t(kScheduleClass));
  const std::string ukey = std::to_string(uint32_t(lock_key(target_.schema)));
  // The lock as pg_locks shows it: a key of two int4 is objsubid 2, the two halves as oids.
  constexpr const char* kHeld = R"sql(
l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 AND l.classid = $1::bigint::oid
  AND l.objid = $2::bigint::oid
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()))sql";
  // Held by this session already (taking it again would stack it), or taken now.
  auto got = query("claiming the schedule",
                   std::string("SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_locks l WHERE "
                               "l.pid = pg_backend_pid() AND ") +
                       kHeld + ") THEN true ELSE pg_try_advisory_lock($3::int4, $4::int4) END",
                   {ucls, ukey, cls, key});
  if (!got.ok()) return got.status();
  if (std::string_view(pq_->getvalue(got->get(), 0, 0)) == "t") {
    session_locks_ = true;
    return std::optional<std::string>();
  }
  auto who = query(
      "reading who holds the schedule",
      std::string("SELECT a.pid, coalesce(host(a.client_addr), 'a local socket'), " COVID_PG_TIME(
          "a.backend_start") " FROM pg_locks l JOIN "
                             "pg_stat_activity a ON a.pid = l.pid WHERE ") +
          kHeld,
      {ucls, ukey});
  std::string holder = "another covid-etl daemon runs the schedule of PostgreSQL " + describe();
  if (who.ok() && pq_->ntuples(who->get()) > 0) {
    holder += std::string(" (server process ") + pq_->getvalue(who->get(), 0, 0) + ", client " +
              pq_->getvalue(who->get(), 0, 1) + ", connected since " +
              pq_->getvalue(who->get(), 0, 2) + ")";
  }
  return std::optional<std::string>(holder);
}

Result<std::optional<RunRecord>> PostgresStore::get_run(int64_t id) {
  if (empty_) return std::optional<RunRecord>();
  auto columns = run_columns();
  if (!columns.ok()) return columns.status();
  auto r =
      query("reading a run", sql("SELECT " + *columns + " FROM {s}.runs WHERE id = $1::bigint"),
            {std::to_string(id)});
  if (!r.ok()) return r.status();
  const PGresult* res = r->get();
  if (pq_->ntuples(res) == 0) return std::optional<RunRecord>();
  return std::optional<RunRecord>(read_run(*pq_, res, 0));
}

Result<std::vector<Location>> PostgresStore::list_locations() {
  std::vector<Location> out;
  if (empty_) {
    out.push_back(Location{kNation, "nation", "United States", "", ""});
    return out;
  }
  // COLLATE "C": byte order, as std::string sorts, whatever the database's collation.
  auto r =
      query("reading locations",
            sql("SELECT id, type, name, state, fips FROM {s}.locations ORDER BY id COLLATE \"C\""));
  if (!r.ok()) return r.status();
  const PGresult* res = r->get();
  int rows = pq_->ntuples(res);
  out.reserve(size_t(rows));
  for (int i = 0; i < rows; ++i) {
    auto text = [&](int col) { return std::string(pq_->getvalue(res, i, col)); };  // NULL: ""
    out.push_back(Location{text(0), text(1), text(2), text(3), text(4)});
  }
  return out;
}

Result<std::vector<Population>> PostgresStore::populations() {
  std::vector<Population> out;
  if (empty_) return out;
  auto has = has_table("populations");  // none before step 6
  if (!has.ok()) return has.status();
  if (!*has) return out;
  auto r = query("reading the populations",
                 sql("SELECT location, population, source, coalesce(year, 0) FROM {s}.populations "
                     "ORDER BY location COLLATE \"C\""));
  if (!r.ok()) return r.status();
  const PGresult* res = r->get();
  for (int i = 0, rows = pq_->ntuples(res); i < rows; ++i) {
    out.push_back(Population{pq_->getvalue(res, i, 0), to_int64(pq_->getvalue(res, i, 1)),
                             pq_->getvalue(res, i, 2), int(to_int64(pq_->getvalue(res, i, 3)))});
  }
  return out;
}

Result<std::map<std::string, SourceState>> PostgresStore::source_states() {
  if (empty_) return std::map<std::string, SourceState>();
  auto has = has_column("source_state", "changed_at");  // step 5's columns read as empty before it
  if (!has.ok()) return has.status();
  auto r = query("reading source state",
                 sql(*has ? "SELECT url, etag, last_modified, content_hash, bytes, name, dataset, "
                            "header, changed_at, stale_told_at, run_id FROM {s}.source_state"
                          : "SELECT url, etag, last_modified, content_hash, bytes, '', '', '', '', "
                            "'', run_id FROM {s}.source_state"));
  if (!r.ok()) return r.status();
  const PGresult* res = r->get();
  std::map<std::string, SourceState> out;
  for (int i = 0, rows = pq_->ntuples(res); i < rows; ++i) {
    SourceState st;
    st.url = pq_->getvalue(res, i, 0);
    st.validators = SourceValidators{pq_->getvalue(res, i, 1), pq_->getvalue(res, i, 2)};
    st.content_hash = pq_->getvalue(res, i, 3);
    st.bytes = uint64_t(to_int64(pq_->getvalue(res, i, 4)));
    st.name = pq_->getvalue(res, i, 5);
    st.dataset = pq_->getvalue(res, i, 6);
    st.header = pq_->getvalue(res, i, 7);
    st.changed_at = pq_->getvalue(res, i, 8);
    st.stale_told_at = pq_->getvalue(res, i, 9);
    st.run_id = pq_->getisnull(res, i, 10) ? 0 : to_int64(pq_->getvalue(res, i, 10));
    out.emplace(st.url, std::move(st));
  }
  return out;
}

namespace {

constexpr const char* kOutboxColumns =
    "id, run_id, channel, event, subject, body, payload, status, attempts, "
    "last_error, " COVID_PG_TIME("created_at") ", " COVID_PG_TIME("delivered_at");

std::vector<OutboxMessage> read_outbox(const LibPq& pq, const PGresult* res) {
  std::vector<OutboxMessage> out;
  for (int i = 0, rows = pq.ntuples(res); i < rows; ++i) {
    auto text = [&](int col) { return std::string(pq.getvalue(res, i, col)); };
    OutboxMessage m;
    m.id = to_int64(pq.getvalue(res, i, 0));
    m.run_id = to_int64(pq.getvalue(res, i, 1));
    m.channel = text(2);
    m.event = text(3);
    m.subject = text(4);
    m.body = text(5);
    m.payload = text(6);
    m.status = stored_outbox_status(text(7));
    m.attempts = int(to_int64(pq.getvalue(res, i, 8)));
    m.last_error = text(9);
    m.created_at = text(10);
    m.delivered_at = text(11);
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace

Result<std::vector<OutboxMessage>> PostgresStore::claim_outbox(size_t limit, const std::string& now,
                                                               const std::string& lease_until) {
  // One statement: the rows are chosen and leased atomically; SKIP LOCKED lets two processes
  // claiming at once take different messages.
  auto r = query("leasing the outbox", sql(std::string(R"sql(
UPDATE {s}.outbox SET lease_until = $2::timestamptz
WHERE id IN (SELECT id FROM {s}.outbox
             WHERE status = 'pending' AND (lease_until IS NULL OR lease_until < $1::timestamptz)
             ORDER BY id LIMIT $3::bigint FOR UPDATE SKIP LOCKED)
RETURNING )sql") + kOutboxColumns),
                 {now, lease_until, std::to_string(limit)});
  if (!r.ok()) return r.status();
  std::vector<OutboxMessage> out = read_outbox(*pq_, r->get());
  std::sort(out.begin(), out.end(),
            [](const OutboxMessage& a, const OutboxMessage& b) { return a.id < b.id; });
  return out;
}

Status PostgresStore::record_delivery(const DeliveryUpdate& u) {
  auto r = query(
      "updating the outbox",
      sql("UPDATE {s}.outbox SET status = $1, attempts = attempts + $2::int4, last_error = $3, "
          "lease_until = NULL, delivered_at = $4::timestamptz WHERE id = $5::bigint"),
      {std::string(to_string(u.status)), std::to_string(u.attempts_added), text_or_null(u.error),
       u.status == OutboxStatus::kDelivered ? text_or_null(u.at) : std::nullopt,
       std::to_string(u.id)});
  return r.ok() ? Status::Ok() : r.status();
}

Result<std::vector<OutboxMessage>> PostgresStore::list_outbox(bool all, size_t limit) {
  if (empty_) return std::vector<OutboxMessage>();
  auto r =
      query("reading the outbox",
            sql(std::string("SELECT ") + kOutboxColumns + " FROM {s}.outbox" +
                (all ? "" : " WHERE status <> 'delivered'") + " ORDER BY id DESC LIMIT $1::bigint"),
            {std::to_string(limit)});
  if (!r.ok()) return r.status();
  return read_outbox(*pq_, r->get());
}

}  // namespace covid
