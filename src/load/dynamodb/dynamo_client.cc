#include "load/dynamodb/dynamo_client.h"

#include <algorithm>

#include "common/percent.h"
#include "common/secrets.h"
#include "load/dynamodb/dynamo_item.h"

namespace covid {
namespace {

constexpr std::chrono::milliseconds kRequestTimeout{30'000};
constexpr size_t kResponseLimit = size_t{64} << 20;  // a Query page is at most 1 MB of items
constexpr const char* kTargetPrefix = "DynamoDB_20120810.";

std::string dump(const nlohmann::json& j) {
  // Strings from sources and messages may hold invalid UTF-8: replaced, never an exception.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

Result<AwsCredentials> aws_credentials_from_env(const Getenv& getenv) {
  auto get = [&](const char* name) {
    const char* v = getenv(name);
    return v == nullptr ? std::string() : std::string(v);
  };
  AwsCredentials c{get("AWS_ACCESS_KEY_ID"), get("AWS_SECRET_ACCESS_KEY"),
                   get("AWS_SESSION_TOKEN")};
  for (const std::string* s : {&c.access_key_id, &c.secret_access_key, &c.session_token})
    remember_secret(*s);
  std::vector<std::string> missing;
  if (c.access_key_id.empty()) missing.push_back("AWS_ACCESS_KEY_ID");
  if (c.secret_access_key.empty()) missing.push_back("AWS_SECRET_ACCESS_KEY");
  if (!missing.empty()) {
    std::string names = missing[0] + (missing.size() > 1 ? " and " + missing[1] : "");
    return Status::Load("DynamoDB needs AWS credentials in the environment: " + names +
                        (missing.size() > 1 ? " are" : " is") +
                        " not set (AWS_SESSION_TOKEN too, for temporary credentials)");
  }
  return c;
}

bool is_retriable_error_type(std::string_view type) {
  return type == "ProvisionedThroughputExceededException" || type == "ThrottlingException" ||
         type == "RequestLimitExceeded" || type == "LimitExceededException" ||
         type == "InternalServerError" || type == "ServiceUnavailable";
}

DynamoClient::DynamoClient(DynamoTarget target, AwsCredentials credentials, const Clock& clock,
                           RetryPolicy policy, DynamoTransport transport, uint64_t seed)
    : target_(std::move(target)),
      credentials_(std::move(credentials)),
      clock_(clock),
      policy_(policy),
      transport_(std::move(transport)),
      jitter_(random_jitter(seed)) {
  if (!transport_) {
    session_ = std::make_shared<CurlSession>();
    transport_ = [session = session_](const CurlCall& call) { return session->perform(call); };
  }
}

CurlCall DynamoClient::request(std::string_view operation, const std::string& body) const {
  CurlCall call;
  call.url = target_.endpoint;
  call.timeout = kRequestTimeout;
  call.headers.push_back("Content-Type: application/x-amz-json-1.0");
  call.headers.push_back(std::string("X-Amz-Target: ") + kTargetPrefix + std::string(operation));
  if (!credentials_.session_token.empty()) {
    call.headers.push_back("X-Amz-Security-Token: " + credentials_.session_token);
  }
  call.body = body;
  call.username = credentials_.access_key_id;
  call.password = credentials_.secret_access_key;
  call.aws_sigv4 = "aws:amz:" + target_.region + ":dynamodb";
  call.response_limit = kResponseLimit;
  return call;
}

std::string DynamoClient::scrub(std::string text) const {
  for (const std::string* secret : {&credentials_.secret_access_key, &credentials_.session_token,
                                    &credentials_.access_key_id}) {
    if (secret->empty()) continue;
    for (size_t at = text.find(*secret); at != std::string::npos; at = text.find(*secret, at + 3)) {
      text.replace(at, secret->size(), "***");
    }
  }
  return text;
}

Status DynamoClient::failure(std::string_view operation, const std::string& what) const {
  return Status::Load(scrub(std::string(operation) + ": " + what));
}

Result<nlohmann::json> DynamoClient::call(std::string_view operation, const nlohmann::json& body,
                                          std::string* error_type) {
  if (error_type != nullptr) error_type->clear();
  const CurlCall req = request(operation, dump(body));
  for (RetryLoop loop(policy_, clock_, jitter_);;) {
    ++requests_;
    CurlOutcome r = transport_(req);
    std::string type, what;
    bool retry = false;
    if (!r.status.ok()) {
      what = r.status.message();
      retry = r.transient;
    } else if (r.response.size() >= kResponseLimit) {
      what = "the answer is larger than " + std::to_string(kResponseLimit >> 20) + " MiB";
    } else if (r.code == 200) {
      auto parsed = nlohmann::json::parse(r.response, nullptr, false);
      if (!parsed.is_discarded() && parsed.is_object()) return parsed;
      what = "HTTP 200 with a body that is not a JSON object: " + printable_ascii(r.response, 120);
    } else {
      auto parsed = nlohmann::json::parse(r.response, nullptr, false);
      std::string message;
      if (!parsed.is_discarded() && parsed.is_object()) {
        type = dynamo::string_field(parsed, "__type");
        if (size_t hash = type.rfind('#'); hash != std::string::npos) type.erase(0, hash + 1);
        message = dynamo::string_field(parsed, "message");
        if (message.empty()) message = dynamo::string_field(parsed, "Message");
      } else {
        message = printable_ascii(r.response, 200);
      }
      what = (type.empty() ? "" : type + " ") + "(HTTP " + std::to_string(r.code) + ")" +
             (message.empty() ? "" : ": " + printable_ascii(message, 500));
      retry = is_retriable_http_status(r.code) || is_retriable_error_type(type);
    }
    if (!loop.retry(retry)) {
      if (error_type != nullptr) *error_type = type;
      if (retry) what += " (gave up after " + std::to_string(loop.attempt()) + " attempts)";
      return failure(operation, what);
    }
  }
}

Status DynamoClient::batch_write(const std::vector<PutRequest>& puts,
                                 const std::function<Status()>& before_each) {
  for (size_t start = 0; start < puts.size(); start += kBatchSize) {
    nlohmann::json pending = nlohmann::json::object();
    size_t end = std::min(puts.size(), start + kBatchSize);
    for (size_t i = start; i < end; ++i) {
      pending[puts[i].table].push_back(
          puts[i].remove ? nlohmann::json{{"DeleteRequest", nlohmann::json{{"Key", puts[i].item}}}}
                         : nlohmann::json{{"PutRequest", nlohmann::json{{"Item", puts[i].item}}}});
    }
    for (RetryLoop rounds(policy_, clock_, jitter_);;) {
      if (before_each) COVID_RETURN_IF_ERROR(before_each());
      auto r = call("BatchWriteItem", {{"RequestItems", pending}});
      if (!r.ok()) return r.status();
      auto un = r->find("UnprocessedItems");
      if (un == r->end() || !un->is_object() || un->empty()) break;
      if (!rounds.retry(true)) {
        size_t left = 0;
        for (const auto& [table, requests] : un->items()) left += requests.size();
        return failure("BatchWriteItem", std::to_string(left) + " items still unprocessed after " +
                                             std::to_string(rounds.attempt()) + " attempts");
      }
      pending = std::move(*un);
    }
  }
  return Status::Ok();
}

Status DynamoClient::batch_get(const std::string& table, const std::vector<nlohmann::json>& keys,
                               const std::function<void(const nlohmann::json&)>& each,
                               const std::function<Status()>& before_each) {
  for (size_t start = 0; start < keys.size(); start += kGetBatchSize) {
    size_t end = std::min(keys.size(), start + kGetBatchSize);
    nlohmann::json request = {{"Keys", nlohmann::json::array()}, {"ConsistentRead", true}};
    for (size_t i = start; i < end; ++i) request["Keys"].push_back(keys[i]);
    nlohmann::json pending = nlohmann::json::object();
    pending[table] = std::move(request);
    for (RetryLoop rounds(policy_, clock_, jitter_);;) {
      if (before_each) COVID_RETURN_IF_ERROR(before_each());
      auto r = call("BatchGetItem", {{"RequestItems", pending}});
      if (!r.ok()) return r.status();
      auto responses = r->find("Responses");
      if (responses != r->end() && responses->is_object()) {
        auto items = responses->find(table);
        if (items != responses->end() && items->is_array()) {
          for (const nlohmann::json& item : *items) each(item);
        }
      }
      auto un = r->find("UnprocessedKeys");
      if (un == r->end() || !un->is_object() || un->empty()) break;
      if (!rounds.retry(true)) {
        size_t left = 0;
        for (const auto& [name, request_left] : un->items()) {
          if (request_left.is_object() && request_left.contains("Keys"))
            left += request_left["Keys"].size();
        }
        return failure("BatchGetItem", std::to_string(left) + " keys still unprocessed after " +
                                           std::to_string(rounds.attempt()) + " attempts");
      }
      pending = std::move(*un);
    }
  }
  return Status::Ok();
}

Status DynamoClient::query_all(std::string_view operation, nlohmann::json request,
                               const std::function<bool(const nlohmann::json&)>& each) {
  for (;;) {
    auto r = call(operation, request);
    if (!r.ok()) return r.status();
    auto items = r->find("Items");
    if (items != r->end() && items->is_array()) {
      for (const nlohmann::json& item : *items) {
        if (!each(item)) return Status::Ok();
      }
    }
    auto next = r->find("LastEvaluatedKey");
    if (next == r->end() || !next->is_object() || next->empty()) return Status::Ok();
    request["ExclusiveStartKey"] = std::move(*next);
  }
}

}  // namespace covid
