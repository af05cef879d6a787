// The S3 publish destination's parts without a server: s3:// URLs, keys, S3's error documents,
// the signed requests it makes, and its retries and error messages against a scripted transport
// (tests/integration/test_publish_s3.py runs the real thing against s3rver).
#include "publish/s3_destination.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include "test_support.h"

namespace covid {
namespace {

using std::chrono::milliseconds;

using TestClock = test::RecordingClock;

constexpr const char* kKeyId = "AKIAUNITS3KEY0WXYZ";
constexpr const char* kSecret = "unit/s3/secret+key";
constexpr const char* kToken = "unit-s3-session-token";

// --- URLs --------------------------------------------------------------------------------------

TEST(S3Url, AwsVirtualHostedAndTheRegionFallback) {
  auto t = parse_s3_url("s3://covid-site/dash/v1/", "eu-west-3");
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->bucket, "covid-site");
  EXPECT_EQ(t->prefix, "dash/v1/");
  EXPECT_EQ(t->region, "eu-west-3");
  EXPECT_EQ(t->endpoint, "");
  EXPECT_EQ(t->object_url("data/ab12.json"),
            "https://covid-site.s3.eu-west-3.amazonaws.com/dash/v1/data/ab12.json");
  EXPECT_EQ(t->display, "s3://covid-site/dash/v1/?region=eu-west-3");
  // ?region= wins over the environment's; a bucket with '.' goes path-style (the certificate).
  t = parse_s3_url("s3://www.example.org?region=us-west-2", "eu-west-3");
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->prefix, "");
  EXPECT_EQ(t->object_url("index.html"),
            "https://s3.us-west-2.amazonaws.com/www.example.org/index.html");
}

TEST(S3Url, ACustomEndpointIsPathStyleAndPercentDecoded) {
  auto t = parse_s3_url("s3://site/p?endpoint=http%3A%2F%2F127.0.0.1%3A4569");
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->endpoint, "http://127.0.0.1:4569/");
  EXPECT_EQ(t->region, "us-east-1");  // S3-compatible servers' default
  EXPECT_EQ(t->object_url("data/x y+z.json"), "http://127.0.0.1:4569/site/p/data/x%20y%2Bz.json");
  EXPECT_EQ(t->display, "s3://site/p/?region=us-east-1&endpoint=http://127.0.0.1:4569/");
  t = parse_s3_url("s3://site?region=eu-central-1&endpoint=https://minio.internal:9000/base");
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->object_url("a"), "https://minio.internal:9000/base/site/a");
}

TEST(S3Url, EveryMistakeIsAUsageErrorThatNamesIt) {
  struct Case {
    const char* dest;
    const char* region;
    const char* says;
  };
  for (const Case& c : std::vector<Case>{
           {"s3://", "us-east-1", "no bucket name"},
           {"s3://Site", "us-east-1", "bucket name 'Site'"},
           {"s3://ab", "us-east-1", "3 to 63"},
           {"s3://-site", "us-east-1", "starting and ending"},
           {"s3://site/a//b", "us-east-1", "the prefix 'a//b'"},
           {"s3://site/a/../b", "us-east-1", "none empty, '.' or '..'"},
           {"s3://site", "", "no region (add ?region=REGION, or set AWS_REGION"},
           {"s3://site?region=Moon_1", "", "bad region 'Moon_1'"},
           {"s3://site", "bad region!", "from AWS_REGION or AWS_DEFAULT_REGION"},
           {"s3://site?region=", "", "parameter 'region' needs a value"},
           {"s3://site?endpoint=ftp://host", "", "http:// or https://"},
           {"s3://site?endpoint=http://h/?x=1", "", "plain http(s)://HOST"},
           {"s3://site?regoin=us-east-1", "", "unknown parameter 'regoin'"},
       }) {
    auto t = parse_s3_url(c.dest, c.region);
    ASSERT_FALSE(t.ok()) << c.dest;
    EXPECT_EQ(t.status().kind(), ErrorKind::kUsage) << c.dest;
    EXPECT_NE(t.status().message().find(c.says), std::string::npos)
        << c.dest << ": " << t.status().message();
  }
}

TEST(S3Url, TheEndpointsUserInfoIsNeverShown) {
  auto t = parse_s3_url("s3://site?endpoint=http://user:endpoint-pass-f4k3@127.0.0.1:9/");
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->display.find("endpoint-pass-f4k3"), std::string::npos) << t->display;
  EXPECT_EQ(t->host_display().find("endpoint-pass-f4k3"), std::string::npos);
}

TEST(S3Keys, RelativeKeysOnly) {
  for (const char* ok : {"index.html", "data/ab.json", "a/b/c.d"})
    EXPECT_TRUE(valid_object_key(ok));
  for (const char* bad : {"", "/index.html", "a//b", "../x", "a/./b", "a/", "a\nb"})
    EXPECT_FALSE(valid_object_key(bad)) << bad;
}

TEST(S3Errors, TheCodeAndMessageOfS3sErrorDocument) {
  S3Error e = parse_s3_error(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code><Message>The "
      "specified key does not exist.</Message><Key>x</Key></Error>");
  EXPECT_EQ(e.code, "NoSuchKey");
  EXPECT_EQ(e.message, "The specified key does not exist.");
  e = parse_s3_error("<html>bad gateway</html>");
  EXPECT_EQ(e.code, "");
}

// --- requests and retries against a scripted transport -----------------------------------------

struct Script {
  std::deque<CurlOutcome> answers;
  std::vector<CurlCall> calls;
};

CurlOutcome answer(long code, std::string body = "") {
  CurlOutcome o;
  o.code = code;
  o.response = std::move(body);
  return o;
}

CurlOutcome s3_error(long code, const std::string& error, const std::string& message) {
  return answer(code, "<?xml version=\"1.0\"?><Error><Code>" + error + "</Code><Message>" +
                          message + "</Message></Error>");
}

CurlOutcome connection_refused() {
  CurlOutcome o;
  o.status = Status::Extract("Couldn't connect to server");
  o.transient = true;
  return o;
}

struct Fixture {
  explicit Fixture(const char* dest = "s3://site/dash?region=eu-west-3") {
    auto t = parse_s3_url(dest);
    EXPECT_TRUE(t.ok()) << t.status().message();
    S3Options options;
    options.clock = &clock;
    options.transport = [this](const CurlCall& call) {
      script.calls.push_back(call);
      if (script.answers.empty()) return answer(500, "script ran out");
      CurlOutcome o = script.answers.front();
      script.answers.pop_front();
      return o;
    };
    destination = make_s3_destination(*t, kKeyId, kSecret, kToken, options);
  }
  TestClock clock;
  Script script;
  std::unique_ptr<Destination> destination;
};

bool has_header(const CurlCall& call, const std::string& line) {
  return std::find(call.headers.begin(), call.headers.end(), line) != call.headers.end();
}

TEST(S3Destination, APutIsOneSignedRequestWithTheObjectsHeaders) {
  Fixture f;
  f.script.answers = {answer(200)};
  PublishedObject o{"data/ab.json", std::string("\x1f\x8b\0\1", 4), "application/json",
                    "public, max-age=31536000, immutable", "gzip"};
  ASSERT_TRUE(f.destination->put(o).ok());
  ASSERT_EQ(f.script.calls.size(), 1u);
  const CurlCall& c = f.script.calls[0];
  EXPECT_EQ(c.method, "PUT");
  EXPECT_EQ(c.url, "https://site.s3.eu-west-3.amazonaws.com/dash/data/ab.json");
  EXPECT_EQ(c.body, o.body);
  EXPECT_EQ(c.aws_sigv4, "aws:amz:eu-west-3:s3");
  EXPECT_EQ(c.username, kKeyId);
  EXPECT_EQ(c.password, kSecret);
  EXPECT_TRUE(has_header(c, "Content-Type: application/json"));
  EXPECT_TRUE(has_header(c, "Cache-Control: public, max-age=31536000, immutable"));
  EXPECT_TRUE(has_header(c, "Content-Encoding: gzip"));
  EXPECT_TRUE(has_header(c, "x-amz-content-sha256: UNSIGNED-PAYLOAD"));
  EXPECT_TRUE(has_header(c, std::string("X-Amz-Security-Token: ") + kToken));
  // No encoding: no Content-Encoding header at all.
  f.script.answers = {answer(200)};
  ASSERT_TRUE(
      f.destination->put({"index.html", "<html>", "text/html", "public, max-age=60", ""}).ok());
  for (const std::string& h : f.script.calls[1].headers)
    EXPECT_FALSE(h.starts_with("Content-Encoding"));
}

TEST(S3Destination, GetReturnsTheBytesOrNothingForNoSuchKey) {
  Fixture f;
  f.script.answers = {answer(200, "stored"), s3_error(404, "NoSuchKey", "The key does not exist.")};
  auto got = f.destination->get("publish-manifest.json");
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(got->value(), "stored");
  EXPECT_EQ(f.script.calls[0].method, "GET");
  EXPECT_GT(f.script.calls[0].response_limit, size_t{100} << 20);
  got = f.destination->get("publish-manifest.json");
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_FALSE(got->has_value());
}

TEST(S3Destination, RemoveIsADeleteAndAMissingObjectIsNoError) {
  Fixture f;
  f.script.answers = {answer(204), s3_error(404, "NoSuchKey", "gone")};
  ASSERT_TRUE(f.destination->remove("data/old.json").ok());
  ASSERT_TRUE(f.destination->remove("data/old.json").ok());
  EXPECT_EQ(f.script.calls[0].method, "DELETE");
  EXPECT_EQ(f.script.calls[0].url, "https://site.s3.eu-west-3.amazonaws.com/dash/data/old.json");
}

TEST(S3Destination, SlowDown5xxAndConnectionFailuresAreRetriedWithBackoff) {
  Fixture f;
  f.script.answers = {s3_error(503, "SlowDown", "Please reduce your request rate."),
                      connection_refused(), s3_error(500, "InternalError", "oops"),
                      s3_error(400, "RequestTimeout", "idle"), answer(200)};
  ASSERT_TRUE(f.destination->put({"a.json", "{}", "application/json", "", ""}).ok());
  EXPECT_EQ(f.script.calls.size(), 5u);
  EXPECT_EQ(f.clock.slept.size(), 4u);
}

TEST(S3Destination, AnUnreachableEndpointIsNamedAfterTheRetries) {
  Fixture f("s3://site?endpoint=http://127.0.0.1:9/");
  for (int i = 0; i < 10; ++i) f.script.answers.push_back(connection_refused());
  Status s = f.destination->put({"index.html", "x", "text/html", "", ""});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.kind(), ErrorKind::kExtract);
  EXPECT_NE(s.message().find("cannot reach http://127.0.0.1:9/: Couldn't connect to server"),
            std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find("gave up after 6 attempts"), std::string::npos) << s.message();
  EXPECT_EQ(f.script.calls.size(), 6u);
}

TEST(S3Destination, RefusedCredentialsNameTheKeyIdNeverTheSecretAndAreNotRetried) {
  for (const char* code : {"InvalidAccessKeyId", "SignatureDoesNotMatch"}) {
    Fixture f;
    f.script.answers = {s3_error(403, code, std::string("refused; the secret was ") + kSecret)};
    Status s = f.destination->put({"index.html", "x", "text/html", "", ""});
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(f.script.calls.size(), 1u);
    EXPECT_EQ(s.kind(), ErrorKind::kExtract);
    const std::string& m = s.message();
    EXPECT_NE(
        m.find("the credentials were refused (access key id ...WXYZ, from AWS_ACCESS_KEY_ID): " +
               std::string(code)),
        std::string::npos)
        << m;
    EXPECT_EQ(m.find(kSecret), std::string::npos) << m;
    EXPECT_EQ(m.find(kKeyId), std::string::npos) << m;
    EXPECT_NE(m.find("s3://site/dash/?region=eu-west-3: PUT dash/index.html"), std::string::npos)
        << m;
  }
}

TEST(S3Destination, PutsFromSeveralThreadsAtOnceEachRetriedOnItsOwn) {
  auto t = parse_s3_url("s3://site/dash?region=eu-west-3");
  ASSERT_TRUE(t.ok());
  std::mutex mu;
  std::map<std::string, int> attempts;  // url -> requests seen
  test::FixedClock clock;               // sleeps return at once, from any thread
  S3Options options;
  options.clock = &clock;
  options.transport = [&](const CurlCall& call) {
    std::lock_guard lock(mu);
    // Every object's first PUT is throttled; its retry succeeds.
    return ++attempts[call.url] == 1 ? s3_error(503, "SlowDown", "slow down") : answer(200);
  };
  auto dest = make_s3_destination(*t, kKeyId, kSecret, kToken, options);
  ASSERT_EQ(dest->parallelism(), 8u);
  std::vector<std::thread> threads;
  std::vector<Status> results(16, Status::Ok());
  for (size_t i = 0; i < results.size(); ++i) {
    threads.emplace_back([&, i] {
      results[i] =
          dest->put({"data/" + std::to_string(i) + ".json", "{}", "application/json", "", ""});
    });
  }
  for (std::thread& th : threads) th.join();
  for (const Status& s : results) EXPECT_TRUE(s.ok()) << s.message();
  ASSERT_EQ(attempts.size(), results.size());
  for (const auto& [url, n] : attempts) EXPECT_EQ(n, 2) << url;
}

TEST(S3Destination, NoSuchBucketAndAccessDeniedSaySo) {
  Fixture f;
  f.script.answers = {s3_error(404, "NoSuchBucket", "The specified bucket does not exist"),
                      s3_error(403, "AccessDenied", "Access Denied")};
  auto got = f.destination->get("publish-manifest.json");
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.status().message().find("no such bucket 'site'"), std::string::npos)
      << got.status().message();
  Status s = f.destination->remove("a");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("access denied to the key id ...WXYZ"), std::string::npos)
      << s.message();
}

// Real S3 answers a GET of a missing key with 403 AccessDenied, not 404, when the caller may not
// list the bucket: the first publish's GET of its manifest then fails. The message says so, and
// names s3:ListBucket with the three object permissions; the 403 is never taken for "missing".
TEST(S3Destination, AccessDeniedOnAGetSaysThatAMissingObjectNeedsListBucket) {
  Fixture f;
  f.script.answers = {s3_error(403, "AccessDenied", "Access Denied"),
                      s3_error(403, "AccessDenied", "Access Denied")};
  auto got = f.destination->get("publish-manifest.json");
  ASSERT_FALSE(got.ok()) << "a 403 is not an object that does not exist";
  const std::string m = got.status().message();
  EXPECT_EQ(got.status().kind(), ErrorKind::kExtract);
  EXPECT_NE(m.find("GET dash/publish-manifest.json"), std::string::npos) << m;
  EXPECT_NE(m.find("access denied to the key id ...WXYZ"), std::string::npos) << m;
  EXPECT_NE(m.find("S3 answers 403 AccessDenied, not 404, for an object that does not exist when "
                   "s3:ListBucket is not granted"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("s3:ListBucket on arn:aws:s3:::site (condition s3:prefix \"dash/*\")"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("s3:GetObject, s3:PutObject and s3:DeleteObject on arn:aws:s3:::site/dash/*"),
            std::string::npos)
      << m;
  EXPECT_EQ(f.script.calls.size(), 1u) << "not retried";
  // A PUT's 403 names the same permissions, without the note on missing objects.
  Status s = f.destination->put({"index.html", "<html>", "text/html", "public, max-age=60", ""});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("s3:ListBucket on arn:aws:s3:::site"), std::string::npos)
      << s.message();
  EXPECT_EQ(s.message().find("does not exist"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace covid
