// The DynamoDB store's parts without a server: URLs, attribute values, credentials, the backoff,
// the signed request, and the client's retries, UnprocessedItems and pagination against a
// scripted transport (tests/integration/test_dynamodb.py runs the real thing against dynalite).
#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <set>

#include "load/dynamodb/dynamo_client.h"
#include "load/dynamodb/dynamo_item.h"
#include "load/dynamodb/dynamo_url.h"
#include "load/dynamodb/dynamodb_store.h"
#include "test_support.h"

namespace covid {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

using TestClock = test::RecordingClock;

DynamoTarget target() {
  auto t = parse_dynamodb_url("dynamodb://covid?region=eu-west-3");
  EXPECT_TRUE(t.ok());
  return *t;
}

const AwsCredentials kCredentials{"AKIAUNITTESTKEY", "unit/test/secret+key",
                                  "unit-test-session-token"};

// --- URLs --------------------------------------------------------------------------------------

TEST(DynamoUrl, TableRegionAndTheDefaultEndpoint) {
  auto t = parse_dynamodb_url("dynamodb://covid-data?region=us-east-1");
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->table, "covid-data");
  EXPECT_EQ(t->meta_table, "covid-data-meta");
  EXPECT_EQ(t->region, "us-east-1");
  EXPECT_EQ(t->endpoint, "https://dynamodb.us-east-1.amazonaws.com/");
  EXPECT_FALSE(t->custom_endpoint);
  EXPECT_EQ(t->display, "dynamodb://covid-data?region=us-east-1");
}

TEST(DynamoUrl, ACustomEndpointPercentEncodingAndTheRegionFallback) {
  auto t = parse_dynamodb_url(
      "dynamodb://a.b_c-1/?endpoint=http%3A%2F%2F127.0.0.1%3A8000&region=eu-west-3");
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->table, "a.b_c-1");
  EXPECT_EQ(t->endpoint, "http://127.0.0.1:8000/");
  EXPECT_TRUE(t->custom_endpoint);
  EXPECT_EQ(t->display, "dynamodb://a.b_c-1?region=eu-west-3&endpoint=http://127.0.0.1:8000/");
  auto plain =
      parse_dynamodb_url("dynamodb://covid?endpoint=https://ddb.example.org/x/", "ap-south-1");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->region, "ap-south-1");
  EXPECT_EQ(plain->endpoint, "https://ddb.example.org/x/");
  auto given = parse_dynamodb_url("dynamodb://covid?region=us-west-2", "ap-south-1");
  ASSERT_TRUE(given.ok());
  EXPECT_EQ(given->region, "us-west-2");  // the URL wins
}

TEST(DynamoUrl, MistakesAreUsageErrors) {
  const std::map<std::string, std::string> cases = {
      {"dynamodb://?region=us-east-1", "no table name"},
      {"dynamodb://ab?region=us-east-1", "3 to 250"},
      {"dynamodb://" + std::string(251, 'x') + "?region=us-east-1", "3 to 250"},
      {"dynamodb://co$vid?region=us-east-1", "letters, digits"},
      {"dynamodb://covid", "no region"},
      {"dynamodb://covid?region=", "needs a value"},
      {"dynamodb://covid?region=US_EAST", "bad region"},
      {"dynamodb://covid?region=us-east-1&colour=red", "unknown parameter 'colour'"},
      {"dynamodb://covid?region=us-east-1&endpoint=ftp://h/", "http:// or https://"},
      {"dynamodb://covid?region=us-east-1&endpoint=http://h/%zz",
       "malformed percent-escape in the value of query parameter 'endpoint'"},
      {"sqlite:covid.db", "not a dynamodb:// URL"},
  };
  for (const auto& [url, message] : cases) {
    auto t = parse_dynamodb_url(url);
    ASSERT_FALSE(t.ok()) << url;
    EXPECT_EQ(t.status().kind(), ErrorKind::kUsage) << url;
    EXPECT_NE(t.status().message().find(message), std::string::npos)
        << url << ": " << t.status().message();
  }
  EXPECT_FALSE(parse_dynamodb_url("dynamodb://covid", "bad region!").ok());
}

// --- attribute values --------------------------------------------------------------------------

TEST(DynamoItem, AnObservationAndBackWithUnknownCountsAbsent) {
  Observation o;
  o.date = date_from_ymd(2020, 12, 14);
  o.cases = 16569783;
  o.deaths = kMaxCount;  // 2^53: exact as text
  o.recovered = kUnknown;
  json item = dynamo::observation_item(o, 7);
  EXPECT_EQ(item, json::parse(R"({"location": {"S": "US"}, "date": {"S": "2020-12-14"},
      "cases": {"N": "16569783"}, "deaths": {"N": "9007199254740992"}, "run_id": {"N": "7"}})"));
  auto back = dynamo::observation_from_item(item);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->location, "US");
  EXPECT_EQ(back->date, o.date);
  EXPECT_TRUE(back->same_counts(o));
}

TEST(DynamoItem, NullReadsAsUnknownAndBadValuesAreErrors) {
  auto null = dynamo::observation_from_item(json::parse(
      R"({"location": {"S": "US"}, "date": {"S": "2021-01-01"}, "cases": {"N": "5"}, "deaths": {"N": "0"},
          "recovered": {"NULL": true}})"));
  ASSERT_TRUE(null.ok());
  EXPECT_EQ(null->recovered, kUnknown);
  EXPECT_EQ(null->deaths, 0);
  const std::map<std::string, std::string> bad = {
      {R"({"location": {"S": "US"}, "date": {"S": "2021-01-01"}, "cases": {"N": "1.5"}})",
       "not an integer"},
      {R"({"location": {"S": "US"}, "date": {"S": "2021-01-01"}, "cases": {"S": "12"}})",
       "not of type N"},
      {R"({"location": {"S": "US"}, "date": {"S": "2021-02-30"}})", "bad date"},
      {R"({"location": {"S": "US"}, "date": {"S": "2021-01-01"}, "deaths": {"N": "-3"}})",
       "out of range"},
      {R"({"location": {"S": "US"}, "date": {"S": "2021-01-01"}, "deaths": {"N": "9007199254740993"}})",
       "out of range"},
      {R"([1, 2])", "not a JSON object"},
  };
  for (const auto& [text, message] : bad) {
    auto o = dynamo::observation_from_item(json::parse(text));
    ASSERT_FALSE(o.ok()) << text;
    EXPECT_EQ(o.status().kind(), ErrorKind::kLoad);
    EXPECT_NE(o.status().message().find(message), std::string::npos) << o.status().message();
  }
}

TEST(DynamoItem, IntegersAndEmptyStrings) {
  int64_t v = 0;
  EXPECT_TRUE(dynamo::parse_integer("0", &v));
  EXPECT_TRUE(dynamo::parse_integer("-12", &v));
  EXPECT_EQ(v, -12);
  for (const char* bad : {"", "1e3", " 1", "1 ", "0x10", "99999999999999999999", "+"}) {
    EXPECT_FALSE(dynamo::parse_integer(bad, &v)) << bad;
  }
  json item = json::object();
  dynamo::put_s(item, "empty", "");
  dynamo::put_count(item, "unknown", kUnknown);
  EXPECT_EQ(item, json::object());
  dynamo::ItemReader r(item);
  EXPECT_EQ(r.s("empty"), "");
  EXPECT_EQ(r.n("unknown", 42), 42);
  EXPECT_TRUE(r.ok());
}

// --- credentials and the backoff ---------------------------------------------------------------

TEST(DynamoCredentials, FromTheEnvironmentNamingWhatIsMissing) {
  std::map<std::string, std::string> env = {{"AWS_ACCESS_KEY_ID", "AKIAKEY"},
                                            {"AWS_SECRET_ACCESS_KEY", "s3cr3t-value"}};
  auto getenv = [&env](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  };
  auto c = aws_credentials_from_env(getenv);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->session_token, "");
  env["AWS_SESSION_TOKEN"] = "tok";
  EXPECT_EQ(aws_credentials_from_env(getenv)->session_token, "tok");
  env.erase("AWS_SECRET_ACCESS_KEY");
  auto missing = aws_credentials_from_env(getenv);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().kind(), ErrorKind::kLoad);
  EXPECT_NE(missing.status().message().find("AWS_SECRET_ACCESS_KEY is not set"), std::string::npos);
  EXPECT_EQ(missing.status().message().find("AKIAKEY"), std::string::npos);
  env.clear();
  EXPECT_NE(aws_credentials_from_env(getenv).status().message().find(
                "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set"),
            std::string::npos);
}

// The backoff's formula (base 50 ms, cap 5 s, equal jitter) is tested with common/retry.h in
// tests/unit/retry_test.cc (RetryBackoff.ExponentialCappedWithJitterInTheUpperHalf).

TEST(DynamoBackoff, RetriableErrorTypes) {
  for (const char* t : {"ProvisionedThroughputExceededException", "ThrottlingException",
                        "RequestLimitExceeded", "InternalServerError"}) {
    EXPECT_TRUE(is_retriable_error_type(t)) << t;
  }
  for (const char* t :
       {"ValidationException", "ConditionalCheckFailedException", "ResourceNotFoundException",
        "UnrecognizedClientException", "AccessDeniedException", ""}) {
    EXPECT_FALSE(is_retriable_error_type(t)) << t;
  }
}

// --- the client against a scripted transport ---------------------------------------------------

struct Exchange {
  CurlCall call;
  json body;
  std::string op;
};

// Answers each request with the next scripted reply (the last one repeats), recording it.
struct Script {
  std::deque<CurlOutcome> replies;
  std::vector<Exchange> seen;

  DynamoTransport transport() {
    return [this](const CurlCall& call) {
      std::string op;
      for (const std::string& h : call.headers) {
        if (h.starts_with("X-Amz-Target: DynamoDB_20120810.")) op = h.substr(32);
      }
      seen.push_back({call, json::parse(call.body), op});
      CurlOutcome r = replies.front();
      if (replies.size() > 1) replies.pop_front();
      return r;
    };
  }
};

CurlOutcome reply(long code, const std::string& body) {
  CurlOutcome r;
  r.code = code;
  r.response = body;
  return r;
}

CurlOutcome error_reply(long code, const std::string& type, const std::string& message) {
  return reply(
      code,
      json{{"__type", "com.amazonaws.dynamodb.v20120810#" + type}, {"message", message}}.dump());
}

CurlOutcome network_error(bool transient) {
  CurlOutcome r;
  r.status = Status::Extract("Couldn't connect to server");
  r.transient = transient;
  return r;
}

TEST(DynamoClient, TheSignedRequest) {
  TestClock clock;
  DynamoClient client(target(), kCredentials, clock);
  CurlCall c = client.request("Query", "{}");
  EXPECT_EQ(c.url, "https://dynamodb.eu-west-3.amazonaws.com/");
  EXPECT_EQ(c.aws_sigv4, "aws:amz:eu-west-3:dynamodb");
  EXPECT_EQ(c.username, kCredentials.access_key_id);
  EXPECT_EQ(c.password, kCredentials.secret_access_key);
  EXPECT_EQ(c.body, "{}");
  EXPECT_FALSE(c.smtp);
  EXPECT_EQ(c.headers, (std::vector<std::string>{"Content-Type: application/x-amz-json-1.0",
                                                 "X-Amz-Target: DynamoDB_20120810.Query",
                                                 "X-Amz-Security-Token: unit-test-session-token"}));
  EXPECT_GT(c.response_limit, size_t{1} << 20);  // a whole Query page
  AwsCredentials no_token = kCredentials;
  no_token.session_token.clear();
  DynamoClient plain(target(), no_token, clock);
  EXPECT_EQ(plain.request("GetItem", "{}").headers.size(), 2u);
}

TEST(DynamoClient, ThrottlingAnd5xxAreRetriedWithBackoffThenTheAnswerReturned) {
  TestClock clock;
  Script s;
  s.replies = {error_reply(400, "ProvisionedThroughputExceededException", "slow down"),
               error_reply(400, "ThrottlingException", "slow down"), reply(500, "oops"),
               network_error(true), reply(200, R"({"Item": {"pk": {"S": "x"}}})")};
  DynamoClient client(target(), kCredentials, clock, RetryPolicy{}, s.transport(), 42);
  auto r = client.call("GetItem", {{"TableName", "covid"}});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ((*r)["Item"]["pk"]["S"], "x");
  EXPECT_EQ(s.seen.size(), 5u);
  EXPECT_EQ(client.requests_sent(), 5u);
  ASSERT_EQ(clock.slept.size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    int64_t ceiling = 50 << i;
    EXPECT_GE(clock.slept[i].count(), ceiling / 2);
    EXPECT_LE(clock.slept[i].count(), ceiling);
  }
  for (const Exchange& e : s.seen)
    EXPECT_EQ(e.body, (json{{"TableName", "covid"}}));  // the same request
}

TEST(DynamoClient, OtherErrorsFailAtOnceWithTheirType) {
  TestClock clock;
  Script s;
  s.replies = {
      error_reply(400, "ConditionalCheckFailedException", "The conditional request failed")};
  DynamoClient client(target(), kCredentials, clock, RetryPolicy{}, s.transport());
  std::string type;
  auto r = client.call("PutItem", json::object(), &type);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(type, "ConditionalCheckFailedException");
  EXPECT_EQ(r.status().kind(), ErrorKind::kLoad);
  EXPECT_EQ(r.status().message(),
            "PutItem: ConditionalCheckFailedException (HTTP 400): The conditional request failed");
  EXPECT_EQ(s.seen.size(), 1u);
  EXPECT_TRUE(clock.slept.empty());

  Script dead;
  dead.replies = {network_error(false)};
  DynamoClient other(target(), kCredentials, clock, RetryPolicy{}, dead.transport());
  EXPECT_FALSE(other.call("Query", json::object(), &type).ok());
  EXPECT_EQ(type, "");
  EXPECT_EQ(dead.seen.size(), 1u);

  Script html;
  html.replies = {reply(200, "<html>captive portal</html>")};
  DynamoClient portal(target(), kCredentials, clock, RetryPolicy{}, html.transport());
  auto p = portal.call("Query", json::object());
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("not a JSON object"), std::string::npos);
}

TEST(DynamoClient, GivesUpAfterMaxAttempts) {
  TestClock clock;
  Script s;
  s.replies = {error_reply(400, "ProvisionedThroughputExceededException", "slow down")};
  RetryPolicy p;
  p.max_attempts = 4;
  DynamoClient client(target(), kCredentials, clock, p, s.transport());
  std::string type;
  auto r = client.call("Query", json::object(), &type);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(type, "ProvisionedThroughputExceededException");
  EXPECT_NE(r.status().message().find("gave up after 4 attempts"), std::string::npos)
      << r.status().message();
  EXPECT_EQ(s.seen.size(), 4u);
  EXPECT_EQ(clock.slept.size(), 3u);
}

TEST(DynamoClient, CredentialsQuotedInAnErrorAreScrubbed) {
  TestClock clock;
  Script s;
  s.replies = {error_reply(403, "InvalidSignatureException",
                           "Canonical request: x-amz-security-token:unit-test-session-token for "
                           "AKIAUNITTESTKEY with unit/test/secret+key")};
  DynamoClient client(target(), kCredentials, clock, RetryPolicy{}, s.transport());
  auto r = client.call("Query", json::object());
  ASSERT_FALSE(r.ok());
  const std::string m = r.status().message();
  EXPECT_EQ(m.find("unit-test-session-token"), std::string::npos) << m;
  EXPECT_EQ(m.find("AKIAUNITTESTKEY"), std::string::npos) << m;
  EXPECT_EQ(m.find("unit/test/secret+key"), std::string::npos) << m;
  EXPECT_NE(m.find("x-amz-security-token:*** for *** with ***"), std::string::npos) << m;
}

std::vector<PutRequest> puts(int n) {
  std::vector<PutRequest> out;
  for (int i = 0; i < n; ++i)
    out.push_back({i % 2 ? "covid-meta" : "covid", {{"id", dynamo::N(i)}}});
  return out;
}

std::vector<int64_t> ids(const json& request_items) {
  std::vector<int64_t> out;
  for (const auto& [table, writes] : request_items.items()) {
    for (const json& w : writes)
      out.push_back(std::stoll(w["PutRequest"]["Item"]["id"]["N"].get<std::string>()));
  }
  return out;
}

TEST(DynamoClient, BatchWriteSendsChunksOf25AndResendsExactlyTheUnprocessed) {
  TestClock clock;
  std::multiset<int64_t> stored;
  int requests = 0;
  std::vector<std::vector<int64_t>> sent;
  // Writes all but the last two items of every first attempt; those come back unprocessed.
  DynamoTransport transport = [&](const CurlCall& call) {
    json body = json::parse(call.body);
    json unprocessed = json::object();
    std::vector<int64_t> got = ids(body["RequestItems"]);
    sent.push_back(got);
    size_t keep = got.size() > 2 && requests % 2 == 0 ? got.size() - 2 : got.size();
    size_t i = 0;
    for (const auto& [table, writes] : body["RequestItems"].items()) {
      for (const json& w : writes) {
        if (i++ < keep)
          stored.insert(std::stoll(w["PutRequest"]["Item"]["id"]["N"].get<std::string>()));
        else
          unprocessed[table].push_back(w);
      }
    }
    ++requests;
    return reply(200, json{{"UnprocessedItems", unprocessed}}.dump());
  };
  DynamoClient client(target(), kCredentials, clock, RetryPolicy{}, transport);
  int before = 0;
  ASSERT_TRUE(client
                  .batch_write(puts(60),
                               [&] {
                                 ++before;
                                 return Status::Ok();
                               })
                  .ok());
  std::multiset<int64_t> expected;
  for (int i = 0; i < 60; ++i) expected.insert(i);
  EXPECT_EQ(stored, expected);  // every item once
  ASSERT_EQ(sent.size(), 6u);   // 25 (2 back), 2, 25 (2 back), 2, 10 (2 back), 2
  EXPECT_EQ(sent[0].size(), 25u);
  EXPECT_EQ(sent[1], (std::vector<int64_t>{sent[0][23], sent[0][24]}));
  EXPECT_EQ(sent[2].size(), 25u);
  EXPECT_EQ(sent[4].size(), 10u);
  EXPECT_EQ(before, 6);
  EXPECT_EQ(clock.slept.size(), 3u);  // a backoff before each resend
  for (milliseconds d : clock.slept) EXPECT_LE(d.count(), 50);
}

TEST(DynamoClient, BatchWriteFailsWhenItemsStayUnprocessedOrTheHookFails) {
  TestClock clock;
  DynamoTransport never = [](const CurlCall& call) {
    json body = json::parse(call.body);
    return reply(200, json{{"UnprocessedItems", body["RequestItems"]}}.dump());
  };
  RetryPolicy p;
  p.max_attempts = 5;
  DynamoClient client(target(), kCredentials, clock, p, never);
  Status s = client.batch_write(puts(3));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("3 items still unprocessed after 5 attempts"), std::string::npos)
      << s.message();
  EXPECT_EQ(client.requests_sent(), 5u);

  Script ok;
  ok.replies = {reply(200, "{}")};
  DynamoClient other(target(), kCredentials, clock, RetryPolicy{}, ok.transport());
  int calls = 0;
  Status stopped = other.batch_write(
      puts(30), [&] { return ++calls == 2 ? Status::Load("lost the run lock") : Status::Ok(); });
  EXPECT_EQ(stopped.message(), "lost the run lock");
  EXPECT_EQ(ok.seen.size(), 1u);
  EXPECT_TRUE(other.batch_write({}).ok());
  EXPECT_EQ(ok.seen.size(), 1u);  // nothing to write: no request
}

// BatchGetItem (the county load's existing_on): chunks of 100 keys, consistent reads, the
// UnprocessedKeys resent exactly, each item found handed out once; keys still unprocessed after
// the attempts fail it.
TEST(DynamoClient, BatchGetSendsChunksOf100AndResendsExactlyTheUnprocessedKeys) {
  TestClock clock;
  std::vector<std::vector<int64_t>> sent;
  int requests = 0;
  // Answers all but the last three keys of every first attempt; key 7 has no item.
  DynamoTransport transport = [&](const CurlCall& call) {
    json body = json::parse(call.body);
    const json& request = body["RequestItems"]["covid"];
    EXPECT_EQ(request["ConsistentRead"], true);
    std::vector<int64_t> got;
    for (const json& k : request["Keys"])
      got.push_back(std::stoll(k["id"]["N"].get<std::string>()));
    sent.push_back(got);
    size_t keep = got.size() > 3 && requests % 2 == 0 ? got.size() - 3 : got.size();
    json items = json::array(), left = json::array();
    for (size_t i = 0; i < got.size(); ++i) {
      if (i >= keep)
        left.push_back(request["Keys"][i]);
      else if (got[i] != 7)
        items.push_back({{"id", json{{"N", std::to_string(got[i])}}}, {"v", json{{"S", "x"}}}});
    }
    json answer = {{"Responses", {{"covid", items}}}};
    answer["UnprocessedKeys"] = json::object();
    if (!left.empty())
      answer["UnprocessedKeys"]["covid"] = {{"Keys", left}, {"ConsistentRead", true}};
    ++requests;
    return reply(200, answer.dump());
  };
  DynamoClient client(target(), kCredentials, clock, RetryPolicy{}, transport);
  std::vector<json> keys;
  for (int i = 0; i < 230; ++i) keys.push_back({{"id", json{{"N", std::to_string(i)}}}});
  std::multiset<int64_t> found;
  int before = 0;
  Status s = client.batch_get(
      "covid", keys,
      [&](const json& item) { found.insert(std::stoll(item["id"]["N"].get<std::string>())); },
      [&] {
        ++before;
        return Status::Ok();
      });
  ASSERT_TRUE(s.ok()) << s.message();
  std::multiset<int64_t> expected;
  for (int i = 0; i < 230; ++i) {
    if (i != 7) expected.insert(i);
  }
  EXPECT_EQ(found, expected);  // every item once; the key without one is simply absent
  ASSERT_EQ(sent.size(), 6u);  // 100 (3 back), 3, 100 (3 back), 3, 30 (3 back), 3
  EXPECT_EQ(sent[0].size(), 100u);
  EXPECT_EQ(sent[1], (std::vector<int64_t>{97, 98, 99}));
  EXPECT_EQ(sent[4].size(), 30u);
  EXPECT_EQ(before, 6);
  EXPECT_EQ(clock.slept.size(), 3u);  // a backoff before each resend

  DynamoTransport never = [](const CurlCall& call) {
    json body = json::parse(call.body);
    return reply(200, json{{"UnprocessedKeys", body["RequestItems"]}}.dump());
  };
  RetryPolicy p;
  p.max_attempts = 4;
  DynamoClient stuck(target(), kCredentials, clock, p, never);
  Status failed = stuck.batch_get("covid", {keys[0], keys[1]}, [](const json&) {});
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.message().find("2 keys still unprocessed after 4 attempts"), std::string::npos)
      << failed.message();
  EXPECT_EQ(stuck.requests_sent(), 4u);
  EXPECT_TRUE(stuck.batch_get("covid", {}, [](const json&) {}).ok());
  EXPECT_EQ(stuck.requests_sent(), 4u);  // nothing to read: no request
}

TEST(DynamoClient, QueryFollowsLastEvaluatedKeyAndStopsWhenAsked) {
  TestClock clock;
  Script s;
  s.replies = {
      reply(200, R"({"Items": [{"n": 1}, {"n": 2}], "LastEvaluatedKey": {"k": {"S": "a"}}})"),
      reply(200, R"({"Items": [{"n": 3}], "LastEvaluatedKey": {"k": {"S": "b"}}})"),
      reply(200, R"({"Items": [{"n": 4}]})")};
  DynamoClient client(target(), kCredentials, clock, RetryPolicy{}, s.transport());
  std::vector<int> got;
  ASSERT_TRUE(client
                  .query_all("Query", {{"TableName", "covid"}},
                             [&](const json& i) {
                               got.push_back(i["n"]);
                               return true;
                             })
                  .ok());
  EXPECT_EQ(got, (std::vector<int>{1, 2, 3, 4}));
  ASSERT_EQ(s.seen.size(), 3u);
  EXPECT_FALSE(s.seen[0].body.contains("ExclusiveStartKey"));
  EXPECT_EQ(s.seen[1].body["ExclusiveStartKey"], (json{{"k", {{"S", "a"}}}}));
  EXPECT_EQ(s.seen[2].body["ExclusiveStartKey"], (json{{"k", {{"S", "b"}}}}));

  Script again;
  again.replies = {
      reply(200, R"({"Items": [{"n": 1}, {"n": 2}], "LastEvaluatedKey": {"k": {"S": "a"}}})")};
  DynamoClient early(target(), kCredentials, clock, RetryPolicy{}, again.transport());
  got.clear();
  ASSERT_TRUE(early
                  .query_all("Query", json::object(),
                             [&](const json& i) {
                               got.push_back(i["n"]);
                               return false;
                             })
                  .ok());
  EXPECT_EQ(got, (std::vector<int>{1}));
  EXPECT_EQ(again.seen.size(), 1u);
}

// --- opening the store read-only ---------------------------------------------------------------

TEST(DynamoStore, ReadOnlyNeverCreatesAndMissingOkReadsAsEmpty) {
  TestClock clock;
  Script s;
  s.replies = {error_reply(400, "ResourceNotFoundException", "Requested resource not found")};
  StoreOptions ro;
  ro.read_only = true;
  auto strict = DynamoDbStore::open(
      std::make_unique<DynamoClient>(target(), kCredentials, clock, RetryPolicy{}, s.transport()),
      clock, ro);
  ASSERT_FALSE(strict.ok());
  EXPECT_NE(strict.status().message().find("no covid-etl data"), std::string::npos);
  ro.missing_ok = true;
  auto empty = DynamoDbStore::open(
      std::make_unique<DynamoClient>(target(), kCredentials, clock, RetryPolicy{}, s.transport()),
      clock, ro);
  ASSERT_TRUE(empty.ok()) << empty.status().message();
  size_t before = s.seen.size();
  EXPECT_TRUE((*empty)->read_series(kNation, std::nullopt, std::nullopt)->empty());
  EXPECT_TRUE((*empty)->list_runs(10)->empty());
  EXPECT_TRUE((*empty)->source_states()->empty());
  EXPECT_EQ(s.seen.size(), before);  // nothing asked of a table that is not there
  for (const Exchange& e : s.seen) EXPECT_EQ(e.op, "DescribeTable");
}

TEST(DynamoStore, AServerThatCannotBeReachedIsNotAMissingTable) {
  TestClock clock;
  Script s;
  s.replies = {network_error(true)};
  StoreOptions ro;
  ro.read_only = true;
  ro.missing_ok = true;
  RetryPolicy p;
  p.max_attempts = 3;
  auto r = DynamoDbStore::open(
      std::make_unique<DynamoClient>(target(), kCredentials, clock, p, s.transport()), clock, ro);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().kind(), ErrorKind::kLoad);
  EXPECT_NE(r.status().message().find("Couldn't connect"), std::string::npos)
      << r.status().message();
  EXPECT_NE(r.status().message().find("gave up after 3 attempts"), std::string::npos);
  EXPECT_EQ(s.seen.size(), 3u);
}

TEST(DynamoStore, CreatesMissingTablesOnDemandAndWaitsUntilActive) {
  TestClock clock;
  Script s;
  json creating = {
      {"Table",
       {{"TableStatus", "CREATING"},
        {"KeySchema", json::array({json{{"AttributeName", "location"}, {"KeyType", "HASH"}},
                                   json{{"AttributeName", "date"}, {"KeyType", "RANGE"}}})}}}};
  json active = creating;
  active["Table"]["TableStatus"] = "ACTIVE";
  json meta_active = {
      {"Table",
       {{"TableStatus", "ACTIVE"},
        {"KeySchema", json::array({json{{"AttributeName", "pk"}, {"KeyType", "HASH"}},
                                   json{{"AttributeName", "sk"}, {"KeyType", "RANGE"}}})}}}};
  s.replies = {error_reply(400, "ResourceNotFoundException", "not found"),  // DescribeTable covid
               reply(200, R"({"TableDescription": {}})"),                   // CreateTable
               reply(200, creating.dump()),
               reply(200, creating.dump()),
               reply(200, active.dump()),
               reply(200, meta_active.dump()),                       // DescribeTable covid-meta
               reply(200, R"({"Item": {"version": {"N": "1"}}})")};  // GetItem schema
  auto r = DynamoDbStore::open(
      std::make_unique<DynamoClient>(target(), kCredentials, clock, RetryPolicy{}, s.transport()),
      clock, StoreOptions{});
  ASSERT_TRUE(r.ok()) << r.status().message();
  std::vector<std::string> ops;
  for (const Exchange& e : s.seen) ops.push_back(e.op);
  EXPECT_EQ(ops, (std::vector<std::string>{"DescribeTable", "CreateTable", "DescribeTable",
                                           "DescribeTable", "DescribeTable", "DescribeTable",
                                           "GetItem"}));
  const json& create = s.seen[1].body;
  EXPECT_EQ(create["TableName"], "covid");
  EXPECT_EQ(create["BillingMode"], "PAY_PER_REQUEST");
  EXPECT_EQ(create["KeySchema"][0], (json{{"AttributeName", "location"}, {"KeyType", "HASH"}}));
  EXPECT_EQ(create["KeySchema"][1], (json{{"AttributeName", "date"}, {"KeyType", "RANGE"}}));
  EXPECT_EQ(clock.slept.size(), 3u);  // after CreateTable, then twice while CREATING

  Script newer;
  newer.replies = {reply(200, meta_active.dump()),
                   reply(200, R"({"Item": {"version": {"N": "9"}}})")};
  json data_active = active;
  newer.replies.push_front(reply(200, data_active.dump()));
  auto v = DynamoDbStore::open(std::make_unique<DynamoClient>(target(), kCredentials, clock,
                                                              RetryPolicy{}, newer.transport()),
                               clock, StoreOptions{});
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("layout version 9 is newer"), std::string::npos)
      << v.status().message();
}

}  // namespace
}  // namespace covid
