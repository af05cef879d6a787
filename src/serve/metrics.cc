#include "serve/metrics.h"

#include <cstdio>

namespace covid::serve {

ServerMetrics::ServerMetrics() { add_route("unmatched"); }

size_t ServerMetrics::add_route(std::string label) {
  // Routes on one path with different methods (GET here, POST there) are counted together.
  for (size_t i = 0; i < routes_.size(); ++i) {
    if (routes_[i].label == label) return i;
  }
  routes_.emplace_back();
  routes_.back().label = std::move(label);
  return routes_.size() - 1;
}

void ServerMetrics::record(size_t route, int status, std::chrono::nanoseconds latency) {
  if (route >= routes_.size()) route = kUnmatched;
  Route& r = routes_[route];
  size_t code = kCodes.size();
  for (size_t i = 0; i < kCodes.size(); ++i) {
    if (kCodes[i] == status) {
      code = i;
      break;
    }
  }
  r.by_code[code].fetch_add(1, std::memory_order_relaxed);
  double seconds = std::chrono::duration<double>(latency).count();
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) {
      r.buckets[i].fetch_add(1, std::memory_order_relaxed);
      break;
    }
  }
  r.count.fetch_add(1, std::memory_order_relaxed);
  r.sum_ns.fetch_add(uint64_t(latency.count()), std::memory_order_relaxed);
}

void ServerMetrics::render(std::string* out) const {
  char line[512];  // the longest entry below is under 450 bytes
  auto add = [&](int n) { out->append(line, size_t(n)); };
  out->append(
      "# HELP covid_etl_http_requests_total HTTP requests answered, by route and status code.\n"
      "# TYPE covid_etl_http_requests_total counter\n");
  for (const Route& r : routes_) {
    for (size_t i = 0; i <= kCodes.size(); ++i) {
      uint64_t n = r.by_code[i].load(std::memory_order_relaxed);
      if (n == 0) continue;
      if (i < kCodes.size()) {
        add(std::snprintf(line, sizeof line,
                          "covid_etl_http_requests_total{route=\"%s\",code=\"%d\"} %llu\n",
                          r.label.c_str(), kCodes[i], (unsigned long long)n));
      } else {
        add(std::snprintf(line, sizeof line,
                          "covid_etl_http_requests_total{route=\"%s\",code=\"other\"} %llu\n",
                          r.label.c_str(), (unsigned long long)n));
      }
    }
  }
  out->append(
      "# HELP covid_etl_http_request_duration_seconds Time from a request's complete header to "
      "its response written, by route.\n"
      "# TYPE covid_etl_http_request_duration_seconds histogram\n");
  for (const Route& r : routes_) {
    uint64_t count = r.count.load(std::memory_order_relaxed);
    if (count == 0) continue;
    uint64_t cumulative = 0;
    for (size_t i = 0; i < kBuckets.size(); ++i) {
      cumulative += r.buckets[i].load(std::memory_order_relaxed);
      add(std::snprintf(
          line, sizeof line,
          "covid_etl_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n",
          r.label.c_str(), kBuckets[i], (unsigned long long)cumulative));
    }
    add(std::snprintf(
        line, sizeof line,
        "covid_etl_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n",
        r.label.c_str(), (unsigned long long)count));
    add(std::snprintf(line, sizeof line,
                      "covid_etl_http_request_duration_seconds_sum{route=\"%s\"} %.9f\n",
                      r.label.c_str(), double(r.sum_ns.load(std::memory_order_relaxed)) / 1e9));
    add(std::snprintf(line, sizeof line,
                      "covid_etl_http_request_duration_seconds_count{route=\"%s\"} %llu\n",
                      r.label.c_str(), (unsigned long long)count));
  }
  add(std::snprintf(line, sizeof line,
                    "# HELP covid_etl_http_connections_open Client connections open now.\n"
                    "# TYPE covid_etl_http_connections_open gauge\n"
                    "covid_etl_http_connections_open %lld\n",
                    (long long)open_.load(std::memory_order_relaxed)));
  add(std::snprintf(line, sizeof line,
                    "# HELP covid_etl_http_connections_total Client connections accepted.\n"
                    "# TYPE covid_etl_http_connections_total counter\n"
                    "covid_etl_http_connections_total %llu\n",
                    (unsigned long long)accepted_.load(std::memory_order_relaxed)));
  add(std::snprintf(
      line, sizeof line,
      "# HELP covid_etl_http_connections_refused_total Connections closed at once: their "
      "client had as many open as it may (per_client), or the server had, none of them idle "
      "(total).\n"
      "# TYPE covid_etl_http_connections_refused_total counter\n"
      "covid_etl_http_connections_refused_total{limit=\"per_client\"} %llu\n"
      "covid_etl_http_connections_refused_total{limit=\"total\"} %llu\n",
      (unsigned long long)refused_client_.load(std::memory_order_relaxed),
      (unsigned long long)refused_.load(std::memory_order_relaxed)));
  add(std::snprintf(
      line, sizeof line,
      "# HELP covid_etl_http_connections_evicted_total Idle kept-alive connections closed to "
      "make room for a new one (the server had as many open as it may).\n"
      "# TYPE covid_etl_http_connections_evicted_total counter\n"
      "covid_etl_http_connections_evicted_total %llu\n",
      (unsigned long long)evicted_.load(std::memory_order_relaxed)));
}

}  // namespace covid::serve
