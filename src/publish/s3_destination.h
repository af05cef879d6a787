// The S3 publish destination (issue 19): a Destination (publish/destination.h) that stores each
// object in an S3 bucket, or in an S3-compatible server's (s3rver, MinIO), with one signed HTTP
// request per operation. No AWS SDK.
//
//   s3://BUCKET[/PREFIX][?region=R][&endpoint=URL]
//
// BUCKET follows S3's rules (3 to 63 lowercase letters, digits, '.' and '-', starting and ending
// with a letter or digit). PREFIX is a folder in the bucket ("site/v1": keys go under
// "site/v1/"); its segments are never empty, "." or "..". The region is required for AWS
// (?region= or, failing that, AWS_REGION / AWS_DEFAULT_REGION); with an endpoint it defaults to
// us-east-1, which S3-compatible servers expect. Without an endpoint, requests go to the bucket's
// virtual-hosted address https://BUCKET.s3.REGION.amazonaws.com/KEY (path-style
// https://s3.REGION.amazonaws.com/BUCKET/KEY for a bucket with a '.', which the wildcard
// certificate does not cover); with one, to ENDPOINT/BUCKET/KEY (path-style, what S3-compatible
// servers answer). Parameter values may be percent-encoded. Every mistake is a usage error that
// names it.
//
// Requests: PUT (Content-Type, Cache-Control, Content-Encoding when set), GET (404 NoSuchKey:
// no such object) and DELETE, signed with Signature Version 4 by libcurl (CURLOPT_AWS_SIGV4
// "aws:amz:REGION:s3", the key pair from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, which the
// Lambda runtime sets from the function's role; X-Amz-Security-Token, signed too, from
// AWS_SESSION_TOKEN). The payload is declared x-amz-content-sha256: UNSIGNED-PAYLOAD, which S3
// accepts for single PUTs: TLS already protects the body, and the binary carries no SHA-256 of
// its own. Retried under common/retry.h's policy: libcurl's transient failures, HTTP 5xx and 429,
// and S3's SlowDown, InternalError, ServiceUnavailable and RequestTimeout. Everything else fails
// at once with a kExtract Status that says what happened: the credentials refused
// (InvalidAccessKeyId, SignatureDoesNotMatch, ... naming the key id by its last four characters,
// never the secret), no such bucket, access denied (naming the permissions needed; on a GET,
// that S3 answers 403 for a missing object when s3:ListBucket is not granted: a 403 is never
// taken for "no such object"), or the endpoint (redacted) unreachable.
// Messages show the destination as display() does; the credentials are scrubbed from every one.
//
// put() and remove() may run from parallelism() (S3Options::requests_in_flight) threads at once,
// each request on a libcurl handle of its own (kept, with its connection, for the next request);
// the rest from one thread.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/curl_call.h"
#include "common/retry.h"
#include "common/status.h"
#include "publish/destination.h"

namespace covid {

struct S3Target {
  std::string bucket;
  std::string prefix;  // empty, or ends with '/'
  std::string region;
  std::string endpoint;  // the custom endpoint, ends with '/'; empty for AWS
  std::string display;   // s3://BUCKET/PREFIX?region=R[&endpoint=URL, redacted]

  // The URL of `key` (already checked), its path segments percent-encoded.
  std::string object_url(std::string_view key) const;
  // Where requests go (the endpoint, or the bucket's AWS address), as messages show it.
  std::string host_display() const;
};

// Parses DEST; `fallback_region` is AWS_REGION's or AWS_DEFAULT_REGION's value (may be empty).
Result<S3Target> parse_s3_url(std::string_view dest, std::string_view fallback_region = {});

// A key the destination accepts: not empty, no leading '/', no empty, "." or ".." segment, no
// control characters.
bool valid_object_key(std::string_view key);

// S3's error document <Error><Code>C</Code><Message>M</Message>...: {C, M}, empty when absent.
struct S3Error {
  std::string code, message;
};
S3Error parse_s3_error(std::string_view xml);

using S3Transport = std::function<CurlOutcome(const CurlCall&)>;

struct S3Options {
  // At most ~3 s of waits in all: a publish that cannot reach its bucket says so quickly, and the
  // next run publishes again.
  RetryPolicy policy{.max_attempts = 6,
                     .base = std::chrono::milliseconds(100),
                     .cap = std::chrono::milliseconds(2'000),
                     .deadline = std::nullopt};
  size_t requests_in_flight = 8;  // the publisher's put()s and remove()s at once
  S3Transport
      transport;  // empty: libcurl (tests inject faults with one; then it must be thread-safe)
  const Clock* clock = nullptr;  // the backoff's sleeps; null: the system clock
  std::string ca_file;
};

// An S3 destination on `target` with these credentials (from the environment in
// open_s3_destination).
std::unique_ptr<Destination> make_s3_destination(S3Target target, std::string access_key_id,
                                                 std::string secret_access_key,
                                                 std::string session_token, S3Options options = {});

}  // namespace covid
