#include "schedule/run_manager.h"

namespace covid {

RunManager::~RunManager() {
  if (worker_.joinable()) worker_.join();
}

void RunManager::set_runner(Runner runner) {
  std::lock_guard<std::mutex> lock(mu_);
  runner_ = std::move(runner);
}

RunManager::Start RunManager::start(const std::string& trigger,
                                    std::chrono::milliseconds wait_for_id) {
  std::unique_lock<std::mutex> lock(mu_);
  if (active_) return Start{false, current_id_, ""};
  if (worker_.joinable()) worker_.join();  // the previous run's thread has finished its work
  active_ = true;
  current_id_ = 0;
  last_error_.clear();
  worker_ = std::thread([this, trigger] { work(trigger); });
  cv_.wait_for(lock, wait_for_id, [this] { return current_id_ != 0 || !active_; });
  return Start{true, current_id_, current_id_ == 0 ? last_error_ : ""};
}

void RunManager::work(const std::string& trigger) {
  RunOptions options;
  options.on_started = [this, trigger](int64_t id) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      current_id_ = id;
      results_[id] = {{"status", "running"}, {"run_id", id}, {"trigger", trigger}};
    }
    cv_.notify_all();
    log_.log("run_started", "run " + std::to_string(id) + " started (" + trigger + ")",
             {{"run_id", id}, {"trigger", trigger}});
  };
  Runner runner;
  {
    std::lock_guard<std::mutex> lock(mu_);
    runner = runner_;
  }
  RunSummary summary = runner(options);
  nlohmann::json result = to_json(summary);
  std::string line = summary.status == RunStatus::kFailed
                         ? std::string("FAILED at ") + stage_name(summary.failure.kind()) + ": " +
                               summary.failure.message()
                         : std::string(to_string(summary.status)) + ": " +
                               std::to_string(summary.counts.inserted) + " inserted, " +
                               std::to_string(summary.counts.updated) + " updated";
  log_.log(
      "run_finished",
      "run " + (summary.run_id ? std::to_string(*summary.run_id) : std::string("-")) + " " + line,
      {{"run_id", result["run_id"]},
       {"status", result["status"]},
       {"inserted", result["inserted"]},
       {"updated", result["updated"]},
       {"duration_ms", result["duration_ms"]}});
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (summary.run_id) {
      results_[*summary.run_id] = result;
      while (results_.size() > 100) results_.erase(results_.begin());
    } else {
      last_error_ = summary.failure.message();
    }
    active_ = false;
    current_id_ = 0;
  }
  cv_.notify_all();
}

std::optional<nlohmann::json> RunManager::status(int64_t id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = results_.find(id);
  if (it == results_.end()) return std::nullopt;
  return it->second;
}

bool RunManager::running() const {
  std::lock_guard<std::mutex> lock(mu_);
  return active_;
}

bool RunManager::wait_idle(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [this] { return !active_; });
}

}  // namespace covid
