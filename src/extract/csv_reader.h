// CsvReader: a streaming RFC 4180 reader, fed with chunks of bytes as they arrive.
//
// Handles quoted fields, doubled quotes, commas and line breaks inside quotes, LF and CRLF line
// ends, and a UTF-8 byte order mark at the start. Blank lines are skipped. Each complete record
// is handed to the CsvHandler with its fields, the line it starts on and the 1-based byte column
// of each field, so bad values can be reported as file:line:column.
//
// Structural errors (an unterminated quote, a quote inside an unquoted field, text after a
// closing quote, a lone CR, a NUL byte, a record longer than max_record_bytes, a last line
// without a line break) are reported once through on_error, and the reader then ignores the
// rest of its input. The views in a CsvRecord are valid only during on_record.
//
// Memory: the reader keeps only the unfinished tail of the last chunk, so a file of any size
// streams through in constant memory. Speed: plain records are split from SSE2 bitmasks of 64
// bytes at a time; the general path takes over for quoted fields and anything unusual.
// Not thread-safe; one reader per stream. reset() makes it ready for a new stream (a retry).
#pragma once

#include <cstdint>
#include <deque>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace covid {

struct CsvRecord {
  uint64_t index = 0;  // 0 for the first record of the stream (the header)
  uint64_t line = 0;   // 1-based line where the record starts
  std::span<const std::string_view> fields;
  std::span<const uint32_t> columns;  // 1-based byte column of each field's first byte
  // Empty unless a quoted field spans lines; then field i is on line `line + line_offsets[i]`.
  std::span<const uint32_t> line_offsets;
  uint32_t end_line_offset = 0;  // the line break ending the record: line + end_line_offset,
  uint32_t end_column = 0;       // at this column

  uint64_t field_line(size_t i) const {
    return line + (line_offsets.empty() ? 0 : line_offsets[i]);
  }
  uint64_t end_line() const { return line + end_line_offset; }
};

struct CsvError {
  uint64_t line = 0;
  uint32_t column = 0;
  std::string message;
};

class CsvHandler {
 public:
  virtual ~CsvHandler() = default;
  // Returns false to stop reading: the rest of the stream is ignored.
  virtual bool on_record(const CsvRecord& record) = 0;
  virtual void on_error(const CsvError& error) = 0;
};

struct CsvOptions {
  size_t max_record_bytes = size_t{1} << 20;
  // A stream whose last record has no line break was most likely cut short.
  bool require_final_newline = true;
};

class CsvReader {
 public:
  explicit CsvReader(CsvHandler& handler, CsvOptions options = {});
  CsvReader(const CsvReader&) = delete;
  CsvReader& operator=(const CsvReader&) = delete;

  void feed(std::string_view chunk);
  // Ends the stream: parses a last record without a line break, reports an unterminated quote.
  void finish();
  // Forgets everything read so far.
  void reset();
  // Counts `bytes` bytes, `lines` whole lines holding `records` records known to be valid, as
  // read without parsing them: the lines and records that follow are numbered as if they had
  // been. Only between records: false (and nothing counted) while a record is unfinished or
  // before the first bytes were fed.
  bool skip_records(uint64_t bytes, uint64_t lines, uint64_t records);
  // Whether skip_records() would count now.
  bool between_records() const { return !stopped_ && bom_checked_ && pending_.empty(); }

  bool stopped() const { return stopped_; }
  uint64_t records() const { return records_; }
  uint64_t bytes() const { return bytes_; }

 private:
  enum class Step { kComplete, kIncomplete, kFailed };

  // Parses whole records from data; returns the number of bytes consumed. With at_end, the end
  // of data ends the last record.
  size_t parse(std::string_view data, bool at_end);
  // The fast path: records of plain fields, found 64 bytes at a time from bitmasks of commas and
  // line feeds. Stops at the record holding a quote, CR or NUL, or near the end of the data, and
  // returns where that record starts.
  const char* parse_plain(const char* p, const char* e);
  // The general path: one record from p, any RFC 4180 construct; *next is set when complete.
  Step parse_one(const char* p, const char* e, bool at_end, const char** next);
  void push_field(std::string_view field, uint32_t column) {
    if (count_ == fields_.size()) grow();
    fields_[count_] = field;
    columns_[count_] = column;
    ++count_;
  }
  void grow();
  // Hands the record of the fields pushed to the handler; false when reading must stop.
  // `multiline`: line_offsets_ holds each field's line offset; `quoted`: a field was quoted
  // (so a single empty field is not a blank line).
  bool emit(uint64_t line, uint32_t end_line_offset, uint32_t end_column, bool multiline,
            bool quoted);
  void feed_body(std::string_view data);
  size_t find_record_end(std::string_view data);
  void fail(uint64_t line, uint32_t column, std::string message);
  void fail_too_long(uint64_t line);
  void fail_pending_too_long();
  std::string_view unescape(const char* begin, const char* end);

  CsvHandler& handler_;
  CsvOptions options_;
  std::string pending_;  // the start of a record not yet complete
  struct QuoteScan {     // where find_record_end stopped in pending_
    bool in_quote = false, field_start = true, after_close = false;
  };
  QuoteScan scan_;
  bool bom_checked_ = false;
  bool stopped_ = false;
  uint64_t line_ = 1;  // the line the next record starts on
  uint64_t records_ = 0;
  uint64_t bytes_ = 0;
  std::vector<std::string_view> fields_;  // [0, count_) hold the current record
  std::vector<uint32_t> columns_;
  std::vector<uint32_t> line_offsets_;  // filled only by the general path
  size_t count_ = 0;
  std::deque<std::string> unescaped_;  // storage for fields that had doubled quotes
  size_t unescaped_used_ = 0;
};

}  // namespace covid
