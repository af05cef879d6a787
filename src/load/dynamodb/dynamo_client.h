// DynamoClient: Amazon DynamoDB's JSON API (version 2012-08-10) over HTTPS, signed with AWS
// Signature Version 4 by libcurl. No AWS SDK.
//
// A request is a POST of a JSON body to the endpoint with `Content-Type:
// application/x-amz-json-1.0` and `X-Amz-Target: DynamoDB_20120810.<Operation>`, signed by
// libcurl (CURLOPT_AWS_SIGV4 "aws:amz:REGION:dynamodb", the key pair as user name and password);
// with a session token, X-Amz-Security-Token is sent and signed too. TLS is verified.
//
// Retries live here and only here (not in the store above), under common/retry.h's RetryPolicy
// and its backoff (exponential, capped, with jitter): network errors that can succeed on retry
// (common/retry.h's list), HTTP 5xx and 429, and throttling
// (ProvisionedThroughputExceededException, ThrottlingException, RequestLimitExceeded,
// LimitExceededException, answered with HTTP 400) are retried up to RetryPolicy::max_attempts;
// every other error fails at once. BatchWriteItem's UnprocessedItems and BatchGetItem's
// UnprocessedKeys are resent the same way until none is left. Errors are kLoad Statuses of the form
// "<what>: <Operation>: <ErrorType>: <message>"; the credentials are scrubbed from every message
// (AWS's signature errors quote the canonical request, security token included).
//
// The transport (one HTTP exchange) and the clock (backoff sleeps) are injectable for tests;
// the default transport keeps one libcurl handle, so connections are reused. Not thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/curl_call.h"
#include "common/retry.h"
#include "common/status.h"
#include "load/dynamodb/dynamo_url.h"

namespace covid {

struct AwsCredentials {
  std::string access_key_id, secret_access_key, session_token;  // the token may be empty
};

// From AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN (optional). A kLoad error
// naming the missing variables (never their values) when the key pair is incomplete.
using Getenv = std::function<const char*(const char*)>;
Result<AwsCredentials> aws_credentials_from_env(const Getenv& getenv);

// True for an error DynamoDB asks to retry: throttling, or an internal error.
bool is_retriable_error_type(std::string_view type);

using DynamoTransport = std::function<CurlOutcome(const CurlCall&)>;

// One write of a BatchWriteItem: a PutRequest of `item` into `table`.
struct PutRequest {
  std::string table;
  nlohmann::json item;  // with remove: the item's key
  bool remove = false;  // a DeleteRequest instead of a PutRequest
};

class DynamoClient {
 public:
  static constexpr size_t kBatchSize = 25;      // BatchWriteItem's limit
  static constexpr size_t kGetBatchSize = 100;  // BatchGetItem's limit

  // `policy`: RetryPolicy's defaults (10 attempts, waits from 25-50 ms up to 2.5-5 s); `seed`
  // seeds the jitter.
  DynamoClient(DynamoTarget target, AwsCredentials credentials, const Clock& clock,
               RetryPolicy policy = {}, DynamoTransport transport = {},
               uint64_t seed = std::random_device{}());
  DynamoClient(const DynamoClient&) = delete;
  DynamoClient& operator=(const DynamoClient&) = delete;

  // The HTTP request for one operation (exposed for tests; holds the credentials).
  CurlCall request(std::string_view operation, const std::string& body) const;

  // One operation, retried as the header says. On failure `*error_type` (when given) is the
  // DynamoDB error type without its namespace (ConditionalCheckFailedException,
  // ResourceNotFoundException, ...), empty for a network error.
  Result<nlohmann::json> call(std::string_view operation, const nlohmann::json& body,
                              std::string* error_type = nullptr);

  // Writes every item in BatchWriteItem requests of at most 25, in order, resending unprocessed
  // items with backoff. `before_each` (optional) runs before each request; its failure stops.
  Status batch_write(const std::vector<PutRequest>& puts,
                     const std::function<Status()>& before_each = {});

  // Reads the items of `keys` (each a complete primary key of `table`) with strongly consistent
  // BatchGetItem requests of at most 100, resending unprocessed keys with backoff, and hands each
  // item found to `each` (in no particular order; a key without an item is simply not handed
  // out). `before_each` (optional) runs before each request; its failure stops.
  Status batch_get(const std::string& table, const std::vector<nlohmann::json>& keys,
                   const std::function<void(const nlohmann::json& item)>& each,
                   const std::function<Status()>& before_each = {});

  // Runs a Query (or Scan) to its end, page by page, handing each item to `each`; stops early
  // when `each` returns false.
  Status query_all(std::string_view operation, nlohmann::json request,
                   const std::function<bool(const nlohmann::json& item)>& each);

  // Requests sent so far, retries included.
  uint64_t requests_sent() const { return requests_; }
  const DynamoTarget& target() const { return target_; }
  // `text` with the credentials replaced by ***.
  std::string scrub(std::string text) const;

 private:
  Status failure(std::string_view operation, const std::string& what) const;

  DynamoTarget target_;
  AwsCredentials credentials_;
  const Clock& clock_;
  RetryPolicy policy_;
  DynamoTransport transport_;
  std::shared_ptr<CurlSession> session_;
  Jitter jitter_;
  uint64_t requests_ = 0;
};

}  // namespace covid
