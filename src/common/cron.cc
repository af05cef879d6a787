#include "common/cron.h"

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <vector>

namespace covid {
namespace {

struct Field {
  const char* name;
  int min, max;
  const char* const* names;  // for values written as names, index = value (or null)
};

const char* const kMonths[] = {"",    "JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                               "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
const char* const kDays[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"};

const Field kFields[5] = {{"minute", 0, 59, nullptr},
                          {"hour", 0, 23, nullptr},
                          {"day of month", 1, 31, nullptr},
                          {"month", 1, 12, kMonths},
                          {"day of week", 0, 7, kDays}};

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == sep) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

bool parse_number(std::string_view s, const Field& f, int* out) {
  if (s.empty()) return false;
  if (f.names != nullptr && s.size() == 3) {
    for (int v = f.min; v <= f.max; ++v) {
      const char* n = f.names[v];
      if (std::toupper(s[0]) == n[0] && std::toupper(s[1]) == n[1] && std::toupper(s[2]) == n[2]) {
        *out = v;
        return true;
      }
    }
  }
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9' || v > 1000) return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

// Sets the bits a field names, or reports why it cannot.
Status parse_field(std::string_view text, const Field& f, std::vector<bool>* bits) {
  auto bad = [&](const std::string& why) {
    return Status::Usage("cron " + std::string(f.name) + " field '" + std::string(text) +
                         "': " + why);
  };
  if (text.empty()) return bad("empty");
  for (std::string_view part : split(text, ',')) {
    std::string_view range = part;
    int step = 1;
    if (size_t slash = part.find('/'); slash != std::string_view::npos) {
      range = part.substr(0, slash);
      if (!parse_number(part.substr(slash + 1), Field{f.name, 1, 1000, nullptr}, &step) ||
          step == 0) {
        return bad("the step must be a positive number");
      }
    }
    int lo = f.min, hi = f.max;
    if (range == "*") {
      // the whole range
    } else if (size_t dash = range.find('-'); dash != std::string_view::npos) {
      if (!parse_number(range.substr(0, dash), f, &lo) ||
          !parse_number(range.substr(dash + 1), f, &hi)) {
        return bad("'" + std::string(range) + "' is not a range");
      }
    } else {
      if (!parse_number(range, f, &lo)) return bad("'" + std::string(range) + "' is not a number");
      hi = part.find('/') != std::string_view::npos ? f.max : lo;  // "a/n": from a to the end
    }
    if (lo < f.min || hi > f.max || lo > f.max || hi < f.min) {
      return bad("values must be from " + std::to_string(f.min) + " to " + std::to_string(f.max));
    }
    if (lo > hi) return bad("the range runs backwards");
    for (int v = lo; v <= hi; v += step) (*bits)[size_t(v)] = true;
  }
  return Status::Ok();
}

std::string_view macro(std::string_view e) {
  if (e == "@yearly" || e == "@annually") return "0 0 1 1 *";
  if (e == "@monthly") return "0 0 1 * *";
  if (e == "@weekly") return "0 0 * * 0";
  if (e == "@daily" || e == "@midnight") return "0 0 * * *";
  if (e == "@hourly") return "0 * * * *";
  return {};
}

}  // namespace

Result<CronSchedule> CronSchedule::parse(std::string_view expression, bool utc) {
  CronSchedule c;
  c.expression_ = std::string(expression);
  c.utc_ = utc;
  std::string_view e = expression;
  if (!e.empty() && e[0] == '@') {
    e = macro(e);
    if (e.empty()) {
      return Status::Usage("unknown cron macro '" + std::string(expression) +
                           "' (@yearly, @monthly, @weekly, @daily, @hourly)");
    }
  }
  std::vector<std::string_view> fields;
  for (std::string_view f : split(e, ' ')) {
    if (!f.empty()) fields.push_back(f);
  }
  if (fields.size() != 5) {
    return Status::Usage("cron expression '" + std::string(expression) +
                         "' must have 5 fields: minute hour day-of-month month day-of-week");
  }
  std::vector<bool> bits[5];
  for (int i = 0; i < 5; ++i) {
    bits[i].assign(size_t(kFields[i].max) + 1, false);
    COVID_RETURN_IF_ERROR(parse_field(fields[size_t(i)], kFields[i], &bits[i]));
  }
  for (size_t v = 0; v < 60; ++v) c.minutes_[v] = bits[0][v];
  for (size_t v = 0; v < 24; ++v) c.hours_[v] = bits[1][v];
  for (size_t v = 1; v <= 31; ++v) c.days_[v] = bits[2][v];
  for (size_t v = 1; v <= 12; ++v) c.months_[v] = bits[3][v];
  for (size_t v = 0; v <= 7; ++v) {
    if (bits[4][v]) c.weekdays_[v % 7] = true;
  }
  c.days_star_ = fields[2][0] == '*';
  c.weekdays_star_ = fields[4][0] == '*';
  return c;
}

bool CronSchedule::day_matches(int mday, int month, int wday) const {
  if (!months_[size_t(month)]) return false;
  bool dom = days_[size_t(mday)], dow = weekdays_[size_t(wday)];
  if (days_star_ || weekdays_star_) return dom && dow;  // a '*' field matches every day anyway
  return dom || dow;
}

std::optional<CronSchedule::TimePoint> CronSchedule::next(TimePoint after) const {
  using namespace std::chrono;
  // Steps: work in absolute time (time_t), look at the wall clock of the schedule's zone at
  // each step, and jump whole days, hours or minutes when a field does not match.
  auto wall = [this](std::time_t x) {
    std::tm tm{};
    utc_ ? gmtime_r(&x, &tm) : localtime_r(&x, &tm);
    return tm;
  };
  auto naive = [](std::tm tm) { return timegm(&tm); };  // the wall clock as a plain count
  auto hour_matches = [this](const std::tm& tm, int hour) {
    return day_matches(tm.tm_mday, tm.tm_mon + 1, tm.tm_wday) && hours_[size_t(hour)] &&
           minutes_.any();
  };
  std::time_t t = system_clock::to_time_t(floor<minutes>(after)) + 60;
  const std::time_t after_wall = naive(wall(t - 60));
  // 5 years of days cover every combination of day of month and day of week.
  for (int guard = 0; guard < 5 * 366 * 3 + 100'000; ++guard) {
    std::tm tm = wall(t);
    if (naive(tm) <= after_wall) {  // an hour repeated by a DST change: already done
      t += 60;
      continue;
    }
    if (!day_matches(tm.tm_mday, tm.tm_mon + 1, tm.tm_wday)) {
      std::tm midnight = tm;
      midnight.tm_mday += 1;
      midnight.tm_hour = midnight.tm_min = midnight.tm_sec = 0;
      midnight.tm_isdst = -1;
      t = utc_ ? timegm(&midnight) : std::mktime(&midnight);
      continue;
    }
    // The start of the next wall-clock hour; true when a DST gap skipped an hour in which
    // something was due: that runs at once, at the first valid time after the gap.
    auto next_hour = [&](std::time_t* out) {
      *out = t + (60 - tm.tm_min) * 60 - tm.tm_sec;
      std::tm landed = wall(*out);
      int skipped = (landed.tm_hour - tm.tm_hour + 24) % 24;
      for (int h = 1; h < skipped; ++h) {
        if (landed.tm_mday == tm.tm_mday && hour_matches(tm, tm.tm_hour + h)) return true;
      }
      return false;
    };
    size_t minute = size_t(tm.tm_min);
    while (minute < 60 && !minutes_[minute]) ++minute;
    if (!hours_[size_t(tm.tm_hour)] || minute == 60) {
      if (next_hour(&t)) return system_clock::from_time_t(t);
      continue;
    }
    if (int(minute) != tm.tm_min) {
      t += (int(minute) - tm.tm_min) * 60;
      continue;  // look again: the jump may cross a DST change
    }
    return system_clock::from_time_t(t - tm.tm_sec);
  }
  return std::nullopt;
}

std::chrono::seconds CronSchedule::period(TimePoint from) const {
  std::chrono::seconds longest{0};
  auto prev = next(from);
  for (int i = 0; prev && i < 8; ++i) {
    auto n = next(*prev);
    if (!n) break;
    longest = std::max(longest, std::chrono::duration_cast<std::chrono::seconds>(*n - *prev));
    prev = n;
  }
  return longest;
}

Status use_time_zone(const std::string& name) {
  if (name.empty() || name == "UTC" || name == "Etc/UTC") return Status::Ok();
  if (name.find("..") != std::string::npos || name.front() == '/' ||
      !std::filesystem::exists("/usr/share/zoneinfo/" + name)) {
    return Status::Usage("unknown time zone '" + name +
                         "' (an IANA name such as America/New_York)");
  }
  setenv("TZ", (":" + name).c_str(), 1);
  tzset();
  return Status::Ok();
}

}  // namespace covid
