#include "common/date.h"

#include <chrono>

namespace covid {
namespace {

bool two_digits(const char* p, unsigned* v) {
  if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9') return false;
  *v = unsigned(p[0] - '0') * 10 + unsigned(p[1] - '0');
  return true;
}

}  // namespace

DateError parse_date(std::string_view s, Date* out) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return DateError::kFormat;
  unsigned hi, lo, month, day;
  if (!two_digits(s.data(), &hi) || !two_digits(s.data() + 2, &lo) ||
      !two_digits(s.data() + 5, &month) || !two_digits(s.data() + 8, &day)) {
    return DateError::kFormat;
  }
  int year = int(hi * 100 + lo);
  if (year < 1000) return DateError::kFormat;
  std::chrono::year_month_day ymd{std::chrono::year{year}, std::chrono::month{month},
                                  std::chrono::day{day}};
  if (!ymd.ok()) return DateError::kNotCalendar;
  out->days = std::chrono::sys_days{ymd}.time_since_epoch().count();
  return DateError::kNone;
}

Date date_from_ymd(int year, unsigned month, unsigned day) {
  std::chrono::year_month_day ymd{std::chrono::year{year}, std::chrono::month{month},
                                  std::chrono::day{day}};
  return Date{int32_t(std::chrono::sys_days{ymd}.time_since_epoch().count())};
}

Ymd ymd_of(Date d) {
  std::chrono::year_month_day ymd{std::chrono::sys_days{std::chrono::days{d.days}}};
  return {int(ymd.year()), unsigned(ymd.month()), unsigned(ymd.day())};
}

void format_date(Date d, char* out) {
  std::chrono::year_month_day ymd{std::chrono::sys_days{std::chrono::days{d.days}}};
  int y = int(ymd.year());
  unsigned m = unsigned(ymd.month()), day = unsigned(ymd.day());
  out[0] = char('0' + y / 1000 % 10);
  out[1] = char('0' + y / 100 % 10);
  out[2] = char('0' + y / 10 % 10);
  out[3] = char('0' + y % 10);
  out[4] = '-';
  out[5] = char('0' + m / 10);
  out[6] = char('0' + m % 10);
  out[7] = '-';
  out[8] = char('0' + day / 10);
  out[9] = char('0' + day % 10);
}

std::string format_date(Date d) {
  std::string s(10, '0');
  format_date(d, s.data());
  return s;
}

}  // namespace covid
