// The WHO reader (transform/who_global.h), the country table (transform/country_codes.h), the
// country level (transform/location.h), the cadence rule of the plan (load/plan.h) and the weekly
// series' new counts and averages (serve/series.h).
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <string_view>

#include "load/plan.h"
#include "serve/series.h"
#include "test_support.h"
#include "transform/country_codes.h"
#include "transform/location.h"
#include "transform/who_global.h"

namespace covid {
namespace {

using test::FixedClock;
using test::show;
using test::Strings;

const FixedClock kClock;
constexpr std::string_view kHeader =
    "Date_reported,Country_code,Country,WHO_region,New_cases,Cumulative_cases,New_deaths,"
    "Cumulative_deaths\n";

const CountryCodes& codes() {
  const Result<CountryCodes>& c = iso_country_codes();
  EXPECT_TRUE(c.ok()) << c.status().message();
  return *c;
}

struct Who {
  explicit Who(std::string_view rows, size_t chunk = 7) {
    test::read_into(reader, std::string(kHeader) + std::string(rows), chunk);
  }
  Strings errors() const { return show(reader.diagnostics().errors()); }
  Strings warnings() const { return show(reader.diagnostics().warnings()); }
  Strings rows() const {
    Strings out;
    for (const Observation& o : reader.rows())
      out.push_back(o.location + " " + format_date(o.date) + " " + std::to_string(o.cases) + "/" +
                    std::to_string(o.deaths));
    return out;
  }
  WhoReader reader{"who.csv", kClock, &codes()};
};

TEST(CountryCodes, IsoNamesAndTheWhosOwnCodes) {
  const CountryCodes& c = codes();
  EXPECT_GT(c.size(), 240u);
  auto id = [&](std::string_view code) {
    auto x = c.find(code);
    return x ? x->id + " " + x->name : std::string("none");
  };
  EXPECT_EQ(id("NA"), "NAM Namibia");
  EXPECT_EQ(id("CI"), "CIV Côte d'Ivoire");
  EXPECT_EQ(id("TR"), "TUR Türkiye");
  EXPECT_EQ(id("BO"), "BOL Bolivia");  // common_name when ISO gives one
  EXPECT_EQ(id("BQ"), "BES Bonaire, Sint Eustatius and Saba");
  EXPECT_EQ(id("XK"), "XKS Kosovo");
  EXPECT_EQ(id("XA"), "XBO Bonaire");
  EXPECT_EQ(id("XB"), "XSE Sint Eustatius");
  EXPECT_EQ(id("XC"), "XSA Saba");
  EXPECT_EQ(id(" "), "XXO International conveyances");
  EXPECT_EQ(id("XXJ"), "XXJ International conveyance (Diamond Princess)");
  EXPECT_EQ(id("XXL"), "XXL International commercial vessel");
  EXPECT_EQ(id("XXK"), "XXK International conveyance (XXK)");
  EXPECT_EQ(id("QQ"), "none");
  EXPECT_EQ(id(""), "none");
  EXPECT_EQ(id("na"), "none");
}

TEST(CountryCodes, AMissingOrBrokenTableIsAUsageError) {
  auto missing = CountryCodes::load("/nonexistent/iso_3166-1.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("iso-codes"), std::string::npos);
  EXPECT_FALSE(CountryCodes::parse("{\"3166-1\": []}", "x.json").ok());
  EXPECT_FALSE(CountryCodes::parse("not json", "x.json").ok());
}

TEST(CountryLevel, ThreeUppercaseLettersAreACountry) {
  EXPECT_STREQ(location_level("FRA"), "country");
  EXPECT_STREQ(location_level("USA"), "country");
  EXPECT_STREQ(location_level("US"), "nation");
  EXPECT_STREQ(location_level("06"), "state");
  EXPECT_STREQ(location_level("06037"), "county");
  EXPECT_STREQ(location_level("Fra"), "county");
  EXPECT_STREQ(location_level("FRAN"), "county");
}

TEST(WhoReader, ReadsByCodeInAnyOrder) {
  Who w(
      "2021-01-02,FR,France,EURO,5,15,1,2\n"
      "2021-01-01,NA,Namibia,AFRO,0,0,0,0\n"
      "2021-01-01,FR,France,EURO,10,10,1,1\n"
      "2021-01-02,NA,Namibia,,1,1,0,0\n"
      "2021-01-01,PS,\"occupied Palestinian territory, including east Jerusalem\",EMRO,0,3,0,0\n");
  EXPECT_EQ(w.errors(), Strings{});
  EXPECT_EQ(w.rows(), (Strings{"FRA 2021-01-01 10/1", "FRA 2021-01-02 15/2", "NAM 2021-01-01 0/0",
                               "NAM 2021-01-02 1/0", "PSE 2021-01-01 3/0"}));
  EXPECT_EQ(w.reader.cadence_days(), 1);
  ASSERT_EQ(w.reader.locations().size(), 3u);
  EXPECT_EQ(w.reader.locations()[1].name, "Namibia");
  EXPECT_EQ(w.reader.locations()[1].type, "country");
}

TEST(WhoReader, WeeklyWithEmptyNewCountsWhereNothingChanged) {
  Who w(
      "2021-01-03,FR,France,EURO,,100,,9\n"
      "2021-01-10,FR,France,EURO,,100,,9\n"
      "2021-01-17,FR,France,EURO,7,107,,9\n");
  EXPECT_EQ(w.errors(), Strings{});
  EXPECT_EQ(w.reader.cadence_days(), 7);
}

TEST(WhoReader, EmptyNewCountWhereTheCumulativeChangedIsAnError) {
  Who w(
      "2021-01-03,FR,France,EURO,,100,,9\n"
      "2021-01-10,FR,France,EURO,,101,,9\n");
  EXPECT_EQ(w.errors(),
            Strings{"who.csv:3:27: New_cases: empty, but Cumulative_cases changed by +1 since "
                    "2021-01-03 (100 -> 101): an empty count is allowed only where the cumulative "
                    "did not change"});
}

TEST(WhoReader, NewCountContradictingTheCumulativeIsAnError) {
  Who w(
      "2021-01-01,FR,France,EURO,10,10,1,1\n"
      "2021-01-02,FR,France,EURO,5,15,2,2\n");
  EXPECT_EQ(w.errors(), Strings{"who.csv:3:32: New_deaths: 2 contradicts Cumulative_deaths, "
                                "which changed by +1 since 2021-01-01 (1 -> 2)"});
}

TEST(WhoReader, ADecreaseIsAWarning) {
  Who w(
      "2020-03-19,AF,Afghanistan,EMRO,4,26,0,0\n"
      "2020-03-20,AF,Afghanistan,EMRO,-2,24,0,0\n");
  EXPECT_EQ(w.errors(), Strings{});
  EXPECT_EQ(w.warnings(),
            Strings{"who.csv:3:32: Cumulative_cases of AFG went down from 26 on 2020-03-19 to 24 "
                    "on 2020-03-20 (a revision upstream; loaded as given)"});
}

TEST(WhoReader, BadValues) {
  Who w(
      "2021-01-01,QQ,Nowhere,EURO,0,0,0,0\n"
      "2021-01-01,FR,France,EURO,x,0,0,0\n"
      "2021-01-02,FR,France,EURO,0,-1,0,0\n"
      "2021-01-01,DE,Germany,EURO,0,0,0,0\n"
      "2021-01-01,DE,Germany,EURO,0,0,0,0\n");
  EXPECT_EQ(
      w.errors(),
      (Strings{"who.csv:2:12: Country_code: 'QQ' is not an ISO 3166-1 alpha-2 code nor one of "
               "the WHO's documented codes (README: The world)",
               "who.csv:3:27: New_cases: 'x' is not an integer",
               "who.csv:4:29: Cumulative_cases: '-1' is negative",
               "who.csv:6:1: Date_reported: Country_code 'DE' (DEU) on 2021-01-01 appears "
               "twice (first on line 5)"}));
}

// The duplicate check keeps nothing while a country's dates increase, and every date of a country
// once one of them came out of order: a repeat is found either way, at the right line, and the
// rows still come out sorted.
TEST(WhoReader, DuplicatesFoundWhetherDatesComeInOrderOrNot) {
  Who w(
      "2021-01-03,FR,France,EURO,0,0,0,0\n"     // line 2
      "2021-01-04,FR,France,EURO,0,0,0,0\n"     // 3
      "2021-01-01,DE,Germany,EURO,0,0,0,0\n"    // 4
      "2021-01-01,FR,France,EURO,0,0,0,0\n"     // 5: FR out of order from here
      "2021-01-03,FR,France,EURO,0,0,0,0\n"     // 6: a repeat of line 2 (read in order)
      "2021-01-02,FR,France,EURO,0,0,0,0\n"     // 7
      "2021-01-02,FR,France,EURO,0,0,0,0\n"     // 8: a repeat of line 7
      "2021-01-02,DE,Germany,EURO,0,0,0,0\n"    // 9
      "2021-01-02,DE,Germany,EURO,0,0,0,0\n");  // 10: in order, a repeat of line 9
  EXPECT_EQ(w.errors(),
            (Strings{"who.csv:6:1: Date_reported: Country_code 'FR' (FRA) on 2021-01-03 appears "
                     "twice (first on line 2)",
                     "who.csv:8:1: Date_reported: Country_code 'FR' (FRA) on 2021-01-02 appears "
                     "twice (first on line 7)",
                     "who.csv:10:1: Date_reported: Country_code 'DE' (DEU) on 2021-01-02 appears "
                     "twice (first on line 9)"}));
  Who sorted(
      "2021-01-03,FR,France,EURO,1,3,0,0\n"
      "2021-01-04,FR,France,EURO,1,4,0,0\n"
      "2021-01-01,DE,Germany,EURO,0,1,0,0\n"
      "2021-01-01,FR,France,EURO,0,1,0,0\n"
      "2021-01-02,FR,France,EURO,1,2,0,0\n"
      "2021-01-02,DE,Germany,EURO,1,2,0,0\n");
  EXPECT_EQ(sorted.errors(), Strings{});
  EXPECT_EQ(sorted.rows(),
            (Strings{"DEU 2021-01-01 1/0", "DEU 2021-01-02 2/0", "FRA 2021-01-01 1/0",
                     "FRA 2021-01-02 2/0", "FRA 2021-01-03 3/0", "FRA 2021-01-04 4/0"}));
}

TEST(WhoReader, MixedCadenceIsAnError) {
  Who w(
      "2021-01-01,FR,France,EURO,0,0,0,0\n"
      "2021-01-02,FR,France,EURO,0,0,0,0\n"
      "2021-01-01,DE,Germany,EURO,0,0,0,0\n"
      "2021-01-08,DE,Germany,EURO,0,0,0,0\n");
  ASSERT_EQ(w.errors().size(), 1u);
  EXPECT_NE(w.errors()[0].find(
                "who.csv:3:1: Date_reported: 2021-01-02 is 1 days after FRA's previous date "
                "2021-01-01, but the file's series are weekly (DEU"),
            std::string::npos)
      << w.errors()[0];
}

TEST(PlanCadence, ADifferentCadenceIsRefusedUnlessReplaced) {
  struct NoStore final : StoreView {
    Result<std::vector<Observation>> existing_many(const std::vector<std::string>&) override {
      return std::vector<Observation>();
    }
    Result<std::vector<Observation>> existing_on(Date, const std::vector<std::string>&) override {
      return std::vector<Observation>();
    }
    Result<std::vector<Observation>> existing_on_date(std::string_view, Date) override {
      return std::vector<Observation>();
    }
  } view;
  auto input = [](std::optional<int> stored, bool replace) {
    PlanInput in;
    Observation o;
    o.location = "FRA";
    o.cases = 1;
    o.deaths = 0;
    in.rows = {o};
    in.datasets.push_back({"world", "country", 7, stored, replace});
    return in;
  };
  auto refused = plan_load(view, input(1, false));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().kind(), ErrorKind::kInvalidData);
  EXPECT_NE(refused.status().message().find("--replace-dataset world"), std::string::npos);
  auto first = plan_load(view, input(std::nullopt, false));
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->cadences.at("world"), 7);
  EXPECT_TRUE(first->replace_levels.empty());
  auto same = plan_load(view, input(7, false));
  ASSERT_TRUE(same.ok());
  EXPECT_TRUE(same->cadences.empty());
  auto replaced = plan_load(view, input(1, true));
  ASSERT_TRUE(replaced.ok());
  EXPECT_EQ(replaced->replace_levels, Strings{"country"});
  EXPECT_EQ(replaced->cadences.at("world"), 7);
}

TEST(WeeklySeries, NewCountsAreTheWeeksAndTheAverageIsAWeekOverSeven) {
  std::vector<Observation> rows;
  int64_t cases[] = {100, 170, 170, 163};
  for (int i = 0; i < 4; ++i) {
    Observation o;
    o.location = "FRA";
    o.date = Date{20000 + 7 * i};
    o.cases = cases[i];
    o.deaths = 10 + i;
    rows.push_back(o);
  }
  serve::SeriesColumns s = serve::SeriesColumns::build("FRA", rows);
  EXPECT_EQ(s.new_cases[0], serve::kNoValue);
  EXPECT_TRUE(std::isnan(s.new_cases_avg7[0]));
  EXPECT_EQ(s.new_cases[1], 70);
  EXPECT_DOUBLE_EQ(s.new_cases_avg7[1], 10.0);
  EXPECT_EQ(s.new_cases[2], 0);
  EXPECT_DOUBLE_EQ(s.new_cases_avg7[2], 0.0);
  EXPECT_EQ(s.new_cases[3], -7);
  EXPECT_DOUBLE_EQ(s.new_cases_avg7[3], -1.0);
  EXPECT_EQ(s.new_deaths[3], 1);
  EXPECT_DOUBLE_EQ(s.new_deaths_avg7[3], 1.0 / 7.0);
}

}  // namespace
}  // namespace covid
