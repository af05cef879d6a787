// Retry: the one retry policy of covid-etl, used by the fetcher (extract), the notification
// dispatcher (notify) and the DynamoDB client (load), and the one list of failures worth trying
// again, used by both libcurl wrappers (extract/http_client.cc, common/curl_call.cc) and by every
// caller that reads an HTTP status.
//
// A RetryPolicy is a value: the attempts (the first one included), the backoff's base and cap,
// and an optional overall deadline. The wait before retry n (1: the first retry) is
//     ceiling(n) = min(cap, base * 2^(n-1))      exponential, capped
//     wait(n)    = floor(ceiling(n) * factor)     jitter
// where `factor` comes from a Jitter. random_jitter() draws it uniformly from [0.5, 1] ("equal
// jitter": half of each wait is fixed, the other half random, so a wait never exceeds the cap and
// clients that failed together spread out). no_jitter() is always 1: exact waits, for the notify
// dispatcher, whose waits ([notifications] backoff_ms, doubled) the README states. Tests pass a
// fixed factor.
//
// RetryLoop runs a policy: after a failed attempt, retry(retriable) says whether to try again and,
// when it does, has already slept the wait on the Clock. It says no when the failure is not
// retriable, when max_attempts attempts were made, or when the wait would end after the deadline
// (counted from the loop's construction, on the Clock). A caller decides what is retriable with
// the functions below plus its own rules (DynamoDB's throttling error types, SNS's Throttling).
//
// Retriable transport conditions (is_retriable_curl_code): the two libcurl wrappers used to keep
// two lists; this is their union, because every code in it is a failure of one exchange that a
// new exchange can cure, whichever wrapper met it:
//   - cannot resolve or connect, timed out, send or receive failed, empty reply, a body shorter
//     than announced (both lists had these);
//   - CURLE_HTTP2 and CURLE_HTTP2_STREAM (only extract had them): an HTTP/2 framing error or a
//     stream reset (GOAWAY, RST_STREAM), typically a server closing a connection it had let
//     curl reuse, which is exactly what CurlSession does for DynamoDB;
//   - CURLE_BAD_CONTENT_ENCODING (only extract had it): a compressed body that does not decode,
//     i.e. one cut or damaged in transit, like CURLE_PARTIAL_FILE.
// Not retried: TLS and certificate failures, a refused redirect, the size limit, malformed URLs,
// unsupported protocols, login failures: trying again gives the same answer.
// HTTP statuses (is_retriable_http_status): 5xx and 429 (Too Many Requests), as every caller did;
// every other status, 408 included, is final (no caller retried 408, and this module changes no
// behaviour).
//
// Thread-safety: RetryPolicy and the free functions are; a Jitter and a RetryLoop belong to one
// thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>

#include "common/clock.h"

namespace covid {

struct RetryPolicy {
  int max_attempts = 10;               // per operation, the first one included (at least 1 is made)
  std::chrono::milliseconds base{50};  // the first wait's ceiling
  std::chrono::milliseconds cap{5'000};
  // No retry whose wait would end later than this after the first attempt began.
  std::optional<std::chrono::milliseconds> deadline;
};

// Returns a jitter factor, normally in [0.5, 1].
using Jitter = std::function<double()>;

// Uniform in [0.5, 1], from a Mersenne Twister seeded with `seed`.
Jitter random_jitter(uint64_t seed);
// Seeded from std::random_device.
Jitter random_jitter();
// Always 1.
Jitter no_jitter();

// min(cap, base * 2^(retry-1)); never overflows, however large `retry` is.
std::chrono::milliseconds backoff_ceiling(const RetryPolicy& policy, int retry);
// The wait before retry number `retry` (1-based): the ceiling times `factor`, rounded down.
std::chrono::milliseconds backoff_wait(const RetryPolicy& policy, int retry, double factor);

// A failed libcurl transfer (its CURLcode) that can succeed when tried again.
bool is_retriable_curl_code(int code);
// An HTTP status that can turn out differently when tried again: 5xx and 429.
bool is_retriable_http_status(long status);

class RetryLoop {
 public:
  // `clock` and `jitter` must outlive the loop; the jitter is used, not copied, so that its
  // random state moves on from one loop to the next.
  RetryLoop(const RetryPolicy& policy, const Clock& clock, const Jitter& jitter);
  RetryLoop(const RetryPolicy& policy, const Clock& clock, Jitter&& jitter) = delete;

  // The attempt being made, from 1.
  int attempt() const { return attempt_; }

  // After attempt() failed: false when it is not to be retried (not `retriable`, the last
  // attempt, or past the deadline); otherwise sleeps the backoff, moves on to the next attempt
  // and returns true.
  [[nodiscard]] bool retry(bool retriable);

 private:
  RetryPolicy policy_;
  const Clock& clock_;
  const Jitter& jitter_;
  std::chrono::system_clock::time_point start_;
  int attempt_ = 1;
};

}  // namespace covid
