// StatesReader: the New York Times state series, us-states.csv (`date,state,fips,cases,deaths`).
// Every row is the observation of one state (territories included) on one date, its location the
// 2-digit FIPS code (a 1-digit code is read as having lost its leading zero); the state's name is
// kept for the locations table. cases and deaths are required; recovered is unknown below the
// national level. A (fips, date) that appears twice, a FIPS code that is not two digits or is no
// state's or territory's (00, 99, 03...), and a code under a name that is not its state's exactly
// as NYT spells it (transform/state_fips.h: California's rows under 36, `Texas,6`) are errors at
// the fips field; a name that is not clean text (fields.h check_text: controls, bidirectional
// controls, invisible characters) is one at the state field. A cumulative count that goes down is a
// revision upstream: accepted, with a warning. Not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "transform/location.h"
#include "transform/observation.h"
#include "transform/table_reader.h"

namespace covid {

class StatesReader final : public TableReader {
 public:
  StatesReader(std::string file, const Clock& clock);

  // The rows read, sorted by (location, date), once the stream ended without errors.
  const std::vector<Observation>& rows() const { return rows_; }
  // The same, moved out: rows() is empty after.
  std::vector<Observation> take_rows() { return std::move(rows_); }
  // The states seen, by FIPS code.
  std::vector<Location> locations() const;

 private:
  struct Name {
    std::string name;
    uint64_t line;
  };
  void on_row(const Row& row) override;
  void on_end() override;
  void on_restart() override {
    rows_.clear();
    sources_.clear();
    names_.clear();
    seen_.clear();
  }

  std::vector<Observation> rows_;
  std::vector<CountSource> sources_;             // parallel to rows_ until on_end
  std::map<std::string, Name> names_;            // fips -> name and the line it was first seen on
  std::unordered_map<uint64_t, uint64_t> seen_;  // (fips, date) -> line of its first row
};

}  // namespace covid
