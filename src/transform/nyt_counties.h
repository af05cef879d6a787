// CountiesReader: the New York Times county series, us-counties.csv
// (`date,county,state,fips,cases,deaths`). Every row is one county's observation on one date. Its
// location is the 5-digit county FIPS code or, where NYT gives no FIPS (`Unknown`, `New York
// City`, `Kansas City`, `Joplin`), "SS:Name" with SS the state's 2-digit FIPS code found from the
// state's name (e.g. "36:New York City"), so that `Unknown` is kept apart per state. cases is
// required; an empty deaths is unknown. A FIPS that is not 5 digits, a state name without a FIPS
// code, a (location, date) twice and one location under two names are errors; so is a FIPS code
// that is no county (its first two digits no state's or territory's, as in 00000 and 99999, or
// its last three 000) or a county of another state than the row's (`01003` with state `Texas`:
// the first two digits must be the code of the state named, transform/state_fips.h), at the fips
// field. Only the state part is checked: the county part is not looked up in a list of counties.
// Names must be clean text (fields.h check_text: no controls, bidirectional controls or
// invisible characters). A cumulative count that goes down is a revision upstream: accepted,
// with a warning.
//
// A county file is ~2.5 million rows, so the reader never needs to hold it: NYT publishes it in
// ascending date order, and the reader requires that order (a date earlier than the one before
// it is an error) and hands each date's rows on, complete, as a block. With a CountyBlockSink
// set, the blocks go there and nothing is kept but the places (one entry per county); without
// one, the rows are collected and rows() gives them sorted by (location, date).
//
// A date block whose lines are known to be unchanged since a run that validated them need not be
// parsed at all (extract/date_block_skipper.h): skip_block() stands in for its rows. The checks
// that span dates then see only the blocks parsed: a cumulative decrease is reported between
// two rows of a location only when no skipped block lies between them (the skipper parses the
// neighbours of every changed block, so each changed date is still seen next to the dates
// around it), and a location's names are compared among the parsed blocks here and with the
// skipped blocks' names by the pipeline (renamed_since()). Not thread-safe.
#pragma once

#include <climits>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "transform/location.h"
#include "transform/observation.h"
#include "transform/state_fips.h"  // state_fips_by_name, state_name_by_fips
#include "transform/table_reader.h"

namespace covid {

class CountiesReader;

// One county's counts on the date of the block it is in.
struct CountyRow {
  uint32_t place = 0;  // CountiesReader::place_id(place) is its location
  int64_t cases = kUnknown;
  int64_t deaths = kUnknown;
};

// Where a CountiesReader hands its blocks: every row of one date, in file order. Blocks come in
// ascending date order; none comes once the file has an error.
class CountyBlockSink {
 public:
  virtual ~CountyBlockSink() = default;
  // `first_line` is the line of the block's first row.
  virtual void on_block(const CountiesReader& reader, Date date, uint64_t first_line,
                        const std::vector<CountyRow>& rows) = 0;
  // A block that was not parsed because its lines are the ones a run read before
  // (CountiesReader::skip_block): its rows are the ones that run found.
  virtual void on_skipped_block(const CountiesReader& reader, Date date, uint64_t first_line) = 0;
  // The download starts again: forget the blocks of this reader.
  virtual void on_restart(const CountiesReader& reader) = 0;
};

class CountiesReader final : public TableReader {
 public:
  CountiesReader(std::string file, const Clock& clock);

  // Hands the blocks to `sink` (which must outlive the reading) instead of collecting rows.
  void set_sink(CountyBlockSink* sink) { sink_ = sink; }

  // Instead of parsing them: the `rows` rows of `date` from line `first_line` are known to be
  // valid and the same as when a run last read them. Needs a sink; the date must come after the
  // blocks before it (false otherwise, or when the file already has errors: parse them instead).
  bool skip_block(Date date, uint64_t first_line, uint64_t rows);

  // The blocks skipped so far, in file order.
  struct Skipped {
    Date date;
    uint64_t first_line;
  };
  const std::vector<Skipped>& skipped() const { return skipped_; }
  // Names are compared among the rows parsed; the rows of skipped blocks are compared by the
  // pipeline through the store, which has their names: location `id`, parsed here under another
  // name, is `county`, `state` in the skipped block `where`. An error at the location's first
  // parsed row, as there would be had every block been parsed.
  void renamed_since(const std::string& id, std::string_view county, std::string_view state,
                     const Skipped& where);

  // Without a sink: the rows read, sorted by (location, date), once the stream ended without
  // errors.
  const std::vector<Observation>& rows() const { return rows_; }
  // The same, moved out: rows() is empty after.
  std::vector<Observation> take_rows() { return std::move(rows_); }
  // The counties seen (type county, with their state's name), by location id.
  std::vector<Location> locations() const;
  // The location id of a CountyRow::place.
  const std::string& place_id(uint32_t place) const { return places_[place].id; }

 private:
  struct Place {
    std::string id, county, state;
    uint64_t line;  // where it first appears, and its county's column there
    uint32_t column;
    int32_t block = -1;  // the last block it has a row in, and that row's line
    uint64_t block_line = 0;
    Date last_date{INT32_MIN};  // its previous row, for the cumulative-decrease warning
    int64_t last_cases = kUnknown, last_deaths = kUnknown;
    uint32_t next = UINT32_MAX;  // the place after it in its last block
  };
  static constexpr uint32_t kNoPlace = UINT32_MAX;
  void on_row(const Row& row) override;
  void on_end() override;
  void on_restart() override;
  void flush_block();

  CountyBlockSink* sink_ = nullptr;
  std::vector<Observation> rows_;
  std::vector<Place> places_;
  std::unordered_map<std::string, uint32_t> place_index_;
  std::vector<CountyRow> block_;  // the rows of the current date
  Date block_date_{INT32_MIN};
  uint64_t block_line_ = 0;
  int32_t block_number_ = -1;
  int32_t last_skipped_ = -1;  // the number of the last block skipped
  std::vector<Skipped> skipped_;
  uint32_t previous_ = kNoPlace;  // the place of the block's previous row
  uint32_t first_ = kNoPlace;     // the place of the last block's first row
  std::string last_date_text_;    // the last valid date's text, and the date
  Date last_date_;
};

}  // namespace covid
