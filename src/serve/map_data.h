// MapLevel: every location of one level (state, county or country) with its 7-day averages of new
// cases and deaths on one date axis, for the dashboard's maps (/api/v1/map): one response carries
// the ids once, the dates, and a values matrix, instead of one series request per location.
//
// The averages are the series API's (SeriesColumns::new_cases_avg7 and new_deaths_avg7, with the
// NYT's notes applied), kept as floats to halve the memory of the county level (~3,200 counties x
// ~1,100 dates); rates per 100,000 are computed from them and the location's population when a
// response is made, and every value is rounded to 2 decimals as the series API rounds them (a value
// may differ from the series' by 0.01 where float and double round differently).
//
// Shapes: a location is drawn with the shapes (TopoJSON feature ids of us-atlas or world-atlas)
// map_shapes() gives it: a state's or a county's own FIPS code; New York City's five boroughs
// (36005, 36047, 36061, 36081, 36085: the NYT reports the city as one); none for the NYT's
// counties without FIPS that are not counties (Kansas City, Joplin, each state's Unknown), which
// the page lists under the map; a country's ISO 3166-1 numeric code (world-atlas's ids), from
// Debian's iso-codes table. The response names only the shapes that differ from the id.
//
// Pure data and functions; immutable once made (share it between threads).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/date.h"
#include "serve/series.h"
#include "transform/location.h"

namespace covid::serve {

struct MapLevel {
  std::string level;                    // state, county or country
  std::vector<std::string> ids, names;  // by id; names: labels ("Cook, Illinois")
  std::vector<std::optional<int64_t>> population;
  std::vector<std::vector<std::string>> shapes;  // map_shapes() of each
  std::vector<Date> dates;                       // every date any location of the level has
  std::vector<float> cases, deaths;  // [date index * ids.size() + id index]; NaN: unknown
  size_t bytes() const;
};

// The shapes a location is drawn with (see above); `numeric`: a country's ISO numeric code
// (empty when unknown).
std::vector<std::string> map_shapes(const Location& location, std::string_view numeric = {});

// Builds a level from its locations' series (each made as the series API makes it). `series[i]`
// belongs to `locations[i]`; `numeric[i]` is its ISO numeric code (countries; empty otherwise).
MapLevel make_map_level(std::string level, const std::vector<const Location*>& locations,
                        const std::vector<SeriesColumns>& series,
                        const std::vector<std::string>& numeric);

struct MapQuery {
  std::string metric = "cases";  // cases or deaths
  bool per_100k = true;
  std::optional<Date> from, to;  // neither: the level's last date only
  std::string state;             // counties of one state (2-digit FIPS); empty: all
};

// The response of /api/v1/map (README "The dashboard and the API"):
// {"level", "metric", "per_100k", "state", "first_date", "last_date", "from", "to", "count",
//  "dates": [...], "ids": [...], "names": [...], "population": [...], "shapes": {id: [..]},
//  "values": [[one per id] per date]}.
std::string map_json(const MapLevel& m, const MapQuery& q);

}  // namespace covid::serve
