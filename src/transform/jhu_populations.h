// PopulationsReader: Johns Hopkins' lookup table, UID_ISO_FIPS_LookUp_Table.csv
// (`UID,iso2,iso3,code3,FIPS,Admin2,Province_State,Country_Region,Lat,Long_,Combined_Key,
// Population`; columns found by name), read into populations (transform/reference.h) keyed by
// our location ids:
// - a country: its ISO alpha-3 code (iso3; Kosovo is XKS in the table), from its country-level
//   row only (empty Province_State and Admin2), never from a province's (China's provinces carry
//   CHN). A territory with an ISO code of its own is a province row of its country in the table
//   (Greenland GRL under Denmark, Puerto Rico PRI under US): the one row with that iso3, an empty
//   Admin2 and no country-level row of that code gives the code's figure. The nation "US" (NYT's
//   national series) takes the USA row's figure.
// - a US state or territory: its 2-digit FIPS code (the table writes states 00001..00056 and the
//   territories 60, 66, 69, 72, 78).
// - a US county: its 5-digit FIPS code. The pseudo-counties (Out of XX 80xxx, Unassigned 90xxx,
//   the cruise ships 88888 and 99999) belong to no state and are left out.
// - a US row without FIPS but with a county name (Admin2) and a state: "SS:Admin2", the id the
//   NYT county reader gives a county without FIPS (Kansas City, MO: "29:Kansas City").
// NYT's places that are not counties (README "Populations"): New York City ("36:New York City")
// is the sum of its five boroughs' counties (36005, 36047, 36061, 36081, 36085; the table's 36061
// row is Manhattan's own figure, not the city's). NYT's Cass, Clay, Jackson and Platte (MO)
// exclude Kansas City, and Jasper and Newton (MO) exclude Joplin from 2020-06-25 on, while the
// table's figures are the whole counties': those six counties get no population, nor does Joplin
// (no row) nor any state's Unknown. A location without a population has no rates.
// Validation: a Population that is not a whole number >= 0 is an error at its file:line:column;
// an empty one (or 0) means no population. A FIPS code that is neither 2 nor 5 digits, a FIPS
// code twice, a state code that is no state's, and a country-level iso3 twice are errors.
// The year of a figure: 2019 for the US states and counties (their figures are the Census
// Bureau's Vintage 2019 estimates for July 1, 2019: the 50 states and DC sum to 328,239,523), 0
// (not known) for every other row, whose year the table does not say. Not thread-safe.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "transform/reference.h"
#include "transform/table_reader.h"

namespace covid {

// The source text every population from the table carries.
inline constexpr const char* kJhuPopulationSource = "JHU CSSE UID_ISO_FIPS_LookUp_Table";

class PopulationsReader final : public TableReader {
 public:
  PopulationsReader(std::string file, const Clock& clock);

  // The populations read, sorted by location, once the stream ended without errors.
  const std::vector<Population>& populations() const { return out_; }

 private:
  struct Seen {
    Population p;
    uint64_t line = 0;
  };
  void on_row(const Row& row) override;
  void on_end() override;
  void on_restart() override {
    out_.clear();
    countries_.clear();
    territories_.clear();
    fips_.clear();
    us_.clear();
  }
  std::string rows_wanted() const override { return "a row with a Population"; }
  size_t rows_wanted_column() const override;

  std::vector<Population> out_;
  std::map<std::string, Seen> countries_;                 // iso3 -> country-level row
  std::map<std::string, std::vector<Seen>> territories_;  // iso3 -> province rows, Admin2 empty
  std::map<std::string, uint64_t> fips_;                  // every FIPS code -> its first line
  std::map<std::string, Seen> us_;                        // state, county and "SS:Name" ids
};

}  // namespace covid
