// NytNationalReader: the New York Times national series, us.csv (`date,cases,deaths`).
// Every row is a US observation; cases and deaths are required. A cumulative count that goes
// down is a revision upstream: accepted, with a warning. Not thread-safe.
#pragma once

#include <vector>

#include "transform/observation.h"
#include "transform/table_reader.h"

namespace covid {

class NytNationalReader final : public TableReader {
 public:
  NytNationalReader(std::string file, const Clock& clock);

  // The rows read, sorted by date, once the stream ended without errors.
  const std::vector<Observation>& rows() const { return rows_; }

 private:
  void on_row(const Row& row) override;
  void on_end() override;
  void on_restart() override {
    rows_.clear();
    sources_.clear();
  }

  std::vector<Observation> rows_;
  std::vector<CountSource> sources_;  // parallel to rows_ until on_end
};

}  // namespace covid
