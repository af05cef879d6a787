// DateBlockSkipper: unchanged dates of a county file are accounted for without being parsed, and
// the run learns the same from the file as when every line is parsed: the same blocks and
// digests, rows, errors and warnings at the same file:line:column.
#include "extract/date_block_skipper.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "pipeline/county_spool.h"
#include "pipeline/table_sink.h"
#include "test_support.h"
#include "transform/nyt_counties.h"

namespace covid {
namespace {

using test::FixedClock;
using test::show;
using test::Strings;

const FixedClock kClock;

// What one read of a county body left behind.
struct Read {
  Strings blocks;  // "2020-03-01 parsed", "2020-03-02 skipped", ...
  uint64_t rows = 0;
  Strings errors, warnings;
  std::map<Date, StoredDigest> digests;  // what a store would keep for the next read
  bool aside = false;                    // the skipper stepped aside
  Strings digest_texts() const {
    Strings out;
    for (const auto& [date, d] : digests)
      out.push_back(format_date(date) + " " + d.source.hash_hex());
    return out;
  }
};

// Reads `text` in pieces of `chunk` bytes into a spool that knows `known`, through a skipper
// unless `skipper` is false.
Read read(const std::string& text, const std::map<Date, StoredDigest>& known, size_t chunk,
          bool skipper = true) {
  CountySpool spool(known);
  EXPECT_TRUE(spool.open().ok());
  CountiesReader reader("c.csv", kClock);
  reader.set_sink(&spool);
  CountyBlockTarget target(reader, spool);
  DateBlockSkipper skip(target);
  TableSink sink(reader, skipper ? &skip : nullptr);
  for (size_t at = 0; at < text.size(); at += chunk)
    sink.write(std::string_view(text).substr(at, chunk));
  sink.finish();
  Read r;
  for (const CountySpool::Block& b : spool.blocks()) {
    r.blocks.push_back(format_date(b.date) + (b.skipped ? " skipped" : " parsed"));
    r.digests[b.date] = StoredDigest{b.digest, b.digest.rows, b.bytes};
  }
  r.rows = reader.rows_read();
  r.errors = show(reader.diagnostics().errors());
  r.warnings = show(reader.diagnostics().warnings());
  r.aside = skip.stepped_aside();
  return r;
}

// NYT-shaped lines: three counties (one without FIPS) a date from 2020-03-01, counts growing.
std::vector<std::string> lines(int days) {
  std::vector<std::string> out = {"date,county,state,fips,cases,deaths"};
  for (int d = 1; d <= days; ++d) {
    std::string date = "2020-03-" + std::string(d < 10 ? "0" : "") + std::to_string(d);
    out.push_back(date + ",Autauga,Alabama,01001," + std::to_string(10 * d) + "," +
                  std::to_string(d));
    out.push_back(date + ",Los Angeles,California,06037," + std::to_string(100 * d) + ",");
    out.push_back(date + ",Unknown,New York,," + std::to_string(d) + ",0");
  }
  return out;
}

std::string text(const std::vector<std::string>& lines, const char* end = "\n") {
  std::string out;
  for (const std::string& l : lines) out += l + end;
  return out;
}

// Reads `after` once with the digests `before` left, in several piece sizes, and checks the
// run learns from it exactly what a read that parses every line learns. Returns the first read.
Read reread(const std::string& before, const std::string& after) {
  Read first = read(before, {}, 4096);
  EXPECT_EQ(first.errors, Strings{});
  Read plain = read(after, first.digests, 4096, false);
  Read once;
  for (size_t chunk : {size_t(1), size_t(7), size_t(50), size_t(4096)}) {
    SCOPED_TRACE("pieces of " + std::to_string(chunk) + " bytes");
    Read r = read(after, first.digests, chunk);
    EXPECT_EQ(r.errors, plain.errors);
    EXPECT_EQ(r.warnings, plain.warnings);
    EXPECT_EQ(r.rows, plain.rows);
    if (plain.errors.empty()) {
      EXPECT_EQ(r.digest_texts(), plain.digest_texts());
    }
    if (chunk == 1) {
      once = r;
    } else {
      EXPECT_EQ(r.blocks, once.blocks);
    }
  }
  return once;
}

TEST(DateBlockSkipper, AnUnchangedFileIsNotParsedAtAll) {
  std::string t = text(lines(5));
  Read first = read(t, {}, 4096);
  EXPECT_EQ(first.blocks, (Strings{"2020-03-01 parsed", "2020-03-02 parsed", "2020-03-03 parsed",
                                   "2020-03-04 parsed", "2020-03-05 parsed"}));
  for (const auto& [date, d] : first.digests) EXPECT_TRUE(d.bytes.has_value()) << format_date(date);
  Read again = reread(t, t);
  EXPECT_EQ(again.blocks, (Strings{"2020-03-01 skipped", "2020-03-02 skipped", "2020-03-03 skipped",
                                   "2020-03-04 skipped", "2020-03-05 skipped"}));
  EXPECT_EQ(again.rows, 15u);
  EXPECT_FALSE(again.aside);
}

TEST(DateBlockSkipper, ANewDateIsParsedWithTheDateBeforeIt) {
  std::vector<std::string> after = lines(6);
  after[18] = "2020-03-06,Unknown,New York,,4,0";  // 5 before: a warning against 2020-03-05
  Read r = reread(text(lines(5)), text(after));
  EXPECT_EQ(r.blocks, (Strings{"2020-03-01 skipped", "2020-03-02 skipped", "2020-03-03 skipped",
                               "2020-03-04 skipped", "2020-03-05 parsed", "2020-03-06 parsed"}));
  EXPECT_EQ(r.warnings,
            (Strings{"c.csv:19:30: cases of 36:Unknown went down from 5 on 2020-03-05 to 4 on "
                     "2020-03-06 (a revision upstream; loaded as given)"}));
}

TEST(DateBlockSkipper, ARevisedDateIsParsedWithBothNeighbours) {
  std::vector<std::string> after = lines(5);
  after[7] = "2020-03-03,Autauga,Alabama,01001,45,3";  // above 2020-03-04's 40
  Read r = reread(text(lines(5)), text(after));
  EXPECT_EQ(r.blocks, (Strings{"2020-03-01 skipped", "2020-03-02 parsed", "2020-03-03 parsed",
                               "2020-03-04 parsed", "2020-03-05 skipped"}));
  EXPECT_EQ(r.warnings,
            (Strings{"c.csv:11:34: cases of 01001 went down from 45 on 2020-03-03 to 40 on "
                     "2020-03-04 (a revision upstream; loaded as given)"}));
}

TEST(DateBlockSkipper, ErrorsAfterSkippedDatesKeepTheirLineNumbers) {
  std::vector<std::string> after = lines(6);
  after[18] = "2020-03-06,Unknown,New York,,x,0";
  Read r = reread(text(lines(5)), text(after));
  EXPECT_EQ(r.errors, (Strings{"c.csv:19:30: cases: 'x' is not a whole number"}));
  // Blocks are handed on until the error: 2020-03-05 was parsed as 2020-03-06's neighbour.
  EXPECT_EQ(r.blocks, (Strings{"2020-03-01 skipped", "2020-03-02 skipped", "2020-03-03 skipped",
                               "2020-03-04 skipped", "2020-03-05 parsed"}));
}

TEST(DateBlockSkipper, DroppedAndReorderedDatesAreFoundAsWithoutIt) {
  std::vector<std::string> l = lines(5);
  std::vector<std::string> dropped(l.begin(), l.begin() + 13);  // 2020-03-05 gone
  Read r = reread(text(l), text(dropped));
  EXPECT_EQ(r.blocks, (Strings{"2020-03-01 skipped", "2020-03-02 skipped", "2020-03-03 skipped",
                               "2020-03-04 skipped"}));
  // 2020-03-02's lines again after 2020-03-03: parsed, and the order error is reported.
  std::vector<std::string> again = l;
  again.insert(again.begin() + 10, l.begin() + 4, l.begin() + 7);
  Read o = reread(text(l), text(again));
  ASSERT_FALSE(o.errors.empty());
  EXPECT_NE(o.errors.at(0).find("c.csv:11:1: date: 2020-03-02 comes after 2020-03-03"),
            std::string::npos)
      << o.errors.at(0);
}

TEST(DateBlockSkipper, CrLfLinesAreSkippedToo) {
  std::string t = text(lines(4), "\r\n");
  Read r = reread(t, t);
  EXPECT_EQ(r.blocks, (Strings{"2020-03-01 skipped", "2020-03-02 skipped", "2020-03-03 skipped",
                               "2020-03-04 skipped"}));
}

TEST(DateBlockSkipper, StepsAsideForWhatItCannotCutSafely) {
  std::vector<std::string> l = lines(5);
  // A quoted field (it could hold a line break): from its date on, everything is parsed.
  std::vector<std::string> quoted = l;
  quoted[7] = "2020-03-03,\"Autauga\",Alabama,01001,30,3";
  Read q = reread(text(quoted), text(quoted));
  EXPECT_EQ(q.blocks, (Strings{"2020-03-01 skipped", "2020-03-02 parsed", "2020-03-03 parsed",
                               "2020-03-04 parsed", "2020-03-05 parsed"}));
  EXPECT_TRUE(q.aside);
  // A line that does not start with a date and a comma (a blank line after 2020-03-03's): that
  // date and the one before it, which waited for its digest, are parsed, and all that follows.
  std::vector<std::string> blank = l;
  blank.insert(blank.begin() + 10, "");
  Read b = reread(text(blank), text(blank));
  EXPECT_EQ(b.blocks, (Strings{"2020-03-01 skipped", "2020-03-02 parsed", "2020-03-03 parsed",
                               "2020-03-04 parsed", "2020-03-05 parsed"}));
  // Columns in another order: the first column is not the date.
  std::vector<std::string> columns = {"county,date,state,fips,cases,deaths",
                                      "Autauga,2020-03-01,Alabama,01001,1,0",
                                      "Autauga,2020-03-02,Alabama,01001,2,0"};
  Read c = reread(text(columns), text(columns));
  EXPECT_EQ(c.blocks, (Strings{"2020-03-01 parsed", "2020-03-02 parsed"}));
  // A last line without a line break: the parser's error, at the same place.
  std::string cut = text(l);
  cut.pop_back();
  Read e = reread(text(l), cut);
  EXPECT_EQ(e.errors.size(), 1u);
}

TEST(DateBlockSkipper, ARestartedDownloadStartsOver) {
  std::string t = text(lines(5));
  Read first = read(t, {}, 4096);
  CountySpool spool(first.digests);
  ASSERT_TRUE(spool.open().ok());
  CountiesReader reader("c.csv", kClock);
  reader.set_sink(&spool);
  CountyBlockTarget target(reader, spool);
  DateBlockSkipper skip(target);
  TableSink sink(reader, &skip);
  sink.write(std::string_view(t).substr(0, t.size() / 2));
  sink.restart();
  sink.write(t);
  sink.finish();
  EXPECT_EQ(show(reader.diagnostics().errors()), Strings{});
  EXPECT_EQ(reader.rows_read(), 15u);
  EXPECT_EQ(spool.blocks().size(), 5u);
  EXPECT_EQ(spool.skipped_blocks(), 5u);
}

// The same lines under another header mean other things (found by the county_skip fuzzer: a
// header with one more column made every row short by one field, unnoticed on skipped dates).
TEST(DateBlockSkipper, AnotherHeaderMakesEveryDateParsedAgain) {
  std::vector<std::string> before = lines(4);
  // reread() checks the errors are the ones of a plain parse: every row's, or the header's.
  for (const char* header :
       {"date,county,state,fips,cases,deaths,extra", "date,county,state,fips,deaths,cases"}) {
    SCOPED_TRACE(header);
    std::vector<std::string> after = before;
    after[0] = header;
    EXPECT_NE(reread(text(before), text(after)).errors, Strings{});
  }
  std::vector<std::string> after = before;
  after[0] += "\r";  // a valid header, other bytes
  EXPECT_EQ(reread(text(before), text(after)).blocks,
            (Strings{"2020-03-01 parsed", "2020-03-02 parsed", "2020-03-03 parsed",
                     "2020-03-04 parsed"}));
}

TEST(BytesDigest, DependsOnEveryByteOfTheLinesAndTheHeaderAndReadsBackFromHex) {
  const std::string h = "date,county,state,fips,cases,deaths\n";
  BytesDigest a = BytesDigest::of(h, "2020-03-01,Autauga,Alabama,01001,1,0\n");
  EXPECT_EQ(a, BytesDigest::of(h, "2020-03-01,Autauga,Alabama,01001,1,0\n"));
  EXPECT_NE(a, BytesDigest::of(h, "2020-03-01,Autauga,Alabama,01001,1,0\r\n"));
  EXPECT_NE(a, BytesDigest::of(h, "2020-03-01,Autauga,Alabama,01001,2,0\n"));
  EXPECT_NE(a, BytesDigest::of("date,county,state,fips,deaths,cases\n",
                               "2020-03-01,Autauga,Alabama,01001,1,0\n"));
  BytesDigest b;
  ASSERT_TRUE(b.set_hex(a.hex()));
  EXPECT_EQ(a, b);
  EXPECT_FALSE(b.set_hex("not hex"));
}

}  // namespace
}  // namespace covid
