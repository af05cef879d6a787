#include "extract/csv_reader.h"

#include <emmintrin.h>

#include <algorithm>
#include <cstring>

namespace covid {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

struct SpecialTable {
  bool is[256] = {};
  constexpr SpecialTable() {
    is[uint8_t(',')] = is[uint8_t('\n')] = is[uint8_t('\r')] = is[uint8_t('"')] = is[0] = true;
  }
};
constexpr SpecialTable kSpecial;

// The first of , \n \r " or NUL in [p, e), or e.
inline const char* find_special(const char* p, const char* e) {
  const __m128i comma = _mm_set1_epi8(','), lf = _mm_set1_epi8('\n'), cr = _mm_set1_epi8('\r'),
                quote = _mm_set1_epi8('"'), zero = _mm_setzero_si128();
  while (e - p >= 16) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    __m128i m =
        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, comma), _mm_cmpeq_epi8(v, lf)),
                     _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, cr), _mm_cmpeq_epi8(v, quote)),
                                  _mm_cmpeq_epi8(v, zero)));
    int mask = _mm_movemask_epi8(m);
    if (mask != 0) return p + __builtin_ctz(unsigned(mask));
    p += 16;
  }
  while (p < e && !kSpecial.is[uint8_t(*p)]) ++p;
  return p;
}

}  // namespace

// Finds the line break that ends a record, following the parser's quoting rules: a quote opens
// a quoted field only at the start of a field (or as the second of a doubled pair), so a stray
// quote inside an unquoted field does not swallow the lines after it. Returns the offset just
// past the line break, or npos with the state kept in scan_ for the next chunk.
size_t CsvReader::find_record_end(std::string_view data) {
  QuoteScan& st = scan_;
  for (size_t i = 0; i < data.size(); ++i) {
    char c = data[i];
    if (st.in_quote) {
      if (c == '"') {
        st.in_quote = false;
        st.after_close = true;
      }
      continue;
    }
    if (c == '"') {
      st.in_quote = st.field_start || st.after_close;  // opening, or a doubled quote
      st.field_start = st.after_close = false;
    } else if (c == ',') {
      st.field_start = true;
      st.after_close = false;
    } else if (c == '\n') {
      st = QuoteScan();
      return i + 1;
    } else {
      st.field_start = st.after_close = false;
    }
  }
  return std::string_view::npos;
}

CsvReader::CsvReader(CsvHandler& handler, CsvOptions options)
    : handler_(handler), options_(options) {}

void CsvReader::reset() {
  pending_.clear();
  scan_ = QuoteScan();
  bom_checked_ = false;
  stopped_ = false;
  line_ = 1;
  records_ = 0;
  bytes_ = 0;
}

void CsvReader::fail(uint64_t line, uint32_t column, std::string message) {
  if (stopped_) return;
  stopped_ = true;
  handler_.on_error(CsvError{line, column, std::move(message)});
}

void CsvReader::fail_too_long(uint64_t line) {
  fail(line, 1,
       "record longer than " + std::to_string(options_.max_record_bytes) +
           " bytes (an unterminated quote, or not a CSV file)");
}

void CsvReader::fail_pending_too_long() {
  // Report what reading it whole would report: an error within the limit comes first.
  (void)parse(pending_, false);
  // A CR just past the limit, as the last byte so far, may end the line (then the record is too
  // long) or be an error of its own at its place, within the limit (the next byte is not a LF,
  // or there is none): the next feed() or finish() decides. (Found by csv_reader_fuzz.)
  if (pending_.size() == options_.max_record_bytes + 1 && pending_.back() == '\r') return;
  fail_too_long(line_);  // no effect when parse() has already failed
}

void CsvReader::feed(std::string_view data) {
  if (stopped_ || data.empty()) return;
  bytes_ += data.size();
  if (bom_checked_) {
    feed_body(data);
    return;
  }
  // The stream's first bytes decide whether it starts with a BOM. They may arrive in pieces
  // smaller than the BOM; only then are they gathered (copied) in pending_.
  std::string head;
  std::string_view start = data;
  if (!pending_.empty()) {
    head = std::move(pending_);
    pending_.clear();
    head.append(data);
    start = head;
  }
  if (start.size() < kBom.size() && kBom.starts_with(start)) {
    pending_.assign(start);
    return;
  }
  bom_checked_ = true;
  if (start.starts_with(kBom)) start.remove_prefix(kBom.size());
  feed_body(start);
}

void CsvReader::feed_body(std::string_view data) {
  if (stopped_ || data.empty()) return;
  if (!pending_.empty()) {
    size_t end = find_record_end(data);
    if (end == std::string_view::npos) {
      pending_.append(data);
      if (pending_.size() > options_.max_record_bytes) fail_pending_too_long();
      return;
    }
    pending_.append(data.substr(0, end));
    std::string record = std::move(pending_);
    pending_.clear();
    size_t used = parse(record, false);
    if (stopped_) return;
    if (used != record.size()) {
      // The scan and the parser agree on where every record the parser accepts ends.
      fail(line_, 1, "internal error: record boundary mismatch");
      return;
    }
    data.remove_prefix(end);
  }
  size_t used = parse(data, false);
  if (stopped_) return;
  if (used < data.size()) {
    pending_.assign(data.substr(used));
    scan_ = QuoteScan();
    (void)find_record_end(pending_);  // the quoting state at its end (it holds no record end)
    if (pending_.size() > options_.max_record_bytes) fail_pending_too_long();
  }
}

bool CsvReader::skip_records(uint64_t bytes, uint64_t lines, uint64_t records) {
  if (!between_records()) return false;
  bytes_ += bytes;
  line_ += lines;
  records_ += records;
  return true;
}

void CsvReader::finish() {
  if (stopped_) return;
  if (!bom_checked_) {
    bom_checked_ = true;
    if (pending_.starts_with(kBom)) pending_.clear();
  }
  if (pending_.empty()) return;
  std::string record = std::move(pending_);
  pending_.clear();
  parse(record, true);
}

std::string_view CsvReader::unescape(const char* begin, const char* end) {
  if (unescaped_used_ == unescaped_.size()) unescaped_.emplace_back();
  std::string& s = unescaped_[unescaped_used_++];
  s.clear();
  for (const char* p = begin; p < end; ++p) {
    s.push_back(*p);
    if (*p == '"') ++p;  // the second quote of a doubled pair
  }
  return s;
}

void CsvReader::grow() {
  size_t n = std::max<size_t>(16, fields_.size() * 2);
  fields_.resize(n);
  columns_.resize(n);
  line_offsets_.resize(n);
}

bool CsvReader::emit(uint64_t line, uint32_t end_line_offset, uint32_t end_column, bool multiline,
                     bool quoted) {
  size_t n = count_;
  count_ = 0;
  unescaped_used_ = 0;
  if (n == 1 && fields_[0].empty() && !quoted) return true;  // a blank line
  CsvRecord record{records_++,      line,      {fields_.data(), n}, {columns_.data(), n}, {},
                   end_line_offset, end_column};
  if (multiline) record.line_offsets = {line_offsets_.data(), n};
  if (!handler_.on_record(record)) {
    stopped_ = true;
    return false;
  }
  return true;
}

namespace {

// Bit i set when p[i] is a comma or LF (*sep), or a quote, CR or NUL (*rare).
inline void classify64(const char* p, uint64_t* sep, uint64_t* rare) {
  const __m128i comma = _mm_set1_epi8(','), lf = _mm_set1_epi8('\n'), cr = _mm_set1_epi8('\r'),
                quote = _mm_set1_epi8('"'), zero = _mm_setzero_si128();
  uint64_t s = 0, r = 0;
  for (int i = 0; i < 4; ++i) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * i));
    __m128i sv = _mm_or_si128(_mm_cmpeq_epi8(v, comma), _mm_cmpeq_epi8(v, lf));
    __m128i rv = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, cr), _mm_cmpeq_epi8(v, quote)),
                              _mm_cmpeq_epi8(v, zero));
    s |= uint64_t(uint32_t(_mm_movemask_epi8(sv))) << (16 * i);
    r |= uint64_t(uint32_t(_mm_movemask_epi8(rv))) << (16 * i);
  }
  *sep = s;
  *rare = r;
}

}  // namespace

const char* CsvReader::parse_plain(const char* p, const char* e) {
  // The field arrays live in locals: stores through them could otherwise alias the members and
  // force the compiler to reload them after every field.
  std::string_view* fields = fields_.data();
  uint32_t* columns = columns_.data();
  size_t capacity = fields_.size(), n = 0;
  const char* record = p;
  const char* field = p;
  for (const char* block = p; e - block >= 64; block += 64) {
    if (size_t(block - record) > options_.max_record_bytes) break;  // the general path reports it
    uint64_t sep, rare;
    classify64(block, &sep, &rare);
    bool stop = rare != 0;
    if (stop) sep &= (rare & (0 - rare)) - 1;  // only the separators before the first rare byte
    while (sep != 0) {
      const char* at = block + __builtin_ctzll(sep);
      sep &= sep - 1;
      if (n == capacity) {
        grow();
        fields = fields_.data();
        columns = columns_.data();
        capacity = fields_.size();
      }
      fields[n] = std::string_view(field, size_t(at - field));
      columns[n] = uint32_t(field - record) + 1;
      ++n;
      field = at + 1;
      if (*at == '\n') {
        if (size_t(field - record) > options_.max_record_bytes) {
          count_ = 0;
          return record;  // the general path reports it
        }
        count_ = n;
        n = 0;
        if (!emit(line_++, 0, uint32_t(at - record) + 1, false, false)) return field;
        record = field;
      }
    }
    if (stop) break;
  }
  count_ = 0;
  return record;
}

size_t CsvReader::parse(std::string_view data, bool at_end) {
  const char* const b = data.data();
  const char* const e = b + data.size();
  const char* p = b;
  while (p < e && !stopped_) {
    p = parse_plain(p, e);
    if (stopped_ || p == e) break;
    const char* next = nullptr;
    if (parse_one(p, e, at_end, &next) != Step::kComplete) break;
    p = next;
  }
  return size_t(p - b);
}

CsvReader::Step CsvReader::parse_one(const char* p, const char* const e, bool at_end,
                                     const char** next) {
  const char* const record_start = p;
  const char* line_start = p;
  uint64_t line = line_;
  // An error found beyond max_record_bytes is reported as the record being too long: what a
  // reader fed in small chunks finds first.
  auto error_at = [&](const char* at, uint64_t l, uint32_t column, const char* message) {
    if (size_t(at - record_start) > options_.max_record_bytes) {
      fail_too_long(line_);
    } else {
      fail(l, column, message);
    }
    return Step::kFailed;
  };
  uint32_t end_column = 0, end_line_offset = 0;
  count_ = 0;
  unescaped_used_ = 0;
  bool quoted = false;

  for (;;) {  // one field per iteration
    const char* field_start = p;
    uint32_t column = uint32_t(field_start - line_start) + 1;
    if (count_ == fields_.size()) grow();
    line_offsets_[count_] = uint32_t(line - line_);
    if (p < e && *p == '"') {
      quoted = true;
      const char* q = p + 1;
      bool doubled = false;
      const char* close = nullptr;
      for (;;) {
        const char* r = static_cast<const char*>(std::memchr(q, '"', size_t(e - q)));
        if (r == nullptr) break;
        if (r + 1 < e && r[1] == '"') {
          doubled = true;
          q = r + 2;
          continue;
        }
        if (r + 1 == e && !at_end) break;  // cannot tell a closing quote from a doubled one
        close = r;
        break;
      }
      // A NUL in the quoted text read so far, closed or not: reported the same whatever the
      // chunking.
      const char* quoted_end = close != nullptr ? close : e;
      if (const void* nul = std::memchr(p + 1, '\0', size_t(quoted_end - p - 1))) {
        const char* at = static_cast<const char*>(nul);
        const char* ls = line_start;
        uint64_t l = line;
        for (const char* c = p + 1; c < at; ++c) {
          if (*c == '\n') ++l, ls = c + 1;
        }
        return error_at(at, l, uint32_t(at - ls) + 1, "NUL byte in the data (not a text CSV file)");
      }
      if (close == nullptr) {
        if (!at_end) return Step::kIncomplete;
        return error_at(e, line, column, "unterminated quoted field (the file ends inside quotes)");
      }
      for (const char* nl = p + 1; nl < close;) {
        nl = static_cast<const char*>(std::memchr(nl, '\n', size_t(close - nl)));
        if (nl == nullptr) break;
        ++line;
        line_start = ++nl;
      }
      push_field(doubled ? unescape(p + 1, close) : std::string_view(p + 1, size_t(close - p - 1)),
                 column);
      p = close + 1;
      if (p < e && *p != ',' && *p != '\n' && *p != '\r') {
        return error_at(p, line, uint32_t(p - line_start) + 1,
                        "unexpected text after a closing quote");
      }
    } else {
      const char* r = find_special(p, e);
      if (r < e && *r == '"') {
        return error_at(r, line, uint32_t(r - line_start) + 1, "quote inside an unquoted field");
      }
      if (r < e && *r == '\0') {
        return error_at(r, line, uint32_t(r - line_start) + 1,
                        "NUL byte in the data (not a text CSV file)");
      }
      push_field(std::string_view(p, size_t(r - p)), column);
      p = r;
    }
    // p is at a delimiter, a line end, or the end of the data.
    end_column = uint32_t(p - line_start) + 1;
    end_line_offset = uint32_t(line - line_);
    if (p == e) {
      if (!at_end) return Step::kIncomplete;
      if (options_.require_final_newline) {
        return error_at(p, line, end_column,
                        "the last line has no line break: the file looks truncated");
      }
      break;
    }
    if (*p == ',') {
      ++p;
      continue;
    }
    if (*p == '\r') {
      if (p + 1 == e && !at_end) return Step::kIncomplete;  // the LF may follow
      if (p + 1 == e || p[1] != '\n') {
        return error_at(
            p, line, uint32_t(p - line_start) + 1,
            "carriage return without a line feed (only LF and CRLF line ends are accepted)");
      }
      ++p;
    }
    ++p;  // the LF
    ++line;
    break;
  }

  if (size_t(p - record_start) > options_.max_record_bytes) {
    fail_too_long(line_);
    return Step::kFailed;
  }
  uint64_t record_line = line_;
  line_ = line;
  *next = p;
  return emit(record_line, end_line_offset, end_column, end_line_offset > 0, quoted)
             ? Step::kComplete
             : Step::kFailed;
}

}  // namespace covid
