// The locations the API lists and searches (/api/v1/locations) and the table of states
// (/api/v1/states): pure functions over the store's locations and series. The snapshot
// (snapshot.h) makes them once per version of the data.
//
// A search matches a location when the text is in its label (case-insensitive: ASCII letters;
// the label is the name, and for a county "Name, State") or begins its id or FIPS code ("06"
// finds California and its counties, "36:" the counties of New York without FIPS). Results come
// best first: an exact name or id, then names, ids or codes that begin with the text, then a word
// of the label that begins with it, then the text anywhere; within each, the nation, states, then
// counties, by name. An empty text matches everything.
//
// LocationIndex is immutable once made: share it freely between threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "serve/series.h"
#include "transform/location.h"

namespace covid::serve {

class LocationIndex {
 public:
  // `locations` as Store::list_locations() gives them (sorted by id; sorted here otherwise);
  // `populations` by location id (Store::populations()).
  explicit LocationIndex(std::vector<Location> locations,
                         std::map<std::string, int64_t, std::less<>> populations = {});
  // A location's population, std::nullopt when none is known.
  std::optional<int64_t> population(std::string_view id) const;

  const Location* find(std::string_view id) const;  // nullptr: not a known location
  const std::vector<Location>& all() const { return all_; }
  // A location's label as shown (the API's `label`, the page's picker and headings): its
  // location_label(), followed by its source's short name ("United States (WHO)") for a country
  // whose label a location of another level has too (the NYT's national `US` is "United States",
  // and so is the WHO's `USA`; the NYT's state Georgia and the WHO's country). A location not in
  // the index: its location_label().
  std::string label(const Location& l) const;

  // A location as a person names it (export --location, /api/v1/series?location=): its id, ASCII
  // case ignored ("06", "us", "fra"); a state's FIPS code without its leading zero ("6", as the
  // CSV reader takes it) or a county's ("6037"); its label, case ignored ("California", "Los
  // Angeles, California"); or a name only one location has ("Los Angeles"). `location` is the one
  // it names; nullptr when none or several do, and `closest` then lists the candidates (several
  // with that name, else the best search() matches, else the labels nearest by edit distance:
  // common/suggest.h), at most 5.
  struct Resolved {
    const Location* location = nullptr;
    bool ambiguous = false;
    std::vector<const Location*> closest;
  };
  Resolved resolve(std::string_view text) const;

  // The matches of `text` among the locations of `type` (nation, state or county; empty: all)
  // and, when `ids` is not empty, with one of those ids; best first, as described above.
  std::vector<const Location*> search(std::string_view type, std::string_view text,
                                      const std::vector<std::string>& ids = {}) const;

 private:
  std::vector<Location> all_;  // by id
  std::map<std::string, int64_t, std::less<>> populations_;
  std::vector<std::string> label_, name_, id_;   // folded (lower-case) label, name and id, by index
  std::vector<std::string> shown_, shown_fold_;  // label(), and folded, by index
};

// The message for a name resolve() did not take: "unknown location 'X'; the closest: California
// (06), ..." or "'X' names several locations: ...; give the id or \"Name, State\"". Where the
// candidates come from more than one source, each says its own: "United States (US, The New York
// Times, Johns Hopkins University); United States (USA, World Health Organization)".
std::string unresolved_message(std::string_view text, const LocationIndex::Resolved& r);

// A state's FIPS code without its leading zero ("6" -> "06") or a county's ("6037" -> "06037");
// any other text as it is.
std::string pad_fips(std::string_view text);

// "Los Angeles, California" for a county, the name otherwise.
std::string location_label(const Location& l);
// Who publishes a location's series (pipeline/datasets.h Dataset::source_label, by its level):
// "World Health Organization" for a country, so that the WHO's USA and NYT's US are told apart.
std::string location_source(const Location& l);

// The parameters of /api/v1/locations.
struct LocationSearch {
  static constexpr size_t kDefaultLimit = 100;
  static constexpr size_t kMaxLimit = 1000;
  static constexpr size_t kMaxIds = 100;
  std::string type;              // empty: every type
  std::string text;              // q
  std::vector<std::string> ids;  // id=A,B: only these (empty: any)
  size_t limit = kDefaultLimit;
};

// {"q": .., "type": ..|null, "limit": N, "total": matches, "count": returned,
//  "locations": [{"id", "type", "name", "state", "fips", "label", "source", "population"}, ...]}
// (state, fips, source and population null when there is none; source: who publishes the
// location's series, Dataset::source_label).
std::string locations_json(const LocationIndex& index, const LocationSearch& search);

// One state's series, for the table of states.
struct StateSeries {
  const Location* location = nullptr;
  SeriesColumns series;
};

// The latest 7-day averages of every state and their change over 14 days:
// {"date": the newest date of any state|null, "count": N, "states": [{"id", "name", "date",
//  "cases", "deaths", "new_cases_avg7", "new_deaths_avg7", "new_cases_avg7_14d_ago",
//  "change_14d", "change_14d_pct", "new_cases_avg7_per_100k", "new_deaths_avg7_per_100k"}, ...]}
// by id (the rates null without a population: SeriesColumns::set_population). `date` is the state's
// newest date; the averages are those of that date and of the date 14 days before; change_14d is
// their difference and change_14d_pct the difference in percent of the earlier one (null when that
// is 0 or unknown). Averages and changes are rounded to 2 decimals; unknown values are null.
std::string states_json(const std::vector<StateSeries>& states);

// The rankings of one level (/api/v1/rankings): every location's latest 7-day averages of new
// cases and deaths, absolute and per 100,000 people, the same 14 days before, and the change:
// {"level", "state": the state of a county ranking|null, "date": the newest date|null, "count",
//  "locations": [{"id", "name", "label", "type", "population", "date", "cases", "deaths",
//  "new_cases_avg7", "new_cases_avg7_per_100k", "new_cases_avg7_14d_ago",
//  "new_cases_avg7_14d_ago_per_100k", "cases_change_14d_pct", and the same five for deaths}]}
// by id. The averages are those of each location's own latest date and of the date 14 days
// before it; a change is the difference of the rounded averages in percent of the earlier one
// (null when that is 0 or unknown), as in states_json. Rates are null without a population.
std::string rankings_json(std::string_view level, std::string_view state,
                          const std::vector<StateSeries>& locations);

}  // namespace covid::serve
