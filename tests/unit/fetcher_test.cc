#include "extract/fetcher.h"

#include <gtest/gtest.h>
#include <unistd.h>
#include <xxhash.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace covid {
namespace {

using std::chrono::milliseconds;
using Strings = std::vector<std::string>;

const std::string kUrl = "https://example.org/us.csv";
const std::string kEtag = "\"v1\"";
const std::string kDate = "Wed, 21 Oct 2015 07:28:00 GMT";

// One scripted answer of the fake HTTP client: `body` reaches the sink (in two writes) before
// `result` is returned.
struct Answer {
  HttpResult result;
  std::string body;
};

Answer ok(std::string body, std::string etag = "", std::string last_modified = "") {
  Answer a;
  a.result.response.status = 200;
  a.result.response.etag = std::move(etag);
  a.result.response.last_modified = std::move(last_modified);
  a.result.response.body_bytes = body.size();
  a.body = std::move(body);
  return a;
}

Answer reply(long status, std::string excerpt = "") {
  Answer a;
  a.result.response.status = status;
  a.result.response.error_body_bytes = excerpt.size();
  a.result.response.body_excerpt = std::move(excerpt);
  return a;
}

Answer not_modified(std::string etag = "", std::string last_modified = "") {
  Answer a = reply(304);
  a.result.response.etag = std::move(etag);
  a.result.response.last_modified = std::move(last_modified);
  return a;
}

// A failed transfer; `partial` is what reached the sink before it broke.
Answer failure(std::string message, bool transient, std::string partial = "") {
  Answer a;
  a.result.status = Status::Extract(std::move(message));
  a.result.transient = transient;
  a.body = std::move(partial);
  return a;
}

class ScriptedHttp final : public HttpClient {
 public:
  HttpResult get(const HttpRequest& request, BodySink& sink) override {
    requests.push_back(request);
    if (next_ == script.size()) {
      ADD_FAILURE() << "an attempt more than scripted";
      HttpResult r;
      r.status = Status::Extract("unscripted");
      return r;
    }
    const Answer& a = script[next_++];
    std::string_view body = a.body;
    if (!body.empty()) {
      sink.write(body.substr(0, body.size() / 2));
      sink.write(body.substr(body.size() / 2));
    }
    return a.result;
  }

  std::vector<Answer> script;
  std::vector<HttpRequest> requests;

 private:
  size_t next_ = 0;
};

// Records the sleeps instead of sleeping.
class RecordingClock final : public Clock {
 public:
  std::chrono::system_clock::time_point now() const override {
    return std::chrono::sys_days{std::chrono::year{2022} / 6 / 1};
  }
  void sleep_for(milliseconds d) const override { sleeps.push_back(d.count()); }
  mutable std::vector<int64_t> sleeps;
};

class StringSink final : public SourceSink {
 public:
  void write(std::string_view bytes) override { data.append(bytes); }
  void restart() override {
    data.clear();
    ++restarts;
  }
  std::string data;
  int restarts = 0;
};

// The expected hash of a body, computed here with libxxhash directly.
std::string xxh3_128(std::string_view body) {
  XXH128_canonical_t c;
  XXH128_canonicalFromHash(&c, XXH3_128bits(body.data(), body.size()));
  std::string s = "xxh3-128:";
  for (unsigned char b : c.digest) {
    static constexpr char kHex[] = "0123456789abcdef";
    s += kHex[b >> 4];
    s += kHex[b & 15];
  }
  return s;
}

class FetcherTest : public testing::Test {
 protected:
  FetcherTest() {
    options.backoff_base = milliseconds(100);
    options.backoff_max = milliseconds(1000);
    options.retries = 3;
    options.connect_timeout = milliseconds(1234);
    options.timeout = milliseconds(5678);
    options.max_bytes = 999;
  }

  Result<FetchResult> fetch(std::vector<Answer> script, const SourceValidators& validators = {},
                            const std::string& url = kUrl) {
    http.script = std::move(script);
    Fetcher fetcher(http, clock, options, [this] { return jitter; });
    return fetcher.fetch(url, validators, sink);
  }

  FetchOptions options;
  double jitter = 1.0;
  ScriptedHttp http;
  RecordingClock clock;
  StringSink sink;
};

TEST_F(FetcherTest, FirstAttemptSucceeds) {
  const std::string body = "date,cases,deaths\n2020-01-21,1,0\n";
  Result<FetchResult> r = fetch({ok(body, kEtag, kDate)});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_FALSE(r->not_modified);
  EXPECT_EQ(r->http_status, 200);
  EXPECT_EQ(r->etag, kEtag);
  EXPECT_EQ(r->last_modified, kDate);
  EXPECT_EQ(r->bytes, body.size());
  EXPECT_EQ(r->content_hash, xxh3_128(body));
  EXPECT_EQ(r->attempts, 1);
  EXPECT_EQ(sink.data, body);
  EXPECT_EQ(sink.restarts, 1);
  EXPECT_TRUE(clock.sleeps.empty());
  ASSERT_EQ(http.requests.size(), 1u);
  const HttpRequest& req = http.requests[0];
  EXPECT_EQ(req.url, kUrl);
  EXPECT_EQ(req.connect_timeout, milliseconds(1234));
  EXPECT_EQ(req.timeout, milliseconds(5678));
  EXPECT_EQ(req.max_bytes, 999u);
  EXPECT_TRUE(req.headers.empty());
}

TEST_F(FetcherTest, TransientFailuresAreRetriedThenFail) {
  struct Case {
    Answer answer;
    std::string message;  // before " (after 4 attempts)"
  };
  const Case cases[] = {
      {failure(kUrl + ": Timeout was reached", true), kUrl + ": Timeout was reached"},
      {reply(500), kUrl + ": HTTP 500"},
      {reply(502, "Bad\ngateway"), kUrl + ": HTTP 502 (11 bytes)"},
      {reply(503), kUrl + ": HTTP 503"},
      {reply(429, "slow down"), kUrl + ": HTTP 429 (9 bytes)"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.message);
    clock.sleeps.clear();
    ScriptedHttp client;
    client.script.assign(4, c.answer);
    Fetcher fetcher(client, clock, options, [] { return 1.0; });
    Result<FetchResult> r = fetcher.fetch(kUrl, {}, sink);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().kind(), ErrorKind::kExtract);
    EXPECT_EQ(r.status().message(), c.message + " (after 4 attempts)");
    EXPECT_EQ(client.requests.size(), 4u);  // the first and options.retries more
    EXPECT_EQ(fetcher.attempts(), 4);       // also known when the fetch failed
    EXPECT_EQ(clock.sleeps, (std::vector<int64_t>{100, 200, 400}));
  }
}

TEST_F(FetcherTest, SucceedsAfterTransientFailuresWithOnlyTheLastBody) {
  const std::string body = "date,cases,deaths\n2020-01-21,1,0\n";
  Result<FetchResult> r =
      fetch({failure("connection reset", true, "date,cases,dea"), reply(503, "busy"), ok(body)});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->attempts, 3);
  EXPECT_EQ(sink.data, body);  // the partial body of attempt 1 was dropped by the restart
  EXPECT_EQ(sink.restarts, 3);
  EXPECT_EQ(r->content_hash, xxh3_128(body));
  EXPECT_EQ(clock.sleeps, (std::vector<int64_t>{100, 200}));
}

TEST_F(FetcherTest, PermanentFailuresAreNotRetried) {
  struct Case {
    Answer answer;
    std::string message;
  };
  const Case cases[] = {
      {reply(404, "404: Not Found"), kUrl + ": HTTP 404 (14 bytes)"},
      {reply(403), kUrl + ": HTTP 403"},
      {reply(410), kUrl + ": HTTP 410"},
      {failure(kUrl + ": the body is larger than the size limit of 999 bytes", false),
       kUrl + ": the body is larger than the size limit of 999 bytes"},
      {failure("cannot open data/us.csv: No such file or directory", false),
       "cannot open data/us.csv: No such file or directory"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.message);
    clock.sleeps.clear();
    ScriptedHttp client;
    client.script = {c.answer, ok("never")};
    Fetcher fetcher(client, clock, options, [] { return 1.0; });
    Result<FetchResult> r = fetcher.fetch(kUrl, {}, sink);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().kind(), ErrorKind::kExtract);
    EXPECT_EQ(r.status().message(), c.message);
    EXPECT_EQ(client.requests.size(), 1u);
    EXPECT_EQ(fetcher.attempts(), 1);
    EXPECT_TRUE(clock.sleeps.empty());
  }
}

// An error body may be an internal service's answer (a redirect to it, a proxy's page): the
// message, which is stored, served and sent, says its status, type and size, never its text.
TEST_F(FetcherTest, ErrorBodiesAreNeverQuoted) {
  Answer a = reply(404, "INTERNAL-MARKER {\"AccessKeyId\": \"ASIA...\"}");
  a.result.response.content_type = "application/json";
  a.result.response.error_body_bytes = 5000;  // more arrived than the excerpt kept
  Result<FetchResult> r = fetch({a});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), kUrl + ": HTTP 404 (application/json, 5000 bytes)");
  EXPECT_EQ(r.status().message().find("INTERNAL-MARKER"), std::string::npos);
}

TEST_F(FetcherTest, NoRetriesMeansOneAttempt) {
  options.retries = 0;
  Result<FetchResult> r = fetch({reply(503)});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), kUrl + ": HTTP 503");
  EXPECT_TRUE(clock.sleeps.empty());
}

TEST_F(FetcherTest, BackoffDoublesAndIsCapped) {
  options.retries = 6;
  Result<FetchResult> r = fetch(std::vector<Answer>(7, reply(503)));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), kUrl + ": HTTP 503 (after 7 attempts)");
  EXPECT_EQ(clock.sleeps, (std::vector<int64_t>{100, 200, 400, 800, 1000, 1000}));
}

TEST_F(FetcherTest, JitterScalesEachWait) {
  jitter = 0.5;
  Result<FetchResult> r = fetch({reply(500), reply(500), ok("a\n")});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(clock.sleeps, (std::vector<int64_t>{50, 100}));
}

TEST(FetcherBackoff, Values) {
  ScriptedHttp http;
  RecordingClock clock;
  FetchOptions options;  // 500 ms doubling up to 30 s
  Fetcher fetcher(http, clock, options, [] { return 1.0; });
  const std::pair<int, int64_t> cases[] = {{1, 500},   {2, 1000},  {3, 2000},   {6, 16000},
                                           {7, 30000}, {8, 30000}, {40, 30000}, {1000, 30000}};
  for (auto [attempt, ms] : cases) EXPECT_EQ(fetcher.backoff(attempt).count(), ms) << attempt;
}

TEST_F(FetcherTest, NotModifiedKeepsPreviousValidators) {
  Result<FetchResult> r = fetch({not_modified()}, SourceValidators{kEtag, kDate});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->not_modified);
  EXPECT_EQ(r->http_status, 304);
  EXPECT_EQ(r->etag, kEtag);
  EXPECT_EQ(r->last_modified, kDate);
  EXPECT_EQ(r->content_hash, "");
  EXPECT_EQ(r->bytes, 0u);
  EXPECT_EQ(r->attempts, 1);
  EXPECT_EQ(sink.data, "");
}

TEST_F(FetcherTest, NotModifiedTakesNewValidators) {
  Result<FetchResult> r = fetch({not_modified("\"v2\"")}, SourceValidators{kEtag, kDate});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->not_modified);
  EXPECT_EQ(r->etag, "\"v2\"");
  EXPECT_EQ(r->last_modified, kDate);
}

TEST_F(FetcherTest, ConditionalHeadersOnlyForHttpWithValidators) {
  const std::string ims = "If-Modified-Since: " + kDate, inm = "If-None-Match: " + kEtag;
  struct Case {
    std::string url;
    SourceValidators validators;
    Strings headers;
  };
  const Case cases[] = {
      {"https://example.org/us.csv", {kEtag, kDate}, {inm, ims}},
      {"http://127.0.0.1:8080/us.csv", {kEtag, kDate}, {inm, ims}},
      {"http://example.org/us.csv", {kEtag, ""}, {inm}},
      {"http://example.org/us.csv", {"", kDate}, {ims}},
      {"http://example.org/us.csv", {}, {}},
      {"data/us.csv", {kEtag, kDate}, {}},
      {"/srv/data/us.csv", {kEtag, kDate}, {}},
      {"file:///srv/data/us.csv", {kEtag, kDate}, {}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.url);
    ScriptedHttp client;
    client.script = {ok("a\n")};
    Fetcher fetcher(client, clock, options, [] { return 1.0; });
    ASSERT_TRUE(fetcher.fetch(c.url, c.validators, sink).ok());
    ASSERT_EQ(client.requests.size(), 1u);
    EXPECT_EQ(client.requests[0].url, c.url);
    EXPECT_EQ(client.requests[0].headers, c.headers);
  }
}

TEST_F(FetcherTest, HeadersAreSentOnEveryAttempt) {
  ASSERT_TRUE(fetch({reply(503), ok("a\n")}, SourceValidators{kEtag, ""}).ok());
  ASSERT_EQ(http.requests.size(), 2u);
  EXPECT_EQ(http.requests[1].headers, Strings{"If-None-Match: " + kEtag});
}

TEST_F(FetcherTest, UserAndPasswordAreNotInMessages) {
  Result<FetchResult> r = fetch({reply(404)}, {}, "https://user:s3cret@example.org/us.csv");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "https://***@example.org/us.csv: HTTP 404");
}

TEST(FetcherHash, FormatAndEquality) {
  auto hash_of = [](std::vector<std::string> pieces) {
    struct Pieces final : HttpClient {
      std::vector<std::string> pieces;
      HttpResult get(const HttpRequest&, BodySink& sink) override {
        HttpResult r;
        r.response.status = 200;
        for (const std::string& p : pieces) sink.write(p), r.response.body_bytes += p.size();
        return r;
      }
    } http;
    http.pieces = std::move(pieces);
    RecordingClock clock;
    StringSink sink;
    Fetcher fetcher(http, clock, FetchOptions{}, [] { return 1.0; });
    Result<FetchResult> r = fetcher.fetch("data/us.csv", {}, sink);
    EXPECT_TRUE(r.ok());
    return r.ok() ? r->content_hash : std::string();
  };
  std::string a = hash_of({"date,cases\n2020-01-21,1\n"});
  ASSERT_EQ(a.size(), 9u + 32u);
  EXPECT_TRUE(a.starts_with("xxh3-128:"));
  EXPECT_EQ(a.substr(9).find_first_not_of("0123456789abcdef"), std::string::npos) << a;
  EXPECT_EQ(a, xxh3_128("date,cases\n2020-01-21,1\n"));
  EXPECT_EQ(hash_of({"date,cases\n", "2020-01-21,1\n"}), a);  // however the body arrives
  EXPECT_EQ(hash_of({"d", "ate,cases\n2020-01-21,1", "\n"}), a);
  EXPECT_NE(hash_of({"date,cases\n2020-01-21,2\n"}), a);
  EXPECT_EQ(hash_of({}), xxh3_128(""));
  EXPECT_NE(hash_of({}), a);
}

// A local file's conditional read is its content hash: the same hash, nothing reaches the sink;
// a byte changed, the whole file does. Real files, read by the real client.
TEST(FetcherLocalFile, KnownHashMakesAnUnchangedFileNotModified) {
  const std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("covid-fetcher-" + std::to_string(getpid()));
  const std::string body = "date,cases,deaths\n2020-01-21,1,0\n";
  std::ofstream(path, std::ios::trunc) << body;
  CurlHttpClient http;
  RecordingClock clock;
  Fetcher fetcher(http, clock, FetchOptions{}, [] { return 1.0; });
  StringSink sink;
  Result<FetchResult> first = fetcher.fetch(path.string(), {}, sink);
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_FALSE(first->not_modified);
  EXPECT_EQ(first->content_hash, xxh3_128(body));
  EXPECT_EQ(sink.data, body);

  StringSink same;
  Result<FetchResult> r = fetcher.fetch(path.string(), {}, same, first->content_hash);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->not_modified);
  EXPECT_EQ(r->http_status, 200);
  EXPECT_EQ(r->content_hash, first->content_hash);
  EXPECT_EQ(r->bytes, body.size());
  EXPECT_EQ(same.data, "");  // not parsed

  std::ofstream(path, std::ios::trunc) << "date,cases,deaths\n2020-01-21,2,0\n";  // one byte
  StringSink changed;
  r = fetcher.fetch(path.string(), {}, changed, first->content_hash);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_FALSE(r->not_modified);
  EXPECT_EQ(changed.data, "date,cases,deaths\n2020-01-21,2,0\n");
  EXPECT_EQ(r->content_hash, xxh3_128(changed.data));
  std::filesystem::remove(path);
  // A file that cannot be read is reported as before, known hash or not.
  StringSink none;
  r = fetcher.fetch(path.string(), {}, none, first->content_hash);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("cannot open"), std::string::npos) << r.status().message();
}

// A URL with a scheme has validators: the known hash changes nothing (one request, no hash pass).
TEST_F(FetcherTest, KnownHashIsIgnoredForAUrl) {
  http.script = {ok("a\n")};
  Fetcher fetcher(http, clock, options, [this] { return jitter; });
  Result<FetchResult> r = fetcher.fetch(kUrl, {}, sink, xxh3_128("a\n"));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->not_modified);
  EXPECT_EQ(sink.data, "a\n");
  EXPECT_EQ(http.requests.size(), 1u);
}

}  // namespace
}  // namespace covid
