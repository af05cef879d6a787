// The populations dataset: PopulationsReader on JHU's lookup table (real copy and small tables
// with each quirk), the rule for NYT's places that are not counties, the plan's comparison of
// populations with the store's, the rates per 100,000 (SeriesColumns::set_population) and the
// `population` config rules.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "load/plan.h"
#include "serve/series.h"
#include "test_support.h"
#include "transform/jhu_populations.h"

namespace covid {
namespace {

using test::FixedClock;
using test::show;
using test::Strings;

const FixedClock kClock;
constexpr const char* kHeader =
    "UID,iso2,iso3,code3,FIPS,Admin2,Province_State,Country_Region,Lat,Long_,Combined_Key,"
    "Population\r\n";

std::map<std::string, Population> read(const std::string& text, Strings* errors = nullptr,
                                       size_t chunk = 7) {
  PopulationsReader r("lookup.csv", kClock);
  test::read_into(r, text, chunk);
  if (errors != nullptr) *errors = show(r.diagnostics().errors());
  std::map<std::string, Population> out;
  for (const Population& p : r.populations()) out.emplace(p.location, p);
  return out;
}

std::optional<int64_t> figure(const std::map<std::string, Population>& m, const std::string& id) {
  auto it = m.find(id);
  return it == m.end() ? std::nullopt : std::optional(it->second.population);
}

std::string real_table() {
  std::ifstream in(std::string(COVID_ETL_SHARED_DATA) + "/jhu/UID_ISO_FIPS_LookUp_Table.csv",
                   std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(Populations, RealTableCountriesStatesCountiesAndNytPlaces) {
  std::string text = real_table();
  ASSERT_GT(text.size(), 100000u);
  ASSERT_NE(text.find("\r\n"), std::string::npos);  // CRLF line ends, as upstream
  Strings errors;
  auto p = read(text, &errors, 4096);
  EXPECT_EQ(errors, Strings{});
  // Countries by ISO alpha-3, from the country-level row only (China's provinces carry CHN).
  EXPECT_EQ(figure(p, "AFG"), 38928341);
  EXPECT_EQ(figure(p, "CHN"), 1404676330);
  EXPECT_EQ(figure(p, "XKS"), 1810366);  // Kosovo: XKS in the table, the world dataset's id
  EXPECT_EQ(figure(p, "USA"), 329466283);
  EXPECT_EQ(figure(p, "US"), 329466283);  // NYT's nation: the USA row
  EXPECT_EQ(figure(p, "GRL"), 56772);     // a territory with its own code: its province row
  EXPECT_EQ(p.at("AFG").year, 0);         // the table does not say
  // States by 2-digit FIPS (00006 in the table), territories (72); counties by 5 digits.
  EXPECT_EQ(figure(p, "06"), 39512223);
  EXPECT_EQ(p.at("06").year, 2019);
  EXPECT_EQ(figure(p, "72"), 2933408);
  EXPECT_EQ(figure(p, "06037"), 10039107);
  EXPECT_EQ(p.at("06037").source, kJhuPopulationSource);
  // No pseudo-county (Out of NY 80036, Unassigned 90036, the ships 88888, 99999), no state 00.
  for (const char* id : {"80036", "90036", "88888", "99999", "00", "80", "90"})
    EXPECT_FALSE(p.count(id)) << id;
  // New York City: the five boroughs' counties together; 36061 is Manhattan alone.
  EXPECT_EQ(figure(p, "36061"), 1628706);
  EXPECT_EQ(figure(p, "36:New York City"), 1418207 + 2559903 + 1628706 + 2253858 + 476143);
  // Kansas City: its own row (no FIPS); the four counties NYT gives without it have none.
  EXPECT_EQ(figure(p, "29:Kansas City"), 488943);
  for (const char* id : {"29037", "29047", "29095", "29165"}) EXPECT_FALSE(p.count(id)) << id;
  // Joplin: no row; Jasper and Newton, which NYT gives without it, have none either.
  EXPECT_FALSE(p.count("29:Joplin"));
  EXPECT_FALSE(p.count("29097"));
  EXPECT_FALSE(p.count("29145"));
  // Unknown: never.
  for (const auto& [id, pop] : p) EXPECT_EQ(id.find("Unknown"), std::string::npos) << id;
  EXPECT_FALSE(p.count("36:Unassigned"));
}

// Small tables read without an error: the figures found, and the places with none.
TEST(Populations, GoodTables) {
  const std::string albany =
      "84036001,US,USA,840,36001,Albany,New York,US,42.6,-73.9,\"Albany, New York, US\",305506\r\n";
  struct Case {
    const char* what;
    std::string text;
    std::map<std::string, int64_t> figures;
    Strings none;
  };
  const Case cases[] = {
      {"an empty Population is none, not an error",
       std::string(kHeader) +
           "84080036,US,USA,840,80036,Out of NY,New York,US,,,\"Out of NY, New York, US\",\r\n" +
           albany +
           "84036003,US,USA,840,36003,Allegany,New York,US,42.2,-78.0,\"Allegany, New York, "
           "US\",\r\n",
       {{"36001", 305506}},
       {"36003"}},
      {"columns found by name, not position",
       "Population,Country_Region,Province_State,Admin2,FIPS,iso3\n"
       "39512223,US,California,,00006,USA\n"
       "2877800,Albania,,,,ALB\n",
       {{"06", 39512223}, {"ALB", 2877800}},
       {}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    Strings errors;
    auto p = read(c.text, &errors);
    EXPECT_EQ(errors, Strings{});
    for (const auto& [id, n] : c.figures) EXPECT_EQ(figure(p, id), n) << id;
    for (const std::string& id : c.none) EXPECT_FALSE(p.count(id)) << id;
  }
}

// Bad tables: one error each, at its file:line:column, saying what is wrong.
TEST(Populations, BadTablesFailAtTheirField) {
  const std::string albany =
      "84036001,US,USA,840,36001,Albany,New York,US,42.6,-73.9,\"Albany, New York, US\",";
  // The column of Allegany's Population field: after the quoted Combined_Key.
  const std::string allegany =
      "84036003,US,USA,840,36003,Allegany,New York,US,42.2,-78.0,\"Allegany, New York, US\",";
  struct Case {
    std::string text;
    std::string at;  // lookup.csv:LINE:COLUMN
    const char* words;
  };
  const Case cases[] = {
      {std::string(kHeader) + albany + "305506\r\n" + allegany + "46O91\r\n",
       "lookup.csv:3:" + std::to_string(allegany.size() + 1), "Population"},
      {std::string(kHeader) + "4,AF,AFG,4,,,,Afghanistan,33.9,67.7,Afghanistan,-5\r\n",
       "lookup.csv:2:49", "Population"},
      {std::string(kHeader) + albany + "305506\r\n" +
           "84036002,US,USA,840,36001,Albany,New York,US,42.6,-73.9,\"Albany, New York, "
           "US\",305506\r\n",
       "lookup.csv:3:21", "36001 appears twice (first on line 2)"},
      {std::string(kHeader) + "84000099,US,USA,840,00099,,Nowhere,US,,,\"Nowhere, US\",5\r\n",
       "lookup.csv:2:", "no state or territory"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    Strings errors;
    read(c.text, &errors);
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(errors[0].rfind(c.at + (c.at.back() == ':' ? "" : ":"), 0), 0u) << errors[0];
    EXPECT_NE(errors[0].find(c.words), std::string::npos) << errors[0];
  }
}

TEST(Populations, NewYorkCityNeedsAllFiveBoroughs) {
  std::string rows = std::string(kHeader) +
                     "84036005,US,USA,840,36005,Bronx,New York,US,,,x,1418207\r\n"
                     "84036047,US,USA,840,36047,Kings,New York,US,,,x,2559903\r\n"
                     "84036061,US,USA,840,36061,New York,New York,US,,,x,1628706\r\n"
                     "84036081,US,USA,840,36081,Queens,New York,US,,,x,2253858\r\n";
  EXPECT_FALSE(read(rows).count("36:New York City"));  // Richmond missing: no figure
  auto p = read(rows + "84036085,US,USA,840,36085,Richmond,New York,US,,,x,476143\r\n");
  EXPECT_EQ(figure(p, "36:New York City"), 8336817);
  EXPECT_EQ(p.at("36:New York City").year, 2019);
}

// A store view holding some populations.
class PopulationView final : public StoreView {
 public:
  explicit PopulationView(std::vector<Population> stored) : stored_(std::move(stored)) {}
  Result<std::vector<Observation>> existing_many(const std::vector<std::string>&) override {
    return std::vector<Observation>();
  }
  Result<std::vector<Observation>> existing_on(Date, const std::vector<std::string>&) override {
    return std::vector<Observation>();
  }
  Result<std::vector<Observation>> existing_on_date(std::string_view, Date) override {
    return std::vector<Observation>();
  }
  Result<std::vector<Population>> populations() override { return stored_; }

 private:
  std::vector<Population> stored_;
};

TEST(Populations, PlanComparesWithTheStore) {
  PopulationView view({{"01", 100, "s", 2019}, {"02", 200, "s", 2019}, {"04", 400, "s", 2019}});
  PlanInput in;
  in.reference.populations = {
      {"01", 100, "s", 2019}, {"02", 201, "s", 2019}, {"05", 500, "s", 0}};  // 04: gone
  auto plan = plan_load(view, std::move(in));
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  const LevelCounts& c = plan->levels.at(kPopulationsLevel);
  EXPECT_EQ(c.inserted, 1u);
  EXPECT_EQ(c.updated, 1u);
  EXPECT_EQ(c.unchanged, 1u);
  EXPECT_EQ(c.missing, 1u);  // kept: never removed
  ASSERT_EQ(plan->populations.size(), 2u);
  EXPECT_EQ(plan->populations[0].location, "02");
  EXPECT_EQ(plan->populations[1].location, "05");
  EXPECT_TRUE(plan->changed());

  PopulationView same({{"01", 100, "s", 2019}});
  PlanInput again;
  again.reference.populations = {{"01", 100, "s", 2019}};
  auto unchanged = plan_load(same, std::move(again));
  ASSERT_TRUE(unchanged.ok());
  EXPECT_TRUE(unchanged->populations.empty());
  EXPECT_FALSE(unchanged->changed());
}

TEST(Populations, RatesPer100k) {
  std::vector<Observation> rows;
  for (int d = 0; d < 8; ++d)
    rows.push_back({"06", Date{18300 + d}, 1000 + 70 * d, d == 7 ? kUnknown : 10 + d, kUnknown});
  auto s = serve::SeriesColumns::build("06", rows);
  s.set_population(200000);
  EXPECT_DOUBLE_EQ(s.cases_per_100k[0], 500.0);
  EXPECT_TRUE(std::isnan(s.deaths_per_100k[7]));          // unknown count: null
  EXPECT_TRUE(std::isnan(s.new_cases_avg7_per_100k[6]));  // no average on the 7th date yet
  EXPECT_DOUBLE_EQ(s.new_cases_avg7_per_100k[7], 35.0);   // 70 a day per 200,000
  std::string json = serve::series_json(s, 0, s.size());
  EXPECT_NE(json.find("\"new_cases_avg7_per_100k\":[null,null,null,null,null,null,null,35]"),
            std::string::npos)
      << json;
  s.set_population(std::nullopt);
  EXPECT_TRUE(std::isnan(s.cases_per_100k[0]));
  json = serve::series_json(s, 0, s.size(), serve::kFieldCasesPer100k);
  EXPECT_NE(json.find("\"cases_per_100k\":[null,null,null,null,null,null,null,null]}"),
            std::string::npos)
      << json;
  EXPECT_EQ(serve::export_csv(s, 0, 1, true),
            "date,cases,deaths,recovered,cases_per_100k,deaths_per_100k,new_cases_avg7_per_100k,"
            "new_deaths_avg7_per_100k\n2020-02-08,1000,10,,,,,\n");
}

TEST(Populations, ConfigOnWithTheUpstreamNationalSource) {
  Config c;
  EXPECT_EQ(population_url(c), kDefaultPopulationUrl);
  c.nyt_url = "us.csv";
  EXPECT_EQ(population_url(c), "");
  c.populations = true;
  EXPECT_EQ(population_url(c), kDefaultPopulationUrl);
  c.population_url = "lookup.csv";
  EXPECT_EQ(population_url(c), "lookup.csv");
  c.populations = false;
  EXPECT_EQ(population_url(c), "");
  Config states_only;  // the national series off: no upstream download of populations either
  states_only.national = false;
  EXPECT_EQ(population_url(states_only), "");
  Config env;
  env.nyt_url = "us.csv";
  apply_environment(env, [](const char* name) -> const char* {
    return std::string_view(name) == "COVID_ETL_POPULATION_URL" ? "pop.csv" : nullptr;
  });
  EXPECT_EQ(population_url(env), "pop.csv");
}

}  // namespace
}  // namespace covid
