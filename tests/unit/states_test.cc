// The states and counties datasets: StatesReader's and CountiesReader's rows and diagnostics, the
// rules that decide which files a run loads (states_urls, counties_urls), the [datasets] and
// [sources] keys, and the per-level counts of a run (count_levels).
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <unistd.h>
#include <string>
#include <vector>

#include "common/clock.h"
#include "config/config.h"
#include "extract/csv_reader.h"
#include "load/classify.h"
#include "pipeline/run_summary.h"
#include "transform/nyt_counties.h"
#include "transform/nyt_states.h"
#include "test_support.h"

namespace covid {
namespace {

using test::FixedClock;
using test::show;
using test::Strings;

const FixedClock kClock;

void read_into(TableReader& table, std::string_view text, size_t chunk = 5) {
  test::read_into(table, text, chunk);
}




Strings show(const std::vector<Observation>& rows) {
  Strings out;
  for (const Observation& o : rows) {
    EXPECT_EQ(o.recovered, kUnknown);
    out.push_back(o.location + " " + format_date(o.date) + " " + std::to_string(o.cases) + "/" +
                  std::to_string(o.deaths));
  }
  return out;
}

const char* kHeader = "date,state,fips,cases,deaths\n";

TEST(StatesReader, RowsSortedByLocationThenDateWithPaddedFips) {
  StatesReader r("s.csv", kClock);
  read_into(r, std::string(kHeader) +
                   "2020-03-01,Washington,53,5,1\n"
                   "2020-03-01,California,6,3,0\n"
                   "2020-03-02,California,06,4,0\n"
                   "2020-03-02,Washington,53,6,2\n");
  EXPECT_TRUE(show(r.diagnostics().errors()).empty()) << show(r.diagnostics().errors())[0];
  EXPECT_EQ(show(r.rows()), (Strings{"06 2020-03-01 3/0", "06 2020-03-02 4/0", "53 2020-03-01 5/1",
                                     "53 2020-03-02 6/2"}));
  std::vector<Location> l = r.locations();
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(l[0].id + "|" + l[0].type + "|" + l[0].name + "|" + l[0].fips, "06|state|California|06");
  EXPECT_EQ(l[1].id + "|" + l[1].name, "53|Washington");
}

TEST(StatesReader, BadValuesAreErrorsWithTheirPlace) {
  StatesReader r("s.csv", kClock);
  read_into(r, std::string(kHeader) +
                   "2020-03-01,Texas,4X,1,0\n"
                   "2020-03-01,Texas,,1,0\n"
                   "2020-03-01,,48,1,0\n"
                   "2020-03-01,California,06,-1,0\n"
                   "2020-03-02,California,06,1,0\n"
                   "2020-03-02,California,6,2,0\n"
                   "2020-03-03,Nevada,06,2,0\n");
  EXPECT_EQ(show(r.diagnostics().errors()),
            (Strings{"s.csv:2:18: fips: '4X' is not a 2-digit state FIPS code",
                     "s.csv:3:18: fips: empty value",
                     "s.csv:4:12: state: empty value",
                     "s.csv:5:26: cases: '-1' is negative",
                     "s.csv:7:1: fips 06 on 2020-03-02 appears twice (first on line 6)",
                     "s.csv:8:12: state: FIPS 06 is 'Nevada' here but 'California' on line 6"}));
}

TEST(StatesReader, ANameMustBeCleanUtf8Text) {
  // Names are stored (the locations table) and shown: invalid UTF-8 (a Latin-1 copy), a control
  // character or a byte order mark (files joined together) is an error, quoted escaped.
  StatesReader r("s.csv", kClock);
  read_into(r, std::string(kHeader) +
                   "2020-03-01,Calif\xf3rnia,06,1,0\n"
                   "2020-03-01,\xef\xbb\xbfWashington,53,1,0\n"
                   "2020-03-01,New\x01York,36,1,0\n"
                   "2020-03-01,Texas,48,1,0\n");
  EXPECT_EQ(show(r.diagnostics().errors()),
            (Strings{"s.csv:2:12: state: 'Calif\\xf3rnia' is not valid UTF-8 (byte 6)",
                     "s.csv:3:12: state: '\\xef\\xbb\\xbfWashington' contains a byte order mark (U+FEFF, "
                     "byte 1: files joined together?)",
                     "s.csv:4:12: state: 'New\\x01York' contains a control character (byte 4)"}));
}

TEST(StatesReader, ADecreaseWithinAStateIsAWarningNotAcrossStates) {
  StatesReader r("s.csv", kClock);
  read_into(r, std::string(kHeader) +
                   "2020-03-01,California,06,9,2\n"
                   "2020-03-01,Washington,53,1,0\n"
                   "2020-03-02,California,06,8,2\n"
                   "2020-03-02,Washington,53,2,0\n");
  EXPECT_TRUE(r.diagnostics().errors().empty());
  EXPECT_EQ(show(r.diagnostics().warnings()),
            (Strings{"s.csv:4:26: cases of California went down from 9 on 2020-03-01 to 8 on "
                     "2020-03-02 (a revision upstream; loaded as given)"}));
}

TEST(StatesReader, RestartForgetsEverything) {
  StatesReader r("s.csv", kClock);
  read_into(r, std::string(kHeader) + "2020-03-01,California,06,9,2\n");
  r.restart();
  read_into(r, std::string(kHeader) + "2020-03-01,California,06,9,2\n");
  EXPECT_TRUE(r.diagnostics().errors().empty());
  EXPECT_EQ(r.rows().size(), 1u);
}

TEST(StatesUrls, OnByDefaultOnlyWithTheUpstreamNationalSource) {
  Config c;
  EXPECT_EQ(states_urls(c), (Strings{kDefaultStatesUrl}));
  c.nyt_url = "local/us.csv";
  EXPECT_TRUE(states_urls(c).empty());
  c.states = true;
  EXPECT_EQ(states_urls(c), (Strings{kDefaultStatesUrl}));
  c.states_urls = {"a.csv", "b.csv"};
  EXPECT_EQ(states_urls(c), (Strings{"a.csv", "b.csv"}));
  c.states = false;
  EXPECT_TRUE(states_urls(c).empty());
  c.states.reset();
  EXPECT_EQ(states_urls(c), (Strings{"a.csv", "b.csv"}));
}

TEST(StatesConfig, SourcesAndDatasetsKeys) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("covid-etl-states-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  auto load = [&](const std::string& text) {
    std::string p = (dir / "c.toml").string();
    std::ofstream(p) << text;
    return load_config_file(p, Config{});
  };
  auto one = load("[sources]\nstates = \"s.csv\"\n[datasets]\nnational = false\nstates = true\n");
  ASSERT_TRUE(one.ok()) << one.status().message();
  EXPECT_EQ(one->states_urls, (Strings{"s.csv"}));
  EXPECT_FALSE(one->national);
  EXPECT_EQ(one->states, std::optional<bool>(true));
  auto list = load("[sources]\nstates = [\"a.csv\", \"b.csv\"]\n");
  ASSERT_TRUE(list.ok()) << list.status().message();
  EXPECT_EQ(list->states_urls, (Strings{"a.csv", "b.csv"}));
  EXPECT_FALSE(list->states.has_value());
  for (const char* bad : {"[datasets]\nstates = 1\n", "[datasets]\ncounties = \"yes\"\n",
                          "[datasets]\ncities = true\n", "[sources]\nstates = [1]\n",
                          "[sources]\nstates = []\n"}) {
    auto r = load(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.status().kind(), ErrorKind::kUsage) << bad;
    }
  }
  EXPECT_TRUE(load("[datasets]\ncounties = false\n").ok());
  Config env;
  apply_environment(env, [](const char* name) -> const char* {
    return std::string_view(name) == "COVID_ETL_STATES_URL" ? "e.csv" : nullptr;
  });
  EXPECT_EQ(env.states_urls, (Strings{"e.csv"}));
  EXPECT_EQ(env.states, std::optional<bool>(true));
  fs::remove_all(dir);
}

const char* kCountiesHeader = "date,county,state,fips,cases,deaths\n";

std::string n(int64_t v) { return v == kUnknown ? "?" : std::to_string(v); }

TEST(CountiesReader, FipsOrStateAndNameWithUnknownDeaths) {
  CountiesReader r("c.csv", kClock);
  read_into(r, std::string(kCountiesHeader) +
                   "2020-03-01,Los Angeles,California,06037,5,1\n"
                   "2020-03-01,New York City,New York,,9,\n"
                   "2020-03-01,Unknown,New York,,1,0\n"
                   "2020-03-01,Unknown,California,,2,0\n"
                   "2020-03-02,Los Angeles,California,06037,6,\n");
  ASSERT_TRUE(r.diagnostics().errors().empty()) << show(r.diagnostics().errors())[0];
  Strings rows;
  for (const Observation& o : r.rows()) {
    rows.push_back(o.location + " " + format_date(o.date) + " " + n(o.cases) + "/" + n(o.deaths) + "/" + n(o.recovered));
  }
  EXPECT_EQ(rows, (Strings{"06037 2020-03-01 5/1/?", "06037 2020-03-02 6/?/?", "06:Unknown 2020-03-01 2/0/?",
                           "36:New York City 2020-03-01 9/?/?", "36:Unknown 2020-03-01 1/0/?"}));
  Strings locations;
  for (const Location& l : r.locations()) locations.push_back(l.id + "|" + l.type + "|" + l.name + "|" + l.state + "|" + l.fips);
  EXPECT_EQ(locations, (Strings{"06037|county|Los Angeles|California|06037", "06:Unknown|county|Unknown|California|",
                                "36:New York City|county|New York City|New York|", "36:Unknown|county|Unknown|New York|"}));
}

TEST(CountiesReader, BadValuesAreErrorsWithTheirPlace) {
  CountiesReader r("c.csv", kClock);
  read_into(r, std::string(kCountiesHeader) +
                   "2020-03-01,Los Angeles,California,6037,5,1\n"
                   "2020-03-01,Unknown,Atlantis,,1,0\n"
                   "2020-03-01,Los Angeles,California,06037,,1\n"
                   "2020-03-01,Los Angeles,California,06037,5,1\n"
                   "2020-03-01,Los Angeles,California,06037,5,1\n");
  EXPECT_EQ(show(r.diagnostics().errors()),
            (Strings{"c.csv:2:35: fips: '6037' is not a 5-digit county FIPS code",
                     "c.csv:3:20: state: 'Atlantis' is not a state or territory NYT names (needed for a county without FIPS)",
                     "c.csv:4:41: cases: empty value",
                     "c.csv:6:1: location 06037 on 2020-03-01 appears twice (first on line 5)"}));
}

TEST(CountiesReader, NamesMustBeCleanUtf8Text) {
  CountiesReader r("c.csv", kClock);
  read_into(r, std::string(kCountiesHeader) +
                   "2020-03-01,Do\xf1" "a Ana,New Mexico,35013,1,0\n"
                   "2020-03-01,Los\tAngeles,California,06037,1,0\n"
                   "2020-03-01,Unknown,New York\xc3,,1,0\n"
                   "2020-03-01,\xef\xbb\xbfUnknown,Texas,,1,0\n"
                   "2020-03-01,Do\xc3\xb1" "a Ana,New Mexico,35013,1,0\n");
  EXPECT_EQ(show(r.diagnostics().errors()),
            (Strings{"c.csv:2:12: county: 'Do\\xf1" "a Ana' is not valid UTF-8 (byte 3)",
                     "c.csv:3:12: county: 'Los\\x09Angeles' contains a control character (byte 4)",
                     "c.csv:4:20: state: 'New York\\xc3' is not valid UTF-8 (byte 9)",
                     "c.csv:4:20: state: 'New York\\xc3' is not a state or territory NYT names (needed for a "
                     "county without FIPS)",
                     "c.csv:5:12: county: '\\xef\\xbb\\xbfUnknown' contains a byte order mark (U+FEFF, "
                     "byte 1: files joined together?)"}));
}

TEST(CountiesUrls, OffByDefaultOnWithASource) {
  Config c;
  EXPECT_TRUE(counties_urls(c).empty());
  c.counties = true;
  EXPECT_EQ(counties_urls(c), (Strings{kDefaultCountiesUrl}));
  c.counties_urls = {"c.csv"};
  c.counties.reset();
  EXPECT_EQ(counties_urls(c), (Strings{"c.csv"}));
  c.counties = false;
  EXPECT_TRUE(counties_urls(c).empty());
}

Observation obs(const std::string& location, int day, int64_t cases) {
  Observation o;
  o.location = location;
  o.date = Date{18322 + day};  // 2020-03-01 + day
  o.cases = cases;
  o.deaths = 0;
  return o;
}

TEST(CountLevels, CountsEachLevelAndTheLocationsThatChanged) {
  std::vector<Observation> stored = {obs("06", 0, 1), obs("06", 1, 2), obs("53", 0, 1), obs("US", 0, 2)};
  std::vector<Observation> incoming = {obs("06", 0, 1), obs("06", 1, 3), obs("06", 2, 4),
                                       obs("53", 0, 1), obs("US", 0, 2), obs("US", 1, 5)};
  ChangeSet c = classify(stored, incoming);
  auto levels = count_levels(c, incoming);
  ASSERT_EQ(levels.size(), 2u);
  const LevelCounts& s = levels["state"];
  EXPECT_EQ(s.locations, 2u);
  EXPECT_EQ(s.locations_changed, 1u);
  EXPECT_EQ(s.inserted, 1u);
  EXPECT_EQ(s.updated, 1u);
  EXPECT_EQ(s.unchanged, 2u);
  EXPECT_EQ(s.last_changed, "2020-03-03");
  const LevelCounts& n = levels["nation"];
  EXPECT_EQ(n.locations, 1u);
  EXPECT_EQ(n.inserted, 1u);
  EXPECT_EQ(n.unchanged, 1u);
  EXPECT_EQ(n.last_changed, "2020-03-02");
}

}  // namespace
}  // namespace covid
