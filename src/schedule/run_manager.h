// RunManager: one ETL run at a time, on a worker thread, for the daemon's schedule and trigger.
//
// start() begins a run unless one is under way (then it reports that run's id), and waits a
// bounded time for the new run's id (known once the run is recorded). status() gives a run's
// progress: {"status": "running", ...} while it runs, then the run summary (the JSON of
// `run --json`). The results of the last 100 runs started here are kept. Thread-safe. The daemon
// hands it to the server as its trigger (serve/run_trigger.h). The runner opens the run's store
// itself, once per run (pipeline/etl_run.h, run_etl).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>

#include "pipeline/etl_run.h"
#include "schedule/event_log.h"

namespace covid {

class RunManager {
 public:
  using Runner = std::function<RunSummary(const RunOptions&)>;

  RunManager(Runner runner, EventLog& log) : runner_(std::move(runner)), log_(log) {}
  ~RunManager();
  RunManager(const RunManager&) = delete;
  RunManager& operator=(const RunManager&) = delete;

  struct Start {
    bool started = false;  // false: a run was under way (its id in `id`, 0 if not known yet)
    int64_t id = 0;        // the run's id; 0 when it failed before it was recorded
    std::string error;     // why it failed before it was recorded
  };
  // `trigger` says what started it (schedule, catch-up, api) for the log.
  Start start(const std::string& trigger, std::chrono::milliseconds wait_for_id);

  std::optional<nlohmann::json> status(int64_t id) const;
  bool running() const;
  // Waits until no run is under way; false on timeout.
  bool wait_idle(std::chrono::milliseconds timeout);
  // Replaces the runner for the next runs (a reloaded configuration).
  void set_runner(Runner runner);

 private:
  void work(const std::string& trigger);

  Runner runner_;
  EventLog& log_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool active_ = false;
  int64_t current_id_ = 0;
  std::string last_error_;
  std::map<int64_t, nlohmann::json> results_;
  std::thread worker_;
};

}  // namespace covid
