// Unit tests of the parts that run on several threads, meant to be run under ThreadSanitizer
// too (make test-tsan runs every *Threads suite): the daemon's RunManager (a run on a thread of
// its own, asked about and started again from others) and the server's SnapshotCache (requests
// on several threads while runs commit, as in `covid-etl daemon`).
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "config/config.h"
#include "extract/http_client.h"
#include "load/store.h"
#include "pipeline/etl_run.h"
#include "schedule/event_log.h"
#include "schedule/run_manager.h"
#include "serve/representation.h"
#include "serve/snapshot.h"

namespace covid {
namespace {

using namespace std::chrono_literals;

// A gate the test opens once: the runner waits at it.
class Gate {
 public:
  void open() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      open_ = true;
    }
    cv_.notify_all();
  }
  void wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return open_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

RunManager::Runner blocking_runner(Gate& gate, int64_t id) {
  return [&gate, id](const RunOptions& options) {
    options.on_started(id);
    gate.wait();
    RunSummary s;
    s.status = RunStatus::kOk;
    s.failure = Status::Ok();
    s.run_id = id;
    s.counts.inserted = 3;
    return s;
  };
}

TEST(RunManagerThreads, OneRunAtATimeWhileOthersAsk) {
  EventLog log(false);
  Gate gate;
  RunManager runs(blocking_runner(gate, 7), log);
  RunManager::Start first = runs.start("test", 10s);
  ASSERT_TRUE(first.started);
  EXPECT_EQ(first.id, 7);

  // Other threads ask about the run and try to start another while it runs.
  std::atomic<int> refused{0}, running_seen{0};
  std::vector<std::thread> askers;
  for (int t = 0; t < 4; ++t) {
    askers.emplace_back([&] {
      for (int i = 0; i < 100; ++i) {
        auto s = runs.status(7);
        if (s && (*s)["status"] == "running") running_seen.fetch_add(1);
        RunManager::Start again = runs.start("test", 0ms);
        if (!again.started && again.id == 7) refused.fetch_add(1);
        (void)runs.running();
      }
    });
  }
  for (std::thread& t : askers) t.join();
  EXPECT_EQ(refused.load(), 400);
  EXPECT_EQ(running_seen.load(), 400);

  gate.open();
  ASSERT_TRUE(runs.wait_idle(10s));
  auto done = runs.status(7);
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ((*done)["status"], "ok");
  EXPECT_EQ((*done)["inserted"], 3);

  // A new runner (a reloaded configuration) set from another thread while runs start.
  Gate second;
  std::thread reloader([&] { runs.set_runner(blocking_runner(second, 8)); });
  reloader.join();
  RunManager::Start next = runs.start("test", 10s);
  ASSERT_TRUE(next.started);
  EXPECT_EQ(next.id, 8);
  second.open();
  EXPECT_TRUE(runs.wait_idle(10s));
}

class SnapshotCacheThreads : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("covid-etl-threads-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    config_.db = (dir_ / "covid.db").string();
    config_.nyt_url = (dir_ / "us.csv").string();
    config_.jhu_url = (dir_ / "jhu.csv").string();
    config_.states = false;
    std::ofstream(dir_ / "jhu.csv")
        << "Date,Country/Region,Province/State,Confirmed,Recovered,Deaths\n"
           "2020-01-22,US,,1,0,0\n";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Loads the national series of `days` dates from 2020-01-21.
  void run(int days) {
    std::ofstream us(dir_ / "us.csv", std::ios::trunc);
    us << "date,cases,deaths\n";
    for (int d = 0; d < days; ++d) {
      char line[64];
      std::snprintf(line, sizeof line, "2020-%02d-%02d,%d,%d\n", d < 11 ? 1 : 2,
                    d < 11 ? 21 + d : d - 10, 10 * (d + 1), d);
      us << line;
    }
    us.close();
    CurlHttpClient http;
    SystemClock clock;
    auto store = open_store(config_.db, run_store_options(config_, false));
    ASSERT_TRUE(store.ok()) << store.status().message();
    RunSummary s = run_etl(config_, **store, http, clock, RunOptions{});
    ASSERT_NE(s.status, RunStatus::kFailed) << s.failure.message();
  }

  std::filesystem::path dir_;
  Config config_;
};

TEST_F(SnapshotCacheThreads, RequestsOnSeveralThreadsWhileRunsCommit) {
  run(3);
  std::string db = config_.db;
  serve::SnapshotCache::Options options;
  options.check_interval = std::chrono::microseconds(0);  // ask the store on every request
  serve::SnapshotCache cache(
      [db] {
        StoreOptions o;
        o.read_only = true;
        return open_store(db, o);
      },
      options);
  ASSERT_TRUE(cache.load().ok());

  std::atomic<bool> stop{false};
  std::atomic<size_t> requests{0}, inconsistent{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&, t] {
      size_t last = 0;
      while (!stop.load()) {
        auto snap = cache.current();
        const auto& series = snap->series.at(kNation);
        // One version: the series and its precomputed response agree, and it never goes back.
        if (!snap->available || series.size() < last ||
            snap->series_full.at(kNation)->identity.empty()) {
          inconsistent.fetch_add(1);
        }
        last = series.size();
        auto rep = snap->derived("k" + std::to_string(t % 2), [] {
          return serve::Representation::make("text/plain", "x", "no-cache");
        });
        if (rep->identity != "x") inconsistent.fetch_add(1);
        requests.fetch_add(1);
      }
    });
  }
  for (int days = 4; days <= 8; ++days) {
    run(days);
    cache.invalidate();
  }
  // Let the readers see the last version before they stop.
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (cache.current()->series.at(kNation).size() != 8 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  stop.store(true);
  for (std::thread& t : readers) t.join();
  EXPECT_EQ(inconsistent.load(), 0u);
  EXPECT_GT(requests.load(), 0u);
  EXPECT_EQ(cache.current()->series.at(kNation).size(), 8u);
}

}  // namespace
}  // namespace covid
