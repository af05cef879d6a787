// Fetcher: downloads one source with conditional GET, retries and a content hash.
//
// The body streams into a SourceSink (normally a CSV reader); when an attempt fails part-way and
// is retried, the sink is restarted first, so it never sees two partial bodies. Only transient
// failures are retried (common/retry.h's list: timeouts, connection errors, truncated bodies,
// HTTP 5xx and 429), with the common backoff (exponential, capped, with jitter) under a
// RetryPolicy made from the options ([extract] retries, backoff_ms, backoff_max_ms); other HTTP
// 4xx and the size limit fail at once. A 304 answer to a
// conditional request reports not_modified and delivers no body. A local file (a path without a
// scheme) has no validators: its conditional read is its content hash. Given `known_hash` (the
// "xxh3-128:<hex>" a previous run loaded), the file is read once to hash it, and when the hash is
// the same the result is not_modified (http_status 200, content_hash and bytes set) and nothing
// reaches the sink; otherwise it is read again into the sink as usual. An HTTP error is reported by
// its status, content type and size, never by its body (an internal service's answer must not
// reach the API or a notification). Sleeps go through the Clock.
// Not thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/records.h"  // SourceValidators
#include "common/retry.h"
#include "common/status.h"
#include "extract/http_client.h"

namespace covid {

class SourceSink : public BodySink {
 public:
  // Forget everything written so far: a new attempt starts.
  virtual void restart() = 0;
};

struct FetchOptions {
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds timeout{300'000};
  uint64_t max_bytes = uint64_t{1} << 30;
  int retries = 3;  // attempts after the first
  std::chrono::milliseconds backoff_base{500};
  std::chrono::milliseconds backoff_max{30'000};
  // [extract] allow_private_targets: follow redirects to loopback, link-local and private
  // addresses.
  bool allow_private_targets = false;
  // [extract] log_error_bodies: the start of an error response's body goes to stderr (a local
  // debug aid). Never into the failure's message: that is stored, served and sent.
  bool log_error_bodies = false;
};

struct FetchResult {
  bool not_modified = false;
  long http_status = 0;
  std::string etag, last_modified;
  uint64_t bytes = 0;
  // "xxh3-128:<hex>" of the (decoded) body; empty when an HTTP server answered 304 (a local file
  // found unchanged by its hash carries it).
  std::string content_hash;
  int attempts = 0;
};

class Fetcher {
 public:
  // jitter returns the backoff's jitter factor (common/retry.h); by default a random one in
  // [0.5, 1].
  Fetcher(HttpClient& http, const Clock& clock, FetchOptions options, Jitter jitter = {});

  // `known_hash`: for a local file, the content hash that makes it not_modified (see above);
  // ignored for a URL with a scheme.
  Result<FetchResult> fetch(const std::string& url, const SourceValidators& validators,
                            SourceSink& sink, const std::string& known_hash = {});

  // The wait before retry number `attempt` (1-based), before jitter: min(backoff_max,
  // backoff_base * 2^(attempt-1)).
  std::chrono::milliseconds backoff(int attempt) const;

  // How many attempts the last fetch() made, also when it failed (a failed source's report).
  int attempts() const { return attempts_; }

 private:
  HttpClient& http_;
  const Clock& clock_;
  FetchOptions options_;
  RetryPolicy policy_;
  Jitter jitter_;
  int attempts_ = 0;

  // The local file's hash equals known_hash: the not_modified result; else nullopt.
  std::optional<FetchResult> unchanged_file(const HttpRequest& request,
                                            const std::string& known_hash);
};

}  // namespace covid
