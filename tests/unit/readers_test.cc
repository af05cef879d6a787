#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "extract/csv_reader.h"
#include "test_support.h"
#include "transform/jhu_recovered.h"
#include "transform/nyt_national.h"
#include "transform/table_reader.h"

namespace covid {
namespace {

using test::FixedClock;
using test::show;
using test::Strings;

const FixedClock kClock;

void read_into(TableReader& table, std::string_view text, size_t chunk = 7) {
  test::read_into(table, text, chunk);
}

std::string n(int64_t v) { return v == kUnknown ? "?" : std::to_string(v); }

// "date cases/deaths/recovered" per row.
Strings show(const std::vector<Observation>& rows) {
  Strings out;
  for (const Observation& o : rows) {
    EXPECT_EQ(o.location, "US");
    out.push_back(format_date(o.date) + " " + n(o.cases) + "/" + n(o.deaths) + "/" +
                  n(o.recovered));
  }
  return out;
}

Strings show(const std::vector<DatedCount>& values) {
  Strings out;
  for (const DatedCount& v : values) out.push_back(format_date(v.date) + " " + n(v.value));
  return out;
}

// --- NYT --------------------------------------------------------------------------------------

constexpr std::string_view kNytHeader = "date,cases,deaths\n";

struct Nyt {
  explicit Nyt(std::string_view text, size_t chunk = 7) { read_into(reader, text, chunk); }
  Strings errors() const { return show(reader.diagnostics().errors()); }
  Strings warnings() const { return show(reader.diagnostics().warnings()); }
  Strings rows() const { return show(reader.rows()); }
  NytNationalReader reader{"us.csv", kClock};
};

std::string nyt(std::string_view rows) { return std::string(kNytHeader) + std::string(rows); }

TEST(NytReader, ReadsValues) {
  for (size_t chunk : {1u, 7u, 1000u}) {
    Nyt r(nyt("2020-01-21,1,0\n2020-01-22,1,0\n2020-01-23,3,1\n2022-06-01,9007199254740992,1\n"),
          chunk);
    EXPECT_EQ(r.errors(), Strings{});
    EXPECT_EQ(r.warnings(), Strings{});
    EXPECT_EQ(r.rows(), (Strings{"2020-01-21 1/0/?", "2020-01-22 1/0/?", "2020-01-23 3/1/?",
                                 "2022-06-01 9007199254740992/1/?"}));
    EXPECT_EQ(r.reader.rows_read(), 4u);
    EXPECT_EQ(r.reader.file(), "us.csv");
  }
}

TEST(NytReader, ColumnsInAnyOrderAndExtraColumnsIgnored) {
  Nyt r(
      "fips,deaths,date,note,cases\r\n00,2,2020-03-01,\"a, \"\"b\"\"\",10\r\n"
      "00,3,2020-03-02,,12\r\n");
  EXPECT_EQ(r.errors(), Strings{});
  EXPECT_EQ(r.rows(), (Strings{"2020-03-01 10/2/?", "2020-03-02 12/3/?"}));
}

TEST(NytReader, MissingColumnIsNamed) {
  Nyt r("date,cases\n2020-01-21,1\n");
  EXPECT_EQ(r.errors(),
            Strings{"us.csv:1:1: missing required column 'deaths' (header is 'date,cases')"});
  EXPECT_EQ(r.rows(), Strings{});
  EXPECT_EQ(r.reader.diagnostics().error_count(), 1u);  // the rows are not read
}

TEST(NytReader, HeaderNamesAreCaseSensitive) {
  Nyt r("Date,Cases,Deaths\n2020-01-21,1,0\n");
  EXPECT_EQ(
      r.errors(),
      (Strings{"us.csv:1:1: missing required column 'date' (header is 'Date,Cases,Deaths')",
               "us.csv:1:1: missing required column 'cases' (header is 'Date,Cases,Deaths')",
               "us.csv:1:1: missing required column 'deaths' (header is 'Date,Cases,Deaths')"}));
}

TEST(NytReader, RepeatedHeaderName) {
  Nyt r("date,cases,deaths,cases\n2020-01-21,1,0,1\n");
  EXPECT_EQ(r.errors(), Strings{"us.csv:1:19: column 'cases' appears twice in the header"});
  EXPECT_EQ(r.rows(), Strings{});
}

TEST(NytReader, WrongFieldCount) {
  struct Case {
    std::string rows;
    std::string error;
  };
  const Case cases[] = {
      {"2020-01-21,1\n", "us.csv:2:13: expected 3 fields as in the header, found 2"},
      {"2020-01-21,1,0,9\n", "us.csv:2:16: expected 3 fields as in the header, found 4"},
      {"2020-01-21,\"1\n\"\n", "us.csv:3:2: expected 3 fields as in the header, found 2"},
      {"2020-01-21,\"1\n2\",0,9\n", "us.csv:3:6: expected 3 fields as in the header, found 4"},
      {"2020-01-20,1,0\n2020-01-21,1,0,\n",
       "us.csv:3:16: expected 3 fields as in the header, found 4"},
  };
  for (const Case& c : cases) {
    Nyt r(nyt(c.rows));
    EXPECT_EQ(r.errors(), Strings{c.error}) << c.rows;
  }
}

TEST(NytReader, DuplicateDateNamesTheFirstLine) {
  Nyt r(nyt("2020-01-21,1,0\n2020-01-22,2,0\n2020-01-21,1,0\n"));
  EXPECT_EQ(r.errors(), Strings{"us.csv:4:1: date: 2020-01-21 appears twice (first on line 2)"});
}

TEST(NytReader, FutureDate) {
  Nyt r(nyt("2022-05-31,1,0\n2022-06-01,2,0\n2022-06-02,3,0\n"));  // today is 2022-06-01
  EXPECT_EQ(r.errors(), Strings{"us.csv:4:1: date: '2022-06-02' is in the future"});
}

TEST(NytReader, BadValues) {
  struct Case {
    std::string row;
    Strings errors;
  };
  const Case cases[] = {
      {"2020-02-30,1,0\n", {"us.csv:2:1: date: '2020-02-30' is not a calendar date"}},
      {"2021-02-29,1,0\n", {"us.csv:2:1: date: '2021-02-29' is not a calendar date"}},
      {"2020/01/21,1,0\n", {"us.csv:2:1: date: '2020/01/21' is not a date in YYYY-MM-DD form"}},
      {",1,0\n", {"us.csv:2:1: date: empty value"}},
      {"2020-01-21,x,0\n", {"us.csv:2:12: cases: 'x' is not a whole number"}},
      {"2020-01-21,-1,0\n", {"us.csv:2:12: cases: '-1' is negative"}},
      {"2020-01-21,9007199254740993,0\n",
       {"us.csv:2:12: cases: '9007199254740993' is larger than 2^53"}},
      {"2020-01-21,1,\n", {"us.csv:2:14: deaths: empty value"}},
      {"2020-01-21, 1,1e3\n",
       {"us.csv:2:12: cases: ' 1' is not a whole number",
        "us.csv:2:15: deaths: '1e3' is not a whole number"}},
  };
  for (const Case& c : cases) {
    Nyt r(nyt(c.row));
    EXPECT_EQ(r.errors(), c.errors) << c.row;
    EXPECT_EQ(r.rows(), Strings{}) << c.row;
  }
}

TEST(NytReader, UnsortedInputIsSorted) {
  Nyt r(nyt("2020-01-23,3,1\n2020-01-21,1,0\n2020-01-22,2,0\n"));
  EXPECT_EQ(r.errors(), Strings{});
  EXPECT_EQ(r.warnings(), Strings{});
  EXPECT_EQ(r.rows(), (Strings{"2020-01-21 1/0/?", "2020-01-22 2/0/?", "2020-01-23 3/1/?"}));
}

TEST(NytReader, CumulativeDecreaseIsAWarning) {
  Nyt r(nyt("2020-01-21,5,2\n2020-01-22,4,2\n2020-01-23,6,1\n"));
  EXPECT_EQ(r.errors(), Strings{});
  EXPECT_EQ(r.warnings(),
            (Strings{"us.csv:3:12: cases went down from 5 on 2020-01-21 to 4 on 2020-01-22 "
                     "(a revision upstream; loaded as given)",
                     "us.csv:4:14: deaths went down from 2 on 2020-01-22 to 1 on 2020-01-23 "
                     "(a revision upstream; loaded as given)"}));
  EXPECT_EQ(r.rows(), (Strings{"2020-01-21 5/2/?", "2020-01-22 4/2/?", "2020-01-23 6/1/?"}));
}

TEST(NytReader, DecreaseInUnsortedInputPointsAtTheRightRow) {
  Nyt r(nyt("2020-01-23,3,0\n2020-01-22,5,0\n"));
  EXPECT_EQ(r.errors(), Strings{});
  EXPECT_EQ(r.warnings(),
            Strings{"us.csv:2:12: cases went down from 5 on 2020-01-22 to 3 on 2020-01-23 "
                    "(a revision upstream; loaded as given)"});
}

TEST(NytReader, DecreaseAfterAMultiLineFieldPointsAtTheRightLine) {
  Nyt r("note,date,cases,deaths\na,2020-01-21,5,2\n\"x\ny\",2020-01-22,4,2\n");
  EXPECT_EQ(r.errors(), Strings{});
  EXPECT_EQ(r.warnings(),
            Strings{"us.csv:4:15: cases went down from 5 on 2020-01-21 to 4 on 2020-01-22 "
                    "(a revision upstream; loaded as given)"});
}

TEST(NytReader, EmptyAndHeaderOnly) {
  // Every error names a line and a column: where the header, or the first data row, should be.
  EXPECT_EQ(Nyt("").errors(), Strings{"us.csv:1:1: the file is empty (no header line)"});
  EXPECT_EQ(Nyt("\n\n").errors(), Strings{"us.csv:1:1: the file is empty (no header line)"});
  EXPECT_EQ(Nyt(kNytHeader).errors(),
            Strings{"us.csv:2:1: the file has a header but no data rows"});
}

TEST(NytReader, CsvErrorsAreReported) {
  Nyt r(nyt("2020-01-21,1,0\n2020-01-22,2,0"));
  EXPECT_EQ(r.errors(),
            Strings{"us.csv:3:15: the last line has no line break: the file looks truncated"});
}

TEST(NytReader, InvalidUtf8AndMinusZeroAreQuotedSafely) {
  // The message is valid UTF-8 whatever the bytes were (it goes into JSON).
  Nyt r(nyt("2020-01-21,1\xe9,-0\n2020-01-2\xb3,1,0\n"));
  EXPECT_EQ(r.errors(),
            (Strings{"us.csv:2:12: cases: '1\\xe9' is not a whole number",
                     "us.csv:2:15: deaths: '-0' has a minus sign (a count is written without one)",
                     "us.csv:3:1: date: '2020-01-2\\xb3' is not a date in YYYY-MM-DD form"}));
}

TEST(NytReader, AByteOrderMarkStartingALineIsAnError) {
  // Two files joined together: the second one's BOM lands at the start of a line.
  Nyt r(
      nyt("2020-01-21,1,0\n\xEF\xBB\xBF"
          "date,cases,deaths\n2020-01-22,2,0\n"));
  EXPECT_EQ(r.errors(),
            Strings{"us.csv:3:1: a byte order mark (U+FEFF) starts this line: files joined "
                    "together? (it belongs only at the start of a file)"});
}

TEST(NytReader, RestartForgetsEverything) {
  NytNationalReader reader("us.csv", kClock);
  read_into(reader, nyt("2020-01-21,1,0\n2020-01-21,1,0\n"));
  ASSERT_EQ(reader.diagnostics().error_count(), 1u);
  reader.restart();
  EXPECT_EQ(reader.diagnostics().error_count(), 0u);
  EXPECT_EQ(reader.rows_read(), 0u);
  read_into(reader, nyt("2020-01-21,1,0\n2020-01-22,2,0\n"));
  EXPECT_EQ(show(reader.diagnostics().errors()), Strings{});
  EXPECT_EQ(show(reader.rows()), (Strings{"2020-01-21 1/0/?", "2020-01-22 2/0/?"}));
}

// --- JHU --------------------------------------------------------------------------------------

struct Jhu {
  explicit Jhu(std::string_view text, size_t chunk = 7) { read_into(reader, text, chunk); }
  Strings errors() const { return show(reader.diagnostics().errors()); }
  Strings warnings() const { return show(reader.diagnostics().warnings()); }
  Strings values() const { return show(reader.recovered()); }
  JhuRecoveredReader reader{"jhu.csv", kClock};
};

std::string zero_note(int line, int column, const char* date) {
  return "jhu.csv:" + std::to_string(line) + ":" + std::to_string(column) + ": Recovered: 0 on " +
         date + " after positive values means not reported; stored as unknown";
}

TEST(JhuReader, KeepsOnlyNationalUsRowsWithTheZeroRule) {
  Jhu r(
      "Date,Country/Region,Province/State,Lat,Long,Confirmed,Recovered,Deaths\n"
      "2020-01-22,US,,37.09,-95.71,1,0,0\n"
      "2020-01-22,\"Korea, South\",,35.9,127.7,1,n/a,0\n"  // skipped, not validated
      "2020-13-45,US,Washington,47.4,-121.5,1,-3,0\n"      // a state: skipped, not validated
      "2020-01-23,US,,37.09,-95.71,1,0,0\n"
      "2020-02-01,US,,37.09,-95.71,8,3,0\n"
      "2020-12-14,US,,37.09,-95.71,100,0,5\n"
      "2020-12-15,US,,37.09,-95.71,101,0,5\n");
  EXPECT_EQ(r.errors(), Strings{});
  EXPECT_EQ(r.values(), (Strings{"2020-01-22 0", "2020-01-23 0", "2020-02-01 3", "2020-12-14 ?",
                                 "2020-12-15 ?"}));
  EXPECT_EQ(r.warnings(),
            (Strings{zero_note(7, 33, "2020-12-14"), zero_note(8, 33, "2020-12-15")}));
  EXPECT_EQ(r.reader.rows_read(), 7u);
}

TEST(JhuReader, WithoutLatLongAndUnsorted) {
  // The zero rule follows dates, not file order: 2020-12-14 comes after the positive value.
  Jhu r(
      "Date,Country/Region,Province/State,Confirmed,Recovered,Deaths\n"
      "2020-01-22,US,,1,0,0\n"
      "2020-12-15,US,,101,0,5\n"
      "2020-02-01,US,,8,3,0\n"
      "2020-12-14,US,,100,7,5\n");
  EXPECT_EQ(r.errors(), Strings{});
  EXPECT_EQ(r.values(), (Strings{"2020-01-22 0", "2020-02-01 3", "2020-12-14 7", "2020-12-15 ?"}));
  EXPECT_EQ(r.warnings(), Strings{zero_note(3, 20, "2020-12-15")});
}

TEST(JhuReader, UsRowsAreValidated) {
  Jhu r(
      "Date,Country/Region,Province/State,Confirmed,Recovered,Deaths\n"
      "2020-01-22,US,,1,x,0\n"
      "2020-01-23,US,,1,0,0\n"
      "2020-01-23,US,,1,0,0\n");
  EXPECT_EQ(r.errors(), (Strings{"jhu.csv:2:18: Recovered: 'x' is not a whole number",
                                 "jhu.csv:4:1: Date: 2020-01-23 appears twice (first on line 3)"}));
}

TEST(JhuReader, MissingRecoveredColumn) {
  Jhu r("Date,Country/Region,Province/State,Confirmed,Deaths\n2020-01-22,US,,1,0\n");
  // The header is quoted as a bounded excerpt.
  EXPECT_EQ(r.errors(), Strings{"jhu.csv:1:1: missing required column 'Recovered' (header is "
                                "'Date,Country/Region,Province/State,Confi...')"});
}

TEST(JhuReader, AByteOrderMarkStartingALineIsAnErrorEvenInARowNotRead) {
  Jhu r(
      "Date,Country/Region,Province/State,Recovered\n2020-01-22,US,,1\n"
      "\xEF\xBB\xBF"
      "Date,Country/Region,Province/State,Recovered\n2020-01-23,US,,2\n");
  EXPECT_EQ(r.errors(),
            Strings{"jhu.csv:3:1: a byte order mark (U+FEFF) starts this line: files joined "
                    "together? (it belongs only at the start of a file)"});
}

TEST(JhuReader, EmptyAndHeaderOnly) {
  EXPECT_EQ(Jhu("").errors(), Strings{"jhu.csv:1:1: the file is empty (no header line)"});
  EXPECT_EQ(Jhu("Date,Country/Region,Province/State,Recovered\r\n").errors(),
            Strings{"jhu.csv:2:1: the file has a header but no data rows"});
}

// A JHU file that lost its national US rows (deleted, or "US" spelled otherwise) is not a file
// of recoveries with nothing to say: loading it used to make every stored value unknown.
TEST(JhuReader, NoNationalUsRowIsAnError) {
  const std::string expected =
      "jhu.csv:1:6: expected the US national rows (Country/Region \"US\" with an empty "
      "Province/State), found none in 3 rows: not this dataset's file, or cut short? Nothing was "
      "loaded";
  for (const char* us : {"us", "US ", "United States"}) {
    SCOPED_TRACE(us);
    Jhu r(std::string("Date,Country/Region,Province/State,Confirmed,Recovered,Deaths\n") +
          "2020-01-22,France,,1,0,0\n2020-01-22," + us +
          ",,1,0,0\n2020-01-23,US,Washington,1,0,0\n");
    EXPECT_EQ(r.errors(), Strings{expected});
  }
  // The column is found by name, wherever it is.
  Jhu moved("Province/State,Recovered,Date,Country/Region\n,1,2020-01-22,France\n");
  EXPECT_EQ(
      moved.errors(),
      Strings{"jhu.csv:1:31: expected the US national rows (Country/Region \"US\" with an empty "
              "Province/State), found none in 1 row: not this dataset's file, or cut short? "
              "Nothing was loaded"});
}

TEST(TableReader, CountsTheRowsAndDatesKept) {
  Jhu jhu(
      "Date,Country/Region,Province/State,Recovered\n2020-01-22,US,,1\n2020-01-22,France,,1\n"
      "2020-01-23,US,,2\n2020-01-24,US,Texas,2\n");
  EXPECT_EQ(jhu.reader.rows_read(), 4u);
  EXPECT_EQ(jhu.reader.rows_kept(), 2u);
  EXPECT_EQ(jhu.reader.dates_kept(), 2u);
  Nyt national(nyt("2020-01-22,1,0\n2020-01-24,2,0\n2020-01-23,2,0\n"));
  EXPECT_EQ(national.reader.rows_kept(), 3u);
  EXPECT_EQ(national.reader.dates_kept(), 3u);
  national.reader.restart();
  EXPECT_EQ(national.reader.rows_kept(), 0u);
  EXPECT_EQ(national.reader.dates_kept(), 0u);
}

TEST(RecoveredZeroRule, Cases) {
  struct Case {
    std::vector<int64_t> before, after;
    std::vector<size_t> changed;
  };
  const Case cases[] = {
      {{}, {}, {}},
      {{0, 0, 0}, {0, 0, 0}, {}},
      {{0, 0, 3, 0, 5, 0, 0}, {0, 0, 3, kUnknown, 5, kUnknown, kUnknown}, {3, 5, 6}},
      {{1, 0}, {1, kUnknown}, {1}},
      {{2, 4, 6}, {2, 4, 6}, {}},
  };
  for (const Case& c : cases) {
    std::vector<DatedCount> values;
    for (size_t i = 0; i < c.before.size(); ++i) values.push_back({Date{int32_t(i)}, c.before[i]});
    std::vector<size_t> changed = apply_recovered_zero_rule(values);
    std::vector<int64_t> after;
    for (size_t i = 0; i < values.size(); ++i) {
      after.push_back(values[i].value);
      EXPECT_EQ(values[i].date, Date{int32_t(i)});
    }
    EXPECT_EQ(after, c.after);
    EXPECT_EQ(changed, c.changed);
  }
}

// --- sniffing ---------------------------------------------------------------------------------

TEST(SniffNotCsv, Cases) {
  const std::string html = "the body is HTML or XML, not CSV (an error page?)";
  const std::string json = "the body is JSON, not CSV";
  const std::string gzip =
      "the body is gzip-compressed data, not CSV (sent without a Content-Encoding header)";
  struct Case {
    std::string head, message;
  };
  const Case cases[] = {
      {"<!DOCTYPE html>\n<html>", html},
      {"  \r\n\t<html><body>404</body></html>", html},
      {"<?xml version=\"1.0\"?>", html},
      {"\xEF\xBB\xBF<html>", html},
      {"{\"message\": \"rate limited\"}", json},
      {"\n[1,2,3]", json},
      {std::string("\x1f\x8b\x08\x00", 4), gzip},
      {"date,cases,deaths\n2020-01-21,1,0\n", ""},
      {"\xEF\xBB\xBF"
       "date,cases\n",
       ""},
      {"", ""},
      {"   \n", ""},
      {"\x1f", ""},
  };
  for (const Case& c : cases) EXPECT_EQ(sniff_not_csv(c.head), c.message) << c.head;
}

}  // namespace
}  // namespace covid
