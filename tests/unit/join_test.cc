#include "transform/join.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace covid {
namespace {

Date day(int d) { return date_from_ymd(2020, 3, unsigned(d)); }

Observation nyt(int d, int64_t cases, int64_t deaths) {
  Observation o;
  o.date = day(d);
  o.cases = cases;
  o.deaths = deaths;
  return o;
}

// The joined rows as "day:cases/deaths/recovered" with "?" for unknown, "-" for absent (no JHU
// row).
std::vector<std::string> show(const std::vector<Observation>& rows) {
  auto n = [](int64_t v) {
    return v == kUnknown ? std::string("?") : v == kAbsent ? std::string("-") : std::to_string(v);
  };
  std::vector<std::string> out;
  for (const Observation& o : rows) {
    EXPECT_EQ(o.location, "US");
    out.push_back(std::to_string(o.date.days - day(0).days) + ":" + n(o.cases) + "/" + n(o.deaths) +
                  "/" + n(o.recovered));
  }
  return out;
}

const std::vector<Observation> kNyt = {nyt(2, 20, 2), nyt(3, 30, 3), nyt(5, 50, 5), nyt(6, 60, 6)};
// JHU has day 1 (before NYT), 3 and 5 (common, 5 unknown), 7 (after NYT), not 2 or 6.
const std::vector<DatedCount> kJhu = {
    {day(1), 1}, {day(3), 300}, {day(4), 400}, {day(5), kUnknown}, {day(7), 700}};

TEST(Join, LeftKeepsEveryNytDate) {
  EXPECT_EQ(show(join_recovered(kNyt, kJhu, JoinKind::kLeft)),
            (std::vector<std::string>{"2:20/2/-", "3:30/3/300", "5:50/5/?", "6:60/6/-"}));
}

TEST(Join, InnerKeepsOnlyCommonDates) {
  EXPECT_EQ(show(join_recovered(kNyt, kJhu, JoinKind::kInner)),
            (std::vector<std::string>{"3:30/3/300", "5:50/5/?"}));
}

TEST(Join, CasesAndDeathsAlwaysFromNyt) {
  std::vector<Observation> in = {nyt(3, 30, 3)};
  in[0].recovered = 999;  // whatever NYT rows carry, recovered comes from JHU
  auto out = join_recovered(in, {{day(3), 7}}, JoinKind::kLeft);
  EXPECT_EQ(show(out), std::vector<std::string>{"3:30/3/7"});
  in[0].recovered = 999;
  out = join_recovered(in, {}, JoinKind::kLeft);
  EXPECT_EQ(show(out), std::vector<std::string>{"3:30/3/-"});
}

TEST(Join, EmptyInputs) {
  EXPECT_TRUE(join_recovered({}, kJhu, JoinKind::kLeft).empty());
  EXPECT_TRUE(join_recovered({}, kJhu, JoinKind::kInner).empty());
  EXPECT_TRUE(join_recovered(kNyt, {}, JoinKind::kInner).empty());
  EXPECT_EQ(show(join_recovered(kNyt, {}, JoinKind::kLeft)),
            (std::vector<std::string>{"2:20/2/-", "3:30/3/-", "5:50/5/-", "6:60/6/-"}));
}

TEST(Join, JhuOnlyDatesAreDropped) {
  auto out = join_recovered({nyt(4, 40, 4)}, kJhu, JoinKind::kLeft);
  EXPECT_EQ(show(out), std::vector<std::string>{"4:40/4/400"});
}

}  // namespace
}  // namespace covid
