#include "extract/date_block_skipper.h"

#include <cstring>
#include <utility>

namespace covid {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

// A line (`len` bytes, its line end included) that starts with 10 characters and a comma, the
// form of "YYYY-MM-DD,": the date itself is checked once per block.
bool dated(const char* line, size_t len) { return len >= 12 && line[10] == ','; }

}  // namespace

void DateBlockSkipper::restart() {
  mode_ = Mode::kHeader;
  stepped_aside_ = false;
  header_.clear();
  header_line_.clear();
  partial_.clear();
  line_ = 1;
  current_ = Block();
  held_ = Block();
  holding_ = false;
  previous_unchanged_ = true;
  last_date_.reset();
}

void DateBlockSkipper::write(std::string_view bytes, CsvReader& csv) {
  if (mode_ == Mode::kPassThrough || mode_ == Mode::kDone) {
    csv.feed(bytes);
    return;
  }
  if (mode_ == Mode::kHeader) {
    size_t nl = bytes.find('\n');
    header_.append(bytes.substr(0, nl == std::string_view::npos ? bytes.size() : nl + 1));
    if (nl == std::string_view::npos) {
      if (header_.size() > kMaxBlockBytes) step_aside(csv);
      return;
    }
    std::string_view header = header_;
    if (header.starts_with(kBom)) header.remove_prefix(kBom.size());
    mode_ = header.starts_with("date,") ? Mode::kBlocks : Mode::kPassThrough;
    stepped_aside_ = mode_ == Mode::kPassThrough;
    csv.feed(header_);
    header_line_ = std::move(header_);
    header_.clear();
    line_ = 2;
    bytes.remove_prefix(nl + 1);
    if (mode_ == Mode::kPassThrough) {
      csv.feed(bytes);
      return;
    }
  }
  if (!partial_.empty()) {  // the rest of a line begun in the last write
    size_t nl = bytes.find('\n');
    if (nl == std::string_view::npos) {
      partial_.append(bytes);
      if (partial_.size() > kMaxBlockBytes) step_aside(csv);
      return;
    }
    partial_.append(bytes.substr(0, nl + 1));
    std::string line = std::move(partial_);
    partial_.clear();
    take_lines(line, csv);
    bytes.remove_prefix(nl + 1);
    if (mode_ == Mode::kPassThrough) {
      csv.feed(bytes);
      return;
    }
  }
  size_t last = bytes.rfind('\n');
  if (last != std::string_view::npos) {
    take_lines(bytes.substr(0, last + 1), csv);
    bytes.remove_prefix(last + 1);
    if (mode_ == Mode::kPassThrough) {
      csv.feed(bytes);
      return;
    }
  }
  partial_.assign(bytes);
  if (partial_.size() > kMaxBlockBytes) step_aside(csv);
}

void DateBlockSkipper::take_lines(std::string_view lines, CsvReader& csv) {
  const char* p = lines.data();
  const char* end = p + lines.size();
  const char* from = p;  // the bytes of current_ from here to p are not in current_.bytes yet
  bool open = !current_.bytes.empty();
  auto aside_from = [&](const char* at) {
    current_.bytes.append(from, size_t(at - from));
    step_aside(csv);
    csv.feed(std::string_view(at, size_t(end - at)));
  };
  while (p < end) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', size_t(end - p)));
    if (!dated(p, size_t(nl - p) + 1)) return aside_from(p);
    if (!open || std::memcmp(p, current_.date_text, 10) != 0) {  // a new date
      if (open) {
        current_.bytes.append(from, size_t(p - from));
        from = p;
        if (!close_block(csv)) return aside_from(p);
      }
      std::memcpy(current_.date_text, p, 10);
      current_.first_line = line_;
      from = p;
      open = true;
    }
    ++line_;
    p = nl + 1;
    if (current_.bytes.size() + size_t(p - from) > kMaxBlockBytes) return aside_from(p);
  }
  current_.bytes.append(from, size_t(end - from));
}

bool DateBlockSkipper::close_block(CsvReader& csv) {
  Block& b = current_;
  b.lines = line_ - b.first_line;
  if (parse_date(std::string_view(b.date_text, 10), &b.date) != DateError::kNone) return false;
  if (last_date_ && b.date <= *last_date_) return false;
  if (std::memchr(b.bytes.data(), '"', b.bytes.size()) != nullptr) return false;
  last_date_ = b.date;
  b.rows = 0;
  b.unchanged = target_.seen_before(b.date, header_line_, b.bytes, &b.rows);
  if (holding_) {
    hand_on(held_, previous_unchanged_ && held_.unchanged && b.unchanged, csv);
    previous_unchanged_ = held_.unchanged;
  }
  std::swap(held_, current_);  // current_ keeps the old buffer, for its capacity
  holding_ = true;
  current_.bytes.clear();
  return true;
}

void DateBlockSkipper::hand_on(const Block& block, bool skip, CsvReader& csv) {
  if (skip && csv.between_records()) {
    if (target_.skip(block.date, block.first_line, block.rows)) {
      csv.skip_records(block.bytes.size(), block.lines, block.rows);
      return;
    }
  }
  csv.feed(block.bytes);
}

void DateBlockSkipper::step_aside(CsvReader& csv) {
  mode_ = Mode::kPassThrough;
  stepped_aside_ = true;
  if (holding_) csv.feed(held_.bytes);
  holding_ = false;
  for (std::string* bytes : {&header_, &current_.bytes, &partial_}) csv.feed(*bytes);
  for (std::string* bytes : {&header_, &held_.bytes, &current_.bytes, &partial_})
    std::string().swap(*bytes);
}

void DateBlockSkipper::finish(CsvReader& csv) {
  switch (mode_) {
    case Mode::kPassThrough:
    case Mode::kDone:
      return;
    case Mode::kHeader:
      return step_aside(csv);
    case Mode::kBlocks:
      break;
  }
  if (!partial_.empty()) return step_aside(csv);  // a last line without a line break
  if (!current_.bytes.empty() && !close_block(csv)) return step_aside(csv);
  if (holding_) hand_on(held_, previous_unchanged_ && held_.unchanged, csv);
  holding_ = false;
  mode_ = Mode::kDone;
}

}  // namespace covid
