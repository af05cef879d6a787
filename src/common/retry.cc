#include "common/retry.h"

#include <curl/curl.h>

#include <algorithm>
#include <random>

namespace covid {

Jitter random_jitter(uint64_t seed) {
  return [rng = std::mt19937_64(seed),
          dist = std::uniform_real_distribution<double>(0.5, 1.0)]() mutable { return dist(rng); };
}

Jitter random_jitter() { return random_jitter(std::random_device{}()); }

Jitter no_jitter() {
  return [] { return 1.0; };
}

std::chrono::milliseconds backoff_ceiling(const RetryPolicy& policy, int retry) {
  // base is at most hours: shifted by 30 it still fits an int64 many times over.
  int shift = std::clamp(retry - 1, 0, 30);
  int64_t base = std::max<int64_t>(policy.base.count(), 0);
  return std::chrono::milliseconds(std::min<int64_t>(policy.cap.count(), base << shift));
}

std::chrono::milliseconds backoff_wait(const RetryPolicy& policy, int retry, double factor) {
  return std::chrono::milliseconds(
      int64_t(double(backoff_ceiling(policy, retry).count()) * std::max(factor, 0.0)));
}

bool is_retriable_curl_code(int code) {
  switch (static_cast<CURLcode>(code)) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_BAD_CONTENT_ENCODING:
      return true;
    default:
      return false;
  }
}

bool is_retriable_http_status(long status) {
  return status == 429 || (status >= 500 && status <= 599);
}

RetryLoop::RetryLoop(const RetryPolicy& policy, const Clock& clock, const Jitter& jitter)
    : policy_(policy), clock_(clock), jitter_(jitter), start_(clock.now()) {}

bool RetryLoop::retry(bool retriable) {
  if (!retriable || attempt_ >= policy_.max_attempts) return false;
  std::chrono::milliseconds wait = backoff_wait(policy_, attempt_, jitter_());
  if (policy_.deadline && clock_.now() + wait > start_ + *policy_.deadline) return false;
  clock_.sleep_for(wait);
  ++attempt_;
  return true;
}

}  // namespace covid
