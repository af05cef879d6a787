// EventLog: the daemon's log, one line per event on stderr, human-readable by default or one JSON
// object per line (--log-format json). Thread-safe. Never give it secrets.
#pragma once

#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"

namespace covid {

class EventLog {
 public:
  explicit EventLog(bool json) : json_(json) {}

  // event: a short name (run_started, run_finished, schedule_skipped, ...); message: for people;
  // fields: extra values for the JSON form.
  void log(const std::string& event, const std::string& message,
           nlohmann::json fields = nlohmann::json::object()) {
    std::string ts = format_timestamp(std::chrono::system_clock::now());
    std::string line;
    if (json_) {
      fields["ts"] = ts;
      fields["event"] = event;
      fields["message"] = message;
      line = fields.dump();
    } else {
      line = ts + " " + event + ": " + message;
    }
    std::lock_guard<std::mutex> lock(mu_);
    std::fprintf(stderr, "%s\n", line.c_str());
    std::fflush(stderr);
  }

 private:
  bool json_;
  std::mutex mu_;
};

}  // namespace covid
