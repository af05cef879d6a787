// JhuRecoveredReader: US recoveries from the Johns Hopkins combined series as republished by
// datasets/covid-19 (`Date,Country/Region,Province/State,Confirmed,Recovered,Deaths`; older
// versions add `Lat,Long`). Only the national US rows (Country/Region "US", empty
// Province/State) are read; other rows are skipped unvalidated.
//
// The zero rule: JHU stopped reporting US recoveries on 2020-12-14 and wrote 0 from then on.
// From the first positive value on, a 0 is "not reported": stored as unknown, with a warning.
// Zeros before the first positive value are real zeros. A file without any US national row is
// an error (it is not the file we need, or lost those rows). Not thread-safe.
#pragma once

#include <vector>

#include "transform/table_reader.h"

namespace covid {

struct DatedCount {
  Date date;
  int64_t value;  // kUnknown when not reported
};

class JhuRecoveredReader final : public TableReader {
 public:
  JhuRecoveredReader(std::string file, const Clock& clock);

  // The US recoveries sorted by date, with the zero rule applied, once the stream ended.
  const std::vector<DatedCount>& recovered() const { return recovered_; }

 private:
  void on_row(const Row& row) override;
  void on_end() override;
  void on_restart() override {
    recovered_.clear();
    lines_.clear();
  }
  std::string rows_wanted() const override {
    return "the US national rows (Country/Region \"US\" with an empty Province/State)";
  }
  size_t rows_wanted_column() const override { return 1; }  // Country/Region

  std::vector<DatedCount> recovered_;
  std::vector<std::pair<uint64_t, uint32_t>> lines_;  // line and column of each value
};

// Applies the zero rule to values sorted by date; returns the indexes turned unknown.
std::vector<size_t> apply_recovered_zero_rule(std::vector<DatedCount>& values);

}  // namespace covid
