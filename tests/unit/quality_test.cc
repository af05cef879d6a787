// The data-quality checks (pipeline/quality.h) on small inputs worked out by hand, the source
// freshness rule (pipeline/freshness.h), and both end to end through run_etl on a real SQLite
// file with an injected clock.
#include "pipeline/quality.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "common/clock.h"
#include "config/config.h"
#include "extract/http_client.h"
#include "load/store.h"
#include "pipeline/etl_run.h"
#include "pipeline/freshness.h"

namespace covid {
namespace {

Observation obs(const std::string& loc, const char* date, int64_t cases, int64_t deaths) {
  Observation o;
  o.location = loc;
  parse_date(date, &o.date);
  o.cases = cases;
  o.deaths = deaths;
  return o;
}

TEST(QualityScore, MedianAndMad) {
  // Changes 10, 12, 10, 12, ... (14): median 11, every deviation 1, MAD 1, scale 1.4826;
  // x = 41: |41 - 11| / 1.4826 = 20.2347.
  std::vector<int64_t> w;
  for (int i = 0; i < 14; ++i) w.push_back(i % 2 == 0 ? 10 : 12);
  auto s = robust_score(41, w);
  ASSERT_TRUE(s.has_value());
  EXPECT_NEAR(*s, 20.2347, 1e-3);
}

TEST(QualityScore, MadZeroUsesMeanDeviation) {
  // Ten 5s and four 9s: median 5, MAD 0; mean absolute deviation 16 / 14 = 1.142857, scale
  // 1.2533 * 1.142857 = 1.432343; x = 20: 15 / 1.432343 = 10.4724.
  std::vector<int64_t> w(10, 5);
  for (int i = 0; i < 4; ++i) w.push_back(9);
  EXPECT_NEAR(*robust_score(20, w), 10.4724, 1e-3);
}

TEST(QualityScore, ConstantWindowFloorsAtOne) {
  std::vector<int64_t> w(14, 0);
  EXPECT_DOUBLE_EQ(*robust_score(10, w), 10.0);  // |10 - 0| / 1
  EXPECT_DOUBLE_EQ(*robust_score(11, w), 11.0);
  EXPECT_FALSE(robust_score(1000, std::vector<int64_t>(13, 0)).has_value());  // too few
}

TEST(QualityChecks, DeathsAboveCases) {
  QualityReport q;
  check_deaths_above_cases(obs("06", "2020-05-01", 5, 6), q);
  check_deaths_above_cases(obs("06", "2020-05-02", 6, 6), q);         // equal: fine
  check_deaths_above_cases(obs("06", "2020-05-03", kUnknown, 6), q);  // cases unknown
  ASSERT_EQ(q.total(), 1u);
  EXPECT_EQ(q.counts().at("deaths_above_cases"), 1u);
  EXPECT_EQ(q.samples()[0].message, "location 06 on 2020-05-01: 6 deaths but 5 cases");
}

// 20 daily rows, cases +100 a day, deaths +1 a day; the last day's cases jump by 5000.
std::vector<Observation> series(int64_t last_change) {
  std::vector<Observation> rows;
  int64_t cases = 0;
  for (int d = 0; d < 20; ++d) {
    cases += d == 19 ? last_change : 100;
    char date[16];
    std::snprintf(date, sizeof date, "2020-04-%02d", d + 1);
    rows.push_back(obs("36", date, cases, d));
  }
  return rows;
}

TEST(QualityChecks, OutlierAgainstTrailingWindow) {
  QualityOptions options;  // threshold 10
  std::vector<bool> last(20, false);
  last[19] = true;
  QualityReport q;
  check_outliers(series(100), last, options, q);
  EXPECT_EQ(q.total(), 0u);
  // The 18 changes before: all 100 (MAD 0, mean deviation 0: scale 1); 4900 / 1 > 10.
  check_outliers(series(5000), last, options, q);
  ASSERT_EQ(q.total(), 1u);
  EXPECT_EQ(q.samples()[0].kind, "outlier");
  EXPECT_EQ(q.samples()[0].date, "2020-04-20");
  EXPECT_NE(q.samples()[0].message.find("cases changed by 5000 (1900 -> 6900)"), std::string::npos)
      << q.samples()[0].message;
  // A rule of thumb threshold above the score: nothing.
  QualityReport none;
  check_outliers(series(5000), last, QualityOptions{5000}, none);
  EXPECT_EQ(none.total(), 0u);
}

TEST(QualityChecks, FirstDaysAreNotScored) {
  std::vector<Observation> rows = series(100);
  rows[5].cases += 100000;  // a spike on the 6th day: only 4 changes before it
  for (size_t i = 6; i < rows.size(); ++i) rows[i].cases += 100000;
  QualityReport q;
  check_outliers(rows, std::vector<bool>(rows.size(), true), QualityOptions{}, q);
  EXPECT_EQ(q.total(), 0u);
}

// The sliding window against the straightforward computation: robust_score on a copy of the
// same values, for windows of every size with ties, negative and large changes, built by adding
// and removing values in random order.
TEST(QualityWindow, ScoreEqualsRobustScore) {
  std::mt19937_64 rng(17);
  const int64_t spans[] = {1, 3, 10, 1000, 1000000, int64_t{1} << 40};
  for (int trial = 0; trial < 3000; ++trial) {
    const int64_t span = spans[trial % 6];
    std::uniform_int_distribution<int64_t> value(-span / 4, span);
    SortedWindow window;
    std::vector<int64_t> plain;
    const size_t steps = 1 + rng() % 60;
    for (size_t step = 0; step < steps; ++step) {
      if (!plain.empty() && (rng() % 3 == 0 || plain.size() > 40)) {
        size_t at = rng() % plain.size();
        window.remove(plain[at]);
        plain.erase(plain.begin() + long(at));
      } else {
        plain.push_back(value(rng));
        window.add(plain.back());
      }
      std::vector<int64_t> sorted = plain;
      std::sort(sorted.begin(), sorted.end());
      ASSERT_EQ(window.values(), sorted);
      for (int64_t x :
           {value(rng), int64_t{0}, plain.empty() ? int64_t{7} : plain.front(), span * 50}) {
        auto expected = robust_score(x, plain);
        auto got = window.score(x);
        ASSERT_EQ(got.has_value(), expected.has_value()) << plain.size();
        if (expected) {
          ASSERT_EQ(*got, *expected) << "trial " << trial << " x " << x;
        }
      }
      if (!sorted.empty()) {
        size_t n = sorted.size();
        double med = n % 2 == 1 ? double(sorted[n / 2])
                                : (double(sorted[n / 2 - 1]) + double(sorted[n / 2])) / 2;
        ASSERT_EQ(window.median(), med);
      }
    }
  }
}

TEST(QualityWindow, EdgeCases) {
  // Even and odd sizes, all equal (MAD 0 and mean deviation 0), one value apart, a median that
  // falls between two values, and the scale's floor of one.
  for (size_t n : {14u, 15u, 28u, 29u}) {
    for (const std::vector<int64_t>& pattern :
         std::vector<std::vector<int64_t>>{{5}, {5, 6}, {0, 0, 0, 100}, {-3, 7}, {1, 2, 3}}) {
      std::vector<int64_t> plain;
      SortedWindow window;
      for (size_t i = 0; i < n; ++i) {
        plain.push_back(pattern[i % pattern.size()]);
        window.add(plain.back());
      }
      for (int64_t x : {int64_t{-1000}, int64_t{0}, int64_t{5}, int64_t{6}, int64_t{1000}})
        ASSERT_EQ(*window.score(x), *robust_score(x, plain)) << n << " " << x;
    }
  }
  SortedWindow short_window;
  for (int i = 0; i < 13; ++i) short_window.add(i);
  EXPECT_FALSE(short_window.score(100).has_value());
  short_window.add(13);
  EXPECT_TRUE(short_window.score(100).has_value());
}

// The outlier check as it was written first: each row's window built again and scored by
// robust_score; every warning's message, in order.
std::vector<std::string> outliers_by_hand(const std::vector<Observation>& rows,
                                          const std::vector<bool>& checked, double threshold) {
  std::vector<std::string> out;
  for (const char* metric : {"cases", "deaths"}) {
    bool cases = metric[0] == 'c';
    auto value = [&](size_t i) { return cases ? rows[i].cases : rows[i].deaths; };
    std::vector<std::optional<int64_t>> change(rows.size());
    for (size_t i = 1; i < rows.size(); ++i) {
      if (value(i) >= 0 && value(i - 1) >= 0) change[i] = value(i) - value(i - 1);
    }
    for (size_t i = 1; i < rows.size(); ++i) {
      if (!checked[i] || !change[i]) continue;
      std::vector<int64_t> window;
      for (size_t j = i > kWindow ? i - kWindow : 1; j < i; ++j) {
        if (change[j]) window.push_back(*change[j]);
      }
      auto score = robust_score(*change[i], window);
      if (!score || *score <= threshold) continue;
      std::vector<int64_t> sorted = window;
      std::sort(sorted.begin(), sorted.end());
      size_t n = sorted.size();
      double med = n % 2 == 1 ? double(sorted[n / 2])
                              : (double(sorted[n / 2 - 1]) + double(sorted[n / 2])) / 2;
      char med_text[64], score_text[64], threshold_text[64];
      auto number = [](char* buf, double v) {
        if (v == std::floor(v) && std::fabs(v) < 1e15)
          std::snprintf(buf, 64, "%.0f", v);
        else
          std::snprintf(buf, 64, "%.1f", v);
      };
      number(med_text, med);
      number(score_text, std::round(*score * 10) / 10);
      number(threshold_text, threshold);
      std::string date = format_date(rows[i].date);
      out.push_back("location " + rows[i].location + " on " + date + ": " + metric +
                    " changed by " + std::to_string(*change[i]) + " (" +
                    std::to_string(value(i - 1)) + " -> " + std::to_string(value(i)) +
                    ") where the median change of the previous " + std::to_string(window.size()) +
                    " was " + med_text + ": robust score " + score_text + " > " + threshold_text);
    }
  }
  return out;
}

TEST(QualityWindow, CheckOutliersEqualsTheWindowBuiltPerRow) {
  // Random series: short ones (windows at the series' start), unknown counts (gaps in the
  // window), flat stretches (ties, MAD 0), spikes and drops, some rows not checked.
  std::mt19937_64 rng(2026);
  size_t warned = 0;
  for (int trial = 0; trial < 400; ++trial) {
    const size_t n = rng() % 120;
    std::vector<Observation> rows;
    int64_t cases = 0, deaths = 0;
    for (size_t d = 0; d < n; ++d) {
      int kind = int(rng() % 10);
      cases += kind == 0 ? int64_t(rng() % 5000) : kind < 4 ? 0 : int64_t(rng() % 40);
      deaths += rng() % 4 == 0 ? int64_t(rng() % 3) : 0;
      if (rng() % 25 == 0) cases -= int64_t(rng() % 30);  // a revision downwards
      Observation o = obs("XYZ", "2020-03-01", rng() % 30 == 0 ? kUnknown : cases,
                          rng() % 40 == 0 ? kUnknown : deaths);
      o.date.days += int32_t(d);
      rows.push_back(o);
    }
    std::vector<bool> checked(n);
    for (size_t i = 0; i < n; ++i) checked[i] = rng() % 5 != 0;
    const double threshold = trial % 3 == 0 ? 10 : trial % 3 == 1 ? 3 : 0.5;
    std::vector<std::string> expected = outliers_by_hand(rows, checked, threshold);
    QualityReport q;
    check_outliers(rows, checked, QualityOptions{threshold}, q);
    ASSERT_EQ(q.total(), expected.size()) << "trial " << trial;
    for (size_t k = 0; k < q.samples().size(); ++k)
      ASSERT_EQ(q.samples()[k].message, expected[k]) << "trial " << trial;
    warned += expected.size();
    // The same series inside a longer run of rows, flags taken at an offset.
    std::vector<Observation> wider = rows;
    wider.insert(wider.begin(), 3, obs("ABC", "2020-01-01", 1, 1));
    std::vector<bool> wider_checked(3, true);
    wider_checked.insert(wider_checked.end(), checked.begin(), checked.end());
    QualityReport at_offset;
    check_outliers(wider.data() + 3, n, wider_checked, 3, QualityOptions{threshold}, at_offset);
    ASSERT_EQ(at_offset.total(), expected.size());
    for (size_t k = 0; k < at_offset.samples().size(); ++k)
      ASSERT_EQ(at_offset.samples()[k].message, expected[k]);
  }
  EXPECT_GT(warned, 1000u);  // the comparison saw warnings, not only silence
}

TEST(QualityChecks, RowsDroppedPerLocation) {
  QualityReport q;
  check_rows_dropped({obs("06", "2020-03-02", 1, 0), obs("06", "2020-03-01", 1, 0),
                      obs("36", "2020-03-05", 1, 0), obs("06", "2020-03-03", 1, 0)},
                     q);
  ASSERT_EQ(q.total(), 2u);
  EXPECT_EQ(q.counts().at("rows_dropped"), 2u);
  EXPECT_EQ(q.samples()[0].message,
            "location 06: 3 rows the database holds the source no longer gives (2020-03-01 .. "
            "2020-03-03); its row count dropped, the stored rows are kept");
  EXPECT_EQ(q.samples()[1].subject, "36");
}

TEST(QualityChecks, HeaderGainedOrLostColumns) {
  QualityReport q;
  check_header("nyt", "date,cases,deaths", {"date", "cases", "deaths"}, q);
  check_header("nyt", "date,cases,deaths", {"deaths", "date", "cases"}, q);  // order only
  check_header("nyt", "", {"date"}, q);                                      // not known
  EXPECT_EQ(q.total(), 0u);
  check_header("nyt", "date,cases,deaths", {"date", "cases", "fips"}, q);
  ASSERT_EQ(q.total(), 1u);
  EXPECT_EQ(q.samples()[0].message,
            "source nyt: its header gained 'fips' and lost 'deaths' since the last successful run "
            "(was: date,cases,deaths)");
}

TEST(QualityChecks, PlanChecksOnlyInsertedOrRevisedRows) {
  LoadPlan plan;
  plan.rows = {obs("06", "2020-03-01", 1, 5), obs("06", "2020-03-02", 2, 6),
               obs("06", "2020-03-03", 3, 7)};
  plan.changes.inserted = {plan.rows[2]};  // the history's deaths > cases were told before
  QualityReport q;
  ASSERT_TRUE(check_plan(plan, QualityOptions{}, q).ok());
  ASSERT_EQ(q.total(), 1u);
  EXPECT_EQ(q.samples()[0].date, "2020-03-03");
}

std::chrono::system_clock::time_point at(int y, int m, int d, int h = 12) {
  return std::chrono::sys_days{std::chrono::year{y} / m / d} + std::chrono::hours{h};
}

TEST(Freshness, States) {
  FreshnessOptions o;  // daily 2 days, weekly 9
  SourceState st;
  st.changed_at = "2026-12-01T12:00:00.000Z";
  EXPECT_EQ(source_freshness(st, 1, nullptr, o, at(2026, 12, 3)).text(), "fresh");  // 2 days
  EXPECT_EQ(source_freshness(st, 1, nullptr, o, at(2026, 12, 3, 13)).text(),
            "stale since 2026-12-03");
  EXPECT_EQ(source_freshness(st, 7, nullptr, o, at(2026, 12, 10)).text(), "fresh");
  EXPECT_EQ(source_freshness(st, 7, nullptr, o, at(2026, 12, 11)).text(), "stale since 2026-12-10");
  EXPECT_EQ(source_freshness(st, 1, "2023-03-23", o, at(2030, 1, 1)).text(),
            "archived since 2023-03-23");
  EXPECT_EQ(stale_after_days(3, o), 5);
  SourceState old;  // written before changed_at was kept
  EXPECT_EQ(source_freshness(old, 1, nullptr, o, at(2026, 12, 3)).text(), "unknown");
  // The registry's NYT datasets are archived.
  old.dataset = "national";
  EXPECT_EQ(source_freshness(old, datasets(), o, at(2026, 12, 3)).text(),
            "archived since 2023-03-23");
}

TEST(Freshness, ParsesTimestamps) {
  std::chrono::system_clock::time_point t;
  ASSERT_TRUE(parse_timestamp("2026-12-07T00:10:05.250Z", &t));
  EXPECT_EQ(format_timestamp(t), "2026-12-07T00:10:05.250Z");
  ASSERT_TRUE(parse_timestamp("2026-12-07T00:10:05Z", &t));
  EXPECT_FALSE(parse_timestamp("2026-12-07 00:10:05Z", &t));
  EXPECT_FALSE(parse_timestamp("", &t));
}

class SettableClock final : public Clock {
 public:
  std::chrono::system_clock::time_point now() const override { return now_; }
  void sleep_for(std::chrono::milliseconds) const override {}
  std::chrono::system_clock::time_point now_ = at(2022, 6, 1);
};

// Runs of the national dataset on a real SQLite file, from local files, at the clock's time.
// Each source's archived date is its own: JHU stopped on 2023-03-10, the NYT (and so the national
// dataset) on 2023-03-23.
TEST(Freshness, EachSourceIsArchivedSinceItsOwnDate) {
  SourceState st;
  st.dataset = "national";
  st.changed_at = "2023-01-01T00:00:00.000Z";
  auto text = [&](const std::string& name) {
    st.name = name;
    return source_freshness(st, datasets(), {}, at(2026, 12, 7)).text();
  };
  EXPECT_EQ(text("jhu"), "archived since 2023-03-10");
  EXPECT_EQ(text("nyt"), "archived since 2023-03-23");
  st.dataset = "populations";
  EXPECT_EQ(text("population"), "archived since 2023-03-10");
}

class QualityRun : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("covid-etl-quality-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    config_.db = (dir_ / "covid.db").string();
    config_.nyt_url = (dir_ / "us.csv").string();
    config_.jhu_url = (dir_ / "jhu.csv").string();
    config_.states = false;
    std::ofstream(dir_ / "jhu.csv") << "Date,Country/Region,Province/State,Confirmed,Recovered,"
                                       "Deaths\n2020-01-22,US,,1,0,0\n";
    // The national dataset as if it were still published daily (the registry's is archived).
    living_ = datasets();
    for (Dataset& d : living_) d.archived_since = d.early_source = nullptr;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void write(const std::string& text) { std::ofstream(dir_ / "us.csv", std::ios::trunc) << text; }

  RunSummary run() {
    CurlHttpClient http;
    auto store = open_store(config_.db, run_store_options(config_, false));
    EXPECT_TRUE(store.ok()) << store.status().message();
    RunOptions options;
    options.datasets = &living_;
    return run_etl(config_, **store, http, clock_, options);
  }

  // Every message in the outbox, oldest first.
  std::vector<OutboxMessage> outbox() {
    StoreOptions so;
    so.read_only = true;
    auto store = open_store(config_.db, so);
    auto all = (*store)->list_outbox(true, 1000);
    EXPECT_TRUE(all.ok());
    return std::vector<OutboxMessage>(all->rbegin(), all->rend());
  }

  std::filesystem::path dir_;
  Config config_;
  SettableClock clock_;
  std::vector<Dataset> living_;
};

TEST_F(QualityRun, DeathsAboveCasesWarnsAndLoads) {
  write("date,cases,deaths\n2020-01-21,1,0\n2020-01-22,2,3\n2020-01-23,4,3\n");
  RunSummary s = run();
  ASSERT_EQ(s.status, RunStatus::kOk) << s.failure.message();
  EXPECT_EQ(s.exit_status(), 0);
  EXPECT_EQ(s.counts.inserted, 3u);
  ASSERT_EQ(s.quality.total(), 1u);
  EXPECT_EQ(s.quality.samples()[0].message, "location US on 2020-01-22: 3 deaths but 2 cases");
  nlohmann::json j = to_json(s);
  EXPECT_EQ(j["quality"]["by_kind"]["deaths_above_cases"], 1);
  std::vector<OutboxMessage> m = outbox();
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].event, "success");
  EXPECT_NE(m[0].body.find("Data-quality warnings: 1 (deaths_above_cases 1); the first:\n"
                           "  location US on 2020-01-22: 3 deaths but 2 cases\n"),
            std::string::npos)
      << m[0].body;
  // The next run inserts one date: the history's warning is not repeated.
  write("date,cases,deaths\n2020-01-21,1,0\n2020-01-22,2,3\n2020-01-23,4,3\n2020-01-24,5,3\n");
  RunSummary next = run();
  ASSERT_EQ(next.status, RunStatus::kOk);
  EXPECT_EQ(next.quality.total(), 0u);
}

TEST_F(QualityRun, HeaderChangeAcrossRuns) {
  write("date,cases,deaths\n2020-01-21,1,0\n2020-01-22,2,0\n");
  ASSERT_EQ(run().quality.total(), 0u);
  write("date,cases,deaths,note\n2020-01-21,1,0,\n2020-01-22,2,0,\n2020-01-23,3,0,\n");
  RunSummary s = run();
  ASSERT_EQ(s.status, RunStatus::kOk) << s.failure.message();
  ASSERT_EQ(s.quality.counts().count("header_changed"), 1u);
  EXPECT_NE(s.quality.samples()[0].message.find("gained 'note'"), std::string::npos);
  // Kept: the run after compares with the new header.
  write(
      "date,cases,deaths,note\n2020-01-21,1,0,\n2020-01-22,2,0,\n2020-01-23,3,0,\n"
      "2020-01-24,4,0,\n");
  EXPECT_EQ(run().quality.total(), 0u);
}

TEST_F(QualityRun, StaleToldOncePerStalePeriod) {
  write("date,cases,deaths\n2020-01-21,1,0\n");
  auto told = [&] {
    size_t n = 0;
    for (const OutboxMessage& m : outbox()) n += m.body.find("is stale since") != std::string::npos;
    return n;
  };
  clock_.now_ = at(2022, 6, 1);
  ASSERT_EQ(run().status, RunStatus::kOk);
  clock_.now_ = at(2022, 6, 2);
  RunSummary s = run();
  EXPECT_TRUE(s.stale.empty());
  EXPECT_EQ(s.source_states[0]["state"], "fresh");
  clock_.now_ = at(2022, 6, 4);  // more than 2 days since 2022-06-01 12:00
  s = run();
  ASSERT_EQ(s.stale.size(), 2u);  // nyt and jhu
  EXPECT_EQ(s.stale[0].since, "2022-06-03");
  EXPECT_EQ(s.source_states[0]["text"], "stale since 2022-06-03");
  std::vector<OutboxMessage> m = outbox();
  EXPECT_EQ(m.back().event, "stale");
  EXPECT_EQ(told(), 1u);
  for (int day = 5; day <= 7; ++day) {
    clock_.now_ = at(2022, 6, day);
    s = run();
    EXPECT_TRUE(s.stale.empty());
    EXPECT_EQ(s.source_states[0]["state"], "stale");
  }
  EXPECT_EQ(told(), 1u);
  // The source changes: fresh again, then stale again after two days, told again.
  write("date,cases,deaths\n2020-01-21,1,0\n2020-01-22,2,0\n");
  clock_.now_ = at(2022, 6, 8);
  s = run();
  EXPECT_TRUE(s.stale.empty());
  clock_.now_ = at(2022, 6, 10, 13);
  s = run();
  ASSERT_EQ(s.stale.size(), 1u);  // jhu, unchanged, is still stale (told already)
  EXPECT_EQ(s.stale[0].name, "nyt");
  EXPECT_EQ(s.stale[0].since, "2022-06-10");
  EXPECT_EQ(told(), 2u);
}

// [quality] outlier_threshold from a configuration file takes effect in a run: a jump scored
// 4,900 warns by the default threshold (10), not by one of 5,000.
TEST_F(QualityRun, OutlierThresholdFromTheConfigFile) {
  std::string text = "date,cases,deaths\n";
  int64_t cases = 0;
  for (int d = 0; d < 20; ++d) {
    cases += d == 19 ? 5000 : 100;
    char line[64];
    std::snprintf(line, sizeof line, "2020-04-%02d,%lld,0\n", d + 1, (long long)cases);
    text += line;
  }
  write(text);
  RunSummary s = run();
  ASSERT_EQ(s.status, RunStatus::kOk) << s.failure.message();
  EXPECT_EQ(s.quality.total(), 1u);
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(config_.db + suffix);
  std::ofstream(dir_ / "c.toml") << "[quality]\noutlier_threshold = 5000\n";
  auto loaded = load_config_file((dir_ / "c.toml").string(), config_);
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  config_ = *loaded;
  s = run();
  ASSERT_EQ(s.status, RunStatus::kOk) << s.failure.message();
  EXPECT_EQ(s.quality.total(), 0u);
}

// A run of the national series and the WHO's: each dataset's dates, not one range mixing the
// NYT's first date with the WHO's last.
TEST_F(QualityRun, EachDatasetsDatesInTheSummaryAndTheNotification) {
  write("date,cases,deaths\n2020-01-21,1,0\n2020-01-22,2,0\n");
  std::ofstream(dir_ / "who.csv") << "Date_reported,Country_code,Country,WHO_region,New_cases,"
                                     "Cumulative_cases,New_deaths,Cumulative_deaths\n"
                                     "2026-04-19,FR,France,EURO,1,1,0,0\n"
                                     "2026-04-26,FR,France,EURO,1,2,0,0\n";
  config_.who_url = (dir_ / "who.csv").string();
  clock_.now_ = at(2026, 5, 1);  // the WHO's dates are not in the future
  RunSummary s = run();
  ASSERT_EQ(s.status, RunStatus::kOk) << s.failure.message();
  using Range = std::pair<std::string, std::string>;
  EXPECT_EQ(s.date_ranges, (std::map<std::string, Range>{{"national", {"2020-01-21", "2020-01-22"}},
                                                         {"world", {"2026-04-19", "2026-04-26"}}}));
  EXPECT_EQ(to_json(s)["date_ranges"]["world"]["first_date"], "2026-04-19");
  std::string body = outbox().back().body;
  EXPECT_NE(body.find("The series run: national from 2020-01-21 to 2020-01-22; world from "
                      "2026-04-19 to 2026-04-26.\n"),
            std::string::npos)
      << body;
  EXPECT_EQ(body.find("runs from 2020-01-21 to 2026-04-26"), std::string::npos);
  EXPECT_NE(to_text(s).find("  series    world 2026-04-19 .. 2026-04-26\n"), std::string::npos);
}

// A source loaded from three paths in turn (as the WHO's moved): its state is the current
// path's; the old paths' states are kept, superseded, never stale, and never told of.
TEST_F(QualityRun, OldPathsOfASourceAreSupersededNotStale) {
  write("date,cases,deaths\n2020-01-21,1,0\n");
  for (const char* name : {"a.csv", "b.csv", "c.csv"})
    std::filesystem::copy_file(dir_ / "us.csv", dir_ / name);
  int day = 1;
  for (const char* name : {"a.csv", "b.csv", "c.csv"}) {
    config_.nyt_url = (dir_ / name).string();
    clock_.now_ = at(2022, 6, day++);
    RunSummary s = run();
    ASSERT_NE(s.status, RunStatus::kFailed) << s.failure.message();
  }
  // 2022-06-04: a.csv (last changed 06-01) and b.csv (06-02) are past their two days; c.csv,
  // read on 06-03, is not. jhu.csv (06-01, unchanged since) is stale.
  clock_.now_ = at(2022, 6, 4, 6);
  RunSummary s = run();
  ASSERT_NE(s.status, RunStatus::kFailed) << s.failure.message();
  std::vector<std::string> nyt;
  for (const auto& st : s.source_states) {
    if (st["name"] == "nyt")
      nyt.push_back(st["url"].get<std::string>() + " " + st["text"].get<std::string>());
  }
  EXPECT_EQ(nyt, std::vector<std::string>{(dir_ / "c.csv").string() + " fresh"});
  ASSERT_EQ(s.stale.size(), 1u);
  EXPECT_EQ(s.stale[0].name, "jhu");
  for (const OutboxMessage& m : outbox()) EXPECT_EQ(m.body.find("a.csv"), std::string::npos);

  // Every path is kept: history --sources lists them, the old ones superseded.
  StoreOptions so;
  so.read_only = true;
  auto store = open_store(config_.db, so);
  ASSERT_TRUE(store.ok());
  auto states = (*store)->source_states();
  ASSERT_TRUE(states.ok());
  EXPECT_EQ(states->size(), 4u);
  nlohmann::json all = sources_freshness_json(*states, living_, {}, at(2022, 6, 4, 6), true);
  std::vector<std::string> texts;
  for (const auto& st : all) {
    if (st["name"] == "nyt") texts.push_back(st["text"].get<std::string>());
  }
  EXPECT_EQ(texts, (std::vector<std::string>{"superseded (last read by run 1)",
                                             "superseded (last read by run 2)", "fresh"}));
  EXPECT_EQ(sources_freshness_json(*states, living_, {}, at(2022, 6, 4, 6)).size(), 2u);
}

}  // namespace
}  // namespace covid
