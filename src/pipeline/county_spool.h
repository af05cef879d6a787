// CountySpool: a run's county rows between validation and load, kept in a temporary file so that
// memory stays flat however large the county file is (2.5 million rows upstream).
//
// It receives a CountiesReader's date blocks (one date's rows each), digests each block (see
// load/date_digest.h) and, when the digest equals the one the store had for that date before
// the run, keeps only the digest: an unchanged date costs no I/O at all. A block the reader did not
// even parse (on_skipped_block) takes the stored digest as its own. Other blocks are written
// sorted by location, so that merge() can hand the rows of many dates on in (location, date)
// order, the order of the store's key, reading a few kilobytes of each block at a time.
// Blocks from several files (us-counties-2020.csv, ...) must not share a date; a file whose dates
// overlap the previous file's is an error. The temporary file is deleted when the spool is. Not
// thread-safe.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/diagnostics.h"
#include "common/status.h"
#include "extract/date_block_skipper.h"
#include "load/date_digest.h"
#include "load/plan.h"
#include "load/store.h"
#include "transform/nyt_counties.h"

namespace covid {

class CountySpool final : public CountyBlockSink, public BlockSource {
 public:
  // date, digest (of the block's rows, recovered unknown), kept (rows in the file; false: equal
  // to the digest known before), bytes (of its lines, when a DateBlockSkipper saw them); and:
  struct Block : DateBlockInfo {
    uint64_t offset = 0;  // of its first row in the file, in rows
    const CountiesReader* reader = nullptr;
    uint64_t first_line = 0;
    bool skipped = false;  // not parsed: its lines were the ones read before
  };

  // `known`: the store's digests for the county level, read before the run.
  explicit CountySpool(std::map<Date, StoredDigest> known) : known_(std::move(known)) {}
  CountySpool(const CountySpool&) = delete;
  CountySpool& operator=(const CountySpool&) = delete;

  // Creates the temporary file (in $TMPDIR, else /tmp).
  Status open();

  void on_block(const CountiesReader& reader, Date date, uint64_t first_line,
                const std::vector<CountyRow>& rows) override;
  void on_skipped_block(const CountiesReader& reader, Date date, uint64_t first_line) override;
  void on_restart(const CountiesReader& reader) override;

  // The digests known before the run.
  const std::map<Date, StoredDigest>& known() const { return known_; }
  // The digest of the lines of the block of `date` that comes next.
  void note_bytes(Date date, const BytesDigest& bytes) { bytes_[date] = bytes; }
  // Blocks that were not parsed.
  size_t skipped_blocks() const { return skipped_; }

  // The blocks in date order.
  const std::vector<Block>& blocks() const { return blocks_; }
  // A problem found across files (overlapping dates), or a write that failed.
  const std::optional<Issue>& problem() const { return problem_; }
  const Status& io_status() const { return io_; }
  uint64_t rows() const { return rows_; }
  // Distinct locations over all blocks.
  size_t location_count() const { return ids_.size(); }
  // The index of a location id (as used by changed-location counting), and back.
  uint32_t location_index(const std::string& id) const { return index_.at(id); }

  // A kept block's rows, sorted by location.
  Result<std::vector<Observation>> read(const Block& block) const;

  // As a BlockSource (load/plan.h).
  size_t block_count() const override { return blocks_.size(); }
  const DateBlockInfo& block(size_t i) const override { return blocks_[i]; }
  Result<std::vector<Observation>> read_block(size_t i) const override { return read(blocks_[i]); }
  std::unique_ptr<RowCursor> merge_blocks(const std::vector<size_t>& blocks) const override;
  // The rows of the kept `blocks`, in (location, date) order. The cursor must not outlive the
  // spool; Observation pointers it gives are valid until the next call.
  std::unique_ptr<RowCursor> merge(const std::vector<const Block*>& blocks) const;

 private:
  struct Record {
    uint32_t location;
    uint32_t unused = 0;
    int64_t cases, deaths;
  };
  class Merger;
  Status read_records(uint64_t offset, size_t n, Record* out) const;

  // The block of `date` that comes next, with its noted bytes; none once a problem is found, or
  // when it is one (a date not after the last block's: problem_ is set).
  std::optional<Block> next_block(const CountiesReader& reader, Date date, uint64_t first_line);

  std::map<Date, StoredDigest> known_;
  std::map<Date, BytesDigest> bytes_;  // noted, not yet taken by a block
  size_t skipped_ = 0;
  std::vector<Block> blocks_;
  std::optional<Issue> problem_;
  Status io_;
  std::unique_ptr<FILE, int (*)(FILE*)> file_{nullptr, &fclose};
  uint64_t rows_ = 0;     // in all blocks
  uint64_t written_ = 0;  // rows in the file
  std::vector<std::string> ids_;
  std::unordered_map<std::string, uint32_t> index_;
  std::vector<uint64_t> sort_keys_;   // by location index: the first 8 bytes, big-endian
  std::vector<uint32_t> reader_map_;  // the current reader's place -> location index
  const CountiesReader* mapped_reader_ = nullptr;
  std::vector<Record> scratch_;
};

// A county reader and the spool its blocks go to, as the target of the DateBlockSkipper in front
// of that reader: a block was seen before when the digest of its lines is the one the store kept
// for its date (the digest is noted in the spool either way, to be stored with the date's).
class CountyBlockTarget final : public DateBlockTarget {
 public:
  // Both must outlive the target; the reader must hand its blocks to the spool.
  CountyBlockTarget(CountiesReader& reader, CountySpool& spool) : reader_(reader), spool_(spool) {}

  bool seen_before(Date date, std::string_view header, std::string_view lines,
                   uint64_t* rows) override;
  bool skip(Date date, uint64_t first_line, uint64_t rows) override {
    return reader_.skip_block(date, first_line, rows);
  }

 private:
  CountiesReader& reader_;
  CountySpool& spool_;
};

}  // namespace covid
