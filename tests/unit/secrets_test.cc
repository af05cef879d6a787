// Secrets: the registry and scrub(), URL redaction by parsing (libcurl's URL API), the address
// classifier of the redirect policy, and PostgreSQL URLs with an unencoded '/' or '@'.
#include "common/secrets.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "extract/fetcher.h"
#include "extract/http_client.h"
#include "load/postgres/pg_url.h"
#include "load/store.h"

namespace covid {
namespace {

TEST(Secrets, ScrubReplacesEveryFormOfAKnownSecret) {
  remember_secret("scrub-f4k3/pa ss+w@rd");
  const std::string text =
      "raw scrub-f4k3/pa ss+w@rd; url scrub-f4k3%2Fpa%20ss%2Bw%40rd; "
      "lower scrub-f4k3%2fpa%20ss%2bw%40rd; form scrub-f4k3%2Fpa+ss%2Bw%40rd; "
      "json scrub-f4k3\\/pa ss+w@rd.";
  EXPECT_EQ(scrub(text), "raw ***; url ***; lower ***; form ***; json ***.");
}

TEST(Secrets, ShortSecretsAreNotScrubbedFromText) {
  size_t before = known_secret_count();
  remember_secret("");
  remember_secret("abc");
  EXPECT_EQ(known_secret_count(), before);
  EXPECT_EQ(scrub("abc abd"), "abc abd");
}

TEST(Secrets, RememberAndScrubFromManyThreads) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([t] {
      for (int i = 0; i < 200; ++i) {
        std::string secret = "thread-secret-" + std::to_string(t) + "-" + std::to_string(i);
        remember_secret(secret);
        EXPECT_EQ(scrub("x " + secret + " y"), "x *** y");
      }
    });
  }
  for (std::thread& t : threads) t.join();
}

TEST(RedactUrl, UserInfoAndSecretQueryValuesAreReplacedAndRemembered) {
  struct Case {
    std::string url, shown;
    std::vector<std::string> secrets;
  };
  const Case cases[] = {
      {"http://user:pa55-word@host.example/us.csv",
       "http://***@host.example/us.csv",
       {"pa55-word"}},
      {"https://ghp-t0ken-only@host.example/us.csv",
       "https://***@host.example/us.csv",
       {"ghp-t0ken-only"}},
      // the password's '/' and '@' percent-encoded, as a URL must have them
      {"https://etl:S3cret%2Fp%40w@host.example/us.csv",
       "https://***@host.example/us.csv",
       {"S3cret/p@w"}},
      {"https://host.example/us.csv?token=tok-123456&day=1",
       "https://host.example/us.csv?token=***&day=1",
       {"tok-123456"}},
      {"https://b.s3.example/"
       "us.csv?X-Amz-Credential=AKIAX%2F2026&X-Amz-Signature=abcdef0123&X-Amz-Expires=60",
       "https://b.s3.example/us.csv?X-Amz-Credential=***&X-Amz-Signature=***&X-Amz-Expires=60",
       {"AKIAX/2026", "abcdef0123"}},
      {"https://a.blob.example/c/us.csv?sv=2022&sig=s1gn4ture%3D&api_key=k3y-value",
       "https://a.blob.example/c/us.csv?sv=2022&sig=***&api_key=***",
       {"s1gn4ture=", "k3y-value"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.url);
    EXPECT_EQ(redact_url(c.url), c.shown);
    for (const std::string& secret : c.secrets) EXPECT_EQ(scrub("[" + secret + "]"), "[***]");
  }
}

TEST(RedactUrl, UrlsWithoutSecretsAndPathsAreShownAsGiven) {
  for (const char* url : {"https://raw.githubusercontent.com/nytimes/covid-19-data/master/us.csv",
                          "http://127.0.0.1:8080/nyt.csv?day=2020-03-01", "file:///data/us.csv",
                          "data/us.csv", "/abs/path@2/us.csv", "HTTP://Host.Example/Us.csv"}) {
    EXPECT_EQ(redact_url(url), url);
  }
  // Not parsed: not shown, rather than shown with what may be a secret.
  EXPECT_EQ(redact_url("http://us er:pw@host/x y"), "http://(a URL that does not parse)");
}

TEST(RedactUrl, SecretQueryKeys) {
  for (const char* key :
       {"token", "access_token", "X-Amz-Signature", "x-amz-security-token", "sig", "apiKey",
        "api_key", "key", "client_secret", "password", "auth", "code"}) {
    EXPECT_TRUE(is_secret_query_key(key)) << key;
  }
  for (const char* key : {"day", "format", "sv", "X-Amz-Expires", "page", "state"}) {
    EXPECT_FALSE(is_secret_query_key(key)) << key;
  }
}

TEST(RedirectPolicy, PrivateAddresses) {
  for (const char* a : {"127.0.0.1",
                        "127.255.0.9",
                        "10.1.2.3",
                        "172.16.0.1",
                        "172.31.255.255",
                        "192.168.1.1",
                        "169.254.169.254",
                        "100.64.0.1",
                        "100.127.255.255",
                        "0.0.0.0",
                        "0.1.2.3",
                        "224.0.0.1",
                        "255.255.255.255",
                        "::1",
                        "::",
                        "fe80::1",
                        "fe80::1%eth0",
                        "fc00::1",
                        "fd12:3456::1",
                        "::ffff:127.0.0.1",
                        "::ffff:169.254.169.254",
                        "::ffff:10.0.0.1",
                        "64:ff9b::7f00:1",
                        "[::1]",
                        "not an address",
                        ""}) {
    EXPECT_TRUE(is_private_address(a)) << a;
  }
  for (const char* a :
       {"8.8.8.8", "1.1.1.1", "172.32.0.1", "172.15.255.255", "100.128.0.1", "100.63.255.255",
        "169.253.1.1", "192.169.0.1", "2606:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"}) {
    EXPECT_FALSE(is_private_address(a)) << a;
  }
}

// libpq reads postgresql://etl:S3cret/pw@host/db as host "etl", port "S3cret" and database
// "pw@host/db", and quotes "S3cret" in its error; the URL is refused without showing any of it.
TEST(PostgresUrl, UnencodedSlashOrAtInThePasswordIsRefusedWithoutShowingIt) {
  for (const char* url : {"postgresql://etl:S3cret/pw@db.example/covid",
                          "postgres://etl:S3c@ret-pw@db.example:5432/covid?sslmode=require"}) {
    SCOPED_TRACE(url);
    auto t = parse_postgres_url(url);
    ASSERT_FALSE(t.ok());
    EXPECT_EQ(t.status().kind(), ErrorKind::kUsage);
    EXPECT_EQ(t.status().message().find("S3c"), std::string::npos) << t.status().message();
    EXPECT_NE(t.status().message().find("%2F"), std::string::npos);
    EXPECT_EQ(display_store_url(url).find("S3c"), std::string::npos);
  }
  EXPECT_EQ(scrub("port \"S3cret/pw\""), "port \"***\"");
  EXPECT_EQ(scrub("S3c@ret-pw"), "***");
  // Percent-encoded, the same password is fine, and known as a secret.
  auto t = parse_postgres_url("postgresql://etl:Enc0ded%2Fpw%40x@db.example/covid");
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->display, "postgresql://etl:***@db.example/covid");
  EXPECT_EQ(scrub("Enc0ded/pw@x"), "***");
}

}  // namespace
}  // namespace covid
