#include "transform/jhu_populations.h"

#include <algorithm>

#include "transform/fields.h"
#include "transform/state_fips.h"

namespace covid {
namespace {
enum Col { kIso3, kFips, kAdmin2, kProvince, kCountry, kPopulation };

bool digits(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The year of the table's US state and county figures (see the header).
constexpr int kUsCensusYear = 2019;

// New York City: NYT's one series for the five boroughs, each a county of its own.
constexpr const char* kNewYorkCity = "36:New York City";
constexpr const char* kBoroughs[] = {"36005", "36047", "36061", "36081", "36085"};
// Counties whose NYT series leave out a city NYT reports on its own line, while the table's
// figure is the whole county's: Kansas City (Cass, Clay, Jackson, Platte) and Joplin (Jasper,
// Newton). No figure is right for them.
constexpr const char* kPartialCounties[] = {"29037", "29047", "29095", "29165", "29097", "29145"};
}  // namespace

PopulationsReader::PopulationsReader(std::string file, const Clock& clock)
    : TableReader(std::move(file),
                  {"iso3", "FIPS", "Admin2", "Province_State", "Country_Region", "Population"},
                  clock) {}

size_t PopulationsReader::rows_wanted_column() const { return kPopulation; }

void PopulationsReader::on_row(const Row& row) {
  std::string_view fips = row[kFips], admin2 = row[kAdmin2], province = row[kProvince];
  std::string_view iso3 = row[kIso3], population = row[kPopulation];
  bool ok = true;
  int64_t n = 0;
  if (!population.empty()) ok = read_count(row, kPopulation, &n);
  if (!fips.empty()) {
    if ((fips.size() != 2 && fips.size() != 5) || !digits(fips)) {
      error(row.line(kFips), row.column(kFips),
            column_name(kFips) + ": " + quote_excerpt(fips) +
                " is not a FIPS code (2 digits for a state, 5 for a county)");
      return;
    }
    auto [it, first] = fips_.emplace(std::string(fips), row.line(kFips));
    if (!first) {
      error(row.line(kFips), row.column(kFips),
            column_name(kFips) + ": " + std::string(fips) + " appears twice (first on line " +
                std::to_string(it->second) + ")");
      return;
    }
  }
  if (!ok || n == 0) return;  // an error, or no population
  Population p{"", n, kJhuPopulationSource, 0};
  if (!fips.empty()) {
    std::string_view state = fips.size() == 2 ? fips : fips.substr(0, 2);
    bool state_row = fips.size() == 2 || (fips.starts_with("000") && admin2.empty());
    if (state_row) {
      state = fips.substr(fips.size() - 2);
      if (state_name_by_fips(state).empty()) {
        error(row.line(kFips), row.column(kFips),
              column_name(kFips) + ": " + quote_excerpt(fips) +
                  " is the FIPS code of no state or territory");
        return;
      }
      p.location = std::string(state);
    } else if (!state_name_by_fips(state).empty()) {
      p.location = std::string(fips);
    } else {
      return;  // Out of XX, Unassigned, the cruise ships: no state's, no location of ours
    }
    p.year = kUsCensusYear;
    us_.emplace(p.location, Seen{p, row.line()});
  } else if (province.empty() && admin2.empty()) {
    if (iso3.empty()) return;  // the cruise ships' country-level rows
    auto [it, first] = countries_.emplace(std::string(iso3), Seen{p, row.line()});
    if (!first) {
      error(row.line(kIso3), row.column(kIso3),
            column_name(kIso3) + ": a country-level row of " + quote_excerpt(iso3) +
                " appears twice (first on line " + std::to_string(it->second.line) + ")");
      return;
    }
    it->second.p.location = std::string(iso3);
    if (iso3 == "USA")
      us_.emplace(kNation, Seen{{kNation, n, kJhuPopulationSource, 0}, row.line()});
  } else if (admin2.empty()) {
    if (!iso3.empty()) {
      p.location = std::string(iso3);
      territories_[p.location].push_back(Seen{p, row.line()});
    }
  } else if (row[kCountry] == "US") {
    std::string_view state = state_fips_by_name(province);
    if (state.empty() || !check_name(row, kAdmin2)) return;
    p.location = std::string(state) + ":" + std::string(admin2);
    auto [it, first] = us_.emplace(p.location, Seen{p, row.line()});
    if (!first) {
      error(row.line(kAdmin2), row.column(kAdmin2),
            column_name(kAdmin2) + ": " + quote_excerpt(admin2) + " of " + std::string(province) +
                " appears twice without FIPS (first on line " + std::to_string(it->second.line) +
                ")");
      return;
    }
  }
  kept(Date{0});
}

void PopulationsReader::on_end() {
  if (diagnostics().has_errors()) return;  // nothing will be loaded
  for (const auto& [iso3, rows] : territories_) {
    if (rows.size() == 1 && !countries_.count(iso3)) countries_.emplace(iso3, rows.front());
  }
  // New York City: the sum of the five boroughs, when the table has all five.
  int64_t city = 0;
  for (const char* b : kBoroughs) {
    auto it = us_.find(b);
    city = (it == us_.end() || city < 0) ? -1 : city + it->second.p.population;
  }
  if (city > 0 && !us_.count(kNewYorkCity)) {
    us_.emplace(kNewYorkCity,
                Seen{{kNewYorkCity, city,
                      std::string(kJhuPopulationSource) + ": 36005 + 36047 + 36061 + 36081 + 36085",
                      kUsCensusYear},
                     0});
  }
  for (const char* c : kPartialCounties) us_.erase(c);
  out_.clear();
  for (const auto& [id, s] : countries_) out_.push_back(s.p);
  for (const auto& [id, s] : us_) out_.push_back(s.p);
  std::sort(out_.begin(), out_.end(),
            [](const Population& a, const Population& b) { return a.location < b.location; });
}

}  // namespace covid
