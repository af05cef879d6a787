// The map's data (serve/map_data.h): one date axis for a level, the shapes of the NYT's locations
// that are not counties, the JSON's columns and rates; and the check of [serve] frame_ancestors.
#include "serve/map_data.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "config/config.h"

namespace covid::serve {
namespace {

Date day(const char* text) {
  Date d;
  EXPECT_EQ(parse_date(text, &d), DateError::kNone);
  return d;
}

Observation obs(const char* loc, const char* date, int64_t cases, int64_t deaths) {
  Observation o;
  o.location = loc;
  o.date = day(date);
  o.cases = cases;
  o.deaths = deaths;
  return o;
}

// A series of `days` dates from `first`, cases growing by `per_day` a day.
SeriesColumns series(const char* loc, const char* first, int days, int64_t per_day,
                     std::optional<int64_t> population) {
  std::vector<Observation> rows;
  Date d = day(first);
  for (int i = 0; i < days; ++i) {
    Observation o = obs(loc, "2020-01-01", per_day * i, i);
    o.date = Date{d.days + i};
    rows.push_back(o);
  }
  SeriesColumns s = SeriesColumns::build(loc, rows);
  s.set_population(population);
  return s;
}

TEST(MapData, ShapesOfLocationsThatAreNotCounties) {
  EXPECT_EQ(map_shapes({"06037", "county", "Los Angeles", "California", "06037"}),
            std::vector<std::string>{"06037"});
  EXPECT_EQ(map_shapes({"36:New York City", "county", "New York City", "New York", ""}),
            (std::vector<std::string>{"36005", "36047", "36061", "36081", "36085"}));
  EXPECT_TRUE(map_shapes({"29:Kansas City", "county", "Kansas City", "Missouri", ""}).empty());
  EXPECT_TRUE(map_shapes({"06:Unknown", "county", "Unknown", "California", ""}).empty());
  EXPECT_EQ(map_shapes({"06", "state", "California", "", "06"}), std::vector<std::string>{"06"});
  EXPECT_EQ(map_shapes({"FRA", "country", "France", "", ""}, "250"),
            std::vector<std::string>{"250"});
  EXPECT_TRUE(map_shapes({"XKS", "country", "Kosovo", "", ""}).empty());
}

TEST(MapData, OneDateAxisColumnsAndRates) {
  Location a{"01", "state", "Alabama", "", "01"}, b{"02", "state", "Alaska", "", "02"};
  // Alabama from 2020-03-01 for 20 days (70 a day), Alaska from 2020-03-05 for 20 days, no
  // population.
  std::vector<SeriesColumns> s = {series("01", "2020-03-01", 20, 70, 700000),
                                  series("02", "2020-03-05", 20, 14, std::nullopt)};
  MapLevel m = make_map_level("state", {&a, &b}, s, {"", ""});
  ASSERT_EQ(m.dates.size(), 24u);
  EXPECT_EQ(m.dates.front(), day("2020-03-01"));
  EXPECT_EQ(m.dates.back(), day("2020-03-24"));

  MapQuery q;  // the last date alone, per 100,000
  auto j = nlohmann::json::parse(map_json(m, q));
  EXPECT_EQ(j["dates"], nlohmann::json::array({"2020-03-24"}));
  EXPECT_EQ(j["ids"], nlohmann::json::array({"01", "02"}));
  EXPECT_EQ(j["names"], nlohmann::json::array({"Alabama", "Alaska"}));
  EXPECT_EQ(j["population"], nlohmann::json::parse("[700000, null]"));
  EXPECT_TRUE(j["values"][0][0].is_null());  // Alabama ended on 2020-03-20
  EXPECT_TRUE(j["values"][0][1].is_null());  // no population: no rate
  EXPECT_EQ(j["shapes"], nlohmann::json::object());

  q.per_100k = false;
  q.from = day("2020-03-10");
  q.to = day("2020-03-12");
  j = nlohmann::json::parse(map_json(m, q));
  EXPECT_EQ(j["count"], 3);
  EXPECT_EQ(j["values"][0][0], 70);  // the 7-day average of 70 a day
  EXPECT_EQ(j["values"][2][1], 14);  // Alaska's first average: its 7th date after the first
  EXPECT_TRUE(j["values"][0][1].is_null());
  q.per_100k = true;
  j = nlohmann::json::parse(map_json(m, q));
  EXPECT_EQ(j["values"][0][0], 10);  // 70 per 700,000 people = 10 per 100,000
  q.metric = "deaths";
  q.per_100k = false;
  j = nlohmann::json::parse(map_json(m, q));
  EXPECT_EQ(j["values"][0][0], 1);
}

TEST(MapData, CountiesOfOneState) {
  Location a{"06037", "county", "Los Angeles", "California", "06037"};
  Location b{"48201", "county", "Harris", "Texas", "48201"};
  Location nyc{"36:New York City", "county", "New York City", "New York", ""};
  std::vector<SeriesColumns> s = {series("06037", "2020-03-01", 10, 7, 1000),
                                  series("48201", "2020-03-01", 10, 7, 1000),
                                  series("36:New York City", "2020-03-01", 10, 7, 1000)};
  MapLevel m = make_map_level("county", {&a, &b, &nyc}, s, {"", "", ""});
  MapQuery q;
  q.state = "06";
  auto j = nlohmann::json::parse(map_json(m, q));
  EXPECT_EQ(j["ids"], nlohmann::json::array({"06037"}));
  EXPECT_EQ(j["values"][0].size(), 1u);
  q.state.clear();
  j = nlohmann::json::parse(map_json(m, q));
  EXPECT_EQ(j["shapes"].size(), 1u);
  EXPECT_EQ(j["shapes"]["36:New York City"].size(), 5u);
}

TEST(FrameAncestors, OnlyPlainOrigins) {
  for (const char* ok : {"https://example.org", "http://localhost:8080", "https://*.example.org",
                         "https://a-b.example.org:443"}) {
    EXPECT_TRUE(frame_origin_ok(ok)) << ok;
  }
  for (const char* bad :
       {"", "*", "'none'", "example.org", "ftp://example.org", "https://example.org/path",
        "https://example.org; script-src *", "https://exa mple.org", "https://",
        "https://example.org:", "https://.org", "https://example.org:123456", "https://*"}) {
    EXPECT_FALSE(frame_origin_ok(bad)) << bad;
  }
}

}  // namespace
}  // namespace covid::serve
