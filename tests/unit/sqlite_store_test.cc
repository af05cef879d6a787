#include "load/sqlite/sqlite_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "load/classify.h"
#include "load/store.h"

namespace covid {
namespace {

namespace fs = std::filesystem;
using Strings = std::vector<std::string>;
using Rows = std::vector<Strings>;

// A fresh directory under the system temp directory, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string t = (fs::temp_directory_path() / "covid-store-test-XXXXXX").string();
    if (mkdtemp(t.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
    path_ = t;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string path(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

// Runs SQL on the file with the raw SQLite API, beside any store; each row as text, NULL as
// "NULL".
Rows query(const std::string& db, const std::string& sql) {
  sqlite3* h = nullptr;
  Rows rows;
  if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << "cannot open " << db;
    sqlite3_close(h);
    return rows;
  }
  sqlite3_stmt* s = nullptr;
  const char* tail = sql.c_str();
  while (*tail != '\0') {
    if (sqlite3_prepare_v2(h, tail, -1, &s, &tail) != SQLITE_OK) {
      ADD_FAILURE() << sql << ": " << sqlite3_errmsg(h);
      break;
    }
    if (s == nullptr) break;  // only whitespace left
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      Strings row;
      for (int i = 0; i < sqlite3_column_count(s); ++i) {
        const unsigned char* t = sqlite3_column_text(s, i);
        row.push_back(t == nullptr ? "NULL" : reinterpret_cast<const char*>(t));
      }
      rows.push_back(row);
    }
    if (rc != SQLITE_DONE) ADD_FAILURE() << sql << ": " << sqlite3_errmsg(h);
    sqlite3_finalize(s);
  }
  sqlite3_close(h);
  return rows;
}

int user_version(const std::string& db) {
  Rows r = query(db, "PRAGMA user_version");
  return r.empty() ? -1 : std::stoi(r[0][0]);
}

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
         " finished=" + r.finished_at + " stage=" + r.stage + " counts=" +
         std::to_string(c.rows_read) + "," + std::to_string(c.inserted) + "," +
         std::to_string(c.updated) + "," + std::to_string(c.unchanged) + "," +
         std::to_string(c.missing) + "," + std::to_string(c.warnings) + "," +
         std::to_string(c.errors) + " dates=" + r.first_date + ".." + r.last_date +
         " error=" + r.error + " sources=" + r.sources_json + " ms=" + std::to_string(r.duration_ms);
}

Strings show(const std::vector<RunRecord>& runs) {
  Strings out;
  for (const RunRecord& r : runs) out.push_back(show(r));
  return out;
}

class SqliteStoreTest : public testing::Test {
 protected:
  // Opens the store at `path` (the test database by default); fails the test when it cannot.
  std::unique_ptr<Store> open(StoreOptions options = {}, const std::string& path = "") {
    Result<std::unique_ptr<Store>> r = SqliteStore::open(path.empty() ? db_ : path, options);
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
    EXPECT_TRUE(tx.write(*id, classify(*existing, incoming)).ok());
    RunRecord run;
    run.id = *id;
    run.status = RunStatus::kOk;
    run.finished_at = "2022-06-01T12:00:01.000Z";
    EXPECT_TRUE(tx.finish_run(run, {}).ok());
    EXPECT_TRUE(tx.commit().ok());
    return *id;
  }

  Strings series(Store& store, std::optional<Date> from = {}, std::optional<Date> to = {}) {
    Result<std::vector<Observation>> r = store.read_series(kNation, from, to);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? show(*r) : Strings{"error"};
  }

  TempDir dir_;
  std::string db_ = dir_.path("covid.db");
};

TEST_F(SqliteStoreTest, OpenCreatesAndMigrates) {
  std::string path = dir_.path("new/dir/covid.db");
  auto store = open({}, path);
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(fs::exists(path));
  EXPECT_EQ(store->describe(), path);
  EXPECT_GE(SqliteStore::schema_version(), 1);
  EXPECT_EQ(user_version(path), SqliteStore::schema_version());
  EXPECT_EQ(query(path, "PRAGMA journal_mode"), Rows{{"wal"}});
  Rows tables = query(path, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name");
  for (const char* t : {"locations", "observations", "revisions", "runs", "source_state"}) {
    EXPECT_NE(std::find(tables.begin(), tables.end(), Strings{t}), tables.end()) << t;
  }
  EXPECT_EQ(query(path, "SELECT id, type FROM locations"), (Rows{{"US", "nation"}}));
}

TEST_F(SqliteStoreTest, ReopenIsIdempotent) {
  {
    auto store = open();
    ASSERT_NE(store, nullptr);
    load(*store, {obs(1, 10, 1)});
  }
  for (int i = 0; i < 2; ++i) {
    auto store = open();
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(user_version(db_), SqliteStore::schema_version());
    EXPECT_EQ(series(*store), Strings{"US 2020-03-01 10/1/?"});
    Result<std::vector<RunRecord>> runs = store->list_runs(10);
    ASSERT_TRUE(runs.ok());
    EXPECT_EQ(runs->size(), 1u);
  }
  EXPECT_EQ(query(db_, "SELECT count(*) FROM locations"), Rows{{"1"}});
}

TEST_F(SqliteStoreTest, NewerSchemaIsRefused) {
  int newer = SqliteStore::schema_version() + 1;
  query(db_, "PRAGMA user_version = " + std::to_string(newer));
  const std::string message = db_ + ": schema version " + std::to_string(newer) +
                              " is newer than this covid-etl knows (" +
                              std::to_string(SqliteStore::schema_version()) + ")";
  for (bool read_only : {false, true}) {
    SCOPED_TRACE(read_only ? "read-only" : "read-write");
    StoreOptions options;
    options.read_only = read_only;
    Result<std::unique_ptr<Store>> r = SqliteStore::open(db_, options);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().kind(), ErrorKind::kLoad);
    EXPECT_EQ(r.status().message(), message);
  }
  EXPECT_EQ(user_version(db_), newer);
  EXPECT_EQ(query(db_, "SELECT count(*) FROM sqlite_master"), Rows{{"0"}});  // nothing created
}

TEST_F(SqliteStoreTest, ReadOnlyOpenOfAMissingFileFails) {
  StoreOptions options;
  options.read_only = true;
  Result<std::unique_ptr<Store>> r = SqliteStore::open(db_, options);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().kind(), ErrorKind::kLoad);
  EXPECT_PRED_FORMAT2(testing::IsSubstring, "no database at " + db_, r.status().message());
  EXPECT_FALSE(fs::exists(db_));
}

TEST_F(SqliteStoreTest, ReadOnlyOpenOfAnEmptyDatabaseReadsNothing) {
  std::ofstream(db_).close();  // an empty file is an empty SQLite database
  StoreOptions options;
  options.read_only = true;
  auto store = open(options);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(series(*store), Strings{});
  Result<std::vector<RunRecord>> runs = store->list_runs(10);
  ASSERT_TRUE(runs.ok()) << runs.status().message();
  EXPECT_TRUE(runs->empty());
  Result<std::map<std::string, SourceState>> states = store->source_states();
  ASSERT_TRUE(states.ok()) << states.status().message();
  EXPECT_TRUE(states->empty());
  EXPECT_EQ(fs::file_size(db_), 0u);  // nothing written
}

TEST_F(SqliteStoreTest, RunsRoundTripNewestFirst) {
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
  r.error = "us.csv:4:1: date: 2020-01-21 appears twice (first on line 2)";
  r.sources_json = R"([{"url":"https://example.org/us.csv","status":200}])";
  r.duration_ms = 2500;
  ASSERT_TRUE(store->finish_run(r, {}).ok());

  Result<std::vector<RunRecord>> runs = store->list_runs(10);
  ASSERT_TRUE(runs.ok()) << runs.status().message();
  r.started_at = "2022-06-01T12:00:00.000Z";
  EXPECT_EQ(show(*runs),
            (Strings{"2 running started=2022-06-01T13:00:00.000Z finished= stage= "
                     "counts=0,0,0,0,0,0,0 dates=.. error= sources= ms=0",
                     show(r)}));
  Result<std::vector<RunRecord>> newest = store->list_runs(1);
  ASSERT_TRUE(newest.ok());
  ASSERT_EQ(newest->size(), 1u);
  EXPECT_EQ((*newest)[0].id, 2);
}

TEST_F(SqliteStoreTest, LoadWritesInsertsUpdatesAndRevisions) {
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
  EXPECT_EQ(show(*existing),
            (Strings{"US 2020-03-01 1/0/?", "US 2020-03-02 2/0/?", "US 2020-03-03 3/1/5"}));
  ChangeSet changes = classify(*existing, {obs(1, 1, 0), obs(2, 2, 0, 0), obs(3, 4, 1, 5), obs(4, 6, 2)});
  ASSERT_EQ(changes.inserted.size(), 1u);
  ASSERT_EQ(changes.updated.size(), 2u);
  ASSERT_TRUE((*t)->write(*run2, changes).ok());
  ASSERT_TRUE((*t)->commit().ok());

  EXPECT_EQ(series(*store), (Strings{"US 2020-03-01 1/0/?", "US 2020-03-02 2/0/0",
                                     "US 2020-03-03 4/1/5", "US 2020-03-04 6/2/?"}));
  const std::string r1 = std::to_string(run1), r2 = std::to_string(*run2);
  EXPECT_EQ(query(db_, "SELECT run_id, location, date, old_cases, old_deaths, old_recovered, "
                       "new_cases, new_deaths, new_recovered FROM revisions ORDER BY date"),
            (Rows{{r2, "US", "2020-03-02", "2", "0", "NULL", "2", "0", "0"},
                  {r2, "US", "2020-03-03", "3", "1", "5", "4", "1", "5"}}));
  EXPECT_EQ(query(db_, "SELECT date, cases, recovered, run_id FROM observations ORDER BY date"),
            (Rows{{"2020-03-01", "1", "NULL", r1},
                  {"2020-03-02", "2", "0", r2},
                  {"2020-03-03", "4", "5", r2},
                  {"2020-03-04", "6", "NULL", r2}}));
}

TEST_F(SqliteStoreTest, FinishRunInsideTheLoad) {
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

TEST_F(SqliteStoreTest, DestroyingALoadWithoutCommitRollsBack) {
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
    ASSERT_TRUE((*t)->save_source(*id, SourceState{"https://example.org/us.csv", {"\"e\"", ""}, "h", 9}).ok());
    RunRecord run;
    run.id = *id;
    run.status = RunStatus::kOk;
    ASSERT_TRUE((*t)->finish_run(run, {}).ok());
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
  EXPECT_EQ(query(db_, "SELECT count(*) FROM revisions"), Rows{{"0"}});
  // The lock is free again.
  Result<std::unique_ptr<LoadTransaction>> again = store->begin_load();
  EXPECT_TRUE(again.ok()) << again.status().message();
}

TEST_F(SqliteStoreTest, SourceStatesRoundTrip) {
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
  EXPECT_EQ(query(db_, "SELECT etag, last_modified FROM source_state WHERE url = 'data/jhu.csv'"),
            (Rows{{"NULL", "NULL"}}));
  save({{nyt, {"\"v2\"", ""}, "xxh3-128:cc", 2000}});  // replaces what was saved for the URL
  EXPECT_EQ(show_states(),
            (Strings{"data/jhu.csv etag= lm= hash=xxh3-128:bb bytes=5",
                     "https://example.org/us.csv etag=\"v2\" lm= hash=xxh3-128:cc bytes=2000"}));
}

TEST_F(SqliteStoreTest, ReadSeriesBoundsAndUnknownCounts) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  load(*store, {obs(1, 1, 0), obs(2, 2, kUnknown, 0), obs(3, 3, 0), obs(4, 4, 0), obs(5, 5, 0)});
  auto days = [&](std::optional<Date> from, std::optional<Date> to) {
    Strings rows = series(*store, from, to);
    Strings out;
    for (const std::string& r : rows) out.push_back(r.substr(11, 2));  // the day of the month
    return out;
  };
  EXPECT_EQ(days({}, {}), (Strings{"01", "02", "03", "04", "05"}));
  EXPECT_EQ(days(day(2), day(4)), (Strings{"02", "03", "04"}));
  EXPECT_EQ(days(day(4), {}), (Strings{"04", "05"}));
  EXPECT_EQ(days({}, day(2)), (Strings{"01", "02"}));
  EXPECT_EQ(days(day(3), day(3)), Strings{"03"});
  EXPECT_EQ(days(day(4), day(2)), Strings{});
  EXPECT_EQ(days(day(6), {}), Strings{});
  EXPECT_EQ(days(date_from_ymd(2020, 2, 1), date_from_ymd(2020, 2, 29)), Strings{});
  EXPECT_EQ(series(*store, day(2), day(2)), Strings{"US 2020-03-02 2/?/0"});
  Result<std::vector<Observation>> other = store->read_series("06", {}, {});
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE(other->empty());
}

TEST_F(SqliteStoreTest, SecondStoreWaitsForTheLockThenFails) {
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
  EXPECT_PRED_FORMAT2(testing::IsSubstring, "the database " + db_ + " is locked",
                      blocked.status().message());
  EXPECT_GE(waited, std::chrono::milliseconds(150));  // it did wait for the lock timeout
  EXPECT_LT(waited, std::chrono::seconds(10));

  // Readers do not wait (WAL) and see only committed data.
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

// --- open_store -------------------------------------------------------------------------------

TEST(OpenStore, SqliteUrlForms) {
  TempDir dir;
  struct Case {
    std::string prefix, file;
  };
  const Case cases[] = {{"", "plain.db"}, {"sqlite:", "short.db"}, {"sqlite://", "long.db"}};
  for (const Case& c : cases) {
    std::string path = dir.path(c.file);
    SCOPED_TRACE(c.prefix + path);
    Result<std::unique_ptr<Store>> r = open_store(c.prefix + path, StoreOptions{});
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ((*r)->describe(), path);
    EXPECT_TRUE(fs::exists(path));
    EXPECT_EQ(user_version(path), SqliteStore::schema_version());
  }
}

// (postgresql:// URLs are opened by the PostgreSQL store: not a usage error, not tested here.)
TEST(OpenStore, OtherSchemesAreUsageErrors) {
  const std::string cases[] = {
      "dynamodb://covid-table",
      "mysql://etl:s3cret@db.example.org/covid",
      "",
      "sqlite:",
      "sqlite://",
  };
  for (const std::string& url : cases) {
    Result<std::unique_ptr<Store>> r = open_store(url, StoreOptions{});
    ASSERT_FALSE(r.ok()) << url;
    EXPECT_EQ(r.status().kind(), ErrorKind::kUsage) << url;
    EXPECT_EQ(r.status().message().find("s3cret"), std::string::npos) << r.status().message();
  }
}

TEST(OpenStore, ReadOnlyMissingFileIsALoadError) {
  TempDir dir;
  StoreOptions options;
  options.read_only = true;
  Result<std::unique_ptr<Store>> r = open_store("sqlite:" + dir.path("none.db"), options);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().kind(), ErrorKind::kLoad);
}

}  // namespace
}  // namespace covid
