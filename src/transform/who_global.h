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
#include <memory>
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
  // The same, moved out: rows() is empty after.
  std::vector<Observation> take_rows() { return std::move(rows_); }
  // The countries seen, by id.
  std::vector<Location> locations() const;
  // 1 (daily), 7 (weekly), or 0 when not known (no country has two dates), once valid.
  int cadence_days() const { return cadence_; }

 private:
  // A row as read, until on_end sorts them: its series (an index into series_), counts and where
  // its fields are. Plain data, so that the rows of a file cost one array and no string each.
  struct Pending {
    int64_t cases, deaths;
    int64_t new_cases, new_deaths;  // kNoValue when empty
    uint64_t line;                  // of the row
    uint32_t series;
    int32_t date;
    uint32_t date_column, new_cases_column, cases_column, new_deaths_column, deaths_column;
  };
  // One country's series: its id and name, and what the duplicate check needs. While a country's
  // dates come in increasing order (as in every WHO file) no date can repeat and none is kept;
  // from its first date out of order on, its (date -> line) are kept in seen_.
  struct Series {
    std::string id, name;
    int32_t last_date = INT32_MIN;
    bool out_of_order = false;
    bool read = false;  // a row of it passed its fields' checks
  };
  static constexpr int64_t kNoValue = INT64_MIN;
  void on_row(const Row& row) override;
  void on_end() override;
  void on_restart() override {
    rows_.clear();
    pending_.clear();
    series_.clear();
    by_id_.clear();
    seen_.clear();
    known_.clear();
    cadence_ = 0;
  }
  bool read_new(const Row& row, size_t i, int64_t* out);
  // The series of a WHO code (codes_->find once per code, kept: a file names each country on every
  // date); kNoSeries when the code is neither ISO's nor documented.
  uint32_t series_of(std::string_view code);
  static constexpr uint32_t kNoSeries = UINT32_MAX;
  // The first line of (series, date) when it was read before (a duplicate), else 0; notes it.
  uint64_t first_line(Series& s, uint32_t series, int32_t date, uint64_t line);

  const CountryCodes* codes_;
  std::vector<Observation> rows_;
  // The rows read, in blocks of kBlock that never move: growing one array by doubling would copy
  // (and fault in) every row read before; each block is its own mapping, returned when freed.
  class PendingRows {
   public:
    static constexpr size_t kBlock = 16384;
    void push_back(const Pending& p) {
      if (size_ % kBlock == 0) blocks_.push_back(std::make_unique<Pending[]>(kBlock));
      blocks_.back()[size_++ % kBlock] = p;
    }
    const Pending& operator[](size_t i) const { return blocks_[i / kBlock][i % kBlock]; }
    size_t size() const { return size_; }
    void clear() {
      blocks_.clear();
      size_ = 0;
    }

   private:
    std::vector<std::unique_ptr<Pending[]>> blocks_;
    size_t size_ = 0;
  };
  PendingRows pending_;
  std::vector<Series> series_;
  std::unordered_map<std::string, uint32_t> by_id_;  // id -> index in series_
  std::unordered_map<uint64_t, uint64_t> seen_;      // (series, date) -> line, out of order only
  std::unordered_map<std::string, uint32_t> known_;  // WHO code -> index in series_
  int cadence_ = 0;
};

}  // namespace covid
