// The states and counties datasets: StatesReader's and CountiesReader's rows and diagnostics, the
// rules that decide which files a run loads (states_urls, counties_urls), the [datasets] and
// [sources] keys, and the per-level counts of a run (count_levels).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "config/config.h"
#include "extract/csv_reader.h"
#include "load/classify.h"
#include "pipeline/run_summary.h"
#include "test_support.h"
#include "transform/nyt_counties.h"
#include "transform/nyt_states.h"
#include "transform/state_fips.h"

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
  EXPECT_EQ(l[0].id + "|" + l[0].type + "|" + l[0].name + "|" + l[0].fips,
            "06|state|California|06");
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
  EXPECT_EQ(
      show(r.diagnostics().errors()),
      (Strings{"s.csv:2:18: fips: '4X' is not a 2-digit state FIPS code",
               "s.csv:3:18: fips: empty value", "s.csv:4:12: state: empty value",
               "s.csv:5:26: cases: '-1' is negative",
               "s.csv:7:1: fips 06 on 2020-03-02 appears twice (first on line 6)",
               "s.csv:8:19: fips: '06' is the FIPS code of California, not of 'Nevada' (32)"}));
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
  EXPECT_EQ(
      show(r.diagnostics().errors()),
      (Strings{"s.csv:2:12: state: 'Calif\\xf3rnia' is not valid UTF-8 (byte 6)",
               "s.csv:3:12: state: '\\xef\\xbb\\xbfWashington' contains a byte order mark (U+FEFF, "
               "byte 1: files joined together?)",
               "s.csv:4:12: state: 'New\\x01York' contains a control character (byte 4)"}));
}

TEST(StatesReader, TheFipsCodeMustBeTheNamedStatesOrTerritorys) {
  // Each row's code against the Census list (transform/state_fips.h) and its name against the
  // code's, at the fips field: a code that is no state's or territory's, and a name that is not
  // its code's exactly as NYT spells it, would otherwise overwrite a location's name.
  struct Case {
    std::string row;
    std::string error;  // "" when the row is valid
  };
  const Case cases[] = {
      {"2020-03-01,California,06,1,0", ""},
      {"2020-03-01,California,6,1,0", ""},
      {"2020-03-01,Alabama,01,1,0", ""},
      {"2020-03-01,Wyoming,56,1,0", ""},
      {"2020-03-01,District of Columbia,11,1,0", ""},
      {"2020-03-01,American Samoa,60,1,0", ""},
      {"2020-03-01,Guam,66,1,0", ""},
      {"2020-03-01,Northern Mariana Islands,69,1,0", ""},
      {"2020-03-01,Puerto Rico,72,1,0", ""},
      {"2020-03-01,Virgin Islands,78,1,0", ""},
      {"2020-03-01,California,36,1,0",
       "s.csv:2:23: fips: '36' is the FIPS code of New York, not of 'California' (06)"},
      {"2020-03-01,Texas,6,1,0",
       "s.csv:2:18: fips: '6' is the FIPS code of California, not of 'Texas' (48)"},
      {"2020-03-01,Atlantis,06,1,0",
       "s.csv:2:21: fips: '06' is the FIPS code of California, not of 'Atlantis' (not a state or "
       "territory NYT names)"},
      {"2020-03-01,california,06,1,0",
       "s.csv:2:23: fips: '06' is the FIPS code of California, not of 'california' (not a state or "
       "territory NYT names)"},
      {"2020-03-01,California ,06,1,0",
       "s.csv:2:24: fips: '06' is the FIPS code of California, not of 'California ' (not a state "
       "or territory NYT names)"},
      {"2020-03-01,US Virgin Islands,78,1,0",
       "s.csv:2:30: fips: '78' is the FIPS code of Virgin Islands, not of 'US Virgin Islands' (not "
       "a state or territory "
       "NYT names)"},
      {"2020-03-01,California,00,1,0",
       "s.csv:2:23: fips: '00' is the FIPS code of no state or territory"},
      {"2020-03-01,California,0,1,0",
       "s.csv:2:23: fips: '0' is the FIPS code of no state or territory"},
      {"2020-03-01,California,99,1,0",
       "s.csv:2:23: fips: '99' is the FIPS code of no state or territory"},
      {"2020-03-01,California,03,1,0",
       "s.csv:2:23: fips: '03' is the FIPS code of no state or territory"},
      {"2020-03-01,California,57,1,0",
       "s.csv:2:23: fips: '57' is the FIPS code of no state or territory"},
      {"2020-03-01,Palau,70,1,0",
       "s.csv:2:18: fips: '70' is the FIPS code of no state or territory"},
      {"2020-03-01,U.S. Minor Outlying Islands,74,1,0",
       "s.csv:2:40: fips: '74' is the FIPS code of no state or territory"},
  };
  for (const Case& c : cases) {
    StatesReader r("s.csv", kClock);
    read_into(r, std::string(kHeader) + c.row + "\n");
    Strings errors = show(r.diagnostics().errors());
    EXPECT_EQ(errors, c.error.empty() ? Strings{} : Strings{c.error}) << c.row;
    EXPECT_EQ(r.rows().size(), c.error.empty() ? 1u : 0u) << c.row;
  }
}

TEST(StatesReader, NamesWithBidiControlsOrInvisibleCharactersAreRefused) {
  StatesReader r("s.csv", kClock);
  read_into(r, std::string(kHeader) +
                   "2020-03-01,Texas\xe2\x80\xae,48,1,0\n"
                   "2020-03-01,Tex\xe2\x80\x8b"
                   "as,48,1,0\n"
                   "2020-03-01,Texas\xc2\x85,48,1,0\n"
                   "2020-03-01,Texas,48,1,0\n");
  EXPECT_EQ(
      show(r.diagnostics().errors()),
      (Strings{
          "s.csv:2:12: state: 'Texas\\xe2\\x80\\xae' contains a bidirectional control (U+202E, "
          "byte 6: "
          "it would reorder the text shown after it)",
          "s.csv:3:12: state: 'Tex\\xe2\\x80\\x8bas' contains an invisible character (U+200B, byte "
          "4)",
          "s.csv:4:12: state: 'Texas\\xc2\\x85' contains a control character (U+0085, byte 6)"}));
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
  for (const char* bad :
       {"[datasets]\nstates = 1\n", "[datasets]\ncounties = \"yes\"\n",
        "[datasets]\ncities = true\n", "[sources]\nstates = [1]\n", "[sources]\nstates = []\n"}) {
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
    rows.push_back(o.location + " " + format_date(o.date) + " " + n(o.cases) + "/" + n(o.deaths) +
                   "/" + n(o.recovered));
  }
  EXPECT_EQ(rows, (Strings{"06037 2020-03-01 5/1/?", "06037 2020-03-02 6/?/?",
                           "06:Unknown 2020-03-01 2/0/?", "36:New York City 2020-03-01 9/?/?",
                           "36:Unknown 2020-03-01 1/0/?"}));
  Strings locations;
  for (const Location& l : r.locations())
    locations.push_back(l.id + "|" + l.type + "|" + l.name + "|" + l.state + "|" + l.fips);
  EXPECT_EQ(locations, (Strings{"06037|county|Los Angeles|California|06037",
                                "06:Unknown|county|Unknown|California|",
                                "36:New York City|county|New York City|New York|",
                                "36:Unknown|county|Unknown|New York|"}));
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
                     "c.csv:3:20: state: 'Atlantis' is not a state or territory NYT names (needed "
                     "for a county without FIPS)",
                     "c.csv:4:41: cases: empty value",
                     "c.csv:6:1: location 06037 on 2020-03-01 appears twice (first on line 5)"}));
}

TEST(CountiesReader, NamesMustBeCleanUtf8Text) {
  CountiesReader r("c.csv", kClock);
  read_into(r, std::string(kCountiesHeader) +
                   "2020-03-01,Do\xf1"
                   "a Ana,New Mexico,35013,1,0\n"
                   "2020-03-01,Los\tAngeles,California,06037,1,0\n"
                   "2020-03-01,Unknown,New York\xc3,,1,0\n"
                   "2020-03-01,\xef\xbb\xbfUnknown,Texas,,1,0\n"
                   "2020-03-01,Do\xc3\xb1"
                   "a Ana,New Mexico,35013,1,0\n");
  EXPECT_EQ(
      show(r.diagnostics().errors()),
      (Strings{
          "c.csv:2:12: county: 'Do\\xf1"
          "a Ana' is not valid UTF-8 (byte 3)",
          "c.csv:3:12: county: 'Los\\x09Angeles' contains a control character (byte 4)",
          "c.csv:4:20: state: 'New York\\xc3' is not valid UTF-8 (byte 9)",
          "c.csv:4:20: state: 'New York\\xc3' is not a state or territory NYT names (needed for a "
          "county without FIPS)",
          "c.csv:5:12: county: '\\xef\\xbb\\xbfUnknown' contains a byte order mark (U+FEFF, "
          "byte 1: files joined together?)"}));
}

TEST(CountiesReader, TheFipsCodeMustBeACountyOfTheNamedState) {
  // The first two digits of a county's code are its state's: they must be a state's or
  // territory's, and the state the row names. The county part is not looked up (gen-nyt-like's
  // counties have made-up codes), but 000 is no county (it is the whole state).
  struct Case {
    std::string row;
    std::string error;
  };
  const Case cases[] = {
      {"2020-03-01,Autauga,Alabama,01001,1,0", ""},
      {"2020-03-01,Baldwin,Alabama,01003,1,0", ""},
      {"2020-03-01,Teton,Wyoming,56039,1,0", ""},
      {"2020-03-01,Made Up,Wyoming,56999,1,0", ""},
      {"2020-03-01,Bayam\xc3\xb3n,Puerto Rico,72021,1,0", ""},
      {"2020-03-01,St. Croix,Virgin Islands,78010,1,0", ""},
      {"2020-03-01,Saipan,Northern Mariana Islands,69110,1,0", ""},
      {"2020-03-01,Guam,Guam,66010,1,0", ""},
      {"2020-03-01,Unknown,Texas,,1,0", ""},
      {"2020-03-01,Baldwin,Texas,01003,1,0",
       "c.csv:2:26: fips: '01003' is a county of Alabama (01), not of 'Texas' (48)"},
      {"2020-03-01,Los Angeles,Nevada,06037,1,0",
       "c.csv:2:31: fips: '06037' is a county of California (06), not of 'Nevada' (32)"},
      {"2020-03-01,Los Angeles,Atlantis,06037,1,0",
       "c.csv:2:33: fips: '06037' is a county of California (06), not of 'Atlantis' (not a state "
       "or territory NYT names)"},
      {"2020-03-01,Nowhere,Texas,00000,1,0",
       "c.csv:2:26: fips: '00000' is no county: 00 is the FIPS code of no state or territory"},
      {"2020-03-01,Nowhere,Texas,99999,1,0",
       "c.csv:2:26: fips: '99999' is no county: 99 is the FIPS code of no state or territory"},
      {"2020-03-01,Nowhere,Texas,00001,1,0",
       "c.csv:2:26: fips: '00001' is no county: 00 is the FIPS code of no state or territory"},
      {"2020-03-01,Nowhere,Texas,03001,1,0",
       "c.csv:2:26: fips: '03001' is no county: 03 is the FIPS code of no state or territory"},
      {"2020-03-01,Out of TX,Texas,80048,1,0",
       "c.csv:2:28: fips: '80048' is no county: 80 is the FIPS code of no state or territory"},
      {"2020-03-01,Texas,Texas,48000,1,0",
       "c.csv:2:24: fips: '48000' is no county (county code 000: Texas as a whole)"},
  };
  for (const Case& c : cases) {
    CountiesReader r("c.csv", kClock);
    read_into(r, std::string(kCountiesHeader) + c.row + "\n");
    Strings errors = show(r.diagnostics().errors());
    EXPECT_EQ(errors, c.error.empty() ? Strings{} : Strings{c.error}) << c.row;
    EXPECT_EQ(r.rows().size(), c.error.empty() ? 1u : 0u) << c.row;
  }
}

TEST(CountiesReader, NamesWithBidiControlsOrInvisibleCharactersAreRefused) {
  CountiesReader r("c.csv", kClock);
  read_into(r, std::string(kCountiesHeader) +
                   "2020-03-01,Los Angeles\xe2\x80\xae,California,06037,1,0\n"
                   "2020-03-01,Unknown,Cali\xe2\x80\x8d"
                   "fornia,,1,0\n"
                   "2020-03-01,Orange\xc2\x9b,California,06059,1,0\n"
                   "2020-03-01,Kern\xe2\x81\xa6,California,06029,1,0\n");
  EXPECT_EQ(
      show(r.diagnostics().errors()),
      (Strings{
          "c.csv:2:12: county: 'Los Angeles\\xe2\\x80\\xae' contains a bidirectional control "
          "(U+202E, "
          "byte 12: it would reorder the text shown after it)",
          "c.csv:3:20: state: 'Cali\\xe2\\x80\\x8dfornia' contains an invisible character (U+200D, "
          "byte 5)",
          "c.csv:3:20: state: 'Cali\\xe2\\x80\\x8dfornia' is not a state or territory NYT names "
          "(needed for "
          "a county without FIPS)",
          "c.csv:4:12: county: 'Orange\\xc2\\x9b' contains a control character (U+009B, byte 7)",
          "c.csv:5:12: county: 'Kern\\xe2\\x81\\xa6' contains a bidirectional control (U+2066, "
          "byte 5: it "
          "would reorder the text shown after it)"}));
}

// Real data is never refused: every row of NYT's state file, and every county of JHU's lookup
// table (real Census codes, names and states) and of NYT's anomalies file (NYT's own county
// spellings), through the readers.
std::string shared_data(const std::string& path) {
  return std::string(COVID_ETL_SHARED_DATA) + "/" + path;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Every record of a CSV text, with the header's names as keys.
std::vector<std::map<std::string, std::string>> csv_records(const std::string& text) {
  struct Collect final : CsvHandler {
    Strings header;
    std::vector<std::map<std::string, std::string>> rows;
    bool on_record(const CsvRecord& r) override {
      if (header.empty()) {
        for (std::string_view f : r.fields) header.emplace_back(f);
        return true;
      }
      std::map<std::string, std::string> row;
      for (size_t i = 0; i < r.fields.size() && i < header.size(); ++i)
        row[header[i]] = std::string(r.fields[i]);
      rows.push_back(std::move(row));
      return true;
    }
    void on_error(const CsvError& e) override {
      ADD_FAILURE() << e.line << ":" << e.column << " " << e.message;
    }
  } collect;
  CsvOptions options;
  options.require_final_newline = false;  // anomalies.csv ends without one
  CsvReader csv(collect, options);
  csv.feed(text);
  csv.finish();
  return collect.rows;
}

TEST(RealData, NytStatesFilePassesAndNamesEveryStateOfTheTable) {
  const SystemClock now;  // the file runs to 2023, after the fixed clock's day
  StatesReader r("us-states.csv", now);
  read_into(r, read_file(shared_data("nyt/us-states.csv")), 1 << 16);
  ASSERT_TRUE(r.diagnostics().errors().empty()) << show(r.diagnostics().errors())[0];
  EXPECT_GT(r.rows().size(), 60000u);
  Strings seen, table;
  for (const Location& l : r.locations()) seen.push_back(l.id + " " + l.name);
  for (const auto& [code, name] : kStatesByFips)
    table.push_back(std::string(code) + " " + std::string(name));
  EXPECT_EQ(seen, table);  // the table is exactly the places NYT names, with NYT's spelling
}

TEST(RealData, JhuStateCodesAgreeWithTheTable) {
  // JHU's lookup table writes a state's code as 000SS, a territory's as SS: an independent copy
  // of the Census codes. Every state or territory NYT names is there with the same code.
  std::map<std::string, std::string> jhu;
  for (const auto& row : csv_records(read_file(shared_data("jhu/UID_ISO_FIPS_LookUp_Table.csv")))) {
    const std::string& fips = row.at("FIPS");
    if (row.at("Country_Region") != "US" || !row.at("Admin2").empty() || fips.empty()) continue;
    jhu[row.at("Province_State")] = fips.substr(fips.size() - 2);
  }
  for (const auto& [code, name] : kStatesByFips) {
    EXPECT_EQ(jhu[std::string(name)], code) << name;
    EXPECT_EQ(state_fips_by_name(name), code);
    EXPECT_EQ(state_name_by_fips(code), name);
  }
  EXPECT_EQ(std::size(kStatesByFips), 56u);
  for (int n = 0; n < 100; ++n) {
    char code[3] = {char('0' + n / 10), char('0' + n % 10), 0};
    bool listed = std::any_of(std::begin(kStatesByFips), std::end(kStatesByFips),
                              [&](const auto& s) { return s.first == code; });
    EXPECT_EQ(!state_name_by_fips(code).empty(), listed) << code;
  }
  for (const char* bad : {"", "6", "006", "0a", "a0", " 6"})
    EXPECT_EQ(state_name_by_fips(bad), "") << bad;
}

TEST(RealData, EveryRealCountyPasses) {
  // JHU's county rows: every real county FIPS with its state (leaving out JHU's own pseudo-
  // counties, "Out of XX" 800SS and "Unassigned" 900SS, and its two "states" that are none:
  // US Military, Federal Bureau of Prisons); no FIPS: Kansas City, the Utah health districts...
  // NYT's anomalies: its own county names, with its geoid USA-SSCCC.
  struct Source {
    const char* name;
    std::string csv;
    size_t rows = 0;
  };
  Source jhu{"JHU", kCountiesHeader}, nyt{"NYT anomalies", kCountiesHeader};
  std::set<std::string> places;
  for (const auto& row : csv_records(read_file(shared_data("jhu/UID_ISO_FIPS_LookUp_Table.csv")))) {
    const std::string &fips = row.at("FIPS"), &county = row.at("Admin2"),
                      &state = row.at("Province_State");
    if (row.at("Country_Region") != "US" || county.empty()) continue;
    if (state == "US Military" || state == "Federal Bureau of Prisons") continue;
    if (fips.size() == 5 && (fips.substr(0, 2) == "80" || fips.substr(0, 2) == "90")) continue;
    if (!places.insert(fips.empty() ? state + ":" + county : fips).second) continue;
    std::string quoted = county.find(',') == std::string::npos ? county : "\"" + county + "\"";
    jhu.csv += "2020-03-01," + quoted + "," + state + "," + fips + ",1,0\n";
    ++jhu.rows;
  }
  places.clear();
  for (const auto& row : csv_records(read_file(shared_data("nyt/anomalies.csv")))) {
    const std::string &geoid = row.at("geoid"), &county = row.at("county"),
                      &state = row.at("state");
    if (county.empty() || geoid.size() != 9 || !places.insert(geoid).second) continue;
    std::string quoted = county.find(',') == std::string::npos ? county : "\"" + county + "\"";
    nyt.csv += "2020-03-01," + quoted + "," + state + "," + geoid.substr(4) + ",1,0\n";
    ++nyt.rows;
  }
  EXPECT_GT(jhu.rows, 3200u);
  EXPECT_GT(nyt.rows, 100u);
  for (const Source* s : {&jhu, &nyt}) {
    CountiesReader r("c.csv", kClock);
    read_into(r, s->csv, 1 << 16);
    EXPECT_TRUE(r.diagnostics().errors().empty())
        << s->name << ": " << show(r.diagnostics().errors())[0];
    EXPECT_EQ(r.rows().size(), s->rows) << s->name;
  }
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
  std::vector<Observation> stored = {obs("06", 0, 1), obs("06", 1, 2), obs("53", 0, 1),
                                     obs("US", 0, 2)};
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
