// Clock: the time source of a run (today's date for validation, timestamps, backoff sleeps),
// behind an interface so tests can fix the date or skip the waiting. SystemClock is thread-safe.
#pragma once

#include <chrono>
#include <string>

#include "common/date.h"

namespace covid {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::system_clock::time_point now() const = 0;
  virtual void sleep_for(std::chrono::milliseconds d) const = 0;

  // Today's date in UTC.
  Date today() const;
};

class SystemClock final : public Clock {
 public:
  std::chrono::system_clock::time_point now() const override;
  void sleep_for(std::chrono::milliseconds d) const override;
};

// RFC 3339 UTC timestamp with milliseconds: 2021-03-17T12:15:00.123Z.
std::string format_timestamp(std::chrono::system_clock::time_point t);

}  // namespace covid
