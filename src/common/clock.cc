#include "common/clock.h"

#include <cstdio>
#include <thread>

namespace covid {

Date Clock::today() const {
  auto days = std::chrono::floor<std::chrono::days>(now());
  return Date{int32_t(days.time_since_epoch().count())};
}

std::chrono::system_clock::time_point SystemClock::now() const {
  return std::chrono::system_clock::now();
}

void SystemClock::sleep_for(std::chrono::milliseconds d) const { std::this_thread::sleep_for(d); }

std::string format_timestamp(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  auto ms = duration_cast<milliseconds>(t.time_since_epoch()).count();
  auto day = floor<days>(t);
  auto secs = duration_cast<seconds>(t - day).count();
  char buf[40];
  std::string date = format_date(Date{int32_t(day.time_since_epoch().count())});
  std::snprintf(buf, sizeof buf, "%sT%02lld:%02lld:%02lld.%03lldZ", date.c_str(),
                (long long)(secs / 3600), (long long)(secs / 60 % 60), (long long)(secs % 60),
                (long long)(((ms % 1000) + 1000) % 1000));
  return buf;
}

}  // namespace covid
