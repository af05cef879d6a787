// Unit tests of what a new user meets first (issue 20): the suggestions for mistyped names
// (common/suggest.h), in the configuration's messages too; locations by name
// (serve/locations.h LocationIndex::resolve); the warning for half a local pair of sources
// (config.h) and the hint of a run whose source could not be reached (run_summary.h).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/suggest.h"
#include "config/config.h"
#include "pipeline/run_summary.h"
#include "serve/locations.h"

namespace covid {
namespace {

TEST(Suggest, EditDistanceCountsSwapsAsOneAndIgnoresCase) {
  EXPECT_EQ(edit_distance("run", "run"), 0u);
  EXPECT_EQ(edit_distance("runn", "run"), 1u);
  EXPECT_EQ(edit_distance("histroy", "history"), 1u);  // a swap of neighbours
  EXPECT_EQ(edit_distance("STATE", "states"), 1u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
}

TEST(Suggest, NearestNamesWithinTheDistanceNearestFirst) {
  const std::vector<std::string> commands = {"run",   "export", "history", "notify",
                                             "serve", "daemon", "lambda"};
  EXPECT_EQ(nearest_names("runn", commands), std::vector<std::string>{"run"});
  EXPECT_EQ(nearest_names("exprot", commands), std::vector<std::string>{"export"});
  EXPECT_EQ(nearest_names("xyz", commands), std::vector<std::string>{});
  EXPECT_EQ(did_you_mean("runn", commands), " (did you mean 'run'?)");
  EXPECT_EQ(did_you_mean("--nyy", {"--help", "--nyt", "--jhu", "--who"}),
            " (did you mean '--nyt'?)");
  EXPECT_EQ(did_you_mean("zzzz", commands), "");
  EXPECT_EQ(did_you_mean("--dbb", {"--db", "--jhu", "--dba"}),
            " (did you mean '--db' or '--dba'?)");
}

// A well-known alias is offered only when no name is near what was typed, and only where the name
// it stands for is valid.
TEST(Suggest, AKnownAliasWhenNoNameIsNear) {
  const KnownAlias aliases[] = {{"--port", "--listen HOST:PORT"}, {"--annotations", "--anomalies"}};
  const std::vector<std::string> serve = {"--help", "--config", "--db", "--listen"};
  EXPECT_EQ(did_you_mean("--port", serve), "");
  EXPECT_EQ(did_you_mean("--port", serve, aliases), " (did you mean '--listen HOST:PORT'?)");
  EXPECT_EQ(did_you_mean("--PORT", serve, aliases), " (did you mean '--listen HOST:PORT'?)");
  EXPECT_EQ(did_you_mean("--ports", serve, aliases), "");        // aliases are exact, not near
  EXPECT_EQ(did_you_mean("--annotations", serve, aliases), "");  // --anomalies is not valid here
  EXPECT_EQ(did_you_mean("--annotations", {"--anomalies", "--nyt"}, aliases),
            " (did you mean '--anomalies'?)");
  // The edit distance first: a near name wins over an alias.
  const KnownAlias near_db[] = {{"--dbb", "--listen HOST:PORT"}};
  EXPECT_EQ(did_you_mean("--dbb", serve, near_db), " (did you mean '--db'?)");
}

class ConfigSuggestions : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/covid-etl-first-hour-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string message(const std::string& text) {
    std::string path = dir_ + "/c.toml";
    std::ofstream(path) << text;
    Result<Config> r = load_config_file(path, Config());
    EXPECT_FALSE(r.ok());
    return r.ok() ? "" : r.status().message().substr(path.size());
  }
  std::string dir_;
};

TEST_F(ConfigSuggestions, UnknownKeysNameTheNearestOne) {
  EXPECT_EQ(message("[datasets]\nstate = true\n"),
            ":2:1: unknown key 'datasets.state' (did you mean 'states'?)");
  EXPECT_EQ(message("[sources]\nnty = \"x\"\n"),
            ":2:1: unknown key 'sources.nty' (did you mean 'nyt'?)");
  EXPECT_EQ(message("[dataset]\nstates = true\n"),
            ":1:2: unknown key 'dataset' (did you mean 'datasets'?)");
  EXPECT_EQ(message("colour = 1\n"), ":1:1: unknown key 'colour'");
}

TEST(MixedSources, HalfALocalPairIsWarnedWithTheFlagToAdd) {
  Config c;
  EXPECT_TRUE(mixed_source_warnings(c).empty());  // both upstream
  c.nyt_url = "us.csv";
  ASSERT_EQ(mixed_source_warnings(c).size(), 1u);
  EXPECT_EQ(mixed_source_warnings(c)[0],
            std::string("--nyt is a local file but --jhu is not given: JHU's recoveries will be "
                        "downloaded from ") +
                kDefaultJhuUrl +
                "; to run from local files only, add --jhu FILE (a copy of "
                "time-series-19-covid-combined.csv)");
  c.jhu_url = "jhu.csv";
  EXPECT_TRUE(mixed_source_warnings(c).empty());  // both local
  c.jhu_url = "https://example.org/jhu.csv";
  EXPECT_TRUE(mixed_source_warnings(c).empty());  // a JHU source of the user's own
  Config d;
  d.jhu_url = "file:///data/jhu.csv";
  ASSERT_EQ(mixed_source_warnings(d).size(), 1u);
  EXPECT_NE(mixed_source_warnings(d)[0].find("add --nyt FILE --states FILE"), std::string::npos);
  d.states_urls = {"states.csv"};
  EXPECT_NE(mixed_source_warnings(d)[0].find("add --nyt FILE (copies"), std::string::npos);
}

TEST(UnreachableHint, OnlyForASourceOverHttpThatGaveNoAnswer) {
  RunSummary s;
  s.status = RunStatus::kFailed;
  s.failure = Status::Extract("https://example.org/us.csv: Couldn't resolve host name");
  SourceReport r;
  r.name = "nyt";
  r.url = "https://example.org/us.csv";
  s.sources = {r};
  const std::string hint = unreachable_hint(s);
  EXPECT_NE(hint.find("covid-etl run --nyt FILE --jhu FILE --states FILE"), std::string::npos);
  EXPECT_NE(to_text(s).find(hint), std::string::npos);
  // The flags are those of the datasets the run loads (pipeline/datasets.h).
  s.datasets = {"national", "states", "world", "populations", "annotations"};
  EXPECT_NE(unreachable_hint(s).find("covid-etl run --nyt FILE --jhu FILE --states FILE --who FILE "
                                     "--population FILE --anomalies FILE\n"),
            std::string::npos);
  s.datasets = {"states", "world"};  // [datasets] national = false, the WHO's URL unreachable
  EXPECT_NE(unreachable_hint(s).find("covid-etl run --states FILE --who FILE\n"),
            std::string::npos);
  EXPECT_NE(unreachable_hint(s).find("(the NYT's us-states.csv, the WHO's "
                                     "WHO-COVID-19-global-data.csv; with make: make run "
                                     "RUN_ARGS=\"--states FILE --who FILE\")"),
            std::string::npos);
  EXPECT_EQ(unreachable_hint(s).find("--nyt"), std::string::npos);
  s.datasets = {};
  s.sources[0].http_status = 404;  // an answer: the URL is wrong, not the network
  EXPECT_EQ(unreachable_hint(s), "");
  s.sources[0] = r;
  s.sources[0].url = "/data/us.csv";  // a local file that is missing
  EXPECT_EQ(unreachable_hint(s), "");
  s.sources[0] = r;
  s.failure = Status::InvalidData("bad rows");
  EXPECT_EQ(unreachable_hint(s), "");
}

std::vector<Location> places() {
  return {
      {"01129", "county", "Washington", "Alabama", "01129"},
      {"06", "state", "California", "", "06"},
      {"06037", "county", "Los Angeles", "California", "06037"},
      {"06:Unknown", "county", "Unknown", "California", ""},
      {"36", "state", "New York", "", "36"},
      {"36061", "county", "New York", "New York", "36061"},
      {"37", "state", "North Carolina", "", "37"},
      {"38", "state", "North Dakota", "", "38"},
      {"41067", "county", "Washington", "Oregon", "41067"},
      {"FRA", "country", "France", "", ""},
      {"US", "nation", "United States", "", ""},
  };
}

std::string resolved(const serve::LocationIndex& index, const std::string& text) {
  auto r = index.resolve(text);
  return r.location != nullptr ? r.location->id : "(none) " + serve::unresolved_message(text, r);
}

TEST(LocationsByName, IdsNamesLabelsAndFipsWithoutZero) {
  serve::LocationIndex index(places());
  EXPECT_EQ(resolved(index, "06"), "06");
  EXPECT_EQ(resolved(index, "6"), "06");
  EXPECT_EQ(resolved(index, "6037"), "06037");
  EXPECT_EQ(resolved(index, "us"), "US");
  EXPECT_EQ(resolved(index, "fra"), "FRA");
  EXPECT_EQ(resolved(index, "France"), "FRA");
  EXPECT_EQ(resolved(index, "California"), "06");
  EXPECT_EQ(resolved(index, "  cALIFORNIA "), "06");
  EXPECT_EQ(resolved(index, "Los Angeles, California"), "06037");
  EXPECT_EQ(resolved(index, "los angeles"), "06037");  // the only location of that name
  EXPECT_EQ(resolved(index, "New York"), "36");        // the label, before the county's name
  EXPECT_EQ(resolved(index, "New York, New York"), "36061");
  EXPECT_EQ(resolved(index, "Washington, Oregon"), "41067");
}

// The NYT's national US and the WHO's USA are both "United States"; the NYT's state Georgia and
// the WHO's country too: the WHO's are labelled with their source, and a name both have says
// each one's source.
TEST(LocationsByName, NamesOfTwoSourcesSayTheirSource) {
  std::vector<Location> list = places();
  list.push_back({"USA", "country", "United States", "", ""});
  list.push_back({"13", "state", "Georgia", "", "13"});
  list.push_back({"GEO", "country", "Georgia", "", ""});
  serve::LocationIndex index(list);
  EXPECT_EQ(index.label(*index.find("USA")), "United States (WHO)");
  EXPECT_EQ(index.label(*index.find("GEO")), "Georgia (WHO)");
  EXPECT_EQ(index.label(*index.find("US")), "United States");
  EXPECT_EQ(index.label(*index.find("13")), "Georgia");
  EXPECT_EQ(index.label(*index.find("FRA")), "France");  // no other France
  EXPECT_EQ(resolved(index, "United States"),
            "(none) 'United States' names several locations: United States (US, The New York "
            "Times, Johns Hopkins University); United States (USA, World Health Organization); "
            "give the id or \"Name, State\"");
  EXPECT_EQ(resolved(index, "united states (who)"), "USA");
  EXPECT_EQ(resolved(index, "Georgia (WHO)"), "GEO");
}

TEST(LocationsByName, AmbiguousAndUnknownListTheClosest) {
  serve::LocationIndex index(places());
  EXPECT_EQ(resolved(index, "Washington"),
            "(none) 'Washington' names several locations: Washington, Alabama (01129); "
            "Washington, Oregon (41067); give the id or \"Name, State\"");
  EXPECT_EQ(resolved(index, "Califronia"),
            "(none) unknown location 'Califronia'; the closest: California (06)");
  EXPECT_EQ(resolved(index, "North"),
            "(none) unknown location 'North'; the closest: North Carolina (37); North Dakota (38)");
  EXPECT_EQ(resolved(index, "Atlantis"), "(none) unknown location 'Atlantis'");
  EXPECT_EQ(serve::pad_fips("6"), "06");
  EXPECT_EQ(serve::pad_fips("06"), "06");
  EXPECT_EQ(serve::pad_fips("6037"), "06037");
  EXPECT_EQ(serve::pad_fips("abc"), "abc");
}

}  // namespace
}  // namespace covid
