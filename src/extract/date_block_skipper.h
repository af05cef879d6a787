// DateBlockSkipper: lets the dates of a date-ordered CSV file that did not change go by without
// parsing them. At NYT's county size a run reads 2.5 million rows to find one new date; this reads
// the bytes. It is a CSV-level facility: any dataset whose file lists each date's rows together,
// dates ascending, with the date in its first column, can use it through a DateBlockTarget.
//
// It sits between the download and the CSV reader (a BodyFilter) and cuts the body into date
// blocks by the text that starts each line ("2021-03-04,"). The target is asked, block by block,
// whether it has seen these very lines before (DateBlockTarget::seen_before: the pipeline compares
// a digest of the lines and the file's header line with the one the store kept for that date).
// Seen: the block is accounted for (CsvReader::skip_records, and DateBlockTarget::skip, where the
// dataset's reader stands in for the rows that run found) instead of parsed. Every other block is
// parsed, and so is each block next to one that changed, so that the reader's checks across dates
// (a cumulative count that went down, a location's name) still compare a changed date with its
// neighbours.
//
// Anything unusual makes it step aside and hand every byte that follows to the parser, which then
// reports what is wrong exactly as without the skipper: a header whose first column is not
// `date`, a line that does not start with a YYYY-MM-DD date and a comma, a quote character (a
// quoted field may hold a line break), a date not after the one before, a block larger than
// kMaxBlockBytes, a last line without a line break. Memory: two blocks (the one waiting for its
// successor's answer, and the one being read), a few hundred kilobytes at NYT's size.
// Not thread-safe; one per reader, used for one body at a time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/date.h"
#include "extract/body_filter.h"

namespace covid {

// What the skipper asks of the dataset whose file it reads.
class DateBlockTarget {
 public:
  virtual ~DateBlockTarget() = default;
  // Called once per complete block, in file order: whether the block of `date` (its `lines`, line
  // ends included, in a file whose header line is `header`) holds the very lines a run validated
  // and loaded before; if so, `*rows` is set to the rows they held.
  virtual bool seen_before(Date date, std::string_view header, std::string_view lines,
                           uint64_t* rows) = 0;
  // The block of `date` from line `first_line` is not parsed: its `rows` rows stand as they were
  // loaded. False: it must be parsed after all (the skipper then feeds it to the CSV reader).
  virtual bool skip(Date date, uint64_t first_line, uint64_t rows) = 0;
};

class DateBlockSkipper final : public BodyFilter {
 public:
  static constexpr size_t kMaxBlockBytes = size_t{16} << 20;

  // `target` must outlive the skipper.
  explicit DateBlockSkipper(DateBlockTarget& target) : target_(target) {}

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
    bool unchanged = false;  // seen before (DateBlockTarget::seen_before)
    uint64_t rows = 0;       // then: the rows it held
  };

  // Complete lines, in kBlocks mode.
  void take_lines(std::string_view lines, CsvReader& csv);
  // The current block is complete: its digest decides the block held before it. False when the
  // block is unusual: the caller steps aside.
  bool close_block(CsvReader& csv);
  void hand_on(const Block& block, bool skip, CsvReader& csv);
  // Hands on whatever is held, in order, and parses everything from now on.
  void step_aside(CsvReader& csv);

  DateBlockTarget& target_;
  Mode mode_ = Mode::kHeader;
  bool stepped_aside_ = false;
  std::string header_;       // the header line until it is complete
  std::string header_line_;  // then: part of every block's digest
  std::string partial_;      // a line not complete yet
  uint64_t line_ = 1;        // the line the next line starts on
  Block current_;            // being read; open when its bytes are not empty
  Block held_;               // when holding_: complete, waiting for its successor's answer
  bool holding_ = false;
  bool previous_unchanged_ = true;  // the block before held_ (none: as if unchanged)
  std::optional<Date> last_date_;   // of the last block closed
};

}  // namespace covid
