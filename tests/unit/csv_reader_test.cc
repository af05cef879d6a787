#include "extract/csv_reader.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace covid {
namespace {

using namespace std::string_literals;

constexpr std::string_view kBom = "\xEF\xBB\xBF";

// Printable form of bytes, for failure messages.
std::string escape(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c == '\n')
      out += "\\n";
    else if (c == '\r')
      out += "\\r";
    else if (c == '\\')
      out += "\\\\";
    else if (c < 0x20 || c >= 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += char(c);
    }
  }
  return out;
}

// A CsvRecord copied out of on_record (its views die with the call).
struct Rec {
  uint64_t index = 0, line = 0;
  std::vector<std::string> fields;
  std::vector<uint32_t> columns;
  std::vector<uint64_t> lines;  // field_line(i)
  uint64_t end_line = 0;
  uint32_t end_column = 0;
  bool has_offsets = false;  // !line_offsets.empty()
};

std::string to_string(const Rec& r) {
  std::string s = "record #" + std::to_string(r.index) + " line " + std::to_string(r.line) + ":";
  for (size_t i = 0; i < r.fields.size(); ++i) {
    s += " [" + escape(r.fields[i]) + "]@" + std::to_string(r.lines[i]) + ":" +
         std::to_string(r.columns[i]);
  }
  s += " end " + std::to_string(r.end_line) + ":" + std::to_string(r.end_column);
  if (r.has_offsets) s += " (offsets)";
  return s;
}

std::string to_string(const CsvError& e) {
  return "error " + std::to_string(e.line) + ":" + std::to_string(e.column) + ": " + e.message;
}

// Everything a reader reported, in order.
struct Output {
  std::vector<Rec> records;
  std::vector<CsvError> errors;
  std::vector<std::string> events;  // records and errors as text, in the order reported
};

class Collector final : public CsvHandler {
 public:
  explicit Collector(size_t stop_after = SIZE_MAX) : stop_after_(stop_after) {}

  bool on_record(const CsvRecord& record) override {
    Rec r;
    r.index = record.index;
    r.line = record.line;
    for (size_t i = 0; i < record.fields.size(); ++i) {
      r.fields.emplace_back(record.fields[i]);
      r.columns.push_back(record.columns[i]);
      r.lines.push_back(record.field_line(i));
    }
    EXPECT_EQ(record.columns.size(), record.fields.size());
    if (!record.line_offsets.empty()) {
      EXPECT_EQ(record.line_offsets.size(), record.fields.size());
    }
    r.end_line = record.end_line();
    r.end_column = record.end_column;
    r.has_offsets = !record.line_offsets.empty();
    out.events.push_back(to_string(r));
    out.records.push_back(std::move(r));
    return out.records.size() < stop_after_;
  }
  void on_error(const CsvError& error) override {
    out.events.push_back(to_string(error));
    out.errors.push_back(error);
  }

  Output out;

 private:
  size_t stop_after_;
};

// Reads `input` fed in pieces whose sizes cycle through `sizes` (empty: all at once), then
// finishes the stream.
Output read_pieces(std::string_view input, const std::vector<size_t>& sizes,
                   CsvOptions options = {}) {
  Collector collector;
  CsvReader reader(collector, options);
  if (sizes.empty()) {
    reader.feed(input);
  } else {
    for (size_t at = 0, k = 0; at < input.size(); k = (k + 1) % sizes.size()) {
      size_t n = std::min(sizes[k], input.size() - at);
      reader.feed(input.substr(at, n));
      at += n;
    }
  }
  reader.finish();
  return collector.out;
}

Output read(std::string_view input, CsvOptions options = {}) {
  return read_pieces(input, {}, options);
}

Output read_by(std::string_view input, size_t chunk, CsvOptions options = {}) {
  return read_pieces(input, {chunk}, options);
}

std::string describe_sizes(const std::vector<size_t>& sizes) {
  std::string s;
  for (size_t i = 0; i < sizes.size() && i < 8; ++i) s += (i ? "," : "") + std::to_string(sizes[i]);
  return sizes.size() > 8 ? s + ",..." : s;
}

// Compares two event sequences, naming the first difference only (inputs can be long).
testing::AssertionResult same_events(const std::vector<std::string>& expected,
                                     const std::vector<std::string>& actual) {
  size_t n = std::min(expected.size(), actual.size());
  for (size_t i = 0; i < n; ++i) {
    if (expected[i] != actual[i]) {
      return testing::AssertionFailure()
             << "event " << i << " differs:\n  expected: " << expected[i]
             << "\n  actual:   " << actual[i];
    }
  }
  if (expected.size() != actual.size()) {
    auto r = testing::AssertionFailure()
             << expected.size() << " events expected, " << actual.size() << " reported";
    if (expected.size() > n) r << "; first missing: " << expected[n];
    if (actual.size() > n) r << "; first extra: " << actual[n];
    return r;
  }
  return testing::AssertionSuccess();
}

// Feeds `input` whole, in chunks of every size 1..17 and in a few random chunkings; every way
// must report `expected` (the whole-input events when empty). Returns false on a mismatch.
bool check_chunkings(std::string_view input, std::mt19937& rng, CsvOptions options = {},
                     const std::vector<std::string>* expected = nullptr) {
  std::vector<std::string> whole = read(input, options).events;
  const std::vector<std::string>& want = expected ? *expected : whole;
  std::string shown = input.size() <= 300 ? escape(input) : escape(input.substr(0, 300)) + "...";
  bool ok = true;
  if (expected) {
    auto r = same_events(want, whole);
    EXPECT_TRUE(r) << "input fed whole: " << shown;
    ok = ok && r;
  }
  std::vector<std::vector<size_t>> chunkings;
  for (size_t n = 1; n <= 17; ++n) chunkings.push_back({n});
  for (size_t max : {8u, 70u, 300u}) {
    std::vector<size_t> sizes;
    std::uniform_int_distribution<size_t> size(1, max);
    for (int i = 0; i < 20; ++i) sizes.push_back(size(rng));
    chunkings.push_back(sizes);
  }
  for (const auto& sizes : chunkings) {
    auto r = same_events(want, read_pieces(input, sizes, options).events);
    EXPECT_TRUE(r) << "chunks of " << describe_sizes(sizes) << " bytes; input: " << shown;
    if (!r) return false;  // one report per input is enough
  }
  return ok;
}

// ---------------------------------------------------------------------------------------------
// Records, fields, lines and columns

TEST(CsvReader, SplitsPlainRecordsWithLinesAndColumns) {
  Output out = read("date,cases\n2020-01-21,1\n");
  ASSERT_TRUE(out.errors.empty());
  ASSERT_EQ(out.records.size(), 2u);
  const Rec& h = out.records[0];
  EXPECT_EQ(h.index, 0u);
  EXPECT_EQ(h.line, 1u);
  EXPECT_EQ(h.fields, (std::vector<std::string>{"date", "cases"}));
  EXPECT_EQ(h.columns, (std::vector<uint32_t>{1, 6}));
  EXPECT_EQ(h.end_line, 1u);
  EXPECT_EQ(h.end_column, 11u);
  EXPECT_FALSE(h.has_offsets);
  const Rec& r = out.records[1];
  EXPECT_EQ(r.index, 1u);
  EXPECT_EQ(r.line, 2u);
  EXPECT_EQ(r.fields, (std::vector<std::string>{"2020-01-21", "1"}));
  EXPECT_EQ(r.columns, (std::vector<uint32_t>{1, 12}));
  EXPECT_EQ(r.lines, (std::vector<uint64_t>{2, 2}));
  EXPECT_EQ(r.end_column, 13u);
}

TEST(CsvReader, FieldValues) {
  struct Case {
    std::string input;
    std::vector<std::string> fields;
    std::vector<uint32_t> columns;
  };
  const Case cases[] = {
      {"a,b,c\n", {"a", "b", "c"}, {1, 3, 5}},
      {"\"a,b\",c\n", {"a,b", "c"}, {1, 7}},
      {"\"say \"\"hi\"\"\",x\n", {"say \"hi\"", "x"}, {1, 14}},
      {"\"\"\"\"\n", {"\""}, {1}},
      {"\"\"\n", {""}, {1}},  // a quoted empty field is a record, not a blank line
      {"\"\",\"\"\n", {"", ""}, {1, 4}},
      {"a,,c\n", {"a", "", "c"}, {1, 3, 4}},
      {"a,b,\n", {"a", "b", ""}, {1, 3, 5}},  // trailing comma: a last empty field
      {",\n", {"", ""}, {1, 2}},
      {",,\r\n", {"", "", ""}, {1, 2, 3}},
      {" a , b \n", {" a ", " b "}, {1, 5}},  // spaces are data
      {"x,\"1\n2\"\n", {"x", "1\n2"}, {1, 3}},
      {"x,\"1\r\n2\"\r\n", {"x", "1\r\n2"}, {1, 3}},
      {"\"a\rb\"\n", {"a\rb"}, {1}},  // a CR inside quotes is data
      {"\xC3\xA9t\xC3\xA9,\"\xE2\x82\xAC\"\n", {"\xC3\xA9t\xC3\xA9", "\xE2\x82\xAC"}, {1, 7}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(escape(c.input));
    Output out = read(c.input);
    EXPECT_TRUE(out.errors.empty());
    ASSERT_EQ(out.records.size(), 1u);
    EXPECT_EQ(out.records[0].fields, c.fields);
    EXPECT_EQ(out.records[0].columns, c.columns);
  }
}

TEST(CsvReader, LfAndCrlfLineEnds) {
  Output out = read("a,b\r\ncc,d\nee,f\r\n");
  ASSERT_TRUE(out.errors.empty());
  ASSERT_EQ(out.records.size(), 3u);
  std::vector<uint64_t> lines;
  std::vector<uint32_t> ends;
  for (const Rec& r : out.records) lines.push_back(r.line), ends.push_back(r.end_column);
  EXPECT_EQ(lines, (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_EQ(ends, (std::vector<uint32_t>{4, 5, 5}));  // the column of the CR or LF
  EXPECT_EQ(out.records[1].fields, (std::vector<std::string>{"cc", "d"}));
  EXPECT_EQ(out.records[2].fields, (std::vector<std::string>{"ee", "f"}));
}

TEST(CsvReader, BlankLinesAreSkippedButCounted) {
  Output out = read("\na\n\n\r\nb\n\n");
  ASSERT_TRUE(out.errors.empty());
  ASSERT_EQ(out.records.size(), 2u);
  EXPECT_EQ(out.records[0].fields, std::vector<std::string>{"a"});
  EXPECT_EQ(out.records[0].line, 2u);
  EXPECT_EQ(out.records[0].index, 0u);
  EXPECT_EQ(out.records[1].fields, std::vector<std::string>{"b"});
  EXPECT_EQ(out.records[1].line, 5u);
  EXPECT_EQ(out.records[1].index, 1u);
}

TEST(CsvReader, ByteOrderMarkAtStartIsDropped) {
  const std::string input =
      "\xEF\xBB\xBF"
      "date,cases\n1,2\n";
  for (const std::vector<size_t>& sizes :
       std::vector<std::vector<size_t>>{{}, {1}, {2}, {1, 1, 1, 100}, {1, 2, 100}, {2, 1, 100}}) {
    SCOPED_TRACE("chunks " + describe_sizes(sizes));
    Output out = read_pieces(input, sizes);
    EXPECT_TRUE(out.errors.empty());
    ASSERT_EQ(out.records.size(), 2u);
    EXPECT_EQ(out.records[0].fields, (std::vector<std::string>{"date", "cases"}));
    EXPECT_EQ(out.records[0].columns, (std::vector<uint32_t>{1, 6}));
  }
}

TEST(CsvReader, ByteOrderMarkElsewhereIsData) {
  struct Case {
    std::string input;
    std::vector<std::string> fields;  // of the last record
  };
  const Case cases[] = {
      {"a\n\xEF\xBB\xBF"
       "b\n",
       {"\xEF\xBB\xBF"
        "b"}},  // not at the start of the stream
      {"\xEF\xBB"
       "a\n",
       {"\xEF\xBB"
        "a"}},  // only the start of a BOM
      {"\xEF\xBB\xBF\xEF\xBB\xBF"
       "a\n",
       {"\xEF\xBB\xBF"
        "a"}},  // only the first one goes
  };
  for (const Case& c : cases) {
    for (size_t chunk : {0u, 1u, 2u}) {
      SCOPED_TRACE(escape(c.input) + " in chunks of " + std::to_string(chunk));
      Output out = chunk == 0 ? read(c.input) : read_by(c.input, chunk);
      EXPECT_TRUE(out.errors.empty());
      ASSERT_FALSE(out.records.empty());
      EXPECT_EQ(out.records.back().fields, c.fields);
    }
  }
}

TEST(CsvReader, OnlyAByteOrderMarkIsAnEmptyStream) {
  for (size_t chunk : {0u, 1u, 2u}) {
    Output out = chunk == 0 ? read(kBom) : read_by(kBom, chunk);
    EXPECT_TRUE(out.events.empty()) << "chunks of " << chunk;
  }
}

TEST(CsvReader, FieldsAfterAMultiLineQuotedField) {
  Output out = read("id,note,value\n1,\"two\nlines\",7\n2,x,8\n");
  ASSERT_TRUE(out.errors.empty());
  ASSERT_EQ(out.records.size(), 3u);
  const Rec& r = out.records[1];
  EXPECT_EQ(r.line, 2u);
  EXPECT_EQ(r.fields, (std::vector<std::string>{"1", "two\nlines", "7"}));
  EXPECT_EQ(r.lines, (std::vector<uint64_t>{2, 2, 3}));
  EXPECT_EQ(r.columns, (std::vector<uint32_t>{1, 3, 8}));  // "7" is at 3:8 in `lines",7`
  EXPECT_TRUE(r.has_offsets);
  EXPECT_EQ(r.end_line, 3u);
  EXPECT_EQ(r.end_column, 9u);
  const Rec& next = out.records[2];
  EXPECT_EQ(next.line, 4u);
  EXPECT_EQ(next.lines, (std::vector<uint64_t>{4, 4, 4}));
  EXPECT_EQ(next.columns, (std::vector<uint32_t>{1, 3, 5}));
  EXPECT_FALSE(next.has_offsets);
  EXPECT_EQ(next.end_line, 4u);
}

TEST(CsvReader, TwoMultiLineFieldsInOneRecord) {
  Output out = read("\"a\nb\",\"c\r\nd\",e\r\nf\n");
  ASSERT_TRUE(out.errors.empty());
  ASSERT_EQ(out.records.size(), 2u);
  const Rec& r = out.records[0];
  EXPECT_EQ(r.fields, (std::vector<std::string>{"a\nb", "c\r\nd", "e"}));
  EXPECT_EQ(r.lines, (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_EQ(r.columns, (std::vector<uint32_t>{1, 4, 4}));
  EXPECT_EQ(r.end_line, 3u);
  EXPECT_EQ(r.end_column, 5u);
  EXPECT_EQ(out.records[1].line, 4u);
  EXPECT_EQ(out.records[1].index, 1u);
}

// ---------------------------------------------------------------------------------------------
// Errors

TEST(CsvReader, StructuralErrorsHaveLineAndColumn) {
  struct Case {
    std::string input;
    uint64_t line;
    uint32_t column;
    std::string message;  // a part of it
    size_t records;       // delivered before the error
  };
  const Case cases[] = {
      {"a,b\nc,\"de\n", 2, 3, "unterminated quoted field", 1},
      {"a,\"b\nc\nd", 1, 3, "unterminated quoted field", 0},
      {"x\nab\"c\n", 2, 3, "quote inside an unquoted field", 1},
      {"ab\"", 1, 3, "quote inside an unquoted field", 0},
      {"\"ab\"c,d\n", 1, 5, "unexpected text after a closing quote", 0},
      {"a,\"x\ny\"z\n", 2, 3, "unexpected text after a closing quote", 0},
      {"\"x\" ,y\n", 1, 4, "unexpected text after a closing quote", 0},
      {"a\rb\n", 1, 2, "carriage return without a line feed", 0},
      {"a,b\rc,d\r\n", 1, 4, "carriage return without a line feed", 0},
      {"a\r", 1, 2, "carriage return without a line feed", 0},
      {"h\n\"q\"\r", 2, 4, "carriage return without a line feed", 1},
      {"ab"s + '\0' + "c\n", 1, 3, "NUL byte", 0},
      {"h\nx,\"a\nb"s + '\0' + "\"\n", 3, 2, "NUL byte", 1},
      {"a,b\nc,d", 2, 4, "the last line has no line break", 1},
      {"a,\"b\"", 1, 6, "the last line has no line break", 0},
      {"a,\"b\nc\"", 2, 3, "the last line has no line break", 0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(escape(c.input));
    Output out = read(c.input);
    ASSERT_EQ(out.errors.size(), 1u);
    EXPECT_EQ(out.errors[0].line, c.line);
    EXPECT_EQ(out.errors[0].column, c.column);
    EXPECT_PRED_FORMAT2(testing::IsSubstring, c.message, out.errors[0].message);
    EXPECT_EQ(out.records.size(), c.records);
  }
}

TEST(CsvReader, NothingIsReadAfterAnError) {
  Collector collector;
  CsvReader reader(collector);
  reader.feed("a\nb\"c\nd\n");
  EXPECT_TRUE(reader.stopped());
  reader.feed("e\n");
  reader.finish();
  ASSERT_EQ(collector.out.records.size(), 1u);
  EXPECT_EQ(collector.out.records[0].fields, std::vector<std::string>{"a"});
  ASSERT_EQ(collector.out.errors.size(), 1u);
  EXPECT_EQ(collector.out.errors[0].line, 2u);
}

TEST(CsvReader, MissingFinalNewlineAllowedWhenNotRequired) {
  CsvOptions options;
  options.require_final_newline = false;
  for (size_t chunk : {0u, 1u, 3u}) {
    SCOPED_TRACE(chunk);
    Output out = chunk == 0 ? read("h\na,\"b\"", options) : read_by("h\na,\"b\"", chunk, options);
    EXPECT_TRUE(out.errors.empty());
    ASSERT_EQ(out.records.size(), 2u);
    EXPECT_EQ(out.records[1].fields, (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(out.records[1].end_line, 2u);
    EXPECT_EQ(out.records[1].end_column, 6u);
  }
}

TEST(CsvReader, RecordLongerThanTheLimit) {
  CsvOptions options;
  options.max_record_bytes = 10;
  // A record's bytes include its line break: 10 bytes pass, 11 do not.
  Output ok = read("012345678\n", options);
  EXPECT_TRUE(ok.errors.empty());
  EXPECT_EQ(ok.records.size(), 1u);

  Output out = read("abc\n0123456789\nx\n", options);
  ASSERT_EQ(out.errors.size(), 1u);
  EXPECT_EQ(out.errors[0].line, 2u);
  EXPECT_EQ(out.errors[0].column, 1u);
  EXPECT_PRED_FORMAT2(testing::IsSubstring, "record longer than 10 bytes", out.errors[0].message);
  EXPECT_EQ(out.records.size(), 1u);
}

TEST(CsvReader, LongRecordOnTheFastPathHitsTheLimit) {
  CsvOptions options;
  options.max_record_bytes = 100;
  std::string input = "h\n" + std::string(150, 'a') + "," + std::string(150, 'b') + "\nz\n";
  Output out = read(input, options);
  ASSERT_EQ(out.errors.size(), 1u);
  EXPECT_EQ(out.errors[0].line, 2u);
  EXPECT_EQ(out.errors[0].column, 1u);
  EXPECT_PRED_FORMAT2(testing::IsSubstring, "record longer than 100 bytes", out.errors[0].message);
  EXPECT_EQ(out.records.size(), 1u);
}

TEST(CsvReader, UnterminatedQuoteStopsAtTheLimit) {
  CsvOptions options;
  options.max_record_bytes = 64;
  std::string input = "h\n\"open";
  for (int i = 0; i < 20; ++i) input += "\nrow,1";
  input += "\n";
  Output out = read(input, options);
  ASSERT_EQ(out.errors.size(), 1u);
  EXPECT_EQ(out.errors[0].line, 2u);
  EXPECT_EQ(out.errors[0].column, 1u);
  EXPECT_PRED_FORMAT2(testing::IsSubstring, "record longer than 64 bytes", out.errors[0].message);
}

// ---------------------------------------------------------------------------------------------
// Reader state

TEST(CsvReader, CountsRecordsAndBytes) {
  Collector collector;
  CsvReader reader(collector);
  reader.feed(
      "\xEF\xBB\xBF"
      "a\n\nb,");
  reader.feed("c\n");
  reader.finish();
  EXPECT_EQ(reader.records(), 2u);  // the blank line is no record
  EXPECT_EQ(reader.bytes(), 10u);   // every byte fed, the BOM too
}

TEST(CsvReader, HandlerCanStopReading) {
  Collector collector(/*stop_after=*/1);
  CsvReader reader(collector);
  reader.feed("a\nb\nc\"\n");
  reader.finish();
  EXPECT_TRUE(reader.stopped());
  EXPECT_EQ(collector.out.records.size(), 1u);
  EXPECT_TRUE(collector.out.errors.empty());  // the bad third line is never looked at
}

TEST(CsvReader, ResetStartsANewStream) {
  Collector collector;
  CsvReader reader(collector);
  reader.feed(
      "\xEF\xBB\xBF"
      "a,b\nc,\"unfinished");
  reader.reset();
  EXPECT_EQ(reader.records(), 0u);
  EXPECT_EQ(reader.bytes(), 0u);
  reader.feed(
      "\xEF\xBB\xBF"
      "x\ny\n");
  reader.finish();
  ASSERT_EQ(collector.out.records.size(), 3u);  // a,b before the reset; x and y after it
  const Rec& x = collector.out.records[1];
  EXPECT_EQ(x.fields, std::vector<std::string>{"x"});  // the BOM of the new stream is dropped
  EXPECT_EQ(x.index, 0u);
  EXPECT_EQ(x.line, 1u);
  EXPECT_EQ(collector.out.records[2].line, 2u);
  EXPECT_TRUE(collector.out.errors.empty());
}

TEST(CsvReader, ResetAfterAnError) {
  Collector collector;
  CsvReader reader(collector);
  reader.feed("a\"\n");
  ASSERT_TRUE(reader.stopped());
  reader.reset();
  EXPECT_FALSE(reader.stopped());
  reader.feed("b\n");
  reader.finish();
  ASSERT_EQ(collector.out.records.size(), 1u);
  EXPECT_EQ(collector.out.records[0].fields, std::vector<std::string>{"b"});
  EXPECT_EQ(collector.out.records[0].line, 1u);
  EXPECT_EQ(collector.out.errors.size(), 1u);
}

// A reset in the middle of a quoted field must not leak into the next stream: its blank lines
// are still blank, on the fast path (64 bytes or more) as on the general one.
TEST(CsvReader, ResetInsideAQuotedFieldForgetsIt) {
  for (size_t rows : {1u, 20u}) {
    SCOPED_TRACE(std::to_string(rows) + " rows");
    Collector collector;
    CsvReader reader(collector);
    reader.feed("\"abc");
    reader.reset();
    std::string next = "\n";
    for (size_t i = 0; i < rows; ++i) next += "row,1\n";
    reader.feed(next);
    reader.finish();
    EXPECT_TRUE(collector.out.errors.empty());
    ASSERT_EQ(collector.out.records.size(), rows);
    EXPECT_EQ(collector.out.records[0].fields, (std::vector<std::string>{"row", "1"}));
    EXPECT_EQ(collector.out.records[0].line, 2u);
  }
}

// ---------------------------------------------------------------------------------------------
// Property: the chunking of the input never changes what is reported.

std::string repeat(std::string_view s, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}

std::vector<std::string> tricky_inputs() {
  std::string long_a(200, 'a'), long_b(70, 'b');
  std::vector<std::string> v = {
      "",
      "\n",
      "\r\n",
      "a",
      "a\n",
      "a,b\n",
      "a,b",
      "\xEF\xBB\xBF",
      "\xEF\xBB",
      "\xEF",
      "\xEF\xBB\xBF"
      "a,b\n",
      "\xEF"
      "a,b\n",
      "\xEF\xBB\xBF\n\na\n",
      "\"\"\n",
      "\"\"",
      ",\n",
      ",,,\n",
      "a,b,\n",
      "\"a\"\"b\",c\r\n",
      "\"\"\"\"\r\n",
      "a,\"x\ny\",b\nc,d\n",
      "a,\"x\r\ny\",b\r\nc,d\r\n",
      "\n\n\r\na\n\n",
      "a,b\r\n\r\n",
      "a,\"b",
      "a,\"b\"",
      "a,\"b\"\r",
      "a\"b\n",
      "a\"b\nc,\"d\"\ne\n",
      "\"a\"b\n",
      "\"a\"\"\n",
      "a\rb\n",
      "a\r",
      "a\r\r\n",
      "a"s + '\0' + "b\n",
      "\"a"s + '\0' + "b\"\n",
      "\"a\n"s + '\0' + "\"\n",
      "h\n\"q\"\r\nr\n",
      "\"a\nb\",\"c\nd\",e\nf\n",
      "x,\"\"\"\n\"\"\"\n",
      long_a + "\n",
      long_a + "," + long_b + "\n" + long_b + "\n",
      long_a + "\r\n" + long_b + "\r\n",
      long_a + ",\"" + long_b + "\n" + long_b + "\"\n",
      long_a + "\"\n",
      long_a + "\rx\n",
      long_a + "," + long_b,
      long_a + "\n" + '\0' + "\n",
      repeat("2020-01-21,1,0\n", 40),
      repeat("2020-01-21,1,0\r\n", 40),
      repeat("x,\"y\"\n", 30) + long_a + "\n",
      repeat("abc,def\n", 20) + "\"tail\n" + repeat("abc,def\n", 20),
      repeat("abc,def\n", 20) + "ab\"c\n" + repeat("abc,def\n", 20),
  };
  // A quote, CR, NUL or line break at each offset around the first 64-byte block boundaries.
  for (size_t at = 58; at <= 70; ++at) {
    for (char c : {'"', '\r', '\0', '\n', ','}) {
      std::string s = repeat("abcdefg,", 20) + "\n" + repeat("abcdefg,", 20) + "\n";
      s[at] = c;
      v.push_back(s);
      s[at + 64] = c;
      v.push_back(s);
    }
  }
  return v;
}

TEST(CsvReaderChunks, TrickyInputsSameForEveryChunking) {
  std::mt19937 rng(4180);
  for (const std::string& input : tricky_inputs()) check_chunkings(input, rng);
}

TEST(CsvReaderChunks, TrickyInputsWithoutFinalNewlineRule) {
  std::mt19937 rng(4181);
  CsvOptions options;
  options.require_final_newline = false;
  for (const std::string& input : tricky_inputs()) check_chunkings(input, rng, options);
}

// Records around max_record_bytes: the same records and the same error however the bytes come.
TEST(CsvReaderChunks, RecordLimitSameForEveryChunking) {
  std::mt19937 rng(4182);
  CsvOptions options;
  options.max_record_bytes = 16;
  for (size_t n = 12; n <= 20; ++n) {
    check_chunkings("a,b\n" + std::string(n, 'x') + "\nc\n", rng, options);
    check_chunkings("a,b\n\"" + std::string(n, 'x') + "\"\nc\n", rng, options);
  }
}

// A quote inside an unquoted field, followed by more than max_record_bytes of data: the error
// must be the quote (at its line and column) whatever the chunking.
// Regressions found by tests/fuzz/csv_reader_fuzz.cc: when a record is both malformed and longer
// than max_record_bytes, the error reported depended on the chunking. Now an error within the
// limit is reported as itself, and one beyond it as the record being too long, in every chunking.
TEST(CsvReaderChunks, AnErrorBeyondTheLimitIsTheLimit) {
  std::mt19937 rng(77);
  CsvOptions options;
  options.max_record_bytes = 16;
  std::string input("\tnuotgion,Irnvoice/State,Note\r\0\0\0is,", 36);  // a lone CR at byte 30
  Output whole = read(input, options);
  ASSERT_EQ(whole.errors.size(), 1u);
  EXPECT_PRED_FORMAT2(testing::IsSubstring, "record longer than 16 bytes", whole.errors[0].message);
  check_chunkings(input, rng, options);
}

TEST(CsvReaderChunks, AnErrorWithinTheLimitOfAnUnfinishedRecordIsReported) {
  std::mt19937 rng(78);
  CsvOptions options;
  options.max_record_bytes = 16;
  std::string input = "ab\"c" + std::string(100, 'x');  // no line break: never a whole record
  Output whole = read(input, options);
  ASSERT_EQ(whole.errors.size(), 1u);
  EXPECT_EQ(whole.errors[0].column, 3u);
  EXPECT_PRED_FORMAT2(testing::IsSubstring, "quote inside an unquoted field",
                      whole.errors[0].message);
  check_chunkings(input, rng, options);
}

// Regression found by tests/fuzz/csv_reader_fuzz.cc (seed regression-cr-just-past-the-limit.bin):
// a CR as the byte just past max_record_bytes, when it was the last byte of a chunk, made the
// record too long at once, but the line may not end there. Followed by anything but a LF it is
// a CR error at its own place (as reading the input whole reports it); followed by a LF, the
// record with its line end is too long; at the end of the input, a CR error.
TEST(CsvReaderChunks, ACrJustPastTheLimitWaitsForTheNextByte) {
  std::mt19937 rng(80);
  CsvOptions options;
  options.max_record_bytes = 16;
  const std::string sixteen = "abcdefghijklmnop";
  for (const std::string& input : {sixteen + "\rx\n", sixteen + "\r", sixteen + "\r\n"}) {
    Output whole = read(input, options);
    ASSERT_EQ(whole.errors.size(), 1u) << escape(input);
    if (input.back() == '\n' && input[input.size() - 2] == '\r') {
      EXPECT_PRED_FORMAT2(testing::IsSubstring, "record longer than 16 bytes",
                          whole.errors[0].message);
    } else {
      EXPECT_EQ(whole.errors[0].column, 17u);
      EXPECT_PRED_FORMAT2(testing::IsSubstring, "carriage return without a line feed",
                          whole.errors[0].message);
    }
    check_chunkings(input, rng, options);
  }
}

TEST(CsvReaderChunks, ANulInAQuotedFieldNotYetClosedIsReported) {
  std::mt19937 rng(79);
  CsvOptions options;
  options.max_record_bytes = 80;
  std::string input = "a,\"b$\n" + std::string(80, '\0') + "\"\"c\"\n";  // the NUL on line 2
  Output whole = read(input, options);
  ASSERT_EQ(whole.errors.size(), 1u);
  EXPECT_EQ(whole.errors[0].line, 2u);
  EXPECT_PRED_FORMAT2(testing::IsSubstring, "NUL byte", whole.errors[0].message);
  check_chunkings(input, rng, options);
}

TEST(CsvReaderChunks, StrayQuoteBeforeALongTail) {
  std::mt19937 rng(4183);
  CsvOptions options;
  options.max_record_bytes = 64;
  std::string input = "date,cases\n2020-01-21,1\"2\n" + repeat("2020-01-22,3\n", 20);
  Output whole = read(input, options);
  ASSERT_EQ(whole.errors.size(), 1u);
  EXPECT_EQ(whole.errors[0].line, 2u);
  EXPECT_EQ(whole.errors[0].column, 13u);
  EXPECT_PRED_FORMAT2(testing::IsSubstring, "quote inside an unquoted field",
                      whole.errors[0].message);
  check_chunkings(input, rng, options);
}

// --- random documents ------------------------------------------------------------------------

struct Style {
  double quoted;   // probability of a quoted field
  double crlf;     // probability of CRLF after a record
  double longish;  // probability of a field of 60..200 bytes
};

std::string random_text(std::mt19937& rng, size_t n, bool quoted) {
  static const std::string plain = "abcdefxyzABCXYZ0123456789 .;:-_/\t\xC3\xA9";
  static const std::string special = ",\"\n";
  std::uniform_int_distribution<size_t> pick(0, plain.size() - 1);
  std::uniform_int_distribution<int> percent(0, 99);
  std::string s;
  while (s.size() < n) {
    int p = percent(rng);
    if (quoted && p < 6) {
      char c = special[size_t(p) % special.size()];
      s += c == '"' ? "\"\"" : std::string(1, c);
    } else if (quoted && p < 8) {
      s += "\r\n";
    } else {
      s += plain[pick(rng)];
    }
  }
  return s;
}

std::string random_field(std::mt19937& rng, const Style& style) {
  std::uniform_real_distribution<double> u(0, 1);
  bool quoted = u(rng) < style.quoted;
  size_t n = 0;
  double k = u(rng);
  if (k < style.longish)
    n = std::uniform_int_distribution<size_t>(60, 200)(rng);
  else if (k < style.longish + 0.15)
    n = 0;
  else
    n = std::uniform_int_distribution<size_t>(1, 12)(rng);
  std::string text = random_text(rng, n, quoted);
  return quoted ? "\"" + text + "\"" : text;
}

// A well-formed CSV document: every record ends with a line break.
std::string random_document(std::mt19937& rng) {
  static const Style styles[] = {
      {0.0, 0.0, 0.3},   // plain LF: the fast path only
      {0.0, 0.0, 0.05},  // plain, short fields
      {0.05, 0.0, 0.3},  // the odd quoted field
      {0.3, 0.3, 0.2},   // mixed
      {0.5, 1.0, 0.1},   // CRLF everywhere
      {0.9, 0.0, 0.5},   // mostly long quoted fields
  };
  std::uniform_int_distribution<size_t> pick_style(0, std::size(styles) - 1);
  const Style& style = styles[pick_style(rng)];
  std::uniform_real_distribution<double> u(0, 1);
  std::string doc = u(rng) < 0.1 ? std::string(kBom) : "";
  size_t records = std::uniform_int_distribution<size_t>(1, 30)(rng);
  size_t width = std::uniform_int_distribution<size_t>(1, 8)(rng);
  for (size_t r = 0; r < records; ++r) {
    if (u(rng) < 0.05) doc += u(rng) < style.crlf ? "\r\n" : "\n";  // a blank line
    size_t n = u(rng) < 0.9 ? width : std::uniform_int_distribution<size_t>(1, 8)(rng);
    for (size_t f = 0; f < n; ++f) {
      if (f > 0) doc += ',';
      doc += random_field(rng, style);
    }
    doc += u(rng) < style.crlf ? "\r\n" : "\n";
  }
  return doc;
}

// An independent reader for well-formed documents, one byte at a time: the expected events.
std::vector<std::string> reference_events(std::string_view doc) {
  if (doc.starts_with(kBom)) doc.remove_prefix(kBom.size());
  auto at = [&](size_t i) { return i < doc.size() ? doc[i] : '\0'; };
  std::vector<std::string> events;
  size_t i = 0, line_start = 0;
  uint64_t line = 1, index = 0;
  while (i < doc.size()) {
    Rec r;
    r.line = line;
    bool any_quoted = false;
    for (;;) {
      r.columns.push_back(uint32_t(i - line_start + 1));
      r.lines.push_back(line);
      std::string field;
      if (at(i) == '"') {
        any_quoted = true;
        for (++i;; ++i) {
          char c = at(i);
          if (c == '"' && at(i + 1) == '"') {
            field += '"';
            ++i;
          } else if (c == '"') {
            ++i;
            break;
          } else {
            field += c;
            if (c == '\n') ++line, line_start = i + 1;
          }
        }
      } else {
        while (at(i) != ',' && at(i) != '\n' && at(i) != '\r') field += doc[i++];
      }
      r.fields.push_back(field);
      if (at(i) == ',') {
        ++i;
        continue;
      }
      r.end_line = line;
      r.end_column = uint32_t(i - line_start + 1);
      i += at(i) == '\r' ? 2 : 1;
      ++line;
      line_start = i;
      break;
    }
    if (r.fields.size() == 1 && r.fields[0].empty() && !any_quoted) continue;  // blank line
    r.index = index++;
    r.has_offsets = r.end_line != r.line;
    events.push_back(to_string(r));
  }
  return events;
}

TEST(CsvReaderChunks, ReferenceReaderAgreesOnKnownInput) {
  // The reference itself, checked against hand-made expectations.
  std::vector<std::string> events = reference_events(
      "\xEF\xBB\xBF"
      "a,\"b\nc\"\"\",d\r\n\n\"\"\n");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0], "record #0 line 1: [a]@1:1 [b\\nc\"]@1:3 [d]@2:6 end 2:7 (offsets)");
  EXPECT_EQ(events[1], "record #1 line 4: []@4:1 end 4:3");
}

TEST(CsvReaderChunks, RandomDocumentsMatchReferenceForEveryChunking) {
  std::mt19937 rng(20200121);
  int failures = 0;
  for (int n = 0; n < 300 && failures < 3; ++n) {
    std::string doc = random_document(rng);
    std::vector<std::string> expected = reference_events(doc);
    SCOPED_TRACE("document " + std::to_string(n) + " of " + std::to_string(doc.size()) + " bytes");
    if (!check_chunkings(doc, rng, {}, &expected)) ++failures;
  }
}

TEST(CsvReaderChunks, DamagedDocumentsSameForEveryChunking) {
  std::mt19937 rng(19700101);
  static const char kDamage[] = {'"', '\r', '\0', '\n', ','};
  int failures = 0;
  for (int n = 0; n < 200 && failures < 3; ++n) {
    std::string doc = random_document(rng);
    size_t at = std::uniform_int_distribution<size_t>(0, doc.size() - 1)(rng);
    size_t kind = std::uniform_int_distribution<size_t>(0, std::size(kDamage))(rng);
    if (kind == std::size(kDamage))
      doc.pop_back();  // no final line break
    else
      doc[at] = kDamage[kind];
    SCOPED_TRACE("document " + std::to_string(n));
    if (!check_chunkings(doc, rng)) ++failures;
  }
}

}  // namespace
}  // namespace covid
