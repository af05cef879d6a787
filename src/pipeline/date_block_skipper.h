// DateBlockSkipper: lets the dates of a county file that did not change go by without parsing
// them. At NYT's size a run reads 2.5 million rows to find one new date; this reads the bytes.
//
// It sits between the download and the CSV reader (a TableSink BodyFilter) and cuts the body into
// date blocks by the text that starts each line ("2021-03-04,"): NYT lists each date's rows
// together, dates ascending. Each block's BytesDigest (of its lines and the file's header line)
// is compared with the one the store kept for its date (CountySpool::known). Equal: these are the
// very lines a run validated and loaded before, and the block is accounted for
// (CsvReader::skip_records, CountiesReader::skip_block) instead of parsed; its rows are the ones
// that run found. Every other block is parsed, and so is each block next to one that changed, so
// that the reader's checks across dates (a cumulative count that went down, a location's name)
// still compare a changed date with its neighbours. The digest of every block is noted in the
// spool, which stores it with the date's digest.
//
// Anything unusual makes it step aside and hand every byte that follows to the parser, which then
// reports what is wrong exactly as without the skipper: a header whose first column is not
// `date`, a line that does not start with a YYYY-MM-DD date and a comma, a quote character (a
// quoted field may hold a line break), a date not after the one before, a block larger than
// kMaxBlockBytes, a last line without a line break. Memory: two blocks (the one waiting for its
// successor's digest, and the one being read), a few hundred kilobytes at NYT's size.
// Not thread-safe; one per reader, used for one body at a time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "pipeline/county_spool.h"
#include "pipeline/table_sink.h"
#include "transform/nyt_counties.h"

namespace covid {

class DateBlockSkipper final : public BodyFilter {
 public:
  static constexpr size_t kMaxBlockBytes = size_t{16} << 20;

  // `reader` and `spool` must outlive the skipper; the reader must hand its blocks to the spool.
  DateBlockSkipper(CountiesReader& reader, CountySpool& spool) : reader_(reader), spool_(spool) {}

  void write(std::string_view bytes, CsvReader& csv) override;
  void finish(CsvReader& csv) override;
  void restart() override;

  // Whether it stepped aside (for tests and the run's details).
  bool stepped_aside() const { return stepped_aside_; }

 private:
  enum class Mode { kHeader, kBlocks, kPassThrough, kDone };
  struct Block {
    std::string bytes;  // its lines, line ends included
    char date_text[10] = {};
    Date date;
    uint64_t first_line = 0, lines = 0;
    bool unchanged = false;  // its digest is the one stored for its date
  };

  // Complete lines, in kBlocks mode.
  void take_lines(std::string_view lines, CsvReader& csv);
  // The current block is complete: its digest decides the block held before it. False when the
  // block is unusual: the caller steps aside.
  bool close_block(CsvReader& csv);
  void hand_on(const Block& block, bool skip, CsvReader& csv);
  // Hands on whatever is held, in order, and parses everything from now on.
  void step_aside(CsvReader& csv);

  CountiesReader& reader_;
  CountySpool& spool_;
  Mode mode_ = Mode::kHeader;
  bool stepped_aside_ = false;
  std::string header_;       // the header line until it is complete
  std::string header_line_;  // then: part of every block's digest
  std::string partial_;      // a line not complete yet
  uint64_t line_ = 1;        // the line the next line starts on
  Block current_;            // being read; open when its bytes are not empty
  Block held_;               // when holding_: complete, waiting for its successor's digest
  bool holding_ = false;
  bool previous_unchanged_ = true;  // the block before held_ (none: as if unchanged)
  std::optional<Date> last_date_;   // of the last block closed
};

}  // namespace covid
