// CountiesReader: the New York Times county series, us-counties.csv
// (`date,county,state,fips,cases,deaths`). Every row is one county's observation on one date. Its
// location is the 5-digit county FIPS code or, where NYT gives no FIPS (`Unknown`, `New York
// City`, `Kansas City`, `Joplin`), "SS:Name" with SS the state's 2-digit FIPS code found from the
// state's name (e.g. "36:New York City"), so that `Unknown` is kept apart per state. cases is
// required; an empty deaths is unknown. A FIPS that is not 5 digits, a state name without a FIPS
// code, a (location, date) twice and one location under two names are errors; a cumulative
// count that goes down is a revision upstream: accepted, with a warning. Not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "transform/location.h"
#include "transform/observation.h"
#include "transform/table_reader.h"

namespace covid {

// The 2-digit FIPS code of a state or territory by its NYT name ("California" -> "06"), or "".
std::string_view state_fips_by_name(std::string_view name);

class CountiesReader final : public TableReader {
 public:
  CountiesReader(std::string file, const Clock& clock);

  // The rows read, sorted by (location, date), once the stream ended without errors.
  const std::vector<Observation>& rows() const { return rows_; }
  // The counties seen (type county, with their state's name), by location id.
  std::vector<Location> locations() const;

 private:
  struct Place {
    std::string county, state;
    uint64_t line;
  };
  void on_row(const Row& row) override;
  void on_end() override;
  void on_restart() override {
    rows_.clear();
    sources_.clear();
    places_.clear();
    seen_.clear();
  }

  std::vector<Observation> rows_;
  std::vector<CountSource> sources_;
  std::map<std::string, Place> places_;  // location -> its names and first line
  std::unordered_map<std::string, std::unordered_map<int32_t, uint64_t>> seen_;  // location -> date -> line
};

}  // namespace covid
