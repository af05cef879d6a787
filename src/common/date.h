// Calendar dates as a count of days since 1970-01-01 (proleptic Gregorian), and the strict
// YYYY-MM-DD form used by every source, the database and the API. Plain values; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace covid {

struct Date {
  int32_t days = 0;  // days since 1970-01-01

  friend bool operator==(Date a, Date b) { return a.days == b.days; }
  friend auto operator<=>(Date a, Date b) { return a.days <=> b.days; }
};

enum class DateError {
  kNone,
  kFormat,       // not YYYY-MM-DD with digits in place
  kNotCalendar,  // YYYY-MM-DD but no such day (2020-02-30)
};

// Parses exactly "YYYY-MM-DD" (10 characters, years 1000-9999). No signs, spaces or other
// separators; "2020-1-5", "20200105" and "2020/01/05" are kFormat.
DateError parse_date(std::string_view text, Date* out);

Date date_from_ymd(int year, unsigned month, unsigned day);
// The year, month (1-12) and day (1-31) of d.
struct Ymd {
  int year;
  unsigned month, day;
};
Ymd ymd_of(Date d);
std::string format_date(Date d);
// Writes the 10 characters of d into out (no terminator).
void format_date(Date d, char* out);

}  // namespace covid
