// CronSchedule: parsing, and next times from a table, in UTC and across DST changes.
#include "common/cron.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <ctime>

namespace covid {
namespace {

using TimePoint = CronSchedule::TimePoint;

TimePoint utc(const char* text) {  // "2024-03-10T07:00"
  std::tm tm{};
  EXPECT_NE(strptime(text, "%Y-%m-%dT%H:%M", &tm), nullptr) << text;
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

std::string show(std::optional<TimePoint> t) {
  if (!t) return "never";
  std::time_t x = std::chrono::system_clock::to_time_t(*t);
  std::tm tm{};
  gmtime_r(&x, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M", &tm);
  return buf;
}

std::string next_utc(const char* expr, const char* from) {
  auto c = CronSchedule::parse(expr);
  EXPECT_TRUE(c.ok()) << expr << ": " << c.status().message();
  return c.ok() ? show(c->next(utc(from))) : "";
}

TEST(Cron, RejectsBadExpressions) {
  const char* bad[] = {"",
                       "* * * *",
                       "* * * * * *",
                       "60 * * * *",
                       "* 24 * * *",
                       "* * 0 * *",
                       "* * 32 * *",
                       "* * * 13 *",
                       "* * * * 8",
                       "5-1 * * * *",
                       "*/0 * * * *",
                       "a * * * *",
                       "1,,2 * * * *",
                       "@sometimes",
                       "* * * FOO *",
                       "-5 * * * *",
                       "1-2-3 * * * *"};
  for (const char* e : bad) {
    auto c = CronSchedule::parse(e);
    EXPECT_FALSE(c.ok()) << "'" << e << "'";
    if (!c.ok()) {
      EXPECT_EQ(c.status().kind(), ErrorKind::kUsage);
    }
  }
}

TEST(Cron, NextTimesInUtc) {
  struct Case {
    const char* expr;
    const char* from;
    const char* next;
  } cases[] = {
      {"15 12 * * *", "2021-03-16T12:15", "2021-03-17T12:15"},  // strictly after
      {"15 12 * * *", "2021-03-16T12:14", "2021-03-16T12:15"},
      {"*/15 * * * *", "2021-03-16T10:07", "2021-03-16T10:15"},
      {"*/15 * * * *", "2021-03-16T10:59", "2021-03-16T11:00"},
      {"10-50/20 * * * *", "2021-03-16T10:30", "2021-03-16T10:50"},
      {"5/15 * * * *", "2021-03-16T10:36", "2021-03-16T10:50"},
      {"0 0 1 1 *", "2024-12-31T23:59", "2025-01-01T00:00"},   // year end
      {"0 0 31 * *", "2024-04-30T00:00", "2024-05-31T00:00"},  // month ends
      {"0 0 31 * *", "2024-01-31T12:00", "2024-03-31T00:00"},  // no 31st in February
      {"0 0 29 2 *", "2023-03-01T00:00", "2024-02-29T00:00"},  // leap day
      {"0 0 29 2 *", "2024-02-29T00:00", "2028-02-29T00:00"},
      {"0 9 * * 1-5", "2021-03-19T10:00", "2021-03-22T09:00"},  // Friday -> Monday
      {"0 0 * * 0", "2021-03-16T00:00", "2021-03-21T00:00"},    // Sunday as 0
      {"0 0 * * 7", "2021-03-16T00:00", "2021-03-21T00:00"},    // and as 7
      {"0 0 * * SUN", "2021-03-16T00:00", "2021-03-21T00:00"},
      {"0 0 13 * 5", "2024-09-01T00:00", "2024-09-06T00:00"},  // both set: 13th OR Friday
      {"0 0 13 * 5", "2024-09-10T00:00", "2024-09-13T00:00"},
      {"0 0 13 * *", "2024-09-01T00:00", "2024-09-13T00:00"},  // day of week '*': 13th only
      {"0 0 */2 * 5", "2024-09-01T00:00",
       "2024-09-13T00:00"},  // "*/2" counts as "*": odd day AND Friday
      {"0 12 * JAN-MAR *", "2021-04-01T00:00", "2022-01-01T12:00"},
      {"@hourly", "2021-03-16T10:07", "2021-03-16T11:00"},
      {"@daily", "2021-03-16T10:07", "2021-03-17T00:00"},
      {"@weekly", "2021-03-16T10:07", "2021-03-21T00:00"},
      {"@monthly", "2021-03-16T10:07", "2021-04-01T00:00"},
      {"@yearly", "2021-03-16T10:07", "2022-01-01T00:00"},
      {"0 0 30 2 *", "2021-03-16T10:07", "never"},
  };
  for (const Case& c : cases)
    EXPECT_EQ(next_utc(c.expr, c.from), c.next) << c.expr << " after " << c.from;
}

TEST(Cron, PeriodIsTheLongestGapAhead) {
  EXPECT_EQ(CronSchedule::parse("15 12 * * *")->period(utc("2021-03-16T00:00")),
            std::chrono::hours(24));
  EXPECT_EQ(CronSchedule::parse("@hourly")->period(utc("2021-03-16T00:00")), std::chrono::hours(1));
  EXPECT_EQ(CronSchedule::parse("0 9 * * 1-5")->period(utc("2021-03-16T00:00")),
            std::chrono::hours(72));
}

class CronNewYork : public testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(use_time_zone("America/New_York").ok()); }
  void TearDown() override {
    unsetenv("TZ");
    tzset();
  }
  std::string next_local(const char* expr, const char* from_utc) {
    auto c = CronSchedule::parse(expr, /*utc=*/false);
    EXPECT_TRUE(c.ok());
    return show(c->next(utc(from_utc)));
  }
};

TEST_F(CronNewYork, EvaluatesInTheNamedZone) {
  EXPECT_EQ(next_local("15 12 * * *", "2021-03-16T00:00"), "2021-03-16T16:15");  // EDT, UTC-4
  EXPECT_EQ(next_local("15 12 * * *", "2021-01-16T00:00"), "2021-01-16T17:15");  // EST, UTC-5
}

TEST_F(CronNewYork, ATimeSkippedBySpringForwardRunsRightAfterTheGap) {
  // 2024-03-10: 02:00 EST becomes 03:00 EDT (07:00 UTC); 02:30 does not exist that day.
  EXPECT_EQ(next_local("30 2 * * *", "2024-03-10T05:00"), "2024-03-10T07:00");
  EXPECT_EQ(next_local("30 2 * * *", "2024-03-10T07:00"), "2024-03-11T06:30");
  EXPECT_EQ(next_local("30 1,2 * * *", "2024-03-10T06:30"), "2024-03-10T07:00");
}

TEST_F(CronNewYork, ARepeatedHourRunsOnce) {
  // 2024-11-03: 02:00 EDT becomes 01:00 EST; 01:30 happens at 05:30 and again at 06:30 UTC.
  EXPECT_EQ(next_local("30 1 * * *", "2024-11-03T04:00"), "2024-11-03T05:30");
  EXPECT_EQ(next_local("30 1 * * *", "2024-11-03T05:30"), "2024-11-04T06:30");
  EXPECT_EQ(next_local("*/30 * * * *", "2024-11-03T05:30"), "2024-11-03T07:00");  // 02:00 EST
}

TEST(Cron, UnknownTimeZonesAreRefused) {
  EXPECT_FALSE(use_time_zone("Mars/Olympus_Mons").ok());
  EXPECT_FALSE(use_time_zone("../../etc/passwd").ok());
  EXPECT_TRUE(use_time_zone("UTC").ok());
}

}  // namespace
}  // namespace covid
