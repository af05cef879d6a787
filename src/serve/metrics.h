// ServerMetrics: what the HTTP server counts, for /metrics: requests by route and status code,
// a latency histogram per route, and connections (open, accepted, refused, closed to make room).
//
// Routes are registered before serving (add_route() is not thread-safe); record() and the
// connection counters are lock-free and may be called from any thread; render() reads them
// without stopping the writers (each number is exact, the set is not a single instant).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <string>

namespace covid::serve {

class ServerMetrics {
 public:
  // Route 0 is "unmatched": unknown paths and requests rejected before routing.
  ServerMetrics();
  ServerMetrics(const ServerMetrics&) = delete;
  ServerMetrics& operator=(const ServerMetrics&) = delete;

  static constexpr size_t kUnmatched = 0;
  // Registers a route label (its path pattern) and returns its id; the same label, the same id.
  size_t add_route(std::string label);

  void record(size_t route, int status, std::chrono::nanoseconds latency);
  void connection_opened() {
    open_.fetch_add(1, std::memory_order_relaxed);
    accepted_.fetch_add(1, std::memory_order_relaxed);
  }
  void connection_closed() { open_.fetch_sub(1, std::memory_order_relaxed); }
  // Why a new connection was closed at once: its client had max_connections_per_client open, or
  // the server max_connections, none of them idle (ServerLimits).
  enum class Refusal { kPerClient, kTotal };
  void connection_refused(Refusal why) {
    (why == Refusal::kPerClient ? refused_client_ : refused_)
        .fetch_add(1, std::memory_order_relaxed);
  }
  // An idle kept-alive connection closed to make room for a new one.
  void connection_evicted() { evicted_.fetch_add(1, std::memory_order_relaxed); }
  int64_t open_connections() const { return open_.load(std::memory_order_relaxed); }

  // Appends the Prometheus text exposition of these metrics.
  void render(std::string* out) const;

  // Upper bounds of the latency buckets, in seconds.
  static constexpr std::array<double, 12> kBuckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                      0.01,   0.025,   0.05,   0.1,   0.5,    2.5};
  // The status codes counted one by one; any other is counted as "other".
  static constexpr std::array<int, 17> kCodes = {200, 202, 204, 304, 400, 401, 404, 405, 408,
                                                 409, 413, 414, 429, 431, 500, 501, 503};

 private:
  struct Route {
    std::string label;
    std::array<std::atomic<uint64_t>, kCodes.size() + 1> by_code{};
    std::array<std::atomic<uint64_t>, kBuckets.size()> buckets{};  // not cumulative
    std::atomic<uint64_t> count{0};
    std::atomic<uint64_t> sum_ns{0};
  };
  std::deque<Route> routes_;  // stable addresses
  std::atomic<int64_t> open_{0};
  std::atomic<uint64_t> accepted_{0};
  std::atomic<uint64_t> refused_{0};
  std::atomic<uint64_t> refused_client_{0};
  std::atomic<uint64_t> evicted_{0};
};

}  // namespace covid::serve
