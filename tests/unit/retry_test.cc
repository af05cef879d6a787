// common/retry.h: the backoff's formula, the loop's stopping rules (attempts, retriable, deadline)
// on a recording clock, the jitter sources, and the one list of retriable failures.
#include "common/retry.h"

#include <curl/curl.h>
#include <gtest/gtest.h>

#include <vector>

namespace covid {
namespace {

using std::chrono::milliseconds;

// Records the waits instead of sleeping; time moves only by them.
class RecordingClock final : public Clock {
 public:
  std::chrono::system_clock::time_point now() const override { return t; }
  void sleep_for(milliseconds d) const override {
    slept.push_back(d.count());
    t += d;
  }
  mutable std::chrono::system_clock::time_point t =
      std::chrono::sys_days{std::chrono::year{2022} / 4 / 20};
  mutable std::vector<int64_t> slept;
};

RetryPolicy policy(int max_attempts, int64_t base, int64_t cap) {
  RetryPolicy p;
  p.max_attempts = max_attempts;
  p.base = milliseconds(base);
  p.cap = milliseconds(cap);
  return p;
}

// Runs a loop whose every attempt fails retriably; returns the attempts made.
int run_failing(const RetryPolicy& p, const Clock& clock, const Jitter& jitter) {
  RetryLoop loop(p, clock, jitter);
  while (loop.retry(true)) {
  }
  return loop.attempt();
}

TEST(RetryBackoff, DoublesFromTheBaseUpToTheCap) {
  RetryPolicy p = policy(10, 100, 1000);
  const std::pair<int, int64_t> cases[] = {{1, 100},  {2, 200},  {3, 400},   {4, 800},
                                           {5, 1000}, {6, 1000}, {40, 1000}, {1000, 1000},
                                           {0, 100},  {-3, 100}};
  for (auto [retry, ms] : cases) EXPECT_EQ(backoff_ceiling(p, retry).count(), ms) << retry;
  EXPECT_EQ(backoff_ceiling(policy(10, 0, 1000), 5).count(), 0);     // no waiting at all
  EXPECT_EQ(backoff_ceiling(policy(10, 500, 200), 1).count(), 200);  // the cap wins
  // Hours of base, far out: no overflow.
  EXPECT_EQ(backoff_ceiling(policy(10, 3'600'000, 3'600'000), 1'000'000).count(), 3'600'000);
}

// Moved from dynamodb_test.cc (DynamoBackoff): the DynamoDB client's policy, RetryPolicy's
// defaults, with the jitter in the upper half of each ceiling.
TEST(RetryBackoff, ExponentialCappedWithJitterInTheUpperHalf) {
  RetryPolicy p;
  EXPECT_EQ(p.base, milliseconds(50));
  EXPECT_EQ(p.cap, milliseconds(5'000));
  EXPECT_EQ(p.max_attempts, 10);
  EXPECT_FALSE(p.deadline);
  const int64_t ceilings[] = {50, 100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000};
  Jitter jitter = random_jitter(42);
  for (int retry = 1; retry <= 10; ++retry) {
    int64_t ceiling = ceilings[retry - 1];
    EXPECT_EQ(backoff_wait(p, retry, 0.5).count(), ceiling / 2) << retry;
    EXPECT_EQ(backoff_wait(p, retry, 1.0).count(), ceiling) << retry;
    for (int i = 0; i < 100; ++i) {
      int64_t d = backoff_wait(p, retry, jitter()).count();
      EXPECT_GE(d, ceiling / 2);
      EXPECT_LE(d, ceiling);
    }
  }
  EXPECT_EQ(backoff_wait(p, 1000, 0.5).count(), 2500);  // no overflow far out
}

TEST(RetryBackoff, JitterSources) {
  EXPECT_EQ(no_jitter()(), 1.0);
  Jitter a = random_jitter(7), b = random_jitter(7), c = random_jitter();
  for (int i = 0; i < 1000; ++i) {
    double x = a();
    EXPECT_EQ(x, b());  // the same seed, the same draws
    EXPECT_GE(x, 0.5);
    EXPECT_LE(x, 1.0);
    double y = c();
    EXPECT_GE(y, 0.5);
    EXPECT_LE(y, 1.0);
  }
}

TEST(RetryLoop, TheBackoffSequenceWithAFixedJitter) {
  RecordingClock clock;
  double factor = 1.0;
  Jitter fixed = [&factor] { return factor; };
  EXPECT_EQ(run_failing(policy(7, 100, 1000), clock, fixed), 7);
  EXPECT_EQ(clock.slept, (std::vector<int64_t>{100, 200, 400, 800, 1000, 1000}));
  clock.slept.clear();
  factor = 0.5;
  EXPECT_EQ(run_failing(policy(3, 100, 1000), clock, fixed), 3);
  EXPECT_EQ(clock.slept, (std::vector<int64_t>{50, 100}));
}

TEST(RetryLoop, StopsAtMaxAttemptsAndAtAFailureThatIsNotRetriable) {
  RecordingClock clock;
  Jitter none = no_jitter();
  EXPECT_EQ(run_failing(policy(1, 100, 1000), clock, none), 1);  // no retry at all
  EXPECT_EQ(run_failing(policy(0, 100, 1000), clock, none), 1);  // one attempt is always made
  EXPECT_TRUE(clock.slept.empty());

  RetryLoop loop(policy(5, 100, 1000), clock, none);
  EXPECT_EQ(loop.attempt(), 1);
  EXPECT_TRUE(loop.retry(true));
  EXPECT_EQ(loop.attempt(), 2);
  EXPECT_FALSE(loop.retry(false));  // final: no wait, no further attempt
  EXPECT_EQ(loop.attempt(), 2);
  EXPECT_EQ(clock.slept, (std::vector<int64_t>{100}));
}

TEST(RetryLoop, TheDeadlineStopsRetries) {
  RecordingClock clock;
  Jitter none = no_jitter();
  RetryPolicy p = policy(100, 100, 1000);
  p.deadline = milliseconds(350);
  // Waits 100 (t = 100) and 200 (t = 300); the next, 400, would end at 700 > 350.
  EXPECT_EQ(run_failing(p, clock, none), 3);
  EXPECT_EQ(clock.slept, (std::vector<int64_t>{100, 200}));

  // A wait that ends exactly at the deadline is still made.
  clock.slept.clear();
  p.deadline = milliseconds(300);
  EXPECT_EQ(run_failing(p, clock, none), 3);
  EXPECT_EQ(clock.slept, (std::vector<int64_t>{100, 200}));

  // Time spent in the attempts counts too: the deadline is from the loop's start.
  clock.slept.clear();
  RetryLoop loop(p, clock, none);
  clock.t += milliseconds(250);    // a slow first attempt
  EXPECT_FALSE(loop.retry(true));  // 250 + 100 > 300
  EXPECT_TRUE(clock.slept.empty());
}

TEST(RetryConditions, TheRetriableCurlFailures) {
  for (CURLcode c : {CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_CONNECT, CURLE_OPERATION_TIMEDOUT,
                     CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE,
                     CURLE_HTTP2, CURLE_HTTP2_STREAM, CURLE_BAD_CONTENT_ENCODING}) {
    EXPECT_TRUE(is_retriable_curl_code(c)) << c;
  }
  for (CURLcode c :
       {CURLE_OK, CURLE_UNSUPPORTED_PROTOCOL, CURLE_URL_MALFORMAT, CURLE_SSL_CONNECT_ERROR,
        CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE, CURLE_FILESIZE_EXCEEDED,
        CURLE_WRITE_ERROR, CURLE_LOGIN_DENIED, CURLE_TOO_MANY_REDIRECTS, CURLE_ABORTED_BY_CALLBACK,
        CURLE_REMOTE_ACCESS_DENIED, CURLE_FILE_COULDNT_READ_FILE}) {
    EXPECT_FALSE(is_retriable_curl_code(c)) << c;
  }
}

TEST(RetryConditions, TheRetriableHttpStatuses) {
  for (long s : {429L, 500L, 502L, 503L, 504L, 599L}) EXPECT_TRUE(is_retriable_http_status(s)) << s;
  for (long s : {0L, 200L, 204L, 304L, 400L, 401L, 403L, 404L, 408L, 413L, 499L, 600L}) {
    EXPECT_FALSE(is_retriable_http_status(s)) << s;
  }
}

}  // namespace
}  // namespace covid
