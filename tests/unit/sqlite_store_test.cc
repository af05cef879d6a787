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
#include "test_support.h"

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
  return test::sqlite_query(db, sql, true);
}

int user_version(const std::string& db) {
  Rows r = query(db, "PRAGMA user_version");
  return r.empty() ? -1 : std::stoi(r[0][0]);
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

// Regression (found by the dashboard server): a reader opened before the first run created the
// schema kept reading nothing after the run.
TEST_F(SqliteStoreTest, AReaderOpenedBeforeTheSchemaSeesItOnceItExists) {
  std::ofstream(db_).close();
  StoreOptions options;
  options.read_only = true;
  auto reader = open(options);
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(series(*reader), Strings{});
  auto writer = open();
  ASSERT_NE(writer, nullptr);
  Observation o;
  o.date = date_from_ymd(2020, 3, 1);
  o.cases = 5;
  o.deaths = 1;
  load(*writer, {o});
  EXPECT_EQ(series(*reader), Strings{"US 2020-03-01 5/1/?"});
  Result<std::vector<RunRecord>> runs = reader->list_runs(10);
  ASSERT_TRUE(runs.ok());
  EXPECT_EQ(runs->size(), 1u);
}

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
