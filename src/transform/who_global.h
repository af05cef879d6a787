// WhoReader: the WHO's global series, WHO-COVID-19-global-data.csv
// (`Date_reported,Country_code,Country,WHO_region,New_cases,Cumulative_cases,New_deaths,
// Cumulative_deaths`; the same header for the daily file beside it). Every row is one country's
// cumulative counts on one date; its location is the country's id (transform/country_codes.h:
// ISO alpha-3 from the WHO's alpha-2 code, or a documented X.. id), its name ISO's, never the
// file's. Country and WHO_region are not read (a name changes between copies while the code
// stays; WHO_region may be empty). What is stored: Cumulative_cases and Cumulative_deaths;
// recovered is unknown.
//
// Rules (rows of different countries are interleaved: nothing relies on the order of the file):
// - Country_code is read as plain text: `NA` is Namibia, a single space the conveyances of 2021.
//   A code neither ISO nor documented is an error at Country_code.
// - A (Date_reported, Country_code) twice is an error at the second row's Date_reported.
// - Cumulative_* are required counts. New_* are signed integers or empty. Once a country's rows
//   are sorted by date, on every date but its first: a New_* given must equal the change of its
//   cumulative since the country's previous date (the WHO's files all do), and an empty one is
//   allowed only where the cumulative did not change; either contradiction is an error at the
//   New_* field. The first date of a series has no previous: its New_* is not checked.
// - A cumulative that goes down (a negative New_*) is a revision upstream: loaded, with a
//   warning (at New_* when given, else at the cumulative).
// - Cadence: the days between a country's consecutive dates are 1 everywhere (daily) or 7
//   everywhere (weekly); a file mixing them, or with any other gap, is an error at the row whose
//   date breaks the rule. cadence_days() says which (0 when no country has two dates).
// Not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "transform/country_codes.h"
#include "transform/location.h"
#include "transform/observation.h"
#include "transform/table_reader.h"

namespace covid {

class WhoReader final : public TableReader {
 public:
  // `codes`: the country table (iso_country_codes() when nullptr: read at the first row).
  WhoReader(std::string file, const Clock& clock, const CountryCodes* codes = nullptr);

  // The rows read, sorted by (location, date), once the stream ended without errors.
  const std::vector<Observation>& rows() const { return rows_; }
  // The countries seen, by id.
  std::vector<Location> locations() const;
  // 1 (daily), 7 (weekly), or 0 when not known (no country has two dates), once valid.
  int cadence_days() const { return cadence_; }

 private:
  struct Extra {  // a row's New_* and where its fields are, parallel to rows_ until on_end
    int64_t new_cases, new_deaths;  // kNoValue when empty
    uint64_t line;                  // of the row
    uint32_t date_column, new_cases_column, cases_column, new_deaths_column, deaths_column;
  };
  static constexpr int64_t kNoValue = INT64_MIN;
  void on_row(const Row& row) override;
  void on_end() override;
  void on_restart() override {
    rows_.clear();
    extras_.clear();
    names_.clear();
    index_.clear();
    seen_.clear();
    known_.clear();
    cadence_ = 0;
  }
  bool read_new(const Row& row, size_t i, int64_t* out);
  // The country of a WHO code (codes_->find, kept: a file names each country on every date).
  const Country* country(std::string_view code);

  const CountryCodes* codes_;
  std::vector<Observation> rows_;
  std::vector<Extra> extras_;
  std::map<std::string, std::string> names_;         // id -> ISO's name
  std::unordered_map<std::string, uint32_t> index_;  // id -> small number, for seen_
  std::unordered_map<uint64_t, uint64_t> seen_;      // (id number, date) -> line of its first row
  std::unordered_map<std::string, Country> known_;   // WHO code -> its country, once found
  int cadence_ = 0;
};

}  // namespace covid
