// A run whose local files are byte for byte what the last successful run loaded ends as a 304
// does (pipeline/etl_run.h, step 3): not read, not compared, recorded as unchanged. And every case
// where the same bytes must still be read: another join, --replace-dataset, a dry run, a run
// after a failed one, a dataset turned on again. End to end through run_etl on a real SQLite file
// and real local files.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "common/clock.h"
#include "config/config.h"
#include "extract/http_client.h"
#include "load/store.h"
#include "pipeline/etl_run.h"

namespace covid {
namespace {

class UnchangedRun : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("covid-etl-unchanged-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    config_.db = (dir_ / "covid.db").string();
    config_.nyt_url = path("us.csv");
    config_.jhu_url = path("jhu.csv");
    config_.states = false;
    write("us.csv", "date,cases,deaths\n2020-01-21,1,0\n2020-01-22,2,0\n2020-01-23,4,1\n");
    write("jhu.csv",
          "Date,Country/Region,Province/State,Confirmed,Recovered,Deaths\n"
          "2020-01-22,US,,1,0,0\n");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  void write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name, std::ios::trunc) << text;
  }

  RunSummary run(RunOptions options = {}) {
    CurlHttpClient http;
    auto store = open_store(config_.db, run_store_options(config_, options.dry_run));
    EXPECT_TRUE(store.ok()) << store.status().message();
    return run_etl(config_, **store, http, clock_, options);
  }

  // Whether every source of the run was left unread (not modified).
  static bool none_read(const RunSummary& s) {
    for (const SourceReport& r : s.sources) {
      if (!r.not_modified || r.rows != 0) return false;
    }
    return !s.sources.empty();
  }
  static bool all_read(const RunSummary& s) {
    for (const SourceReport& r : s.sources) {
      if (r.not_modified || r.rows == 0) return false;
    }
    return !s.sources.empty();
  }

  std::filesystem::path dir_;
  Config config_;
  SystemClock clock_;
};

TEST_F(UnchangedRun, SameBytesAreNotReadAndOneByteChangedIs) {
  RunSummary first = run();
  ASSERT_EQ(first.status, RunStatus::kOk) << first.failure.message();
  ASSERT_EQ(first.counts.inserted, 3u);
  ASSERT_EQ(first.sources.size(), 2u);
  EXPECT_FALSE(first.sources[0].load_key.empty());

  RunSummary again = run();
  ASSERT_EQ(again.status, RunStatus::kUnchanged) << again.failure.message();
  EXPECT_TRUE(none_read(again));
  EXPECT_EQ(again.counts.inserted + again.counts.updated + again.counts.unchanged, 0u);
  EXPECT_EQ(again.sources[0].http_status, 200);
  EXPECT_EQ(again.sources[0].content_hash, first.sources[0].content_hash);
  EXPECT_EQ(again.sources[0].load_key, first.sources[0].load_key);
  EXPECT_EQ(again.sources[0].kept_rows, 3u);  // the last successful run's, for the shrink check
  EXPECT_NE(to_text(again).find("not modified (the same content hash)"), std::string::npos)
      << to_text(again);
  // And again: an unchanged run passes its hashes on.
  EXPECT_TRUE(none_read(run()));

  // One byte: 4 cases become 5.
  write("us.csv", "date,cases,deaths\n2020-01-21,1,0\n2020-01-22,2,0\n2020-01-23,5,1\n");
  RunSummary changed = run();
  ASSERT_EQ(changed.status, RunStatus::kOk) << changed.failure.message();
  EXPECT_TRUE(all_read(changed));  // the join needs every body: jhu is read again too
  EXPECT_EQ(changed.counts.updated, 1u);
  EXPECT_EQ(changed.counts.unchanged, 2u);
  EXPECT_TRUE(none_read(run()));

  auto store = open_store(config_.db, StoreOptions{});
  ASSERT_TRUE(store.ok());
  auto runs = (*store)->list_runs(10);
  ASSERT_TRUE(runs.ok());
  ASSERT_EQ(runs->size(), 5u);
  EXPECT_EQ((*runs)[0].status, RunStatus::kUnchanged);
  EXPECT_EQ((*runs)[1].status, RunStatus::kOk);
  EXPECT_NE((*runs)[0].sources_json.find("\"load_key\":\"xxh3-64:"), std::string::npos)
      << (*runs)[0].sources_json;
}

TEST_F(UnchangedRun, ConfigurationChangesReadTheSameBytes) {
  ASSERT_EQ(run().status, RunStatus::kOk);
  // Another join: the rows may differ.
  config_.join = JoinKind::kInner;
  RunSummary inner = run();
  EXPECT_TRUE(all_read(inner));
  // The inner join keeps the one date in both files, as stored; the other two are kept.
  EXPECT_EQ(inner.status, RunStatus::kUnchanged) << inner.failure.message();
  EXPECT_EQ(inner.counts.unchanged, 1u);
  EXPECT_TRUE(none_read(run()));  // its key is now the last run's
  config_.join = JoinKind::kLeft;
  EXPECT_TRUE(all_read(run()));

  // --replace-dataset: replaced from the source, read.
  RunOptions replace;
  replace.replace_datasets = {"national"};
  RunSummary replaced = run(replace);
  ASSERT_EQ(replaced.status, RunStatus::kOk) << replaced.failure.message();
  EXPECT_TRUE(all_read(replaced));
  EXPECT_EQ(replaced.counts.inserted, 3u);

  // A dry run reads everything and says what would change: nothing.
  RunOptions dry;
  dry.dry_run = true;
  RunSummary d = run(dry);
  ASSERT_EQ(d.status, RunStatus::kUnchanged) << d.failure.message();
  EXPECT_TRUE(all_read(d));
  EXPECT_EQ(d.counts.unchanged, 3u);
  EXPECT_TRUE(none_read(run()));  // the dry run recorded nothing
}

TEST_F(UnchangedRun, AfterAFailedRunTheSameBytesAreRead) {
  ASSERT_EQ(run().status, RunStatus::kOk);
  const std::string good = "date,cases,deaths\n2020-01-21,1,0\n2020-01-22,2,0\n2020-01-23,4,1\n";
  write("us.csv", "date,cases,deaths\n2020-01-21,1,0\n2020-01-22,x,0\n");
  ASSERT_EQ(run().status, RunStatus::kFailed);
  write("us.csv", good);
  // The bytes are the last successful run's, but a run failed since (a store without
  // transactions may hold part of its rows): compared again.
  RunSummary s = run();
  ASSERT_EQ(s.status, RunStatus::kUnchanged) << s.failure.message();
  EXPECT_TRUE(all_read(s));
  EXPECT_EQ(s.counts.unchanged, 3u);
  EXPECT_TRUE(none_read(run()));
}

TEST_F(UnchangedRun, ADatasetTurnedOnAgainIsRead) {
  write("who.csv",
        "Date_reported,Country_code,Country,WHO_region,New_cases,Cumulative_cases,New_deaths,"
        "Cumulative_deaths\n2020-01-21,NA,Namibia,AFRO,0,0,0,0\n"
        "2020-01-22,NA,Namibia,AFRO,2,2,0,0\n");
  ASSERT_EQ(run().status, RunStatus::kOk);
  config_.who_url = path("who.csv");  // the world turned on
  RunSummary on = run();
  ASSERT_EQ(on.status, RunStatus::kOk) << on.failure.message();
  EXPECT_TRUE(all_read(on));
  EXPECT_EQ(on.counts.inserted, 2u);
  EXPECT_TRUE(none_read(run()));
  config_.world = false;  // off: the national files are what was loaded
  EXPECT_TRUE(none_read(run()));
  config_.world = true;  // on again: the last run did not read it, so it is read and compared
  RunSummary again = run();
  ASSERT_EQ(again.status, RunStatus::kUnchanged) << again.failure.message();
  EXPECT_TRUE(all_read(again));
  EXPECT_EQ(again.counts.unchanged, 5u);
}

}  // namespace
}  // namespace covid
