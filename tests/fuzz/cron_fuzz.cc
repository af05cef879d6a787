// libFuzzer target: any expression that parses gives next times that move forward.
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "common/cron.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  std::string text(reinterpret_cast<const char*>(bytes), size);
  auto cron = covid::CronSchedule::parse(text);
  if (!cron.ok()) return 0;
  auto t = std::chrono::system_clock::from_time_t(1'700'000'000);
  for (int i = 0; i < 3; ++i) {
    auto next = cron->next(t);
    if (!next) return 0;
    if (*next <= t) std::abort();
    t = *next;
  }
  return 0;
}
