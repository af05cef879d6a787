#include "pipeline/county_spool.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace covid {
namespace {

// The first 8 bytes of an id, big-endian: comparing keys compares ids as strings do, up to the
// 8th byte (FIPS codes are 5); equal keys fall back to the ids themselves.
uint64_t sort_key(const std::string& id) {
  uint64_t k = 0;
  for (size_t i = 0; i < 8; ++i) k = (k << 8) | (i < id.size() ? uint8_t(id[i]) : 0);
  return k;
}

// Rows read from the file per block at a time while merging: small enough that hundreds of
// blocks (dates) cost a few megabytes, large enough that reads are few.
constexpr size_t kMergeBudgetBytes = 8 << 20;

}  // namespace

Status CountySpool::open() {
  const char* env = std::getenv("TMPDIR");
  std::string dir = env != nullptr && *env != '\0' ? env : "/tmp";
  // A file without a name: nothing is left behind, even by a SIGKILL. Where the file system
  // cannot make one, a named file unlinked at once (a kill between the two leaves it).
  int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0) {
    std::string pattern = dir + "/covid-etl-counties-XXXXXX";
    fd = mkostemp(pattern.data(), O_CLOEXEC);
    if (fd < 0)
      return Status::Load("cannot create a temporary file in " + dir + ": " + std::strerror(errno));
    unlink(pattern.c_str());
  }
  FILE* f = fdopen(fd, "w+b");
  if (f == nullptr) {
    ::close(fd);
    return Status::Load(std::string("cannot open a temporary file: ") + std::strerror(errno));
  }
  file_.reset(f);
  setvbuf(f, nullptr, _IOFBF, 1 << 20);
  return Status::Ok();
}

void CountySpool::on_block(const CountiesReader& reader, Date date, uint64_t first_line,
                           const std::vector<CountyRow>& rows) {
  auto next = next_block(reader, date, first_line);
  if (!next) return;
  Block& b = *next;
  if (mapped_reader_ != &reader) {
    mapped_reader_ = &reader;
    reader_map_.clear();
  }
  scratch_.clear();
  scratch_.reserve(rows.size());
  for (const CountyRow& r : rows) {
    while (reader_map_.size() <= r.place) {
      const std::string& id = reader.place_id(uint32_t(reader_map_.size()));
      auto [it, added] = index_.try_emplace(id, uint32_t(ids_.size()));
      if (added) {
        ids_.push_back(id);
        sort_keys_.push_back(sort_key(id));
      }
      reader_map_.push_back(it->second);
    }
    uint32_t location = reader_map_[r.place];
    b.digest.add(ids_[location], r.cases, r.deaths, kUnknown);
    scratch_.push_back(Record{location, 0, r.cases, r.deaths});
  }
  rows_ += rows.size();
  auto known = known_.find(date);
  b.kept = known == known_.end() || !known->second.source.same_content(b.digest);
  if (b.kept) {
    std::sort(scratch_.begin(), scratch_.end(), [this](const Record& x, const Record& y) {
      uint64_t kx = sort_keys_[x.location], ky = sort_keys_[y.location];
      if (kx != ky) return kx < ky;
      return ids_[x.location] < ids_[y.location];
    });
    if (std::fwrite(scratch_.data(), sizeof(Record), scratch_.size(), file_.get()) !=
        scratch_.size()) {
      io_ = Status::Load(std::string("writing the county rows to a temporary file: ") +
                         std::strerror(errno));
      return;
    }
    written_ += scratch_.size();
  }
  blocks_.push_back(b);
}

std::optional<CountySpool::Block> CountySpool::next_block(const CountiesReader& reader, Date date,
                                                          uint64_t first_line) {
  if (problem_ || !io_.ok()) return std::nullopt;
  if (!blocks_.empty() && date <= blocks_.back().date) {
    // Within one file the reader guarantees ascending dates: this is the next file.
    problem_ = Issue{reader.file(), first_line, 1,
                     "date " + format_date(date) + " is also in " + blocks_.back().reader->file() +
                         " (up to " + format_date(blocks_.back().date) +
                         "): county files read together must cover separate dates, in order"};
    return std::nullopt;
  }
  Block b;
  b.date = date;
  b.reader = &reader;
  b.first_line = first_line;
  b.offset = written_;
  if (auto it = bytes_.find(date); it != bytes_.end()) {
    b.bytes = it->second;
    bytes_.erase(it);
  }
  return b;
}

void CountySpool::on_skipped_block(const CountiesReader& reader, Date date, uint64_t first_line) {
  auto b = next_block(reader, date, first_line);
  if (!b) return;
  auto known = known_.find(date);
  if (known == known_.end()) {  // a skipper skips only dates it was given: a bug, not bad data
    io_ = Status::Load("internal error: the county rows of " + format_date(date) +
                       " were skipped unknown");
    return;
  }
  b->digest = known->second.source;
  b->skipped = true;
  rows_ += b->digest.rows;
  ++skipped_;
  blocks_.push_back(*b);
}

void CountySpool::on_restart(const CountiesReader& reader) {
  // The reader's blocks are the last ones (files are read one after the other).
  while (!blocks_.empty() && blocks_.back().reader == &reader) {
    rows_ -= blocks_.back().digest.rows;
    if (blocks_.back().skipped) --skipped_;
    written_ = blocks_.back().offset;
    blocks_.pop_back();
  }
  if (problem_ && problem_->file == reader.file()) problem_.reset();
  bytes_.clear();
  if (file_) {
    std::fflush(file_.get());
    std::fseek(file_.get(), long(written_ * sizeof(Record)), SEEK_SET);
  }
  mapped_reader_ = nullptr;
}

Status CountySpool::read_records(uint64_t offset, size_t n, Record* out) const {
  if (n == 0) return Status::Ok();
  if (std::fflush(file_.get()) != 0) {
    return Status::Load(std::string("writing the county rows to a temporary file: ") +
                        std::strerror(errno));
  }
  size_t bytes = n * sizeof(Record);
  off_t at = off_t(offset * sizeof(Record));
  char* p = reinterpret_cast<char*>(out);
  while (bytes > 0) {
    ssize_t got = pread(fileno(file_.get()), p, bytes, at);
    if (got <= 0) {
      return Status::Load(std::string("reading the county rows back from a temporary file: ") +
                          (got == 0 ? "unexpected end" : std::strerror(errno)));
    }
    p += got;
    at += got;
    bytes -= size_t(got);
  }
  return Status::Ok();
}

Result<std::vector<Observation>> CountySpool::read(const Block& block) const {
  std::vector<Record> records(block.digest.rows);
  COVID_RETURN_IF_ERROR(read_records(block.offset, records.size(), records.data()));
  std::vector<Observation> out(records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    out[i].location = ids_[records[i].location];
    out[i].date = block.date;
    out[i].cases = records[i].cases;
    out[i].deaths = records[i].deaths;
  }
  return out;
}

// A merge of blocks sorted by location: for each location in order, each block in date order
// gives its row for that location if it has one. All blocks hold nearly the same locations, so
// this costs about one comparison of two integers a row, less than a heap would. Each block is
// read through a small buffer, refilled as it empties.
class CountySpool::Merger final : public RowCursor {
 public:
  Merger(const CountySpool& spool, const std::vector<const Block*>& blocks) : spool_(spool) {
    per_ = std::clamp<size_t>(
        kMergeBudgetBytes / sizeof(Record) / std::max<size_t>(blocks.size(), 1), 64, 16384);
    for (const Block* b : blocks) {
      if (b->digest.rows > 0) cursors_.push_back(Cursor{b, b->offset, b->digest.rows, {}, 0});
    }
    order_.resize(spool.ids_.size());
    for (uint32_t i = 0; i < order_.size(); ++i) order_[i] = i;
    std::sort(order_.begin(), order_.end(), [&](uint32_t x, uint32_t y) {
      uint64_t kx = spool.sort_keys_[x], ky = spool.sort_keys_[y];
      return kx != ky ? kx < ky : spool.ids_[x] < spool.ids_[y];
    });
  }

  Result<const Observation*> next() override {
    if (!started_) {
      started_ = true;
      for (Cursor& c : cursors_) COVID_RETURN_IF_ERROR(refill(c));
    }
    while (location_ < order_.size()) {
      uint32_t want = order_[location_];
      while (block_ < cursors_.size()) {
        Cursor& c = cursors_[block_++];
        if (c.at == c.buffer.size() || c.buffer[c.at].location != want) continue;
        const Record& r = c.buffer[c.at];
        if (row_.location.size() != spool_.ids_[want].size() ||
            row_.location != spool_.ids_[want]) {
          row_.location = spool_.ids_[want];
        }
        row_.date = c.block->date;
        row_.cases = r.cases;
        row_.deaths = r.deaths;
        row_.recovered = kUnknown;
        if (++c.at == c.buffer.size()) COVID_RETURN_IF_ERROR(refill(c));
        return static_cast<const Observation*>(&row_);
      }
      ++location_;
      block_ = 0;
    }
    return static_cast<const Observation*>(nullptr);
  }

 private:
  struct Cursor {
    const Block* block;
    uint64_t next, left;  // the next row to read from the file, and how many remain
    std::vector<Record> buffer;
    size_t at;
  };
  Status refill(Cursor& c) {
    size_t n = size_t(std::min<uint64_t>(per_, c.left));
    c.buffer.resize(n);
    c.at = 0;
    COVID_RETURN_IF_ERROR(spool_.read_records(c.next, n, c.buffer.data()));
    c.next += n;
    c.left -= n;
    return Status::Ok();
  }

  const CountySpool& spool_;
  std::vector<Cursor> cursors_;
  std::vector<uint32_t> order_;  // location indexes, sorted by id
  size_t per_ = 64;
  bool started_ = false;
  size_t location_ = 0, block_ = 0;
  Observation row_;
};

std::unique_ptr<RowCursor> CountySpool::merge(const std::vector<const Block*>& blocks) const {
  return std::make_unique<Merger>(*this, blocks);
}

std::unique_ptr<RowCursor> CountySpool::merge_blocks(const std::vector<size_t>& blocks) const {
  std::vector<const Block*> of;
  of.reserve(blocks.size());
  for (size_t i : blocks) of.push_back(&blocks_[i]);
  return merge(of);
}

bool CountyBlockTarget::seen_before(Date date, std::string_view header, std::string_view lines,
                                    uint64_t* rows) {
  BytesDigest digest = BytesDigest::of(header, lines);
  auto known = spool_.known().find(date);
  bool same = known != spool_.known().end() && known->second.bytes == digest;
  spool_.note_bytes(date, digest);
  if (same) *rows = known->second.source.rows;
  return same;
}

}  // namespace covid
