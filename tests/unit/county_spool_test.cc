// The county load's parts that keep memory flat: the reader's date blocks and its order rule,
// DateDigest, and CountySpool (skipping known dates, merging blocks into key order, files whose
// dates overlap).
#include "pipeline/county_spool.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "load/date_digest.h"
#include "test_support.h"
#include "transform/nyt_counties.h"

namespace covid {
namespace {

using test::FixedClock;
using test::read_into;
using test::show;
using test::Strings;

const FixedClock kClock;
const char* kHeader = "date,county,state,fips,cases,deaths\n";

// Records the blocks a reader hands on, as text.
class Blocks final : public CountyBlockSink {
 public:
  void on_block(const CountiesReader& reader, Date date, uint64_t first_line,
                const std::vector<CountyRow>& rows) override {
    std::string b = format_date(date) + "@" + std::to_string(first_line) + ":";
    for (const CountyRow& r : rows) {
      b += " " + reader.place_id(r.place) + "=" + std::to_string(r.cases) + "/" +
           std::to_string(r.deaths);
    }
    seen.push_back(b);
  }
  void on_skipped_block(const CountiesReader&, Date date, uint64_t first_line) override {
    seen.push_back(format_date(date) + "@" + std::to_string(first_line) + ": skipped");
  }
  void on_restart(const CountiesReader&) override { seen.clear(); }
  Strings seen;
};

TEST(CountiesReaderBlocks, OneBlockPerDateInFileOrder) {
  CountiesReader r("c.csv", kClock);
  Blocks sink;
  r.set_sink(&sink);
  read_into(r,
            std::string(kHeader) +
                "2020-03-01,Los Angeles,California,06037,5,1\n"
                "2020-03-01,Unknown,New York,,1,\n"
                "2020-03-02,Los Angeles,California,06037,6,1\n"
                "2020-03-02,Unknown,New York,,2,0\n"
                "2020-03-04,Los Angeles,California,06037,4,1\n",
            7);
  EXPECT_TRUE(r.diagnostics().errors().empty());
  EXPECT_EQ(sink.seen,
            (Strings{"2020-03-01@2: 06037=5/1 36:Unknown=1/-1",
                     "2020-03-02@4: 06037=6/1 36:Unknown=2/0", "2020-03-04@6: 06037=4/1"}));
  EXPECT_TRUE(r.rows().empty());  // with a sink, nothing is kept
  // The cumulative decrease is a warning at the count that went down.
  EXPECT_EQ(show(r.diagnostics().warnings()),
            (Strings{"c.csv:6:41: cases of 06037 went down from 6 on 2020-03-02 to 4 on 2020-03-04 "
                     "(a revision upstream; loaded as given)"}));
}

TEST(CountiesReaderBlocks, AnEarlierDateIsAnErrorAndStopsTheBlocks) {
  CountiesReader r("c.csv", kClock);
  Blocks sink;
  r.set_sink(&sink);
  read_into(r,
            std::string(kHeader) +
                "2020-03-02,Los Angeles,California,06037,5,1\n"
                "2020-03-01,Orange,California,06059,1,0\n"
                "2020-03-03,Los Angeles,California,06037,6,1\n",
            1024);
  EXPECT_EQ(
      show(r.diagnostics().errors()),
      (Strings{"c.csv:3:1: date: 2020-03-01 comes after 2020-03-02 (line 2): a county file must be "
               "in ascending date order, as NYT publishes it"}));
  EXPECT_EQ(sink.seen, (Strings{}));  // the first block ended after the error: not handed on
}

TEST(DateDigest, SameRowsInAnyOrderSameDigestAndAnyChangeShows) {
  DateDigest a, b, c, d;
  a.add("06037", 5, 1, kUnknown);
  a.add("36:Unknown", 1, kUnknown, kUnknown);
  b.add("36:Unknown", 1, kUnknown, kUnknown);
  b.add("06037", 5, 1, kUnknown);
  EXPECT_TRUE(a.same_content(b));
  c.add("06037", 5, 1, kUnknown);
  c.add("36:Unknown", 1, 0, kUnknown);  // unknown deaths became 0
  EXPECT_FALSE(a.same_content(c));
  d.add("06037", 5, 1, kUnknown);
  EXPECT_FALSE(a.same_content(d));
  DateDigest back;
  ASSERT_TRUE(back.set_hash_hex(a.hash_hex()));
  back.rows = a.rows;
  EXPECT_TRUE(back.same_content(a));
  EXPECT_FALSE(back.set_hash_hex("not hex"));
  EXPECT_FALSE(back.set_hash_hex(std::string(32, 'G')));
}

std::string feed(CountySpool& spool, CountiesReader& reader, const std::string& body) {
  reader.set_sink(&spool);
  read_into(reader, std::string(kHeader) + body, 64);
  return reader.diagnostics().errors().empty() ? "" : show(reader.diagnostics().errors())[0];
}

TEST(CountySpool, MergesBlocksIntoLocationDateOrderAndSkipsKnownDates) {
  // The digest of 2020-03-02's rows is known: that block is skipped.
  DateDigest known;
  known.add("06037", 6, 1, kUnknown);
  known.add("01001", 3, 0, kUnknown);
  std::map<Date, StoredDigest> digests;
  Date d2;
  ASSERT_EQ(parse_date("2020-03-02", &d2), DateError::kNone);
  digests[d2] = StoredDigest{known, 2, std::nullopt};
  CountySpool spool(digests);
  ASSERT_TRUE(spool.open().ok());
  CountiesReader r("c.csv", kClock);
  EXPECT_EQ(feed(spool, r,
                 "2020-03-01,Los Angeles,California,06037,5,1\n"
                 "2020-03-01,Autauga,Alabama,01001,2,0\n"
                 "2020-03-01,Unknown,New York,,1,\n"
                 "2020-03-02,Autauga,Alabama,01001,3,0\n"
                 "2020-03-02,Los Angeles,California,06037,6,1\n"
                 "2020-03-03,Los Angeles,California,06037,7,1\n"
                 "2020-03-03,Autauga,Alabama,01001,4,0\n"),
            "");
  ASSERT_EQ(spool.blocks().size(), 3u);
  EXPECT_TRUE(spool.blocks()[0].kept);
  EXPECT_FALSE(spool.blocks()[1].kept);
  EXPECT_TRUE(spool.blocks()[2].kept);
  EXPECT_EQ(spool.rows(), 7u);
  EXPECT_EQ(spool.location_count(), 3u);
  std::vector<const CountySpool::Block*> kept = {&spool.blocks()[0], &spool.blocks()[2]};
  auto cursor = spool.merge(kept);
  Strings rows;
  for (;;) {
    auto row = cursor->next();
    ASSERT_TRUE(row.ok());
    if (*row == nullptr) break;
    rows.push_back((*row)->location + " " + format_date((*row)->date) + " " +
                   std::to_string((*row)->cases));
  }
  EXPECT_EQ(rows, (Strings{"01001 2020-03-01 2", "01001 2020-03-03 4", "06037 2020-03-01 5",
                           "06037 2020-03-03 7", "36:Unknown 2020-03-01 1"}));
  auto block = spool.read(spool.blocks()[0]);
  ASSERT_TRUE(block.ok());
  ASSERT_EQ(block->size(), 3u);
  EXPECT_EQ((*block)[0].location, "01001");  // sorted by location
  EXPECT_EQ((*block)[2].deaths, kUnknown);
}

TEST(CountySpool, FilesMustCoverSeparateDatesAndARestartForgetsAFile) {
  CountySpool spool({});
  ASSERT_TRUE(spool.open().ok());
  CountiesReader first("2021.csv", kClock), second("2020.csv", kClock);
  EXPECT_EQ(feed(spool, first, "2021-01-01,Los Angeles,California,06037,5,1\n"), "");
  EXPECT_EQ(feed(spool, second, "2020-12-31,Los Angeles,California,06037,4,1\n"), "");
  ASSERT_TRUE(spool.problem().has_value());
  EXPECT_EQ(
      spool.problem()->to_string(),
      "2020.csv:2:1: date 2020-12-31 is also in 2021.csv (up to 2021-01-01): county files read "
      "together must cover separate dates, in order");
  // A retried download of the second file starts it again: its blocks and problem are gone.
  second.restart();
  EXPECT_FALSE(spool.problem().has_value());
  EXPECT_EQ(spool.blocks().size(), 1u);
  EXPECT_EQ(spool.rows(), 1u);
}

}  // namespace
}  // namespace covid
