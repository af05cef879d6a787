#include "config/config.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "pipeline/datasets.h"

namespace covid {
namespace {

namespace fs = std::filesystem;

// A fresh directory under the system temp directory, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string t = (fs::temp_directory_path() / "covid-config-test-XXXXXX").string();
    if (mkdtemp(t.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
    path_ = t;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  // Writes `text` to a file in the directory; returns its path.
  std::string write(const std::string& name, const std::string& text) const {
    std::string p = (path_ / name).string();
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
  std::string path(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

// Every setting on one line, to compare whole configurations.
std::string show(const Config& c) {
  return "db=" + c.db + " nyt=" + c.nyt_url + " jhu=" + c.jhu_url +
         " join=" + (c.join == JoinKind::kLeft ? "left" : "inner") +
         " connect=" + std::to_string(c.fetch.connect_timeout.count()) +
         " timeout=" + std::to_string(c.fetch.timeout.count()) +
         " max_bytes=" + std::to_string(c.fetch.max_bytes) +
         " retries=" + std::to_string(c.fetch.retries) +
         " backoff=" + std::to_string(c.fetch.backoff_base.count()) +
         " backoff_max=" + std::to_string(c.fetch.backoff_max.count()) +
         " lock=" + std::to_string(c.lock_timeout.count());
}

class ConfigFile : public testing::Test {
 protected:
  // Loads `text` from config.toml over `base`.
  Result<Config> load(const std::string& text, Config base = {}) {
    return load_config_file(dir_.write("config.toml", text), base);
  }
  // The usage error loading `text` must give; the file name is the config.toml path.
  void expect_error(const std::string& text, const std::string& message) {
    Result<Config> r = load(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.status().kind(), ErrorKind::kUsage) << text;
    EXPECT_EQ(r.status().message(), file() + ":" + message) << text;
  }
  std::string file() const { return dir_.path("config.toml"); }

  TempDir dir_;
};

TEST(ConfigDefaults, AreTheDocumentedOnes) {
  Config c;
  EXPECT_EQ(
      show(c),
      "db=data/covid.db nyt=https://raw.githubusercontent.com/nytimes/covid-19-data/master/us.csv "
      "jhu=https://raw.githubusercontent.com/datasets/covid-19/master/data/"
      "time-series-19-covid-combined.csv join=left connect=10000 timeout=300000 "
      "max_bytes=1073741824 retries=3 backoff=500 backoff_max=30000 lock=30000");
}

TEST_F(ConfigFile, AllKeys) {
  Result<Config> r = load(R"(# every key
db = "/var/lib/covid/covid.db"

[sources]
nyt = "https://example.org/us.csv"
jhu = "file:///data/jhu.csv"

[transform]
join = "inner"

[extract]
connect_timeout_ms = 1500
timeout_ms = 60000
retries = 5
backoff_ms = 250
backoff_max_ms = 4000
max_bytes = 1048576

[load]
lock_timeout_ms = 1234
)");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(show(*r),
            "db=/var/lib/covid/covid.db nyt=https://example.org/us.csv jhu=file:///data/jhu.csv "
            "join=inner connect=1500 timeout=60000 max_bytes=1048576 retries=5 backoff=250 "
            "backoff_max=4000 lock=1234");
}

// The WHO's series is on by default only when the national source is the upstream one; a `who`
// source or [datasets] world = true turns it on, world = false or national = false (without
// one) off.
TEST(WhoUrl, OnByDefaultOnlyWithTheUpstreamNationalSource) {
  Config c;
  EXPECT_EQ(who_url(c), kDefaultWhoUrl);
  c.nyt_url = "us.csv";  // a national source of the user's own
  EXPECT_EQ(who_url(c), "");
  c.world = true;
  EXPECT_EQ(who_url(c), kDefaultWhoUrl);
  c.who_url = "who.csv";
  EXPECT_EQ(who_url(c), "who.csv");
  c.world = false;
  EXPECT_EQ(who_url(c), "");
  Config off;
  off.national = false;
  EXPECT_EQ(who_url(off), "");
  off.who_url = "who.csv";
  EXPECT_EQ(who_url(off), "who.csv");
  Config given;
  given.nyt_url = "us.csv";
  given.who_url = "who.csv";
  EXPECT_EQ(who_url(given), "who.csv");
}

// [sources] who and population, [quality] outlier_threshold: read, and taking effect (the world
// and populations datasets on with those files, even with a local national source).
TEST_F(ConfigFile, SourcesWhoPopulationAndOutlierThreshold) {
  Config base;
  base.nyt_url = "us.csv";  // alone, it would turn the world and populations off
  Result<Config> r = load(
      "[sources]\nwho = \"who.csv\"\npopulation = \"lookup.csv\"\n"
      "[quality]\noutlier_threshold = 4.5\n",
      base);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->who_url, "who.csv");
  EXPECT_EQ(who_url(*r), "who.csv");
  EXPECT_EQ(r->population_url, "lookup.csv");
  EXPECT_EQ(population_url(*r), "lookup.csv");
  EXPECT_EQ(r->outlier_threshold, 4.5);
  std::vector<std::string> on;
  for (const Dataset& d : datasets()) {
    if (d.enabled(*r)) on.push_back(d.name);
  }
  EXPECT_EQ(on, (std::vector<std::string>{"national", "world", "populations"}));
  Result<Config> none = load("", base);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(who_url(*none), "");
  EXPECT_EQ(population_url(*none), "");
  EXPECT_EQ(none->outlier_threshold, 10);
  Result<Config> bad = load("[quality]\noutlier_threshold = 0\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("'quality.outlier_threshold' must be a number above 0"),
            std::string::npos);
}

TEST_F(ConfigFile, AbsentKeysKeepTheBase) {
  Config base;
  base.db = "base.db";
  base.nyt_url = "nyt.csv";
  base.join = JoinKind::kInner;
  base.fetch.retries = 7;
  base.lock_timeout = std::chrono::milliseconds(99);

  Result<Config> empty = load("", base);
  ASSERT_TRUE(empty.ok()) << empty.status().message();
  EXPECT_EQ(show(*empty), show(base));

  Result<Config> some = load("[extract]\ntimeout_ms = 5\n[sources]\njhu = \"j.csv\"\n", base);
  ASSERT_TRUE(some.ok()) << some.status().message();
  Config expected = base;
  expected.fetch.timeout = std::chrono::milliseconds(5);
  expected.jhu_url = "j.csv";
  EXPECT_EQ(show(*some), show(expected));

  Result<Config> tables_only = load("[sources]\n[transform]\n[extract]\n[load]\n", base);
  ASSERT_TRUE(tables_only.ok()) << tables_only.status().message();
  EXPECT_EQ(show(*tables_only), show(base));
}

TEST_F(ConfigFile, JoinLeftOverInnerBase) {
  Config base;
  base.join = JoinKind::kInner;
  Result<Config> r = load("[transform]\njoin = \"left\"\n", base);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->join, JoinKind::kLeft);
}

TEST_F(ConfigFile, RangeLimitsAreInclusive) {
  Result<Config> r = load(
      "[extract]\nretries = 0\nbackoff_ms = 0\nbackoff_max_ms = 3600000\nmax_bytes = 1\n"
      "connect_timeout_ms = 3600000\ntimeout_ms = 86400000\n[load]\nlock_timeout_ms = 0\n");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->fetch.retries, 0);
  EXPECT_EQ(r->fetch.backoff_base.count(), 0);
  EXPECT_EQ(r->fetch.backoff_max.count(), 3600000);
  EXPECT_EQ(r->fetch.max_bytes, 1u);
  EXPECT_EQ(r->fetch.timeout.count(), 86400000);
  EXPECT_EQ(r->lock_timeout.count(), 0);
}

TEST_F(ConfigFile, UnknownKeysAreReportedAtTheKey) {
  expect_error("db = \"a.db\"\ncolour = 1\n", "2:1: unknown key 'colour'");
  expect_error("[extract]\n  retry = 2\n", "2:3: unknown key 'extract.retry'");
  expect_error("[sources]\nnyt = \"a\"\ncdc = \"b\"\n", "3:1: unknown key 'sources.cdc'");
  expect_error("[load]\nlock_timeout = 5\n",
               "2:1: unknown key 'load.lock_timeout' (did you mean 'lock_timeout_ms'?)");
  expect_error("[transform]\njoin = \"left\"\nhow = \"x\"\n", "3:1: unknown key 'transform.how'");
}

TEST_F(ConfigFile, WrongTypes) {
  expect_error("db = 5\n", "1:6: 'db' must be a string");
  expect_error("[sources]\nnyt = [\"a\"]\n", "2:7: 'sources.nyt' must be a string");
  expect_error("[extract]\nretries = \"3\"\n", "2:11: 'extract.retries' must be an integer");
  expect_error("[extract]\nretries = 3.0\n", "2:11: 'extract.retries' must be an integer");
  expect_error("[extract]\ntimeout_ms = true\n", "2:14: 'extract.timeout_ms' must be an integer");
  expect_error("sources = \"x\"\n", "1:11: 'sources' must be a table");
  expect_error("[transform]\njoin = 1\n", "2:8: 'transform.join' must be a string");
}

// Issue 15: the redirect policy's flag and the local debug of error bodies, both off by default.
TEST_F(ConfigFile, RedirectPolicyAndErrorBodyFlags) {
  Config c;
  EXPECT_FALSE(c.fetch.allow_private_targets);
  EXPECT_FALSE(c.fetch.log_error_bodies);
  Result<Config> r = load("[extract]\nallow_private_targets = true\nlog_error_bodies = true\n");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->fetch.allow_private_targets);
  EXPECT_TRUE(r->fetch.log_error_bodies);
  expect_error("[extract]\nallow_private_targets = \"yes\"\n",
               "2:25: 'extract.allow_private_targets' must be true or false");
  expect_error("[extract]\nlog_error_bodies = 1\n",
               "2:20: 'extract.log_error_bodies' must be true or false");
}

TEST_F(ConfigFile, OutOfRange) {
  expect_error("[extract]\nretries = 21\n", "2:11: 'extract.retries' must be between 0 and 20");
  expect_error("[extract]\nretries = -1\n", "2:11: 'extract.retries' must be between 0 and 20");
  expect_error("[extract]\ntimeout_ms = 0\n",
               "2:14: 'extract.timeout_ms' must be between 1 and 86400000");
  expect_error("[extract]\nmax_bytes = 0\n",
               "2:13: 'extract.max_bytes' must be between 1 and 1099511627776");
  expect_error("[extract]\nbackoff_max_ms = 3600001\n",
               "2:18: 'extract.backoff_max_ms' must be between 0 and 3600000");
  expect_error("[load]\nlock_timeout_ms = 86400001\n",
               "2:19: 'load.lock_timeout_ms' must be between 0 and 86400000");
}

TEST_F(ConfigFile, ServerLimits) {
  Config defaults;
  EXPECT_EQ(defaults.max_connections, 10'000u);
  EXPECT_EQ(defaults.max_connections_per_client, 64u);
  EXPECT_EQ(defaults.header_timeout.count(), 10'000);
  Result<Config> r = load(
      "[serve]\nmax_connections = 500\nmax_connections_per_client = 0\nheader_timeout_ms = 2500\n");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->max_connections, 500u);
  EXPECT_EQ(r->max_connections_per_client, 0u);  // no limit per client
  EXPECT_EQ(r->header_timeout.count(), 2500);
  expect_error("[serve]\nmax_connections = 0\n",
               "2:19: 'serve.max_connections' must be between 1 and 1000000");
  expect_error("[serve]\nmax_connections_per_client = -1\n",
               "2:30: 'serve.max_connections_per_client' must be between 0 and 1000000");
  expect_error("[serve]\nheader_timeout_ms = 0\n",
               "2:21: 'serve.header_timeout_ms' must be between 1 and 3600000");
  expect_error("[serve]\nheader_timeout = 10\n",
               "2:1: unknown key 'serve.header_timeout' (did you mean 'header_timeout_ms'?)");
}

TEST_F(ConfigFile, BadValues) {
  expect_error("[transform]\njoin = \"outer\"\n",
               "2:8: 'transform.join' must be \"left\" or \"inner\"");
  expect_error("db = \"\"\n", "1:6: 'db' must not be empty");
  expect_error("[sources]\njhu = \"\"\n", "2:7: 'sources.jhu' must not be empty");
}

TEST_F(ConfigFile, FirstErrorWins) {
  expect_error("db = 1\n[extract]\nretries = 99\n", "1:6: 'db' must be a string");
}

TEST_F(ConfigFile, SyntaxErrorNamesTheLine) {
  struct Case {
    std::string text, where;  // where: "file:line:" the message starts with
  };
  const Case cases[] = {
      {"db = \"a.db\"\nretries = = 3\n", ":2:"},
      {"db = \"a.db\"\n\n[extract\n", ":3:"},
      {"db = \"unterminated\n", ":1:"},
      {"db = \"a\"\ndb = \"b\"\n", ":2:"},  // a redefined key
  };
  for (const Case& c : cases) {
    Result<Config> r = load(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.status().kind(), ErrorKind::kUsage);
    EXPECT_TRUE(r.status().message().starts_with(file() + c.where))
        << c.text << " -> " << r.status().message();
  }
}

// Regression found by tests/fuzz/config_fuzz.cc under UBSan (seed
// regression-non-ascii-after-key.toml): toml++ 3.3 reached __builtin_unreachable (undefined
// behaviour: the optimiser may do anything) when it asked whether a non-ASCII character was
// whitespace, for code points in U+00A1..U+0499, U+2D6E..U+3167 and U+FB06..U+FEFE: after a key,
// after a value, and after the line-ending backslash of a multi-line string
// (marzer/tomlplusplus#190, #295). Fails under make test-asan without the fix in
// src/config/config.cc.
TEST_F(ConfigFile, NonAsciiCharactersWhereWhitespaceMayComeAreNotWhitespace) {
  struct Case {
    std::string text, where;  // where: "file:line:column:" the message starts with
  };
  const Case cases[] = {
      {"p\xd1\x9f", ":1:2:"},                              // U+045F after a bare key
      {"db = \"a.db\"\xc3\xa9\n", ":1:12:"},               // U+00E9 after a value
      {"[extract]\nretries = 3\xe3\x80\x81\n", ":2:12:"},  // U+3001 after a value
  };
  for (const Case& c : cases) {
    Result<Config> r = load(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.status().kind(), ErrorKind::kUsage);
    EXPECT_TRUE(r.status().message().starts_with(file() + c.where))
        << c.text << " -> " << r.status().message();
  }
  // Valid TOML: a line-ending backslash trims whitespace up to the "\xc2\xa7", which stays.
  Result<Config> ok = load("db = \"\"\"\\\n  \xc2\xa7.db\"\"\"\n");
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ(ok->db, "\xc2\xa7.db");
}

TEST(ConfigFileMissing, IsAUsageErrorNamingThePath) {
  TempDir dir;
  std::string path = dir.path("absent.toml");
  Result<Config> r = load_config_file(path, Config{});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().kind(), ErrorKind::kUsage);
  EXPECT_TRUE(r.status().message().starts_with(path + ": ")) << r.status().message();
}

// --- environment ------------------------------------------------------------------------------

TEST(ApplyEnvironment, SetsTheThreeVariables) {
  std::map<std::string, std::string> env = {{"COVID_ETL_DB", "/tmp/e.db"},
                                            {"COVID_ETL_NYT_URL", "http://n/us.csv"},
                                            {"COVID_ETL_JHU_URL", "http://j/jhu.csv"},
                                            {"COVID_ETL_RETRIES", "9"}};
  Config c;
  Config before = c;
  apply_environment(c, [&](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  });
  Config expected = before;
  expected.db = "/tmp/e.db";
  expected.nyt_url = "http://n/us.csv";
  expected.jhu_url = "http://j/jhu.csv";
  EXPECT_EQ(show(c), show(expected));
}

TEST(ApplyEnvironment, UnsetAndEmptyValuesAreIgnored) {
  std::map<std::string, std::string> env = {{"COVID_ETL_DB", ""}, {"COVID_ETL_JHU_URL", "j.csv"}};
  Config c;
  c.db = "keep.db";
  c.nyt_url = "keep.csv";
  apply_environment(c, [&](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  });
  EXPECT_EQ(c.db, "keep.db");
  EXPECT_EQ(c.nyt_url, "keep.csv");
  EXPECT_EQ(c.jhu_url, "j.csv");
}

}  // namespace
}  // namespace covid

namespace covid {
namespace {

// The annotations dataset: on by default only with the upstream national source; a source (file,
// environment) turns it on; [datasets] annotations = false turns it off.
TEST_F(ConfigFile, AnomaliesSourceAndDefault) {
  Config c;
  EXPECT_EQ(anomalies_url(c), kDefaultAnomaliesUrl);
  c.national = false;
  EXPECT_EQ(anomalies_url(c), "");
  c.national = true;
  c.nyt_url = "us.csv";
  EXPECT_EQ(anomalies_url(c), "");
  c.annotations = true;
  EXPECT_EQ(anomalies_url(c), kDefaultAnomaliesUrl);
  Result<Config> r = load("[sources]\nanomalies = \"a.csv\"\n[datasets]\nannotations = false\n");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->anomalies_url, "a.csv");
  EXPECT_EQ(anomalies_url(*r), "");
  r = load("[sources]\nanomalies = \"a.csv\"\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(anomalies_url(*r), "a.csv");
  Config e;
  e.nyt_url = "us.csv";
  apply_environment(e, [](const char* name) -> const char* {
    return std::string_view(name) == "COVID_ETL_ANOMALIES_URL" ? "env.csv" : nullptr;
  });
  EXPECT_EQ(anomalies_url(e), "env.csv");
}

// The [datasets] switches are the registry's datasets, in its order, and each turns its own
// dataset off and no other (with every source configured, each is on to begin with).
TEST(DatasetSwitches, OneForEachDatasetOfTheRegistry) {
  std::vector<std::string> switches, registry;
  for (const DatasetSwitch& d : dataset_switches()) switches.push_back(d.name);
  for (const Dataset& d : datasets()) registry.push_back(d.name);
  EXPECT_EQ(switches, registry);
  Config all;
  all.states_urls = {"s.csv"};
  all.counties_urls = {"c.csv"};
  all.who_url = "w.csv";
  all.population_url = "p.csv";
  all.anomalies_url = "a.csv";
  for (const DatasetSwitch& off : dataset_switches()) {
    Config c = all;
    off.set(c, false);
    for (const Dataset& d : datasets())
      EXPECT_EQ(d.enabled(c), std::string(d.name) != off.name) << off.name << " off: " << d.name;
  }
}

}  // namespace
}  // namespace covid
