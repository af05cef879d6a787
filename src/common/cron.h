// CronSchedule: a standard 5-field cron expression and the times it names.
//
// Fields: minute (0-59), hour (0-23), day of month (1-31), month (1-12 or JAN-DEC), day of week
// (0-7 or SUN-SAT; 0 and 7 are Sunday), each `*`, a value, a range `a-b`, a step `*/n` or
// `a-b/n` or `a/n`, or a comma-separated list of those. Also @yearly (@annually), @monthly,
// @weekly, @daily (@midnight) and @hourly. As in Vixie cron, when both day fields are
// restricted (neither starts with `*`), a day matches if either matches.
//
// Times are evaluated in UTC, or in the process's local time zone (set once with
// use_time_zone()). A local time skipped by a DST change runs at the first valid time after
// it; a repeated one runs once. Plain value; thread-safe to query.
#pragma once

#include <bitset>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace covid {

class CronSchedule {
 public:
  using TimePoint = std::chrono::system_clock::time_point;

  static Result<CronSchedule> parse(std::string_view expression, bool utc = true);

  // The first matching minute strictly after `after`; none when no date can ever match
  // (e.g. "0 0 30 2 *").
  std::optional<TimePoint> next(TimePoint after) const;

  // The longest gap between the next few runs after `from`: how late a run may be before the
  // daemon catches up at start.
  std::chrono::seconds period(TimePoint from) const;

  const std::string& expression() const { return expression_; }

 private:
  bool day_matches(int mday, int month, int wday) const;

  std::string expression_;
  bool utc_ = true;
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_;     // 1..31
  std::bitset<13> months_;   // 1..12
  std::bitset<7> weekdays_;  // 0..6, Sunday = 0
  bool days_star_ = false, weekdays_star_ = false;
};

// Makes `name` (an IANA zone such as "America/New_York", from the system's tzdata) the
// process's local time zone. Call once, at start, before threads. Empty or "UTC": UTC.
Status use_time_zone(const std::string& name);

}  // namespace covid
