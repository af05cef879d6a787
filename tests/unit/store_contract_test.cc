// The Store contract (load/store.h), the same cases on every store: SQLite in a temporary file,
// and PostgreSQL on the server CTest starts for these tests (tests/integration/pgserver.py,
// the `postgres` fixture), which writes its URL to the file named by COVID_ETL_TEST_PG_URL_FILE.
// Each PostgreSQL case gets a schema of its own. Without that variable (the binary run by hand)
// the PostgreSQL cases are skipped; with it, a server that cannot be reached fails them.
//
// The county path's cases (date digests, the rows of a date, insert_sorted) run on DynamoDB too
// (DigestContract): on a dynalite server CTest starts for them (tests/integration/dynalite.py,
// the `dynalite` fixture), whose URL is in the file named by COVID_ETL_TEST_DYNAMO_URL_FILE; each
// case gets tables of its own. Without that variable the DynamoDB cases are skipped.
//
// After the contract: what only the PostgreSQL store has on a server (the schema, the advisory
// lock, passwords kept out of messages, a lost connection). Its URL parsing and binary COPY
// encoding are tested without a server in postgres_url_test.cc.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "load/classify.h"
#include "load/dynamodb/dynamo_client.h"
#include "load/dynamodb/dynamo_url.h"
#include "load/dynamodb/dynamodb_store.h"
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

// --- the stores under test ----------------------------------------------------------------------

// One store's database for one test: its URL, and raw SQL on it beside any store.
class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string url() const = 0;
  // Runs SQL on the store's tables (unqualified names); each row as text, NULL as "NULL".
  virtual Rows raw(const std::string& sql) = 0;
  virtual void set_schema_version(int version) = 0;
  virtual int build_schema_version() const = 0;
};

class SqliteBackend final : public Backend {
 public:
  SqliteBackend() {
    std::string t = (fs::temp_directory_path() / "covid-contract-XXXXXX").string();
    if (mkdtemp(t.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
    dir_ = t;
  }
  ~SqliteBackend() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string url() const override { return (dir_ / "covid.db").string(); }
  Rows raw(const std::string& sql) override { return test::sqlite_query(url(), sql, false); }
  void set_schema_version(int version) override {
    raw("PRAGMA user_version = " + std::to_string(version));
  }
  int build_schema_version() const override { return SqliteStore::schema_version(); }

 private:
  fs::path dir_;
};

// The PostgreSQL server's URL from the fixture, or "" when not configured.
std::string fixture_url() {
  const char* file = std::getenv("COVID_ETL_TEST_PG_URL_FILE");
  if (file == nullptr) return "";
  std::ifstream in(file);
  std::string url;
  std::getline(in, url);
  if (url.empty()) ADD_FAILURE() << "no PostgreSQL URL in " << file << " (did the fixture start?)";
  return url;
}

std::string unique_name(const char* prefix) {
  static std::mt19937_64 rng(std::random_device{}() ^ uint64_t(getpid()));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%s%d_%08x", prefix, int(getpid()), unsigned(rng()));
  return buf;
}

// A raw libpq connection, for checks beside the store.
class PgRaw {
 public:
  explicit PgRaw(const std::string& conninfo) {
    std::string error;
    pq_ = LibPq::get(&error);
    if (pq_ == nullptr) {
      ADD_FAILURE() << error;
      return;
    }
    const char* keys[] = {"dbname", nullptr};
    const char* values[] = {conninfo.c_str(), nullptr};
    conn_ = pq_->connectdb_params(keys, values, 1);
    if (pq_->status(conn_) != CONNECTION_OK) ADD_FAILURE() << pq_->error_message(conn_);
    pq_->set_notice_processor(
        conn_, [](void*, const char*) {}, nullptr);
  }
  ~PgRaw() {
    if (pq_ != nullptr) pq_->finish(conn_);
  }
  PgRaw(const PgRaw&) = delete;
  PgRaw& operator=(const PgRaw&) = delete;

  Rows query(const std::string& sql) {
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

 private:
  const LibPq* pq_ = nullptr;
  PGconn* conn_ = nullptr;
};

class PostgresBackend final : public Backend {
 public:
  PostgresBackend(std::string server, std::string schema)
      : server_(std::move(server)), schema_(std::move(schema)) {}
  ~PostgresBackend() override {
    connection().query("DROP SCHEMA IF EXISTS " + quote_identifier(schema_) + " CASCADE");
  }
  std::string url() const override { return server_ + "?schema=" + schema_; }
  Rows raw(const std::string& sql) override {
    connection();
    return raw_->query(sql);
  }
  void set_schema_version(int version) override {
    raw("UPDATE schema_version SET version = " + std::to_string(version));
  }
  int build_schema_version() const override { return PostgresStore::schema_version(); }
  PgRaw& connection() {
    if (!raw_) {
      raw_ = std::make_unique<PgRaw>(server_);
      raw_->query("SET search_path = " + quote_identifier(schema_) + "; SET datestyle = ISO");
    }
    return *raw_;
  }
  const std::string& schema() const { return schema_; }

 private:
  std::string server_, schema_;
  std::unique_ptr<PgRaw> raw_;
};

// The dynalite server's endpoint from the fixture, or "" when not configured.
std::string dynamo_fixture_endpoint() {
  const char* file = std::getenv("COVID_ETL_TEST_DYNAMO_URL_FILE");
  if (file == nullptr) return "";
  std::ifstream in(file);
  std::string url;
  std::getline(in, url);
  if (url.empty()) ADD_FAILURE() << "no dynalite URL in " << file << " (did the fixture start?)";
  return url;
}

// DynamoDB on dynalite: tables of the test's own, deleted after it. No SQL: raw() fails the test.
class DynamoBackend final : public Backend {
 public:
  explicit DynamoBackend(std::string endpoint)
      : endpoint_(std::move(endpoint)), table_(unique_name("covid-ct-")) {
    // dynalite checks no signature; the store wants credentials all the same.
    setenv("AWS_ACCESS_KEY_ID", "contract-test-key", 0);
    setenv("AWS_SECRET_ACCESS_KEY", "contract-test-secret", 0);
  }
  ~DynamoBackend() override {
    auto target = parse_dynamodb_url(url(), "");
    if (!target.ok()) return;
    static const SystemClock clock;
    DynamoClient client(*target, AwsCredentials{"contract-test-key", "contract-test-secret", ""},
                        clock);
    for (const std::string& t : {target->table, target->meta_table})
      (void)client.call("DeleteTable", {{"TableName", t}});
  }
  std::string url() const override {
    return "dynamodb://" + table_ + "?region=us-east-1&endpoint=" + endpoint_;
  }
  Rows raw(const std::string& sql) override {
    ADD_FAILURE() << "no SQL on DynamoDB: " << sql;
    return {};
  }
  void set_schema_version(int) override { ADD_FAILURE() << "not on DynamoDB"; }
  int build_schema_version() const override { return DynamoDbStore::schema_version(); }

 private:
  std::string endpoint_, table_;
};

// --- helpers --------------------------------------------------------------------------------

Date day(int d) { return date_from_ymd(2020, 3, unsigned(d)); }

Observation obs(int d, int64_t cases, int64_t deaths, int64_t recovered = kUnknown) {
  Observation o;
  o.date = day(d);
  o.cases = cases;
  o.deaths = deaths;
  o.recovered = recovered;
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

std::string show(const RunRecord& r) {
  const RunCounts& c = r.counts;
  return std::to_string(r.id) + " " + to_string(r.status) + " started=" + r.started_at +
         " finished=" + r.finished_at + " stage=" + r.stage +
         " counts=" + std::to_string(c.rows_read) + "," + std::to_string(c.inserted) + "," +
         std::to_string(c.updated) + "," + std::to_string(c.unchanged) + "," +
         std::to_string(c.missing) + "," + std::to_string(c.warnings) + "," +
         std::to_string(c.errors) + " dates=" + r.first_date + ".." + r.last_date +
         " error=" + r.error + " sources=" + r.sources_json +
         " ms=" + std::to_string(r.duration_ms);
}

Strings show(const std::vector<RunRecord>& runs) {
  Strings out;
  for (const RunRecord& r : runs) out.push_back(show(r));
  return out;
}

std::string show(const OutboxMessage& m) {
  return std::to_string(m.id) + " run=" + std::to_string(m.run_id) + " " + m.channel + " " +
         m.event + " " + to_string(m.status) + " attempts=" + std::to_string(m.attempts) +
         " error=" + m.last_error + " created=" + m.created_at + " delivered=" + m.delivered_at +
         " subject=" + m.subject + " body=" + m.body + " payload=" + m.payload;
}

Strings show(const std::vector<OutboxMessage>& ms) {
  Strings out;
  for (const OutboxMessage& m : ms) out.push_back(show(m));
  return out;
}

// --- the contract ---------------------------------------------------------------------------

class StoreContract : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "sqlite") {
      backend_ = std::make_unique<SqliteBackend>();
    } else if (GetParam() == "dynamodb") {
      std::string endpoint = dynamo_fixture_endpoint();
      if (endpoint.empty())
        GTEST_SKIP() << "COVID_ETL_TEST_DYNAMO_URL_FILE is not set: no dynalite server";
      backend_ = std::make_unique<DynamoBackend>(endpoint);
    } else {
      std::string server = fixture_url();
      if (server.empty())
        GTEST_SKIP() << "COVID_ETL_TEST_PG_URL_FILE is not set: no PostgreSQL server";
      backend_ = std::make_unique<PostgresBackend>(server, unique_name("ct_"));
    }
  }

  // Opens the test's store; fails the test when it cannot.
  std::unique_ptr<Store> open(StoreOptions options = {}) {
    Result<std::unique_ptr<Store>> r = open_store(backend_->url(), options);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? std::move(*r) : nullptr;
  }

  // One complete run that loads `incoming`; returns its id.
  int64_t load(Store& store, const std::vector<Observation>& incoming) {
    Result<int64_t> id = store.begin_run("2022-06-01T12:00:00.000Z");
    EXPECT_TRUE(id.ok()) << id.status().message();
    Result<std::unique_ptr<LoadTransaction>> t = store.begin_load();
    EXPECT_TRUE(t.ok()) << t.status().message();
    if (!id.ok() || !t.ok()) return 0;
    LoadTransaction& tx = **t;
    Result<std::vector<Observation>> existing = tx.existing(kNation);
    EXPECT_TRUE(existing.ok());
    Status written = tx.write(*id, classify(*existing, incoming));
    EXPECT_TRUE(written.ok()) << written.message();
    RunRecord run;
    run.id = *id;
    run.status = RunStatus::kOk;
    run.finished_at = "2022-06-01T12:00:01.000Z";
    EXPECT_TRUE(tx.finish_run(run, {}).ok());
    Status committed = tx.commit();
    EXPECT_TRUE(committed.ok()) << committed.message();
    return *id;
  }

  Strings series(Store& store, std::optional<Date> from = {}, std::optional<Date> to = {}) {
    Result<std::vector<Observation>> r = store.read_series(kNation, from, to);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? show(*r) : Strings{"error"};
  }

  std::unique_ptr<Backend> backend_;
};

TEST_P(StoreContract, OpenCreatesTheSchema) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  for (const char* t :
       {"locations", "observations", "revisions", "runs", "source_state", "outbox"}) {
    EXPECT_EQ(backend_->raw(std::string("SELECT count(*) FROM ") + t).size(), 1u) << t;
  }
  EXPECT_EQ(backend_->raw("SELECT id, type, name FROM locations"),
            (Rows{{"US", "nation", "United States"}}));
  EXPECT_EQ(series(*store), Strings{});
}

TEST_P(StoreContract, ReopenIsIdempotent) {
  {
    auto store = open();
    ASSERT_NE(store, nullptr);
    load(*store, {obs(1, 10, 1)});
  }
  for (int i = 0; i < 2; ++i) {
    auto store = open();
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(series(*store), Strings{"US 2020-03-01 10/1/?"});
    Result<std::vector<RunRecord>> runs = store->list_runs(10);
    ASSERT_TRUE(runs.ok());
    EXPECT_EQ(runs->size(), 1u);
  }
  EXPECT_EQ(backend_->raw("SELECT count(*) FROM locations"), Rows{{"1"}});
}

TEST_P(StoreContract, NewerSchemaIsRefused) {
  ASSERT_NE(open(), nullptr);
  int newer = backend_->build_schema_version() + 1;
  backend_->set_schema_version(newer);
  const std::string message = "schema version " + std::to_string(newer) +
                              " is newer than this covid-etl knows (" +
                              std::to_string(backend_->build_schema_version()) + ")";
  for (bool read_only : {false, true}) {
    SCOPED_TRACE(read_only ? "read-only" : "read-write");
    StoreOptions options;
    options.read_only = read_only;
    Result<std::unique_ptr<Store>> r = open_store(backend_->url(), options);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().kind(), ErrorKind::kLoad);
    EXPECT_PRED_FORMAT2(testing::IsSubstring, message, r.status().message());
  }
}

TEST_P(StoreContract, ReadOnlyOpenOfAStoreNeverWrittenFails) {
  StoreOptions options;
  options.read_only = true;
  Result<std::unique_ptr<Store>> r = open_store(backend_->url(), options);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().kind(), ErrorKind::kLoad);
  ASSERT_NE(open(), nullptr);  // a writable open creates it; then read-only works
  auto reader = open(options);
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(series(*reader), Strings{});
  // A read-only store does not write.
  EXPECT_FALSE(reader->begin_run("2022-06-01T12:00:00.000Z").ok());
}

TEST_P(StoreContract, RunsRoundTripNewestFirst) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  Result<int64_t> first = store->begin_run("2022-06-01T12:00:00.000Z");
  Result<int64_t> second = store->begin_run("2022-06-01T13:00:00.000Z");
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(*first, 1);
  EXPECT_EQ(*second, 2);

  RunRecord r;
  r.id = *first;
  r.finished_at = "2022-06-01T12:00:02.500Z";
  r.status = RunStatus::kFailed;
  r.stage = "validate";
  r.counts = RunCounts{100, 1, 2, 3, 4, 5, 6};
  r.first_date = "2020-01-21";
  r.last_date = "2022-05-31";
  r.error = "us.csv:4:1: date: 2020-01-21 appears twice (first on line 2) — ünïcode";
  r.sources_json = R"([{"url":"https://example.org/us.csv","status":200, "etag": null}])";
  r.duration_ms = 2500;
  Status finished = store->finish_run(r, {});
  ASSERT_TRUE(finished.ok()) << finished.message();

  Result<std::vector<RunRecord>> runs = store->list_runs(10);
  ASSERT_TRUE(runs.ok()) << runs.status().message();
  r.started_at = "2022-06-01T12:00:00.000Z";
  EXPECT_EQ(show(*runs), (Strings{"2 running started=2022-06-01T13:00:00.000Z finished= stage= "
                                  "counts=0,0,0,0,0,0,0 dates=.. error= sources= ms=0",
                                  show(r)}));
  Result<std::vector<RunRecord>> newest = store->list_runs(1);
  ASSERT_TRUE(newest.ok());
  ASSERT_EQ(newest->size(), 1u);
  EXPECT_EQ((*newest)[0].id, 2);
}

// GET /api/v1/runs/{id} reads one run by its key: the oldest of more than 10,000 runs too (the
// daemon used to look for it among the newest 10,000 only).
TEST_P(StoreContract, GetRunReadsOneRunByItsKeyHoweverOld) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  Result<std::optional<RunRecord>> none = store->get_run(1);
  ASSERT_TRUE(none.ok()) << none.status().message();
  EXPECT_FALSE(none->has_value());

  Result<int64_t> first = store->begin_run("2022-06-01T12:00:00.000Z");
  ASSERT_TRUE(first.ok()) << first.status().message();
  RunRecord r;
  r.id = *first;
  r.started_at = "2022-06-01T12:00:00.000Z";
  r.finished_at = "2022-06-01T12:00:02.500Z";
  r.status = RunStatus::kFailed;
  r.stage = "validate";
  r.counts = RunCounts{100, 1, 2, 3, 4, 5, 6};
  r.first_date = "2020-01-21";
  r.last_date = "2022-05-31";
  r.error = "us.csv:4:1: date: 2020-01-21 appears twice (first on line 2)";
  r.sources_json = R"([{"url":"https://example.org/us.csv","status":200}])";
  r.duration_ms = 2500;
  ASSERT_TRUE(store->finish_run(r, {}).ok());
  // 10,005 runs after it, written in one statement (as many as a run every 5 minutes for 35 days).
  backend_->raw(
      "WITH RECURSIVE n(i) AS (SELECT 2 UNION ALL SELECT i + 1 FROM n WHERE i < 10006) "
      "INSERT INTO runs (id, started_at, status, inserted) "
      "SELECT i, '2022-06-02T12:00:00.000Z', 'unchanged', i FROM n");
  Result<std::vector<RunRecord>> newest = store->list_runs(10'000);
  ASSERT_TRUE(newest.ok()) << newest.status().message();
  EXPECT_EQ(newest->back().id, 7);  // run 1 is not among the newest 10,000

  Result<std::optional<RunRecord>> oldest = store->get_run(*first);
  ASSERT_TRUE(oldest.ok()) << oldest.status().message();
  ASSERT_TRUE(oldest->has_value());
  EXPECT_EQ(show(**oldest), show(r));
  Result<std::optional<RunRecord>> last = store->get_run(10'006);
  ASSERT_TRUE(last.ok() && last->has_value());
  EXPECT_EQ((**last).id, 10'006);
  EXPECT_EQ((**last).status, RunStatus::kUnchanged);
  EXPECT_EQ((**last).counts.inserted, 10'006u);
  EXPECT_EQ((**last).started_at, "2022-06-02T12:00:00.000Z");
  for (int64_t missing : {int64_t(0), int64_t(-1), int64_t(10'007), int64_t(999'999'999'999)}) {
    Result<std::optional<RunRecord>> got = store->get_run(missing);
    ASSERT_TRUE(got.ok()) << missing << ": " << got.status().message();
    EXPECT_FALSE(got->has_value()) << missing;
  }
}

// A run whose process ended without completing its record (SIGKILL, out of memory, a power cut)
// is closed as `failed` by the next run to begin; a run whose Store still exists, in this
// process or another, is left `running`. Destroying a Store is what the end of its process does.
TEST_P(StoreContract, TheNextRunClosesTheRecordOfARunWhoseProcessEnded) {
  auto status_of = [](Store& store) {
    Result<std::vector<RunRecord>> runs = store.list_runs(10);
    EXPECT_TRUE(runs.ok()) << runs.status().message();
    std::map<int64_t, std::string> out;
    if (!runs.ok()) return out;
    for (const RunRecord& r : *runs) out[r.id] = std::string(to_string(r.status)) + " " + r.error;
    return out;
  };
  auto gone = open();
  ASSERT_NE(gone, nullptr);
  Result<int64_t> first = gone->begin_run("2022-06-01T12:00:00.000Z");
  ASSERT_TRUE(first.ok()) << first.status().message();
  auto live = open();
  ASSERT_NE(live, nullptr);
  Result<int64_t> second = live->begin_run("2022-06-01T12:00:01.000Z");
  ASSERT_TRUE(second.ok()) << second.status().message();
  // Both processes live: nothing is closed.
  EXPECT_EQ(status_of(*live),
            (std::map<int64_t, std::string>{{*first, "running "}, {*second, "running "}}));

  gone.reset();  // its process ends, the record still `running`
  auto next = open();
  ASSERT_NE(next, nullptr);
  EXPECT_EQ(status_of(*next)[*first], "running ");
  std::vector<int64_t> told;
  Result<int64_t> third = next->begin_run("2022-06-01T12:00:02.000Z", [&](const RunRecord& closed) {
    told.push_back(closed.id);
    EXPECT_EQ(closed.started_at, "2022-06-01T12:00:00.000Z");
    EXPECT_EQ(closed.status, RunStatus::kFailed);
    OutboxMessage m;
    m.run_id = closed.id;
    m.channel = "log";
    m.event = "failure";
    m.subject = "run " + std::to_string(closed.id) + " interrupted";
    m.body = closed.error;
    m.payload = "{}";
    m.created_at = "2022-06-01T12:00:02.000Z";
    return std::vector<OutboxMessage>{m};
  });
  ASSERT_TRUE(third.ok()) << third.status().message();
  EXPECT_EQ(told, std::vector<int64_t>{*first});  // the live one is not told of
  // The message went into the outbox with the record's closing, tied to the closed run.
  Result<std::vector<OutboxMessage>> outbox = next->list_outbox(true, 10);
  ASSERT_TRUE(outbox.ok()) << outbox.status().message();
  ASSERT_EQ(outbox->size(), 1u);
  EXPECT_EQ((*outbox)[0].run_id, *first);
  EXPECT_EQ((*outbox)[0].subject, "run " + std::to_string(*first) + " interrupted");
  EXPECT_EQ((*outbox)[0].body, interrupted_run_message(*third));
  EXPECT_EQ((*outbox)[0].status, OutboxStatus::kPending);
  EXPECT_EQ(status_of(*next),
            (std::map<int64_t, std::string>{{*first, "failed " + interrupted_run_message(*third)},
                                            {*second, "running "},
                                            {*third, "running "}}));
  // The live run completes its record as usual.
  RunRecord done;
  done.id = *second;
  done.status = RunStatus::kUnchanged;
  done.finished_at = "2022-06-01T12:00:03.000Z";
  ASSERT_TRUE(live->finish_run(done, {}).ok());
  EXPECT_EQ(status_of(*next)[*second], "unchanged ");
}

TEST_P(StoreContract, LoadWritesInsertsUpdatesAndRevisions) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  int64_t run1 = load(*store, {obs(1, 1, 0), obs(2, 2, 0), obs(3, 3, 1, 5)});
  EXPECT_EQ(series(*store),
            (Strings{"US 2020-03-01 1/0/?", "US 2020-03-02 2/0/?", "US 2020-03-03 3/1/5"}));

  // The second run: day 2 recovered NULL -> 0, day 3 cases 3 -> 4, day 4 new.
  Result<int64_t> run2 = store->begin_run("2022-06-02T12:00:00.000Z");
  ASSERT_TRUE(run2.ok());
  Result<std::unique_ptr<LoadTransaction>> t = store->begin_load();
  ASSERT_TRUE(t.ok()) << t.status().message();
  Result<std::vector<Observation>> existing = (*t)->existing(kNation);
  ASSERT_TRUE(existing.ok());
  ChangeSet changes =
      classify(*existing, {obs(1, 1, 0), obs(2, 2, 0, 0), obs(3, 4, 1, 5), obs(4, 6, 2)});
  ASSERT_EQ(changes.inserted.size(), 1u);
  ASSERT_EQ(changes.updated.size(), 2u);
  Status written = (*t)->write(*run2, changes);
  ASSERT_TRUE(written.ok()) << written.message();
  ASSERT_TRUE((*t)->commit().ok());

  EXPECT_EQ(series(*store), (Strings{"US 2020-03-01 1/0/?", "US 2020-03-02 2/0/0",
                                     "US 2020-03-03 4/1/5", "US 2020-03-04 6/2/?"}));
  const std::string r1 = std::to_string(run1), r2 = std::to_string(*run2);
  EXPECT_EQ(backend_->raw("SELECT run_id, location, date, old_cases, old_deaths, old_recovered, "
                          "new_cases, new_deaths, new_recovered FROM revisions ORDER BY date"),
            (Rows{{r2, "US", "2020-03-02", "2", "0", "NULL", "2", "0", "0"},
                  {r2, "US", "2020-03-03", "3", "1", "5", "4", "1", "5"}}));
  EXPECT_EQ(backend_->raw("SELECT date, cases, recovered, run_id FROM observations ORDER BY date"),
            (Rows{{"2020-03-01", "1", "NULL", r1},
                  {"2020-03-02", "2", "0", r2},
                  {"2020-03-03", "4", "5", r2},
                  {"2020-03-04", "6", "NULL", r2}}));
}

// Only the Store interface, so that DynamoDB answers the same cases.
class AnnotationContract : public StoreContract {};

Date on_day(const char* text) {
  Date d;
  EXPECT_EQ(parse_date(text, &d), DateError::kNone) << text;
  return d;
}

// Annotations: saved through a load (upsert on the key, ranges, flags, negative adjustments,
// empty and non-ASCII texts), read back whole (sorted by key) and by location and date range
// (a note is returned when its dates overlap the range).
TEST_P(AnnotationContract, RoundTripAndReadByLocationAndRange) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  auto note = [](std::string loc, const char* from, std::optional<const char*> to, const char* type,
                 int64_t adjusted, std::string text, bool omit = false, bool sub = false) {
    Annotation a;
    a.location = std::move(loc);
    a.from = on_day(from);
    if (to) a.to = on_day(*to);
    a.type = type;
    a.adjusted_count = adjusted;
    a.text = std::move(text);
    a.omit_from_average = omit;
    a.omit_on_subgeographies = sub;
    return a;
  };
  auto show = [](const std::vector<Annotation>& v) {
    Strings out;
    for (const Annotation& a : v) {
      out.push_back(a.location + " " + format_date(a.from) + ".." +
                    (a.to ? format_date(*a.to) : std::string("-")) + " " + a.type + " " +
                    std::to_string(a.adjusted_count) + (a.omit_from_average ? " omit" : "") +
                    (a.omit_on_subgeographies ? " sub" : "") + " '" + a.text + "'");
    }
    return out;
  };
  auto save = [&](const std::vector<Annotation>& v) {
    Result<int64_t> id = store->begin_run("2022-06-01T12:00:00.000Z");
    ASSERT_TRUE(id.ok());
    auto t = store->begin_load();
    ASSERT_TRUE(t.ok()) << t.status().message();
    ASSERT_TRUE((*t)->save_annotations(*id, v).ok());
    ASSERT_TRUE((*t)->commit().ok());
  };
  save({note("48", "2022-01-14", std::nullopt, "cases", -26236, "Texas audited\u2019s \"data\""),
        note("48", "2022-01-14", std::nullopt, "cases", 0, "", false, true),
        note("29:Joplin", "2022-04-01", "2022-05-04", "both", 0, "Missouri stopped", true),
        note("US", "2021-10-10", std::nullopt, "deaths", -289, "backlog")});
  auto all = store->read_annotations("", std::nullopt, std::nullopt);
  ASSERT_TRUE(all.ok()) << all.status().message();
  const Strings every = {"29:Joplin 2022-04-01..2022-05-04 both 0 omit 'Missouri stopped'",
                         "48 2022-01-14..- cases -26236 'Texas audited\u2019s \"data\"'",
                         "48 2022-01-14..- cases 0 sub ''",
                         "US 2021-10-10..- deaths -289 'backlog'"};
  EXPECT_EQ(show(*all), every);
  // By location and overlap.
  auto in = [&](const char* loc, std::optional<Date> from, std::optional<Date> to) {
    auto r = store->read_annotations(loc, from, to);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? show(*r) : Strings{"error"};
  };
  EXPECT_EQ(in("29:Joplin", on_day("2022-04-20"), on_day("2022-04-20")), (Strings{every[0]}));
  EXPECT_EQ(in("29:Joplin", on_day("2022-05-05"), std::nullopt), Strings{});
  EXPECT_EQ(in("29", std::nullopt, std::nullopt), Strings{});  // not a prefix match
  EXPECT_EQ(in("48", on_day("2022-01-14"), on_day("2022-01-14")), (Strings{every[1], every[2]}));
  EXPECT_EQ(in("48", std::nullopt, on_day("2022-01-13")), Strings{});
  // A revision replaces the values of its key; the others stay.
  save({note("48", "2022-01-14", std::nullopt, "cases", -26000, "revised")});
  EXPECT_EQ(in("48", std::nullopt, std::nullopt),
            (Strings{"48 2022-01-14..- cases -26000 'revised'", every[2]}));
  auto count = store->read_annotations("", std::nullopt, std::nullopt);
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(count->size(), 4u);
}

TEST_P(StoreContract, ExtremeCountsAndDatesRoundTrip) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  Observation first = obs(1, 0, 0, 0);
  first.date = date_from_ymd(1970, 1, 1);
  Observation leap = obs(1, kMaxCount, kMaxCount - 1, kUnknown);
  leap.date = date_from_ymd(2000, 2, 29);
  Observation late = obs(1, kUnknown, kUnknown, kMaxCount);
  late.date = date_from_ymd(9999, 12, 31);
  load(*store, {first, leap, late});
  EXPECT_EQ(series(*store),
            (Strings{"US 1970-01-01 0/0/0", "US 2000-02-29 9007199254740992/9007199254740991/?",
                     "US 9999-12-31 ?/?/9007199254740992"}));
}

TEST_P(StoreContract, ManyRowsInOneLoad) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  std::vector<Observation> rows;
  for (int i = 0; i < 30000; ++i) {  // several COPY chunks
    Observation o;
    o.date = Date{i};
    o.cases = i;
    o.deaths = i % 7 == 0 ? kUnknown : i / 2;
    o.recovered = i % 3 == 0 ? kUnknown : i / 3;
    rows.push_back(o);
  }
  load(*store, rows);
  Result<std::vector<Observation>> back = store->read_series(kNation, {}, {});
  ASSERT_TRUE(back.ok());
  ASSERT_EQ(back->size(), rows.size());
  EXPECT_EQ(show(*back), show(rows));
  // Revise every tenth row: exactly those are updated.
  for (size_t i = 0; i < rows.size(); i += 10) rows[i].cases += 1;
  int64_t run = load(*store, rows);
  EXPECT_EQ(backend_->raw("SELECT count(*) FROM revisions WHERE run_id = " + std::to_string(run)),
            Rows{{"3000"}});
  EXPECT_EQ(
      backend_->raw("SELECT count(*) FROM observations WHERE run_id = " + std::to_string(run)),
      Rows{{"3000"}});
}

TEST_P(StoreContract, FinishRunInsideTheLoad) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  int64_t id = load(*store, {obs(1, 1, 0)});
  Result<std::vector<RunRecord>> runs = store->list_runs(10);
  ASSERT_TRUE(runs.ok());
  ASSERT_EQ(runs->size(), 1u);
  EXPECT_EQ((*runs)[0].id, id);
  EXPECT_EQ((*runs)[0].status, RunStatus::kOk);
  EXPECT_EQ((*runs)[0].finished_at, "2022-06-01T12:00:01.000Z");
}

TEST_P(StoreContract, DestroyingALoadWithoutCommitRollsBack) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  Result<int64_t> id = store->begin_run("2022-06-01T12:00:00.000Z");
  ASSERT_TRUE(id.ok());
  {
    Result<std::unique_ptr<LoadTransaction>> t = store->begin_load();
    ASSERT_TRUE(t.ok()) << t.status().message();
    ChangeSet changes;
    changes.inserted = {obs(1, 1, 0), obs(2, 2, 0)};
    ASSERT_TRUE((*t)->write(*id, changes).ok());
    ASSERT_TRUE(
        (*t)->save_source(*id, SourceState{"https://example.org/us.csv", {"\"e\"", ""}, "h", 9})
            .ok());
    RunRecord run;
    run.id = *id;
    run.status = RunStatus::kOk;
    OutboxMessage m;
    m.run_id = *id;
    m.channel = "log";
    m.event = "success";
    m.subject = "s";
    m.body = "b";
    m.payload = "{}";
    m.created_at = "2022-06-01T12:00:01.000Z";
    ASSERT_TRUE((*t)->finish_run(run, {m}).ok());
    EXPECT_EQ(series(*store).size(), 2u);  // visible inside the transaction
  }
  EXPECT_EQ(series(*store), Strings{});
  Result<std::map<std::string, SourceState>> states = store->source_states();
  ASSERT_TRUE(states.ok());
  EXPECT_TRUE(states->empty());
  Result<std::vector<RunRecord>> runs = store->list_runs(10);
  ASSERT_TRUE(runs.ok());
  ASSERT_EQ(runs->size(), 1u);
  EXPECT_EQ((*runs)[0].status, RunStatus::kRunning);  // begin_run's record, not the rolled-back one
  EXPECT_EQ(backend_->raw("SELECT count(*) FROM revisions"), Rows{{"0"}});
  EXPECT_EQ(backend_->raw("SELECT count(*) FROM outbox"), Rows{{"0"}});
  Result<std::unique_ptr<LoadTransaction>> again = store->begin_load();  // the lock is free again
  EXPECT_TRUE(again.ok()) << again.status().message();
}

TEST_P(StoreContract, AChangeSetThatDisagreesWithTheStoreFailsAndWritesNothing) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  load(*store, {obs(1, 1, 0), obs(2, 2, 0)});
  Result<int64_t> id = store->begin_run("2022-06-02T12:00:00.000Z");
  ASSERT_TRUE(id.ok());
  {
    Result<std::unique_ptr<LoadTransaction>> t = store->begin_load();
    ASSERT_TRUE(t.ok());
    ChangeSet changes;  // day 2 is stored already: it cannot be inserted
    changes.inserted = {obs(2, 5, 0), obs(3, 3, 0)};
    Status s = (*t)->write(*id, changes);
    EXPECT_FALSE(s.ok());
    EXPECT_EQ(s.kind(), ErrorKind::kLoad);
  }
  EXPECT_EQ(series(*store), (Strings{"US 2020-03-01 1/0/?", "US 2020-03-02 2/0/?"}));
}

// Only the Store interface (one SQL check, not on DynamoDB), so that every store answers them.
class SourceStateContract : public StoreContract {};

TEST_P(SourceStateContract, SourceStatesRoundTrip) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  auto save = [&](const std::vector<SourceState>& states) {
    Result<int64_t> id = store->begin_run("2022-06-01T12:00:00.000Z");
    ASSERT_TRUE(id.ok());
    Result<std::unique_ptr<LoadTransaction>> t = store->begin_load();
    ASSERT_TRUE(t.ok());
    for (const SourceState& s : states) ASSERT_TRUE((*t)->save_source(*id, s).ok());
    ASSERT_TRUE((*t)->commit().ok());
  };
  auto show_states = [&] {
    Result<std::map<std::string, SourceState>> r = store->source_states();
    EXPECT_TRUE(r.ok());
    Strings out;
    if (!r.ok()) return out;
    for (const auto& [url, s] : *r) {
      EXPECT_EQ(url, s.url);
      out.push_back(s.url + " etag=" + s.validators.etag + " lm=" + s.validators.last_modified +
                    " hash=" + s.content_hash + " bytes=" + std::to_string(s.bytes));
    }
    return out;
  };
  const std::string nyt = "https://example.org/us.csv", jhu = "data/jhu.csv";
  save({{nyt, {"\"v1\"", "Wed, 21 Oct 2015 07:28:00 GMT"}, "xxh3-128:aa", 1000},
        {jhu, {"", ""}, "xxh3-128:bb", 5}});
  EXPECT_EQ(show_states(),
            (Strings{"data/jhu.csv etag= lm= hash=xxh3-128:bb bytes=5",
                     "https://example.org/us.csv etag=\"v1\" lm=Wed, 21 Oct 2015 07:28:00 GMT "
                     "hash=xxh3-128:aa bytes=1000"}));
  if (GetParam() != "dynamodb") {  // no SQL there
    EXPECT_EQ(
        backend_->raw("SELECT etag, last_modified FROM source_state WHERE url = 'data/jhu.csv'"),
        (Rows{{"NULL", "NULL"}}));
  }
  save({{nyt, {"\"v2\"", ""}, "xxh3-128:cc", 2000}});  // replaces what was saved for the URL
  EXPECT_EQ(show_states(),
            (Strings{"data/jhu.csv etag= lm= hash=xxh3-128:bb bytes=5",
                     "https://example.org/us.csv etag=\"v2\" lm= hash=xxh3-128:cc bytes=2000"}));
}

// What the quality and freshness checks keep of a source (pipeline/quality.h, freshness.h): its
// name, dataset, header, when it last changed and when it was told stale; cleared values read
// back empty.
// The run that saved it is read back too (SourceState::run_id: a source's URLs of its newest run
// are the current ones).
TEST_P(SourceStateContract, SourceStateKeepsFreshness) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  int64_t last_run = 0;
  auto save = [&](const SourceState& st) {
    Result<int64_t> id = store->begin_run("2022-06-01T12:00:00.000Z");
    ASSERT_TRUE(id.ok());
    last_run = *id;
    Result<std::unique_ptr<LoadTransaction>> t = store->begin_load();
    ASSERT_TRUE(t.ok());
    ASSERT_TRUE((*t)->save_source(*id, st).ok());
    ASSERT_TRUE((*t)->commit().ok());
  };
  auto show = [&] {
    Result<std::map<std::string, SourceState>> r = store->source_states();
    EXPECT_TRUE(r.ok());
    Strings out;
    if (!r.ok()) return out;
    for (const auto& [url, s] : *r) {
      out.push_back(s.url + " " + s.name + "/" + s.dataset + " [" + s.header +
                    "] changed=" + s.changed_at + " told=" + s.stale_told_at);
      EXPECT_EQ(s.run_id, last_run) << s.url;
    }
    return out;
  };
  SourceState st{"https://example.org/who.csv", {"", ""}, "xxh3-128:aa", 10};
  st.name = "who";
  st.dataset = "world";
  st.header = "Date_reported,Country_code,New_cases";
  st.changed_at = "2026-12-01T12:00:00.000Z";
  st.stale_told_at = "2026-12-11T12:00:00.000Z";
  save(st);
  EXPECT_EQ(show(), (Strings{"https://example.org/who.csv who/world "
                             "[Date_reported,Country_code,New_cases] "
                             "changed=2026-12-01T12:00:00.000Z told=2026-12-11T12:00:00.000Z"}));
  st.content_hash = "xxh3-128:bb";  // changed: told forgotten
  st.changed_at = "2026-12-12T12:00:00.000Z";
  st.stale_told_at = "";
  save(st);
  EXPECT_EQ(show(), (Strings{"https://example.org/who.csv who/world "
                             "[Date_reported,Country_code,New_cases] "
                             "changed=2026-12-12T12:00:00.000Z told="}));
}

TEST_P(StoreContract, ReadSeriesBoundsAndUnknownCounts) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  load(*store, {obs(1, 1, 0), obs(2, 2, kUnknown, 0), obs(3, 3, 0), obs(4, 4, 0), obs(5, 5, 0)});
  auto days = [&](std::optional<Date> from, std::optional<Date> to) {
    Strings out;
    for (const std::string& r : series(*store, from, to)) out.push_back(r.substr(11, 2));
    return out;
  };
  EXPECT_EQ(days({}, {}), (Strings{"01", "02", "03", "04", "05"}));
  EXPECT_EQ(days(day(2), day(4)), (Strings{"02", "03", "04"}));
  EXPECT_EQ(days(day(4), {}), (Strings{"04", "05"}));
  EXPECT_EQ(days({}, day(2)), (Strings{"01", "02"}));
  EXPECT_EQ(days(day(3), day(3)), Strings{"03"});
  EXPECT_EQ(days(day(4), day(2)), Strings{});
  EXPECT_EQ(days(day(6), {}), Strings{});
  EXPECT_EQ(series(*store, day(2), day(2)), Strings{"US 2020-03-02 2/?/0"});
  Result<std::vector<Observation>> other = store->read_series("06", {}, {});
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE(other->empty());
}

TEST_P(StoreContract, ListLocationsSortedByIdWithTheNation) {
  auto show_locations = [](Store& store) {
    Result<std::vector<Location>> r = store.list_locations();
    EXPECT_TRUE(r.ok()) << r.status().message();
    Strings out;
    if (!r.ok()) return out;
    for (const Location& l : *r) {
      out.push_back(l.id + "|" + l.type + "|" + l.name + "|" + l.state + "|" + l.fips);
    }
    return out;
  };
  {
    StoreOptions options;
    options.read_only = true;
    options.missing_ok = true;  // not created yet: the nation only
    auto none = open(options);
    ASSERT_NE(none, nullptr);
    EXPECT_EQ(show_locations(*none), Strings{"US|nation|United States||"});
  }
  auto store = open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(show_locations(*store), Strings{"US|nation|United States||"});
  auto save = [&](const std::vector<Location>& locations) {
    Result<int64_t> id = store->begin_run("2022-06-01T12:00:00.000Z");
    ASSERT_TRUE(id.ok());
    Result<std::unique_ptr<LoadTransaction>> t = store->begin_load();
    ASSERT_TRUE(t.ok()) << t.status().message();
    ASSERT_TRUE((*t)->save_locations(locations).ok());
    ASSERT_TRUE((*t)->commit().ok());
  };
  // Byte order: digits, then ':' (the counties without FIPS), then letters ("US").
  save({{"36:New York City", "county", "New York City", "New York", ""},
        {"06", "state", "California", "", "06"},
        {"06037", "county", "Los Angeles", "California", "06037"},
        {"36", "state", "New York", "", "36"}});
  EXPECT_EQ(show_locations(*store),
            (Strings{"06|state|California||06", "06037|county|Los Angeles|California|06037",
                     "36|state|New York||36", "36:New York City|county|New York City|New York|",
                     "US|nation|United States||"}));
  save({{"06", "state", "Californie", "", "06"}});  // renamed; the others stay
  Strings after = show_locations(*store);
  ASSERT_EQ(after.size(), 5u);
  EXPECT_EQ(after[0], "06|state|Californie||06");
}

// What the county load works with (pipeline/etl_run.cc): a level's date digests, and the
// stored rows of one date, among given locations or all of a level's.
TEST_P(StoreContract, DateDigestsAndTheRowsOfADate) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  auto digests = [&](std::string_view level) {
    Result<std::optional<std::map<Date, StoredDigest>>> r = store->date_digests(level);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : std::nullopt;
  };
  ASSERT_TRUE(digests("county").has_value());  // a new store: kept, none yet
  EXPECT_TRUE(digests("county")->empty());

  // An id with the characters an array literal quotes; a state row on the same date.
  const std::string odd = "36:Saint \"Odd\", {City} \\ Parish";
  auto at = [](const std::string& location, int d, int64_t cases) {
    Observation o = obs(d, cases, kUnknown);
    o.location = location;
    return o;
  };
  DateDigest first;
  first.add(at("06037", 1, 10));
  first.add(at(odd, 1, 3));
  BytesDigest lines = BytesDigest::of("date,county,state,fips,cases,deaths\n", "2020-03-01,...\n");
  {
    Result<int64_t> id = store->begin_run("2022-06-01T12:00:00.000Z");
    ASSERT_TRUE(id.ok());
    Result<std::unique_ptr<LoadTransaction>> t = store->begin_load();
    ASSERT_TRUE(t.ok()) << t.status().message();
    ASSERT_TRUE(
        (*t)->save_locations({{"06", "state", "California", "", "06"},
                              {"06037", "county", "Los Angeles", "California", "06037"},
                              {odd, "county", "Saint \"Odd\", {City} \\ Parish", "New York", ""}})
            .ok());
    ChangeSet c;
    c.inserted = {at("06", 1, 13), at("06037", 1, 10), at(odd, 1, 3), at("06037", 2, 11)};
    Status written = (*t)->write(*id, c);
    ASSERT_TRUE(written.ok()) << written.message();
    std::map<Date, StoredDigest> save;
    save[day(1)] = StoredDigest{first, 3, lines};
    save[day(2)] = StoredDigest{DateDigest{1, 7, 8}, 1, std::nullopt};
    Status saved = (*t)->save_date_digests("county", save);
    ASSERT_TRUE(saved.ok()) << saved.message();
    ASSERT_TRUE((*t)->commit().ok());
  }
  auto county = digests("county");
  ASSERT_TRUE(county.has_value());
  ASSERT_EQ(county->size(), 2u);
  const StoredDigest& d1 = county->at(day(1));
  EXPECT_TRUE(d1.source.same_content(first));
  EXPECT_EQ(d1.stored_rows, 3u);
  EXPECT_EQ(d1.bytes, std::optional<BytesDigest>(lines));
  const StoredDigest& d2 = county->at(day(2));
  EXPECT_TRUE(d2.source.same_content(DateDigest{1, 7, 8}));
  EXPECT_EQ(d2.bytes, std::nullopt);
  // The states have rows (written before digests were kept, as it were) and none: not kept.
  EXPECT_FALSE(digests("state").has_value());

  Result<std::unique_ptr<LoadTransaction>> t = store->begin_load();
  ASSERT_TRUE(t.ok()) << t.status().message();
  auto on = [&](Date date, const std::vector<std::string>& locations) {
    Result<std::vector<Observation>> r = (*t)->existing_on(date, locations);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? show(*r) : Strings{"error"};
  };
  EXPECT_EQ(on(day(1), {"06037", odd, "99999"}),
            (Strings{"06037 2020-03-01 10/?/?", odd + " 2020-03-01 3/?/?"}));
  EXPECT_EQ(on(day(2), {odd}), Strings{});
  EXPECT_EQ(on(day(3), {"06037"}), Strings{});
  Result<std::vector<Observation>> all = (*t)->existing_on_date("county", day(1));
  ASSERT_TRUE(all.ok()) << all.status().message();
  EXPECT_EQ(show(*all), (Strings{"06037 2020-03-01 10/?/?", odd + " 2020-03-01 3/?/?"}));

  // Saving again replaces a date's digest; the other dates stay.
  DateDigest revised = first;
  revised.add(at("06037", 1, 1));
  Status saved =
      (*t)->save_date_digests("county", {{day(1), StoredDigest{revised, 4, std::nullopt}}});
  ASSERT_TRUE(saved.ok()) << saved.message();
  ASSERT_TRUE((*t)->commit().ok());
  county = digests("county");
  ASSERT_TRUE(county.has_value());
  ASSERT_EQ(county->size(), 2u);
  EXPECT_TRUE(county->at(day(1)).source.same_content(revised));
  EXPECT_EQ(county->at(day(1)).stored_rows, 4u);
  EXPECT_EQ(county->at(day(1)).bytes, std::nullopt);
  EXPECT_TRUE(county->at(day(2)).source.same_content(DateDigest{1, 7, 8}));
}

// Rows handed out one at a time, then an error if one is given.
class VectorCursor final : public RowCursor {
 public:
  VectorCursor(std::vector<Observation> rows, Status end = Status::Ok())
      : rows_(std::move(rows)), end_(end) {}
  Result<const Observation*> next() override {
    if (at_ < rows_.size()) return &rows_[at_++];
    if (!end_.ok()) return end_;
    return static_cast<const Observation*>(nullptr);
  }

 private:
  std::vector<Observation> rows_;
  Status end_;
  size_t at_ = 0;
};

// insert_sorted() (the county load's new dates): the rows land with the run's id; a row the store
// has already, or a cursor that fails, fails the load and leaves the store as it was.
TEST_P(StoreContract, InsertSortedAddsRowsAndFailsWholeOnAConflict) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  auto at = [](const std::string& location, int d, int64_t cases, int64_t deaths) {
    Observation o = obs(d, cases, deaths);
    o.location = location;
    return o;
  };
  std::vector<Observation> rows;
  for (int d = 1; d <= 3; ++d) rows.push_back(at("01001", d, 10 * d, d == 2 ? kUnknown : d));
  for (int d = 1; d <= 2; ++d) rows.push_back(at("01003", d, 5 * d, 0));
  auto insert = [&](std::vector<Observation> batch, Status end = Status::Ok()) -> Status {
    Result<int64_t> id = store->begin_run("2022-06-01T12:00:00.000Z");
    if (!id.ok()) return id.status();
    Result<std::unique_ptr<LoadTransaction>> t = store->begin_load();
    if (!t.ok()) return t.status();
    COVID_RETURN_IF_ERROR(
        (*t)->save_locations({{"01001", "county", "Autauga", "Alabama", "01001"},
                              {"01003", "county", "Baldwin", "Alabama", "01003"}}));
    VectorCursor cursor(std::move(batch), end);
    COVID_RETURN_IF_ERROR((*t)->insert_sorted(*id, cursor));
    return (*t)->commit();
  };
  Status first = insert(rows);
  ASSERT_TRUE(first.ok()) << first.message();
  auto stored = [&] {
    return backend_->raw(
        "SELECT location, date, cases, deaths FROM observations "
        "WHERE location <> 'US' ORDER BY location, date");
  };
  const Rows want{{"01001", "2020-03-01", "10", "1"},
                  {"01001", "2020-03-02", "20", "NULL"},
                  {"01001", "2020-03-03", "30", "3"},
                  {"01003", "2020-03-01", "5", "0"},
                  {"01003", "2020-03-02", "10", "0"}};
  EXPECT_EQ(stored(), want);
  EXPECT_EQ(backend_->raw("SELECT count(DISTINCT run_id) FROM observations"), Rows{{"1"}});

  // A new row, then one the store has: nothing of the second load stays.
  Status conflict = insert({at("01001", 4, 40, 4), at("01003", 2, 10, 0)});
  EXPECT_FALSE(conflict.ok());
  EXPECT_EQ(conflict.kind(), ErrorKind::kLoad);
  EXPECT_EQ(stored(), want);
  // A cursor that fails after a row (the spool's file unreadable): its error, nothing written.
  Status failed = insert({at("01001", 4, 40, 4)}, Status::Load("reading the spool: bad"));
  EXPECT_EQ(failed.message(), "reading the spool: bad");
  EXPECT_EQ(stored(), want);
  // And the store still loads afterwards.
  Status later = insert({at("01001", 4, 40, 4)});
  ASSERT_TRUE(later.ok()) << later.message();
  EXPECT_EQ(stored().size(), want.size() + 1);
}

TEST_P(StoreContract, SecondStoreWaitsForTheLockThenFails) {
  StoreOptions options;
  options.lock_timeout = std::chrono::milliseconds(200);
  auto first = open(options);
  auto second = open(options);
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  load(*first, {obs(1, 1, 0)});

  Result<std::unique_ptr<LoadTransaction>> held = first->begin_load();
  ASSERT_TRUE(held.ok()) << held.status().message();
  ChangeSet changes;
  changes.inserted = {obs(2, 2, 0)};
  ASSERT_TRUE((*held)->write(1, changes).ok());

  auto start = std::chrono::steady_clock::now();
  Result<std::unique_ptr<LoadTransaction>> blocked = second->begin_load();
  auto waited = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(blocked.ok());
  EXPECT_EQ(blocked.status().kind(), ErrorKind::kLoad);
  EXPECT_PRED_FORMAT2(testing::IsSubstring,
                      "the database " + second->describe() + " is locked by another run",
                      blocked.status().message());
  EXPECT_GE(waited, std::chrono::milliseconds(150));  // it did wait for the lock timeout
  EXPECT_LT(waited, std::chrono::seconds(10));

  // Readers do not wait and see only committed data.
  EXPECT_EQ(series(*second), Strings{"US 2020-03-01 1/0/?"});
  StoreOptions read_only = options;
  read_only.read_only = true;
  auto reader = open(read_only);
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(series(*reader), Strings{"US 2020-03-01 1/0/?"});

  ASSERT_TRUE((*held)->commit().ok());
  Result<std::unique_ptr<LoadTransaction>> after = second->begin_load();
  ASSERT_TRUE(after.ok()) << after.status().message();
  Result<std::vector<Observation>> existing = (*after)->existing(kNation);
  ASSERT_TRUE(existing.ok());
  EXPECT_EQ(show(*existing), (Strings{"US 2020-03-01 1/0/?", "US 2020-03-02 2/0/?"}));
}

TEST_P(StoreContract, ZeroLockTimeoutFailsAtOnce) {
  StoreOptions options;
  options.lock_timeout = std::chrono::milliseconds(0);
  auto first = open(options);
  auto second = open(options);
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  Result<std::unique_ptr<LoadTransaction>> held = first->begin_load();
  ASSERT_TRUE(held.ok()) << held.status().message();
  auto start = std::chrono::steady_clock::now();
  Result<std::unique_ptr<LoadTransaction>> blocked = second->begin_load();
  ASSERT_FALSE(blocked.ok());
  EXPECT_PRED_FORMAT2(testing::IsSubstring, "locked by another run", blocked.status().message());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

TEST_P(StoreContract, OutboxIsWrittenWithTheRunAndLeasedOnce) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  Result<int64_t> id = store->begin_run("2022-06-01T12:00:00.000Z");
  ASSERT_TRUE(id.ok());
  auto message = [&](const std::string& channel, int64_t run) {
    OutboxMessage m;
    m.run_id = run;
    m.channel = channel;
    m.event = "failure";
    m.subject = "covid-etl: failed";
    m.body = "line 1\nline 2 — ✓";
    m.payload = R"({"status":"failed","run_id":1})";
    m.created_at = "2022-06-01T12:00:01.000Z";
    return m;
  };
  RunRecord run;
  run.id = *id;
  run.status = RunStatus::kFailed;
  run.finished_at = "2022-06-01T12:00:01.000Z";
  ASSERT_TRUE(store->finish_run(run, {message("webhook", *id), message("email", 0)}).ok());

  Result<std::vector<OutboxMessage>> pending = store->list_outbox(false, 10);
  ASSERT_TRUE(pending.ok()) << pending.status().message();
  EXPECT_EQ(
      show(*pending),
      (Strings{"2 run=0 email failure pending attempts=0 error= created=2022-06-01T12:00:01.000Z "
               "delivered= "
               "subject=covid-etl: failed body=line 1\nline 2 — ✓ "
               "payload={\"status\":\"failed\",\"run_id\":1}",
               "1 run=1 webhook failure pending attempts=0 error= created=2022-06-01T12:00:01.000Z "
               "delivered= subject=covid-etl: failed body=line 1\nline 2 — ✓ "
               "payload={\"status\":\"failed\",\"run_id\":1}"}));

  Result<std::vector<OutboxMessage>> claimed =
      store->claim_outbox(10, "2022-06-01T12:00:02.000Z", "2022-06-01T12:05:00.000Z");
  ASSERT_TRUE(claimed.ok()) << claimed.status().message();
  ASSERT_EQ(claimed->size(), 2u);
  EXPECT_EQ((*claimed)[0].id, 1);
  EXPECT_EQ((*claimed)[1].id, 2);
  // Leased: nobody else gets them before the lease ends; after it, they are handed out again.
  Result<std::vector<OutboxMessage>> again =
      store->claim_outbox(10, "2022-06-01T12:01:00.000Z", "2022-06-01T12:06:00.000Z");
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->empty());

  ASSERT_TRUE(
      store->record_delivery({1, OutboxStatus::kDelivered, 2, "", "2022-06-01T12:00:03.000Z"})
          .ok());
  ASSERT_TRUE(store
                  ->record_delivery({2, OutboxStatus::kPending, 3, "smtp: connection refused",
                                     "2022-06-01T12:00:03.000Z"})
                  .ok());
  Result<std::vector<OutboxMessage>> later =
      store->claim_outbox(10, "2022-06-01T12:00:04.000Z", "2022-06-01T12:10:00.000Z");
  ASSERT_TRUE(later.ok());
  ASSERT_EQ(later->size(), 1u);  // the lease ended with the outcome; the delivered one is done
  EXPECT_EQ((*later)[0].id, 2);
  EXPECT_EQ((*later)[0].attempts, 3);
  EXPECT_EQ((*later)[0].last_error, "smtp: connection refused");

  Result<std::vector<OutboxMessage>> all = store->list_outbox(true, 10);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[1].status, OutboxStatus::kDelivered);
  EXPECT_EQ((*all)[1].attempts, 2);
  EXPECT_EQ((*all)[1].delivered_at, "2022-06-01T12:00:03.000Z");
  Result<std::vector<OutboxMessage>> open_only = store->list_outbox(false, 10);
  ASSERT_TRUE(open_only.ok());
  ASSERT_EQ(open_only->size(), 1u);
  EXPECT_EQ((*open_only)[0].id, 2);
}

// The data version (what serve checks between requests): the same while nothing commits,
// another after a run commits in another store (another process, for the server).
TEST_P(StoreContract, DataVersionChangesWhenAnotherStoreCommits) {
  auto writer = open();
  ASSERT_NE(writer, nullptr);
  StoreOptions read_only;
  read_only.read_only = true;
  auto reader = open(read_only);
  ASSERT_NE(reader, nullptr);
  auto before = reader->data_version();
  ASSERT_TRUE(before.ok()) << before.status().message();
  auto same = reader->data_version();
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(*same, *before);
  load(*writer, {obs(1, 1, 0)});
  auto after = reader->data_version();
  ASSERT_TRUE(after.ok()) << after.status().message();
  EXPECT_NE(*after, *before);
}

// The daemons' schedule (Store::claim_schedule): one store holds it at a time, its holder's
// claims keep it, and it goes with the store (the connection). SQLite: always held.
TEST_P(StoreContract, OneStoreAtATimeHoldsTheSchedule) {
  auto first = open();
  auto second = open();
  ASSERT_TRUE(first && second);
  for (int i = 0; i < 2; ++i) {
    auto held = first->claim_schedule();
    ASSERT_TRUE(held.ok()) << held.status().message();
    EXPECT_EQ(*held, std::nullopt);
  }
  auto other = second->claim_schedule();
  ASSERT_TRUE(other.ok()) << other.status().message();
  if (GetParam() == "sqlite") {
    EXPECT_EQ(*other, std::nullopt);
    return;
  }
  ASSERT_TRUE(other->has_value());
  EXPECT_NE((*other)->find("another covid-etl daemon runs the schedule of PostgreSQL"),
            std::string::npos)
      << **other;
  EXPECT_NE((*other)->find("(server process "), std::string::npos) << **other;
  first.reset();
  auto taken = second->claim_schedule();
  ASSERT_TRUE(taken.ok()) << taken.status().message();
  EXPECT_EQ(*taken, std::nullopt);
}

INSTANTIATE_TEST_SUITE_P(Stores, StoreContract, testing::Values("sqlite", "postgres"),
                         [](const testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

INSTANTIATE_TEST_SUITE_P(Stores, SourceStateContract,
                         testing::Values("sqlite", "postgres", "dynamodb"),
                         [](const testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

// --- the county path, on every store (DynamoDB included) --------------------------------------

// Only the Store interface: no SQL, so that DynamoDB answers the same cases.
class DigestContract : public StoreContract {
 protected:
  static Observation at(const std::string& location, int d, int64_t cases,
                        int64_t deaths = kUnknown) {
    Observation o = obs(d, cases, deaths);
    o.location = location;
    return o;
  }

  std::optional<std::map<Date, StoredDigest>> digests(Store& store, std::string_view level) {
    Result<std::optional<std::map<Date, StoredDigest>>> r = store.date_digests(level);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : std::nullopt;
  }

  // One committed load: `rows` written (as inserts), then `save` as the level's digests.
  void load_rows(Store& store, const std::vector<Observation>& rows, std::string_view level = {},
                 const std::map<Date, StoredDigest>& save = {}) {
    Result<int64_t> id = store.begin_run("2022-06-01T12:00:00.000Z");
    ASSERT_TRUE(id.ok()) << id.status().message();
    Result<std::unique_ptr<LoadTransaction>> t = store.begin_load();
    ASSERT_TRUE(t.ok()) << t.status().message();
    std::vector<Location> locations;
    for (const Observation& o : rows) {
      if (o.location != kNation)
        locations.push_back({o.location, location_level(o.location), o.location, "", ""});
    }
    std::sort(locations.begin(), locations.end(),
              [](const Location& a, const Location& b) { return a.id < b.id; });
    locations.erase(std::unique(locations.begin(), locations.end(),
                                [](const Location& a, const Location& b) { return a.id == b.id; }),
                    locations.end());
    ASSERT_TRUE((*t)->save_locations(locations).ok());
    ChangeSet c;
    c.inserted = rows;
    Status written = (*t)->write(*id, c);
    ASSERT_TRUE(written.ok()) << written.message();
    if (!level.empty()) {
      Status saved = (*t)->save_date_digests(level, save);
      ASSERT_TRUE(saved.ok()) << saved.message();
    }
    Status committed = (*t)->commit();
    ASSERT_TRUE(committed.ok()) << committed.message();
  }

  Strings rows_of(Store& store, const std::string& location) {
    Result<std::vector<Observation>> r = store.read_series(location, {}, {});
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? show(*r) : Strings{"error"};
  }

  static std::string show_digest(const StoredDigest& d) {
    return std::to_string(d.source.rows) + " " + d.source.hash_hex() + " " +
           std::to_string(d.stored_rows) + " " + (d.bytes ? d.bytes->hex() : "-");
  }
  static Strings show_digests(const std::map<Date, StoredDigest>& m) {
    Strings out;
    for (const auto& [date, d] : m) out.push_back(format_date(date) + " " + show_digest(d));
    return out;
  }
};

// save_date_digests() then date_digests(): every field back as saved, per level; saving again
// replaces a date's digest and keeps the others.
TEST_P(DigestContract, DigestsRoundTripPerLevel) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  auto none = digests(*store, "county");  // a new store: digests kept, none yet
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->empty());

  DateDigest d1;
  d1.add(at("06037", 1, 10));
  d1.add(at("36:New York City", 1, 3));
  BytesDigest lines = BytesDigest::of("date,county,state,fips,cases,deaths\n", "2020-03-01,...\n");
  std::map<Date, StoredDigest> save = {
      {day(1), StoredDigest{d1, 2, lines}},
      {day(2), StoredDigest{DateDigest{1, 7, 8}, 3, std::nullopt}}};
  load_rows(*store, {at("06037", 1, 10), at("36:New York City", 1, 3), at("06037", 2, 11)},
            "county", save);
  auto county = digests(*store, "county");
  ASSERT_TRUE(county.has_value());
  EXPECT_EQ(show_digests(*county), show_digests(save));
  ASSERT_EQ(county->size(), 2u);
  EXPECT_TRUE(county->at(day(1)).source.same_content(d1));
  EXPECT_EQ(county->at(day(1)).bytes, std::optional<BytesDigest>(lines));
  EXPECT_EQ(county->at(day(2)).bytes, std::nullopt);

  // Another level's digests are its own.
  DateDigest s1;
  s1.add(at("06", 1, 13));
  load_rows(*store, {at("06", 1, 13)}, "state", {{day(1), StoredDigest{s1, 1, std::nullopt}}});
  auto state = digests(*store, "state");
  ASSERT_TRUE(state.has_value());
  EXPECT_EQ(show_digests(*state), (Strings{"2020-03-01 " + show_digest({s1, 1, std::nullopt})}));
  EXPECT_EQ(show_digests(*digests(*store, "county")), show_digests(save));

  // Saving again replaces day 1's digest; day 2 stays. Read by a store opened afresh.
  DateDigest revised = d1;
  revised.add(at("06037", 1, 1));
  load_rows(*store, {}, "county", {{day(1), StoredDigest{revised, 4, std::nullopt}}});
  auto again = open();
  ASSERT_NE(again, nullptr);
  county = digests(*again, "county");
  ASSERT_TRUE(county.has_value());
  EXPECT_EQ(show_digests(*county), (Strings{"2020-03-01 " + show_digest({revised, 4, std::nullopt}),
                                            "2020-03-02 " + show_digest(save.at(day(2)))}));
  // A read-only store reads them too.
  StoreOptions read_only;
  read_only.read_only = true;
  auto reader = open(read_only);
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(show_digests(digests(*reader, "county").value_or(std::map<Date, StoredDigest>{})),
            show_digests(*county));
}

// A level with rows and no digests (rows written before digests were kept) answers std::nullopt,
// so that the run compares every row once; a level without rows answers "none yet"; once the
// digests are saved they are answered.
TEST_P(DigestContract, RowsWithoutDigestsAnswerNullopt) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  load_rows(*store, {obs(1, 1, 0), at("06", 1, 5), at("06037", 1, 2), at("06037", 2, 3)});
  EXPECT_FALSE(digests(*store, "county").has_value());
  EXPECT_FALSE(digests(*store, "state").has_value());
  auto world = digests(*store, "world");  // no rows of that level
  ASSERT_TRUE(world.has_value());
  EXPECT_TRUE(world->empty());

  DateDigest d;
  d.add(at("06037", 1, 2));
  load_rows(*store, {}, "county", {{day(1), StoredDigest{d, 1, std::nullopt}}});
  auto county = digests(*store, "county");
  ASSERT_TRUE(county.has_value());
  EXPECT_EQ(county->size(), 1u);
  EXPECT_FALSE(digests(*store, "state").has_value());  // still none for the states
}

// The digests go with the load's commit: a load that inserts rows and saves digests but is
// destroyed without commit leaves no digest, and the level answers "none yet" (not std::nullopt):
// its dates are all new to the next run, which writes them whole. (SQLite and PostgreSQL roll the
// rows back; DynamoDB keeps them, and the next run's writes replace them.)
TEST_P(DigestContract, AnUncommittedLoadLeavesNoDigest) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(digests(*store, "county").has_value());  // the run asks first, as etl_run does
  {
    Result<int64_t> id = store->begin_run("2022-06-01T12:00:00.000Z");
    ASSERT_TRUE(id.ok());
    Result<std::unique_ptr<LoadTransaction>> t = store->begin_load();
    ASSERT_TRUE(t.ok()) << t.status().message();
    ASSERT_TRUE((*t)->save_locations({{"01001", "county", "Autauga", "Alabama", "01001"}}).ok());
    VectorCursor cursor({at("01001", 1, 10), at("01001", 2, 20)});
    ASSERT_TRUE((*t)->insert_sorted(*id, cursor).ok());
    DateDigest d;
    d.add(at("01001", 1, 10));
    ASSERT_TRUE(
        (*t)->save_date_digests("county", {{day(1), StoredDigest{d, 1, std::nullopt}}}).ok());
  }
  auto after = open();
  ASSERT_NE(after, nullptr);
  auto county = digests(*after, "county");
  ASSERT_TRUE(county.has_value());
  EXPECT_TRUE(county->empty());
}

// existing_on(): the stored rows among given locations on one date, sorted by location, over
// more locations than one request of a store carries (DynamoDB's BatchGetItem takes 100);
// existing_on_date(): every stored row of a level on a date, and only that level's.
TEST_P(DigestContract, TheRowsOfADate) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  const std::string odd = "36:Saint \"Odd\", {City} \\ Parish";
  std::vector<Observation> rows = {at("06", 1, 13), at(odd, 1, 3), at(odd, 2, 4)};
  std::vector<std::string> asked;
  for (int i = 0; i < 250; ++i) {
    char id[8];
    std::snprintf(id, sizeof id, "%05d", 1001 + 2 * i);
    if (i % 3 != 0) rows.push_back(at(id, 1, i, i % 2 == 0 ? kUnknown : i / 2));  // 2 in 3 stored
    if (i % 2 == 0) rows.push_back(at(id, 2, i + 1));
    asked.push_back(id);
  }
  asked.push_back(odd);
  asked.push_back("99999");  // stored on no date
  std::sort(asked.begin(), asked.end());
  load_rows(*store, rows);

  Result<std::unique_ptr<LoadTransaction>> t = store->begin_load();
  ASSERT_TRUE(t.ok()) << t.status().message();
  auto want = [&](Date date, bool only_asked) {
    std::vector<Observation> out;
    for (const Observation& o : rows) {
      if (o.date == date && location_level(o.location) == std::string_view("county") &&
          (!only_asked || std::binary_search(asked.begin(), asked.end(), o.location)))
        out.push_back(o);
    }
    std::sort(out.begin(), out.end(), by_location_date);
    return show(out);
  };
  for (int d : {1, 2, 3}) {
    SCOPED_TRACE(d);
    Result<std::vector<Observation>> on = (*t)->existing_on(day(d), asked);
    ASSERT_TRUE(on.ok()) << on.status().message();
    EXPECT_EQ(show(*on), want(day(d), true));
    Result<std::vector<Observation>> all = (*t)->existing_on_date("county", day(d));
    ASSERT_TRUE(all.ok()) << all.status().message();
    EXPECT_EQ(show(*all), want(day(d), false));
  }
  EXPECT_EQ(want(day(1), true).size(),
            167u);  // 166 FIPS and the odd one: the check checks something
  Result<std::vector<Observation>> few = (*t)->existing_on(day(1), {odd});
  ASSERT_TRUE(few.ok());
  EXPECT_EQ(show(*few), Strings{odd + " 2020-03-01 3/?/?"});
  Result<std::vector<Observation>> none = (*t)->existing_on(day(1), {});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  Result<std::vector<Observation>> states = (*t)->existing_on_date("state", day(1));
  ASSERT_TRUE(states.ok());
  EXPECT_EQ(show(*states), Strings{"06 2020-03-01 13/?/?"});
}

// insert_sorted() from a small cursor: every row lands, with the run's id on the stores that
// show it; a cursor that fails hands back its error.
TEST_P(DigestContract, InsertSortedStreamsTheCursor) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(digests(*store, "county").has_value());
  std::vector<Observation> rows;
  for (const char* id : {"01001", "01003", "36:New York City"}) {
    for (int d = 1; d <= 30; ++d) rows.push_back(at(id, d, 100 + d, d % 5 == 0 ? kUnknown : d));
  }
  Result<int64_t> id = store->begin_run("2022-06-01T12:00:00.000Z");
  ASSERT_TRUE(id.ok());
  {
    Result<std::unique_ptr<LoadTransaction>> t = store->begin_load();
    ASSERT_TRUE(t.ok()) << t.status().message();
    ASSERT_TRUE((*t)->save_locations({{"01001", "county", "Autauga", "Alabama", "01001"},
                                      {"01003", "county", "Baldwin", "Alabama", "01003"},
                                      {"36:New York City", "county", "New York City", "", ""}})
                    .ok());
    VectorCursor cursor(rows);
    Status inserted = (*t)->insert_sorted(*id, cursor);
    ASSERT_TRUE(inserted.ok()) << inserted.message();
    DateDigest d;
    for (const Observation& o : rows) {
      if (o.date == day(1)) d.add(o);
    }
    ASSERT_TRUE(
        (*t)->save_date_digests("county", {{day(1), StoredDigest{d, 3, std::nullopt}}}).ok());
    ASSERT_TRUE((*t)->commit().ok());
  }
  for (const char* location : {"01001", "01003", "36:New York City"}) {
    std::vector<Observation> want;
    for (const Observation& o : rows) {
      if (o.location == location) want.push_back(o);
    }
    EXPECT_EQ(rows_of(*store, location), show(want)) << location;
  }
  auto county = digests(*store, "county");
  ASSERT_TRUE(county.has_value());
  EXPECT_EQ(county->size(), 1u);

  Result<std::unique_ptr<LoadTransaction>> t = store->begin_load();
  ASSERT_TRUE(t.ok()) << t.status().message();
  VectorCursor failing({at("01005", 1, 1)}, Status::Load("reading the spool: bad"));
  Status failed = (*t)->insert_sorted(*id, failing);
  EXPECT_EQ(failed.message(), "reading the spool: bad");
}

// The digests are no locations: list_locations() (export, serve) shows the data's locations only.
TEST_P(DigestContract, DigestsAreNotLocations) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  DateDigest d;
  d.add(at("06037", 1, 10));
  load_rows(*store, {at("06037", 1, 10)}, "county", {{day(1), StoredDigest{d, 1, std::nullopt}}});
  Result<std::vector<Location>> locations = store->list_locations();
  ASSERT_TRUE(locations.ok()) << locations.status().message();
  Strings ids;
  for (const Location& l : *locations) ids.push_back(l.id + " " + l.type);
  EXPECT_EQ(ids, (Strings{"06037 county", "US nation"}));
  EXPECT_EQ(rows_of(*store, "digest#county"), Strings{});
}

INSTANTIATE_TEST_SUITE_P(Stores, DigestContract, testing::Values("sqlite", "postgres", "dynamodb"),
                         [](const testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

// --- a dataset's cadence and replacing a level, on every store -------------------------------

class DatasetContract : public DigestContract {
 protected:
  std::optional<int> cadence(Store& store, std::string_view dataset) {
    Result<std::optional<int>> r = store.dataset_cadence(dataset);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : std::optional<int>(-1);
  }
  Strings location_ids(Store& store) {
    auto locations = store.list_locations();
    EXPECT_TRUE(locations.ok()) << locations.status().message();
    Strings ids;
    if (locations.ok()) {
      for (const Location& l : *locations) ids.push_back(l.id);
    }
    return ids;
  }
  // A load that saves `days` as the cadence of `dataset`, committed or not.
  void save_cadence(Store& store, std::string_view dataset, int days, bool commit) {
    Result<std::unique_ptr<LoadTransaction>> t = store.begin_load();
    ASSERT_TRUE(t.ok()) << t.status().message();
    Status saved = (*t)->save_cadence(dataset, days);
    ASSERT_TRUE(saved.ok()) << saved.message();
    if (commit) {
      Status committed = (*t)->commit();
      ASSERT_TRUE(committed.ok()) << committed.message();
    }
  }
  // Begins a run and a load that deletes the country level (`deleted` rows, expected) and writes
  // France's row of day `d` (14 cases, 2 deaths) with its location: the load, not committed, in
  // `*out`.
  void delete_countries_then_write_france(Store& store, uint64_t deleted, int d,
                                          std::unique_ptr<LoadTransaction>* out) {
    Result<int64_t> id = store.begin_run("2022-06-02T12:00:00.000Z");
    ASSERT_TRUE(id.ok()) << id.status().message();
    Result<std::unique_ptr<LoadTransaction>> t = store.begin_load();
    ASSERT_TRUE(t.ok()) << t.status().message();
    Result<uint64_t> gone = (*t)->delete_level("country");
    ASSERT_TRUE(gone.ok()) << gone.status().message();
    EXPECT_EQ(*gone, deleted);
    ChangeSet c;
    c.inserted = {at("FRA", d, 14, 2)};
    ASSERT_TRUE((*t)->save_locations({{"FRA", "country", "France", "", ""}}).ok());
    Status written = (*t)->write(*id, c);
    ASSERT_TRUE(written.ok()) << written.message();
    *out = std::move(*t);
  }
};

// save_cadence() then dataset_cadence(): nothing kept on a new store, each dataset's own, saving
// again replaces it, an uncommitted load leaves it as it was, a read-only store reads it too.
TEST_P(DatasetContract, CadenceRoundTrip) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(cadence(*store, "world"), std::nullopt);
  save_cadence(*store, "world", 1, true);
  save_cadence(*store, "states", 7, true);
  EXPECT_EQ(cadence(*store, "world"), 1);
  EXPECT_EQ(cadence(*store, "states"), 7);
  EXPECT_EQ(cadence(*store, "counties"), std::nullopt);
  save_cadence(*store, "world", 7, false);
  EXPECT_EQ(cadence(*store, "world"), 1);
  save_cadence(*store, "world", 7, true);
  EXPECT_EQ(cadence(*store, "world"), 7);
  EXPECT_EQ(cadence(*store, "states"), 7);
  StoreOptions ro;
  ro.read_only = true;
  auto reader = open(ro);
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(cadence(*reader, "world"), 7);
}

// delete_level(): the level's rows go (their count returned), the other levels' rows and digests
// stay, and the next load adds the level's rows again.
TEST_P(DatasetContract, DeleteLevelRemovesThatLevelOnly) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  load_rows(*store, {at("FRA", 1, 10, 1), at("FRA", 2, 12, 1), at("NAM", 1, 3, 0)});
  DateDigest d;
  d.add(at("06037", 1, 20, 2));
  load_rows(*store, {at(kNation, 1, 100, 5), at("06037", 1, 20, 2)}, "county",
            {{day(1), StoredDigest{d, 1, std::nullopt}}});
  std::unique_ptr<LoadTransaction> t;
  ASSERT_NO_FATAL_FAILURE(delete_countries_then_write_france(*store, 3, 3, &t));
  Status committed = t->commit();
  ASSERT_TRUE(committed.ok()) << committed.message();
  EXPECT_EQ(rows_of(*store, "FRA"), Strings{"FRA 2020-03-03 14/2/?"});
  EXPECT_EQ(rows_of(*store, "NAM"), Strings{});
  EXPECT_EQ(rows_of(*store, kNation), Strings{"US 2020-03-01 100/5/?"});
  EXPECT_EQ(rows_of(*store, "06037"), Strings{"06037 2020-03-01 20/2/?"});
  auto county = digests(*store, "county");
  ASSERT_TRUE(county.has_value());
  EXPECT_EQ(county->size(), 1u);
  if (store->keeps_location_names()) {
    EXPECT_EQ(location_ids(*store), (Strings{"06037", "FRA", "US"}));
  }
}

// delete_level() is all-or-nothing with the rest of its load: a load that deletes a level, writes
// rows and a cadence, and is not committed leaves the rows, locations and cadence as they were.
// DynamoDB has no transaction (see DynamoDbStore's delete_level): there only the cadence, written
// at commit, stays as it was, which makes the next run refuse the source again.
TEST_P(DatasetContract, DeleteLevelIsUndoneWithItsLoad) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  load_rows(*store, {at("FRA", 1, 10, 1), at("NAM", 1, 3, 0), at(kNation, 1, 100, 5)});
  save_cadence(*store, "world", 1, true);
  {
    std::unique_ptr<LoadTransaction> t;
    ASSERT_NO_FATAL_FAILURE(delete_countries_then_write_france(*store, 2, 7, &t));
    ASSERT_TRUE(t->save_cadence("world", 7).ok());
  }  // not committed
  EXPECT_EQ(cadence(*store, "world"), 1);
  EXPECT_EQ(rows_of(*store, kNation), Strings{"US 2020-03-01 100/5/?"});
  if (GetParam() == "dynamodb") return;
  EXPECT_EQ(rows_of(*store, "FRA"), Strings{"FRA 2020-03-01 10/1/?"});
  EXPECT_EQ(rows_of(*store, "NAM"), Strings{"NAM 2020-03-01 3/0/?"});
  EXPECT_EQ(location_ids(*store), (Strings{"FRA", "NAM", "US"}));
}

// A run record's quality counts by kind (RunRecord::quality_json): read back as written by
// list_runs() and get_run(); a record without them reads as empty.
TEST_P(DatasetContract, RunQualityRoundTrip) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  const std::string quality = R"({"deaths_above_cases":1,"outlier":12})";
  std::vector<int64_t> ids;
  for (const std::string& q : {quality, std::string()}) {
    Result<int64_t> id = store->begin_run("2022-06-01T12:00:00.000Z");
    ASSERT_TRUE(id.ok()) << id.status().message();
    RunRecord run;
    run.id = *id;
    run.status = RunStatus::kOk;
    run.finished_at = "2022-06-01T12:00:01.000Z";
    run.quality_json = q;
    Status finished = store->finish_run(run, {});
    ASSERT_TRUE(finished.ok()) << finished.message();
    ids.push_back(*id);
  }
  Result<std::vector<RunRecord>> runs = store->list_runs(10);
  ASSERT_TRUE(runs.ok()) << runs.status().message();
  ASSERT_EQ(runs->size(), 2u);
  EXPECT_EQ((*runs)[0].quality_json, "");
  EXPECT_EQ((*runs)[1].quality_json, quality);
  Result<std::optional<RunRecord>> one = store->get_run(ids[0]);
  ASSERT_TRUE(one.ok()) << one.status().message();
  ASSERT_TRUE(one->has_value());
  EXPECT_EQ((*one)->quality_json, quality);
}

INSTANTIATE_TEST_SUITE_P(Stores, DatasetContract, testing::Values("sqlite", "postgres", "dynamodb"),
                         [](const testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

// --- populations (reference data), on every store ----------------------------------------------

class PopulationContract : public StoreContract {
 protected:
  // One committed load that saves `populations`.
  void save(Store& store, const std::vector<Population>& populations, bool commit = true) {
    Result<int64_t> id = store.begin_run("2022-06-01T12:00:00.000Z");
    ASSERT_TRUE(id.ok()) << id.status().message();
    Result<std::unique_ptr<LoadTransaction>> t = store.begin_load();
    ASSERT_TRUE(t.ok()) << t.status().message();
    Status saved = (*t)->save_populations(*id, populations);
    ASSERT_TRUE(saved.ok()) << saved.message();
    if (commit) {
      Status committed = (*t)->commit();
      ASSERT_TRUE(committed.ok()) << committed.message();
    }
  }
  static Strings show_all(const std::vector<Population>& ps) {
    Strings out;
    for (const Population& p : ps)
      out.push_back(p.location + " " + std::to_string(p.population) + " " + p.source + " " +
                    std::to_string(p.year));
    return out;
  }
  Strings stored(Store& store) {
    Result<std::vector<Population>> r = store.populations();
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? show_all(*r) : Strings{"error"};
  }
};

// save_populations() then populations(): sorted by location (byte order), every field back, the
// year 0 (not known) included; saving again replaces a location's and keeps the others; the load
// transaction reads the same; an uncommitted load leaves nothing.
TEST_P(PopulationContract, PopulationsRoundTrip) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(stored(*store), Strings{});
  save(*store, {{"36:New York City", 8336817, "JHU: 36005 + 36047", 2019},
                {"06", 39512223, "JHU", 2019},
                {"XKS", 1810366, "JHU", 0},
                {"06037", 10039107, "JHU", 2019}});
  const Strings first = {"06 39512223 JHU 2019", "06037 10039107 JHU 2019",
                         "36:New York City 8336817 JHU: 36005 + 36047 2019", "XKS 1810366 JHU 0"};
  EXPECT_EQ(stored(*store), first);
  save(*store, {{"06", 39512224, "JHU", 2020}}, /*commit=*/false);
  EXPECT_EQ(stored(*store), first);
  save(*store, {{"06", 39512224, "JHU", 2020}, {"US", 329466283, "JHU", 0}});
  EXPECT_EQ(stored(*store), (Strings{"06 39512224 JHU 2020", "06037 10039107 JHU 2019",
                                     "36:New York City 8336817 JHU: 36005 + 36047 2019",
                                     "US 329466283 JHU 0", "XKS 1810366 JHU 0"}));
  Result<std::unique_ptr<LoadTransaction>> t = store->begin_load();
  ASSERT_TRUE(t.ok()) << t.status().message();
  auto in_load = (*t)->populations();
  ASSERT_TRUE(in_load.ok()) << in_load.status().message();
  EXPECT_EQ(show_all(*in_load).size(), 5u);
  t->reset();
  // Another store on the same database reads them too (serve, export).
  StoreOptions ro;
  ro.read_only = true;
  auto reader = open(ro);
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(stored(*reader).size(), 5u);
}

INSTANTIATE_TEST_SUITE_P(Stores, PopulationContract,
                         testing::Values("sqlite", "postgres", "dynamodb"),
                         [](const testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });
INSTANTIATE_TEST_SUITE_P(Stores, AnnotationContract,
                         testing::Values("sqlite", "postgres", "dynamodb"),
                         [](const testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

// --- PostgreSQL only ------------------------------------------------------------------------

class PostgresStoreTest : public testing::Test {
 protected:
  void SetUp() override {
    server_ = fixture_url();
    if (server_.empty())
      GTEST_SKIP() << "COVID_ETL_TEST_PG_URL_FILE is not set: no PostgreSQL server";
  }
  std::string server_;
};

TEST_F(PostgresStoreTest, DefaultSchemaAndSchemasAreIndependent) {
  PostgresBackend a(server_, unique_name("sa_")), b(server_, unique_name("sb_"));
  Result<std::unique_ptr<Store>> sa = open_store(a.url(), {});
  Result<std::unique_ptr<Store>> sb = open_store(b.url(), {});
  ASSERT_TRUE(sa.ok() && sb.ok());
  EXPECT_EQ((*sa)->describe().find("(schema " + a.schema() + ")") != std::string::npos, true)
      << (*sa)->describe();
  // Each schema has its own lock: a load held in one does not block the other.
  Result<std::unique_ptr<LoadTransaction>> ta = (*sa)->begin_load();
  ASSERT_TRUE(ta.ok());
  StoreOptions quick;
  quick.lock_timeout = std::chrono::milliseconds(0);
  Result<std::unique_ptr<Store>> sb2 = open_store(b.url(), quick);
  ASSERT_TRUE(sb2.ok());
  Result<std::unique_ptr<LoadTransaction>> tb = (*sb2)->begin_load();
  EXPECT_TRUE(tb.ok()) << tb.status().message();
  // The lock held is the documented advisory lock.
  EXPECT_EQ(a.raw("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = " +
                  std::to_string(uint32_t(PostgresStore::kLockClass)) +
                  " AND objid = " + std::to_string(uint32_t(PostgresStore::lock_key(a.schema()))) +
                  " AND objsubid = 2"),
            Rows{{"1"}});
  EXPECT_EQ(a.raw("SELECT nspname FROM pg_namespace WHERE nspname = '" + a.schema() + "'"),
            Rows{{a.schema()}});
  EXPECT_EQ(a.raw("SELECT version FROM schema_version"),
            Rows{{std::to_string(PostgresStore::schema_version())}});
}

TEST_F(PostgresStoreTest, WrongPasswordFailsWithoutShowingIt) {
  Result<PgTarget> t = parse_postgres_url(server_);
  ASSERT_TRUE(t.ok());
  ASSERT_FALSE(t->secrets.empty()) << "the fixture's URL has a password";
  // The password in the URI's user info, as written there (percent-encoded: the suite's fake
  // password holds '/' and '+').
  std::string url = server_;
  size_t colon = url.find(':', url.find("://") + 3), at = url.find('@');
  ASSERT_TRUE(colon != std::string::npos && at != std::string::npos && colon < at) << url;
  url.replace(colon + 1, at - colon - 1, "Wr0ngPassw0rd-xyzzy");
  Result<std::unique_ptr<Store>> r = open_store(url, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().kind(), ErrorKind::kLoad);
  EXPECT_PRED_FORMAT2(testing::IsSubstring, "password authentication failed", r.status().message());
  EXPECT_EQ(r.status().message().find("Wr0ngPassw0rd"), std::string::npos) << r.status().message();
  EXPECT_PRED_FORMAT2(testing::IsSubstring, ":***@", r.status().message());
}

TEST_F(PostgresStoreTest, NoServerIsALoadError) {
  Result<std::unique_ptr<Store>> r =
      open_store("postgresql://u:s3cretpw@127.0.0.1:1/db?connect_timeout=2", {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().kind(), ErrorKind::kLoad);
  EXPECT_PRED_FORMAT2(testing::IsSubstring,
                      "cannot connect to PostgreSQL postgresql://u:***@127.0.0.1:1/db",
                      r.status().message());
  EXPECT_EQ(r.status().message().find("s3cretpw"), std::string::npos);
}

TEST_F(PostgresStoreTest, ALostConnectionFailsTheLoadAndWritesNothing) {
  PostgresBackend backend(server_, unique_name("lc_"));
  Result<std::unique_ptr<Store>> store = open_store(backend.url(), {});
  ASSERT_TRUE(store.ok()) << store.status().message();
  Result<int64_t> id = (*store)->begin_run("2022-06-01T12:00:00.000Z");
  ASSERT_TRUE(id.ok());
  Result<std::unique_ptr<LoadTransaction>> t = (*store)->begin_load();
  ASSERT_TRUE(t.ok());
  ChangeSet changes;
  changes.inserted = {obs(1, 1, 0)};
  ASSERT_TRUE((*t)->write(*id, changes).ok());
  // Another session ends this one's backend, as a server shutting down would.
  EXPECT_EQ(backend.raw("SELECT count(pg_terminate_backend(pid)) FROM pg_locks WHERE locktype = "
                        "'advisory' AND objid = " +
                        std::to_string(uint32_t(PostgresStore::lock_key(backend.schema())))),
            Rows{{"1"}});
  Status s = (*t)->commit();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.kind(), ErrorKind::kLoad);
  EXPECT_PRED_FORMAT2(testing::IsSubstring, "connection", s.message());
  t->reset();  // the rollback of a dead connection is quiet
  EXPECT_EQ(backend.raw("SELECT count(*) FROM observations"), Rows{{"0"}});
}

}  // namespace
}  // namespace covid
