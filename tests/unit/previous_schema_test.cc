// The on-disk schema does not change under a build: a database written by the release before
// issue 16 opens, reads and loads with this build's stores, on SQLite and on PostgreSQL (the
// server of the store contract's fixture; skipped without one, as there). The databases are built
// here from that release's migration texts, kept byte for byte in
// tests/fixtures/previous-schema/ (taken from commit 9a1f8c1), and filled with rows as that
// release wrote them; and the migration list of this build (load/migrations.h) must still hold
// those texts unchanged, which is what keeps every database's schema the same.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "load/classify.h"
#include "load/migrations.h"
#include "load/postgres/libpq.h"
#include "load/postgres/pg_url.h"
#include "load/postgres/postgres_store.h"
#include "load/sqlite/sqlite_store.h"
#include "load/store.h"
#include "test_support.h"

namespace covid {
namespace {

namespace fs = std::filesystem;
using Strings = std::vector<std::string>;
using Rows = std::vector<Strings>;

// The steps of a fixture file: the text after each "-- @@ step N" line's marker, up to the next.
std::vector<std::string> previous_steps(const char* dialect) {
  std::string path = std::string(COVID_ETL_FIXTURES_DIR) + "/previous-schema/" + dialect + ".sql";
  std::ifstream in(path, std::ios::binary);
  std::stringstream all;
  all << in.rdbuf();
  std::string text = all.str();
  EXPECT_FALSE(text.empty()) << "cannot read " << path;
  std::vector<std::string> steps;
  size_t at = 0;
  for (int n = 1;; ++n) {
    std::string marker = "\n-- @@ step " + std::to_string(n);
    size_t found = text.find(marker, at);
    if (found == std::string::npos) break;
    size_t begin = found + marker.size();
    size_t end = text.find("\n-- @@ step " + std::to_string(n + 1), begin);
    steps.push_back(
        text.substr(begin, end == std::string::npos ? std::string::npos : end + 1 - begin));
    at = begin;
  }
  EXPECT_EQ(steps.size(), 4u) << path;
  return steps;
}

// The migration texts of the previous release are those of this build's first steps, byte for
// byte: a database went through exactly what a new one goes through.
TEST(PreviousSchema, ShippedMigrationsAreUnchanged) {
  for (auto [name, dialect] :
       {std::pair{"sqlite", SqlDialect::kSqlite}, std::pair{"postgres", SqlDialect::kPostgres}}) {
    SCOPED_TRACE(name);
    std::vector<std::string> steps = previous_steps(name);
    ASSERT_LE(int(steps.size()), sql_schema_version());
    for (size_t i = 0; i < steps.size(); ++i) {
      EXPECT_EQ(migration_sql(int(i), dialect), steps[i]) << "step " << i + 1;
    }
  }
  EXPECT_EQ(SqliteStore::schema_version(), sql_schema_version());
  EXPECT_EQ(PostgresStore::schema_version(), sql_schema_version());
}

// --- databases of the previous release ----------------------------------------------------------

class PreviousDatabase {
 public:
  virtual ~PreviousDatabase() = default;
  virtual std::string url() const = 0;
  // Creates the database as the previous release did, up to schema version `version`.
  virtual void create(int version) = 0;
  // SQL on its tables (unqualified names); each row as text, NULL as "NULL".
  virtual Rows raw(const std::string& sql) = 0;
  virtual int stored_version() = 0;
};

class SqlitePrevious final : public PreviousDatabase {
 public:
  SqlitePrevious() {
    std::string t = (fs::temp_directory_path() / "covid-previous-XXXXXX").string();
    if (mkdtemp(t.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
    dir_ = t;
  }
  ~SqlitePrevious() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string url() const override { return (dir_ / "covid.db").string(); }
  void create(int version) override {
    // As SqliteStore::open did: WAL, then the steps and the version in one transaction.
    std::vector<std::string> steps = previous_steps("sqlite");
    std::string sql = "PRAGMA journal_mode = WAL; BEGIN IMMEDIATE;";
    for (int i = 0; i < version; ++i) sql += steps[size_t(i)];
    sql += "PRAGMA user_version = " + std::to_string(version) + "; COMMIT;";
    test::sqlite_query(url(), sql, /*create=*/true);
  }
  Rows raw(const std::string& sql) override { return test::sqlite_query(url(), sql, false); }
  int stored_version() override { return std::stoi(raw("PRAGMA user_version")[0][0]); }

 private:
  fs::path dir_;
};

// The PostgreSQL server's URL from the contract fixture, or "" when not configured.
std::string fixture_url() {
  const char* file = std::getenv("COVID_ETL_TEST_PG_URL_FILE");
  if (file == nullptr) return "";
  std::ifstream in(file);
  std::string url;
  std::getline(in, url);
  if (url.empty()) ADD_FAILURE() << "no PostgreSQL URL in " << file << " (did the fixture start?)";
  return url;
}

class PostgresPrevious final : public PreviousDatabase {
 public:
  explicit PostgresPrevious(std::string server) : server_(std::move(server)) {
    static std::mt19937_64 rng(std::random_device{}() ^ uint64_t(getpid()));
    char buf[32];
    std::snprintf(buf, sizeof buf, "prev%d_%08x", int(getpid()), unsigned(rng()));
    schema_ = buf;
    std::string error;
    pq_ = LibPq::get(&error);
    if (pq_ == nullptr) {
      ADD_FAILURE() << error;
      return;
    }
    const char* keys[] = {"dbname", nullptr};
    const char* values[] = {server_.c_str(), nullptr};
    conn_ = pq_->connectdb_params(keys, values, 1);
    if (pq_->status(conn_) != CONNECTION_OK) ADD_FAILURE() << pq_->error_message(conn_);
    pq_->set_notice_processor(
        conn_, [](void*, const char*) {}, nullptr);
  }
  ~PostgresPrevious() override {
    if (pq_ == nullptr) return;
    raw("DROP SCHEMA IF EXISTS " + quote_identifier(schema_) + " CASCADE");
    pq_->finish(conn_);
  }
  std::string url() const override { return server_ + "?schema=" + schema_; }
  void create(int version) override {
    // As PostgresStore::migrate did: the schema, its version table, the steps, the version.
    const std::string s = quote_identifier(schema_);
    std::string sql = "BEGIN; CREATE SCHEMA " + s + "; CREATE TABLE IF NOT EXISTS " + s +
                      ".schema_version (\n"
                      "  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),\n"
                      "  version   integer NOT NULL\n"
                      ");";
    std::vector<std::string> steps = previous_steps("postgres");
    for (int i = 0; i < version; ++i) {
      std::string step = steps[size_t(i)];
      for (size_t at; (at = step.find("{s}")) != std::string::npos;) step.replace(at, 3, s);
      sql += step + ";";
    }
    sql += "INSERT INTO " + s + ".schema_version (version) VALUES (" + std::to_string(version) +
           "); COMMIT; SET search_path = " + s + "; SET datestyle = ISO";
    raw(sql);
  }
  Rows raw(const std::string& sql) override {
    Rows rows;
    if (pq_ == nullptr) return rows;
    PGresult* r = pq_->exec(conn_, sql.c_str());
    ExecStatusType st = pq_->result_status(r);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
      ADD_FAILURE() << sql << ": " << pq_->error_message(conn_);
    } else {
      for (int i = 0; i < pq_->ntuples(r); ++i) {
        Strings row;
        for (int j = 0; j < pq_->nfields(r); ++j) {
          row.push_back(pq_->getisnull(r, i, j) ? "NULL" : pq_->getvalue(r, i, j));
        }
        rows.push_back(row);
      }
    }
    pq_->clear(r);
    return rows;
  }
  int stored_version() override {
    return std::stoi(raw("SELECT version FROM schema_version")[0][0]);
  }

 private:
  std::string server_, schema_;
  const LibPq* pq_ = nullptr;
  PGconn* conn_ = nullptr;
};

// --- helpers ------------------------------------------------------------------------------------

Date day(int d) { return date_from_ymd(2020, 3, unsigned(d)); }

Observation at(const std::string& location, int d, int64_t cases, int64_t deaths) {
  Observation o;
  o.location = location;
  o.date = day(d);
  o.cases = cases;
  o.deaths = deaths;
  return o;
}

std::string n(int64_t v) { return v == kUnknown ? "?" : std::to_string(v); }

Strings show(const std::vector<Observation>& rows) {
  Strings out;
  for (const Observation& o : rows) {
    out.push_back(o.location + " " + format_date(o.date) + " " + n(o.cases) + "/" + n(o.deaths) +
                  "/" + n(o.recovered));
  }
  return out;
}

Strings show(const std::vector<RunRecord>& runs) {
  Strings out;
  for (const RunRecord& r : runs) {
    out.push_back(std::to_string(r.id) + " " + to_string(r.status) + " " + r.started_at + " " +
                  r.finished_at + " " + std::to_string(r.counts.rows_read) + "," +
                  std::to_string(r.counts.inserted) + "," + std::to_string(r.counts.updated) + " " +
                  r.first_date + ".." + r.last_date + " " + r.error + " " + r.sources_json + " " +
                  std::to_string(r.duration_ms));
  }
  return out;
}

Strings show(const std::vector<OutboxMessage>& messages) {
  Strings out;
  for (const OutboxMessage& m : messages) {
    out.push_back(std::to_string(m.id) + " run=" + std::to_string(m.run_id) + " " + m.channel +
                  " " + m.event + " " + to_string(m.status) + " " + std::to_string(m.attempts) +
                  " " + m.created_at + " " + m.delivered_at + " " + m.subject + " " + m.body + " " +
                  m.payload);
  }
  return out;
}

Strings show(const std::vector<Location>& locations) {
  Strings out;
  for (const Location& l : locations) {
    out.push_back(l.id + "|" + l.type + "|" + l.name + "|" + l.state + "|" + l.fips);
  }
  return out;
}

// Rows as the previous release wrote them (no ids given: the tables number them, as they did): a
// complete run, then one whose process ended while it was `running`.
constexpr const char* kPreviousRows = R"sql(
INSERT INTO locations (id, type, name, state, fips) VALUES ('06', 'state', 'California', NULL, '06');
INSERT INTO runs (started_at, finished_at, status, stage, rows_read, inserted, updated, unchanged,
                  missing, warnings, errors, first_date, last_date, error, sources, duration_ms)
VALUES ('2022-06-01T12:00:00.000Z', '2022-06-01T12:00:01.500Z', 'ok', NULL, 3, 3, 0, 0, 0, 0, 0,
        '2020-03-01', '2020-03-02', NULL, '[{"url":"https://example.org/us.csv","status":200}]', 1500);
INSERT INTO runs (started_at, status) VALUES ('2022-06-02T12:00:00.000Z', 'running');
INSERT INTO observations (location, date, cases, deaths, recovered, run_id) VALUES
  ('US', '2020-03-01', 10, 1, NULL, 1), ('US', '2020-03-02', 12, 1, 4, 1), ('06', '2020-03-01', 5, NULL, NULL, 1);
INSERT INTO revisions (run_id, location, date, old_cases, old_deaths, old_recovered, new_cases,
                       new_deaths, new_recovered)
VALUES (1, 'US', '2020-03-01', 9, 1, NULL, 10, 1, NULL);
INSERT INTO source_state (url, etag, last_modified, content_hash, bytes, run_id)
VALUES ('https://example.org/us.csv', '"v1"', NULL, 'abcd', 1234, 1);
)sql";

// The outbox (schema version 2 on): one message delivered, one pending.
constexpr const char* kPreviousOutbox = R"sql(
INSERT INTO outbox (run_id, channel, event, subject, body, payload, status, attempts, last_error,
                    created_at, lease_until, delivered_at)
VALUES (1, 'log', 'success', 'run 1 ok', 'loaded 3', '{"run":1}', 'delivered', 1, NULL,
        '2022-06-01T12:00:01.500Z', NULL, '2022-06-01T12:00:02.000Z'),
       (1, 'hook', 'success', 'run 1 ok', 'loaded 3', '{"run":1}', 'pending', 2, 'HTTP 500',
        '2022-06-01T12:00:01.500Z', NULL, NULL);
)sql";

class PreviousSchemaTest : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "sqlite") {
      db_ = std::make_unique<SqlitePrevious>();
    } else {
      std::string server = fixture_url();
      if (server.empty())
        GTEST_SKIP() << "COVID_ETL_TEST_PG_URL_FILE is not set: no PostgreSQL server";
      db_ = std::make_unique<PostgresPrevious>(server);
    }
  }

  std::unique_ptr<Store> open(bool read_only = false) {
    StoreOptions options;
    options.read_only = read_only;
    Result<std::unique_ptr<Store>> r = open_store(db_->url(), options);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? std::move(*r) : nullptr;
  }

  // "nullopt", or the dates of the level's digests.
  static std::string digests(Store& store, std::string_view level) {
    Result<std::optional<std::map<Date, StoredDigest>>> r = store.date_digests(level);
    EXPECT_TRUE(r.ok()) << r.status().message();
    if (!r.ok()) return "error";
    if (!r->has_value()) return "nullopt";
    std::string out = "{";
    for (const auto& [date, d] : **r) {
      out += (out.size() > 1 ? " " : "") + format_date(date) + ":" + std::to_string(d.stored_rows);
    }
    return out + "}";
  }

  // A run of this build on the old database: it closes the interrupted run 2 and tells of it,
  // then loads the nation (day 1 revised, day 3 new) and a county date with its digest.
  void load_with_this_build(Store& store, int64_t expect_id) {
    std::vector<int64_t> told;
    Result<int64_t> id = store.begin_run("2022-06-03T12:00:00.000Z", [&](const RunRecord& closed) {
      told.push_back(closed.id);
      OutboxMessage m;
      m.run_id = closed.id;
      m.channel = "log";
      m.event = "failure";
      m.subject = "run " + std::to_string(closed.id) + " interrupted";
      m.body = closed.error;
      m.payload = "{}";
      m.created_at = "2022-06-03T12:00:00.000Z";
      return std::vector<OutboxMessage>{m};
    });
    ASSERT_TRUE(id.ok()) << id.status().message();
    EXPECT_EQ(*id, expect_id);
    EXPECT_EQ(told, std::vector<int64_t>{2});

    Result<std::unique_ptr<LoadTransaction>> t = store.begin_load();
    ASSERT_TRUE(t.ok()) << t.status().message();
    LoadTransaction& tx = **t;
    Result<std::vector<Observation>> existing = tx.existing(kNation);
    ASSERT_TRUE(existing.ok()) << existing.status().message();
    ChangeSet nation =
        classify(*existing, {at("US", 1, 11, 1), at("US", 2, 12, 1), at("US", 3, 13, 2)});
    EXPECT_EQ(nation.inserted.size(), 1u);
    EXPECT_EQ(nation.updated.size(), 2u);  // day 1's cases; day 2's recovered 4 -> unknown
    Status s = tx.write(*id, nation);
    ASSERT_TRUE(s.ok()) << s.message();
    s = tx.save_locations({{"06037", "county", "Los Angeles", "California", "06037"}});
    ASSERT_TRUE(s.ok()) << s.message();
    ChangeSet county;
    county.inserted = {at("06037", 1, 3, 0)};
    s = tx.write(*id, county);
    ASSERT_TRUE(s.ok()) << s.message();
    DateDigest digest;
    digest.add(county.inserted[0]);
    s = tx.save_date_digests("county", {{day(1), StoredDigest{digest, 1, std::nullopt}}});
    ASSERT_TRUE(s.ok()) << s.message();
    SourceState source;
    source.url = "https://example.org/us.csv";
    source.validators.etag = "\"v2\"";
    source.content_hash = "ef01";
    source.bytes = 1300;
    s = tx.save_source(*id, source);
    ASSERT_TRUE(s.ok()) << s.message();
    RunRecord run;
    run.id = *id;
    run.status = RunStatus::kOk;
    run.finished_at = "2022-06-03T12:00:01.000Z";
    run.counts.rows_read = 4;
    run.counts.inserted = 2;
    run.counts.updated = 2;
    OutboxMessage done;
    done.run_id = *id;
    done.channel = "log";
    done.event = "success";
    done.subject = "run ok";
    done.body = "loaded";
    done.payload = "{}";
    done.created_at = "2022-06-03T12:00:01.000Z";
    s = tx.finish_run(run, {done});
    ASSERT_TRUE(s.ok()) << s.message();
    s = tx.commit();
    ASSERT_TRUE(s.ok()) << s.message();

    Result<std::vector<Observation>> us = store.read_series(kNation, std::nullopt, std::nullopt);
    ASSERT_TRUE(us.ok()) << us.status().message();
    EXPECT_EQ(show(*us),
              (Strings{"US 2020-03-01 11/1/?", "US 2020-03-02 12/1/?", "US 2020-03-03 13/2/?"}));
    Result<std::vector<Observation>> la = store.read_series("06037", std::nullopt, std::nullopt);
    ASSERT_TRUE(la.ok()) << la.status().message();
    EXPECT_EQ(show(*la), Strings{"06037 2020-03-01 3/0/?"});
    EXPECT_EQ(digests(store, "county"), "{2020-03-01:1}");
    EXPECT_EQ(db_->raw("SELECT count(*) FROM revisions WHERE run_id = " + std::to_string(*id)),
              Rows{{"2"}});

    Result<std::vector<RunRecord>> runs = store.list_runs(10);
    ASSERT_TRUE(runs.ok()) << runs.status().message();
    ASSERT_EQ(runs->size(), 3u);
    EXPECT_EQ((*runs)[0].status, RunStatus::kOk);
    EXPECT_EQ((*runs)[0].counts.updated, 2u);
    EXPECT_EQ((*runs)[1].id, 2);
    EXPECT_EQ((*runs)[1].status, RunStatus::kFailed);
    EXPECT_EQ((*runs)[1].error, interrupted_run_message(*id));
    EXPECT_EQ((*runs)[2].status, RunStatus::kOk);

    Result<std::map<std::string, SourceState>> sources = store.source_states();
    ASSERT_TRUE(sources.ok()) << sources.status().message();
    ASSERT_EQ(sources->size(), 1u);
    EXPECT_EQ(sources->begin()->second.validators.etag, "\"v2\"");
    EXPECT_EQ(sources->begin()->second.bytes, 1300u);
  }

  std::unique_ptr<PreviousDatabase> db_;
};

// A database at the previous release's last schema version, with its rows of every table: read
// as they were written, then loaded by this build, which leaves its schema version alone.
TEST_P(PreviousSchemaTest, ADatabaseOfThePreviousReleaseOpensAndLoads) {
  db_->create(4);
  db_->raw(kPreviousRows);
  db_->raw(kPreviousOutbox);
  DateDigest state;
  state.add(at("06", 1, 5, kUnknown));
  db_->raw(
      "INSERT INTO date_digests (level, date, rows, hash, stored_rows, bytes_hash) VALUES "
      "('state', '2020-03-01', 1, '" +
      state.hash_hex() + "', 1, NULL)");
  {
    auto reader = open(/*read_only=*/true);
    ASSERT_NE(reader, nullptr);
    Result<std::vector<RunRecord>> runs = reader->list_runs(10);
    ASSERT_TRUE(runs.ok()) << runs.status().message();
    EXPECT_EQ(show(*runs),
              (Strings{"2 running 2022-06-02T12:00:00.000Z  0,0,0 ..   0",
                       "1 ok 2022-06-01T12:00:00.000Z 2022-06-01T12:00:01.500Z 3,3,0 "
                       "2020-03-01..2020-03-02  [{\"url\":\"https://example.org/us.csv\","
                       "\"status\":200}] 1500"}));
    Result<std::vector<Observation>> us = reader->read_series(kNation, std::nullopt, std::nullopt);
    ASSERT_TRUE(us.ok()) << us.status().message();
    EXPECT_EQ(show(*us), (Strings{"US 2020-03-01 10/1/?", "US 2020-03-02 12/1/4"}));
    Result<std::vector<OutboxMessage>> outbox = reader->list_outbox(true, 10);
    ASSERT_TRUE(outbox.ok()) << outbox.status().message();
    EXPECT_EQ(show(*outbox),
              (Strings{"2 run=1 hook success pending 2 2022-06-01T12:00:01.500Z  run 1 ok "
                       "loaded 3 {\"run\":1}",
                       "1 run=1 log success delivered 1 2022-06-01T12:00:01.500Z "
                       "2022-06-01T12:00:02.000Z run 1 ok loaded 3 {\"run\":1}"}));
    Result<std::vector<Location>> locations = reader->list_locations();
    ASSERT_TRUE(locations.ok()) << locations.status().message();
    EXPECT_EQ(show(*locations), (Strings{"06|state|California||06", "US|nation|United States||"}));
    EXPECT_EQ(digests(*reader, "state"), "{2020-03-01:1}");
    EXPECT_EQ(digests(*reader, "county"), "{}");  // no county yet: kept, none yet
    Result<std::map<std::string, SourceState>> sources = reader->source_states();
    ASSERT_TRUE(sources.ok()) << sources.status().message();
    ASSERT_EQ(sources->count("https://example.org/us.csv"), 1u);
    EXPECT_EQ(sources->at("https://example.org/us.csv").validators.etag, "\"v1\"");
  }
  auto store = open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(db_->stored_version(), sql_schema_version());
  load_with_this_build(*store, 3);

  // The old pending message and the new ones are delivered as any other.
  Result<std::vector<OutboxMessage>> claimed =
      store->claim_outbox(10, "2022-06-03T12:00:02.000Z", "2022-06-03T12:05:00.000Z");
  ASSERT_TRUE(claimed.ok()) << claimed.status().message();
  Strings subjects;
  for (const OutboxMessage& m : *claimed) subjects.push_back(m.subject);
  EXPECT_EQ(subjects, (Strings{"run 1 ok", "run 2 interrupted", "run ok"}));
  Status delivered = store->record_delivery(DeliveryUpdate{
      claimed->at(0).id, OutboxStatus::kDelivered, 1, "", "2022-06-03T12:00:03.000Z"});
  ASSERT_TRUE(delivered.ok()) << delivered.message();
  Result<std::vector<OutboxMessage>> left = store->list_outbox(false, 10);
  ASSERT_TRUE(left.ok()) << left.status().message();
  EXPECT_EQ(left->size(), 2u);
  EXPECT_EQ(db_->stored_version(), sql_schema_version());
}

// A database of an earlier version still (2: before date digests) is migrated by this build's
// steps; its rows, written without digests, answer "none kept" until a run writes them.
TEST_P(PreviousSchemaTest, ADatabaseOfAnEarlierVersionIsMigratedAndLoads) {
  db_->create(2);
  db_->raw(kPreviousRows);
  db_->raw(kPreviousOutbox);
  auto store = open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(db_->stored_version(), sql_schema_version());
  EXPECT_EQ(digests(*store, "state"), "nullopt");  // state rows without digests
  EXPECT_EQ(digests(*store, "county"), "{}");      // no county rows at all
  Result<std::vector<Observation>> us = store->read_series(kNation, std::nullopt, std::nullopt);
  ASSERT_TRUE(us.ok()) << us.status().message();
  EXPECT_EQ(show(*us), (Strings{"US 2020-03-01 10/1/?", "US 2020-03-02 12/1/4"}));
  load_with_this_build(*store, 3);
}

INSTANTIATE_TEST_SUITE_P(Stores, PreviousSchemaTest, testing::Values("sqlite", "postgres"),
                         [](const testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace covid
