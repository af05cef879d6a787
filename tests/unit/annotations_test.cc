// The NYT anomalies reader (transform/nyt_anomalies.h) and the averages with its notes
// (serve/annotated_average.h).
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "serve/annotated_average.h"
#include "test_support.h"
#include "transform/nyt_anomalies.h"

namespace covid {
namespace {

using test::FixedClock;
using test::Strings;

const FixedClock kClock;

constexpr std::string_view kHeader =
    "date,end_date,county,state,geoid,type,omit_from_rolling_average,"
    "omit_from_rolling_average_on_subgeographies,adjusted_daily_count_for_avg,description\n";

struct Read {
  explicit Read(std::string_view rows, size_t chunk = 5) {
    test::read_into(reader, std::string(kHeader) + std::string(rows), chunk);
  }
  Strings errors() const { return test::show(reader.diagnostics().errors()); }
  Strings notes() const {
    Strings out;
    for (const Annotation& a : reader.annotations()) {
      out.push_back(a.location + " " + format_date(a.from) + ".." +
                    (a.to ? format_date(*a.to) : std::string("-")) + " " + a.type + " " +
                    std::to_string(a.adjusted_count) + (a.omit_from_average ? " omit" : "") +
                    (a.omit_on_subgeographies ? " sub" : "") + " [" + a.text + "]");
    }
    return out;
  }
  AnomaliesReader reader{"anomalies.csv", kClock};
};

TEST(AnomaliesReader, GeoidsMapToOurIds) {
  EXPECT_EQ(location_of_geoid("USA"), "US");
  EXPECT_EQ(location_of_geoid("USA-06"), "06");
  EXPECT_EQ(location_of_geoid("USA-72"), "72");
  EXPECT_EQ(location_of_geoid("USA-06037"), "06037");
  EXPECT_EQ(location_of_geoid("USA-36998"), "36:New York City");
  EXPECT_EQ(location_of_geoid("USA-29998"), "29:Kansas City");
  EXPECT_EQ(location_of_geoid("USA-29997"), "29:Joplin");
  for (const char* bad : {"", "US", "USA-", "USA-6", "USA-99", "USA-00", "USA-06000", "USA-0603",
                          "USA-060377", "usa-06", "USA-0a", "CAN-06"}) {
    EXPECT_EQ(location_of_geoid(bad), "") << bad;
  }
}

TEST(AnomaliesReader, QuirksOfTheRealFile) {
  // No final newline; quoted descriptions with doubled quotes and commas; U+2019; trailing
  // spaces (trimmed); typos kept; an empty description; a range; omit flags; a backlog.
  Read r(
      "2020-04-06,,New York City,New York,USA-36998,deaths,,,0,The Times began using deaths. \n"
      "2020-04-12,,,Georgia,USA-13,both,,,0,\"Cases with \"\"Unknown\"\" county, dropped.\"\n"
      "2020-05-01,2020-05-03,,Texas,USA-48,cases,yes,yes,0,A tehnical issue\xE2\x80\x99s effect\n"
      "2022-01-14,,,Texas,USA-48,cases,,yes,0,\n"
      "2022-01-14,,,Texas,USA-48,cases,,,-26236,Texas audited cases data.");
  EXPECT_EQ(r.errors(), Strings{});
  EXPECT_EQ(r.notes(),
            (Strings{"13 2020-04-12..- both 0 [Cases with \"Unknown\" county, dropped.]",
                     "36:New York City 2020-04-06..- deaths 0 [The Times began using deaths.]",
                     "48 2020-05-01..2020-05-03 cases 0 omit sub [A tehnical issue\xE2\x80\x99s "
                     "effect]",
                     "48 2022-01-14..- cases -26236 [Texas audited cases data.]",
                     "48 2022-01-14..- cases 0 sub []"}));
}

TEST(AnomaliesReader, BadValuesAreErrorsAtTheirField) {
  Read r(
      "2020-02-30,,,Texas,USA-48,cases,,,0,x\n"
      "2020-05-03,2020-05-01,,Texas,USA-48,cases,,,0,x\n"
      "2020-05-04,,,Texas,USA-48,case,,,0,x\n"
      "2020-05-05,,,Texas,USA-48,cases,Yes,,0,x\n"
      "2020-05-06,,,Texas,USA-48,cases,,no,0,x\n"
      "2020-05-07,,,Texas,USA-48,cases,,,1.5,x\n"
      "2020-05-08,,,Texas,USA-99,cases,,,0,x\n"
      "2020-05-09,,,Texas,USA-48,cases,,,0,x\n"
      "2020-05-09,,,Texas,USA-48,cases,,,0,again\n");
  Strings e = r.errors();
  ASSERT_EQ(e.size(), 8u) << ::testing::PrintToString(e);
  EXPECT_EQ(e[0], "anomalies.csv:2:1: date: '2020-02-30' is not a calendar date");
  EXPECT_EQ(e[1], "anomalies.csv:3:12: end_date: 2020-05-01 is before the date 2020-05-03");
  EXPECT_EQ(e[2], "anomalies.csv:4:27: type: 'case' is not cases, deaths or both");
  EXPECT_EQ(e[3], "anomalies.csv:5:33: omit_from_rolling_average: 'Yes' is not yes or empty");
  EXPECT_EQ(e[4],
            "anomalies.csv:6:34: omit_from_rolling_average_on_subgeographies: 'no' is not yes or "
            "empty");
  EXPECT_EQ(e[5],
            "anomalies.csv:7:35: adjusted_daily_count_for_avg: '1.5' is not an integer (a count, "
            "negative for a backlog)");
  EXPECT_EQ(e[6].substr(0, 32), "anomalies.csv:8:20: geoid: 'USA-");
  EXPECT_EQ(e[7],
            "anomalies.csv:10:1: geoid USA-48 on 2020-05-09 has a second note for cases (first on "
            "line 9)");
}

// --- the averages ------------------------------------------------------------------------------

Observation day(int d, int64_t cases, int64_t deaths) {
  Observation o;
  o.location = "48";
  o.date = Date{18322 + d};  // 2020-03-01 + d
  o.cases = cases;
  o.deaths = deaths;
  return o;
}

Annotation note(std::string loc, int from, int to, const char* type, bool omit, bool sub,
                int64_t adjusted) {
  Annotation a;
  a.location = std::move(loc);
  a.from = Date{18322 + from};
  if (to != from) a.to = Date{18322 + to};
  a.type = type;
  a.omit_from_average = omit;
  a.omit_on_subgeographies = sub;
  a.adjusted_count = adjusted;
  return a;
}

// Daily cases 10, 20, ..., deaths 1 each day, over 12 days (cumulative from day 0).
std::vector<Observation> rows(const std::string& location) {
  std::vector<Observation> out;
  int64_t c = 0, d = 0;
  for (int i = 0; i < 12; ++i) {
    c += 10 * i;
    d += 1;
    out.push_back(day(i, c, d));
    out.back().location = location;
  }
  return out;
}

TEST(AnnotatedAverage, OmittedDaysLeftOutAndBacklogsAdjusted) {
  using serve::SeriesColumns;
  SeriesColumns s = SeriesColumns::build("48", rows("48"));
  // Day 8's cases omitted; day 9 a backlog of -35 cases; day 10's deaths omitted through day 11;
  // another place's notes and a state note for subgeographies do nothing to the state itself.
  serve::apply_annotations(
      s, {note("48", 8, 8, "cases", true, false, 0), note("48", 9, 9, "cases", false, false, -35),
          note("48", 10, 11, "deaths", true, false, 0), note("06", 8, 8, "both", true, true, 0),
          note("48", 7, 7, "both", false, true, 0)});
  // Daily cases on day i: 10 * i. Day 7's window 1..7: not touched.
  EXPECT_DOUBLE_EQ(s.new_cases_avg7[7], (10 + 20 + 30 + 40 + 50 + 60 + 70) / 7.0);
  // Day 9's window 3..9 without day 8, day 9 counted as 90 - 35.
  EXPECT_DOUBLE_EQ(s.new_cases_avg7[9], (30 + 40 + 50 + 60 + 70 + 55) / 6.0);
  EXPECT_DOUBLE_EQ(s.new_cases_avg7_raw[9], (30 + 40 + 50 + 60 + 70 + 80 + 90) / 7.0);
  EXPECT_DOUBLE_EQ(s.new_deaths_avg7[11], 1.0);  // 5 days of 1 left
  EXPECT_EQ(s.omitted[8], 1);                    // cases
  EXPECT_EQ(s.omitted[10], 2);                   // deaths
  EXPECT_EQ(s.omitted[7], 0);
  EXPECT_NE(serve::series_json(s, 8, 11, serve::kFieldOmitted)
                .find("\"omitted\":[\"cases\",null,\"deaths\"]"),
            std::string::npos);
}

TEST(AnnotatedAverage, ACountyUnderItsStatesOmission) {
  using serve::SeriesColumns;
  SeriesColumns s = SeriesColumns::build("48201", rows("48201"));
  serve::apply_annotations(s, {note("48", 8, 8, "both", false, true, -1000),  // for counties
                               note("48", 9, 9, "cases", true, false, 0)});   // the state only
  EXPECT_EQ(s.omitted[8], 3);
  EXPECT_EQ(s.omitted[9], 0);
  EXPECT_DOUBLE_EQ(s.new_cases_avg7[9], (30 + 40 + 50 + 60 + 70 + 90) / 6.0);  // no adjustment
  SeriesColumns other = SeriesColumns::build("06037", rows("06037"));
  serve::apply_annotations(other, {note("48", 8, 8, "both", false, true, 0)});
  EXPECT_EQ(other.omitted[8], 0);
  EXPECT_DOUBLE_EQ(other.new_cases_avg7[9], other.new_cases_avg7_raw[9]);
}

TEST(AnnotatedAverage, AWindowWhollyOmittedIsNull) {
  using serve::SeriesColumns;
  SeriesColumns s = SeriesColumns::build("48", rows("48"));
  serve::apply_annotations(s, {note("48", 1, 11, "cases", true, false, 0)});
  EXPECT_TRUE(std::isnan(s.new_cases_avg7[7]));
  EXPECT_FALSE(std::isnan(s.new_deaths_avg7[7]));
}

// A place reporting every `every` days: `per_day` new cases and a tenth of it in deaths for each
// day a report covers, nothing on the days between (cumulative unchanged), over `days` days.
std::vector<Observation> reports_every(const std::string& location, int every, int64_t per_day,
                                       int days) {
  std::vector<Observation> out;
  int64_t c = 1000, d = 100;
  for (int i = 0; i < days; ++i) {
    if (i > 0 && i % every == 0) {
      c += per_day * every;
      d += per_day * every / 10;
    }
    out.push_back(day(i, c, d));
    out.back().location = location;
  }
  return out;
}

TEST(AnnotatedAverage, AReportCoversTheDaysWithoutAReportBeforeIt) {
  using serve::SeriesColumns;
  // Reports on days 3, 6, 9, ... of 30 cases (10 a day): the window of day 12 is the reports of
  // days 12, 9 and 6, covering days 4 .. 12 (9 days): 90 / 9; the plain 7 days (6 .. 12) hold
  // three reports: 90 / 7.
  SeriesColumns s = SeriesColumns::build("48", reports_every("48", 3, 10, 30));
  serve::apply_annotations(s, {});
  EXPECT_DOUBLE_EQ(s.new_cases_avg7[12], 10.0);
  EXPECT_DOUBLE_EQ(s.new_cases_avg7_raw[12], 90.0 / 7.0);
  EXPECT_DOUBLE_EQ(s.new_deaths_avg7[12], 1.0);
  // Days without a report at the window's end are left out: days 13 and 14 have day 12's.
  EXPECT_DOUBLE_EQ(s.new_cases_avg7[13], 10.0);
  EXPECT_DOUBLE_EQ(s.new_cases_avg7[14], 10.0);
  EXPECT_DOUBLE_EQ(s.new_cases_avg7_raw[13], 60.0 / 7.0);
  // Day 5's window would reach day 0, whose count is unknown (the series' first): null, as day 6's
  // (reports 6 and 3 cover 1 .. 6, then day 0).
  EXPECT_TRUE(std::isnan(s.new_cases_avg7[5]));
  EXPECT_TRUE(std::isnan(s.new_cases_avg7[6]));
  EXPECT_DOUBLE_EQ(s.new_cases_avg7[9], 10.0);  // reports 9, 6, 3: days 1 .. 9
  // A weekly reporter: every date's average is the week's count over 7, never 0.
  SeriesColumns w = SeriesColumns::build("06", reports_every("06", 7, 10, 40));
  serve::apply_annotations(w, {});
  for (size_t i = 13; i < w.size(); ++i) EXPECT_DOUBLE_EQ(w.new_cases_avg7[i], 10.0) << i;
  EXPECT_DOUBLE_EQ(w.new_cases_avg7_raw[20], 10.0);
  EXPECT_DOUBLE_EQ(w.new_cases_avg7_raw[22], 10.0);
  // A place reporting every day keeps the plain 7 days.
  SeriesColumns d = SeriesColumns::build("48", rows("48"));
  serve::apply_annotations(d, {});
  for (size_t i = 0; i < d.size(); ++i) {
    EXPECT_EQ(std::isnan(d.new_cases_avg7[i]), std::isnan(d.new_cases_avg7_raw[i])) << i;
    if (!std::isnan(d.new_cases_avg7[i])) {
      EXPECT_DOUBLE_EQ(d.new_cases_avg7[i], d.new_cases_avg7_raw[i]);
    }
  }
  // A country's (the WHO's) average is the plain 7 days.
  SeriesColumns fra = SeriesColumns::build("FRA", reports_every("FRA", 3, 10, 30));
  serve::apply_annotations(fra, {});
  EXPECT_DOUBLE_EQ(fra.new_cases_avg7[12], 90.0 / 7.0);
}

TEST(AnnotatedAverage, AReportLeftOutIsLeftOutWithTheDaysItCovers) {
  using serve::SeriesColumns;
  SeriesColumns s = SeriesColumns::build("48", reports_every("48", 3, 10, 30));
  // Day 12's report omitted (and day 11, a day without a report, by the same note).
  serve::apply_annotations(s, {note("48", 11, 12, "cases", true, false, 0)});
  // Day 13: reports 12 (left out, days 10 .. 12), 9 and 6 (days 4 .. 9): 60 over 6 days.
  EXPECT_DOUBLE_EQ(s.new_cases_avg7[13], 10.0);
  EXPECT_DOUBLE_EQ(s.new_deaths_avg7[13], 1.0);
  // An adjustment on a report day is added to its count: -30 on day 15 leaves 0 for its 3 days.
  SeriesColumns a = SeriesColumns::build("48", reports_every("48", 3, 10, 30));
  serve::apply_annotations(a, {note("48", 15, 15, "cases", false, false, -30)});
  EXPECT_DOUBLE_EQ(a.new_cases_avg7[15], 60.0 / 9.0);  // reports 15 (0), 12, 9: days 7 .. 15
}

TEST(AnnotatedAverage, TheNationsAverageIsTheSumOfItsStates) {
  using serve::SeriesColumns;
  SeriesColumns tx = SeriesColumns::build("48", reports_every("48", 3, 10, 30));
  SeriesColumns ca = SeriesColumns::build("06", rows("06"));
  serve::apply_annotations(tx, {});
  serve::apply_annotations(ca, {});
  serve::StateAverageSums sums;
  sums.add(tx);
  sums.add(ca);
  SeriesColumns us = SeriesColumns::build("US", reports_every("US", 1, 999, 30));
  serve::apply_annotations(us, {});
  serve::use_state_sums(us, sums);
  // Day 9: both states have an average; day 7: California only (Texas' is null); day 20: Texas
  // only (California's rows end on day 11); day 3: neither, so the nation's own (null here).
  EXPECT_DOUBLE_EQ(us.new_cases_avg7[9], tx.new_cases_avg7[9] + ca.new_cases_avg7[9]);
  EXPECT_DOUBLE_EQ(us.new_deaths_avg7[9], tx.new_deaths_avg7[9] + ca.new_deaths_avg7[9]);
  EXPECT_DOUBLE_EQ(us.new_cases_avg7[7], ca.new_cases_avg7[7]);
  EXPECT_DOUBLE_EQ(us.new_cases_avg7[20], tx.new_cases_avg7[20]);
  EXPECT_TRUE(std::isnan(us.new_cases_avg7[3]));
  EXPECT_DOUBLE_EQ(us.new_cases_avg7_raw[9], 999.0);  // the plain average stays
}

TEST(AnnotatedAverage, ACountysZeroOnADayItsStateReportedIsAReport) {
  using serve::SeriesColumns;
  // A county whose count changes every third day (30 each), in a state that reported every day:
  // the county's other days are zeros reported, so its average is the plain 7 days; on days its
  // state did not report either (days 13 .. 14 here), they are days without a report.
  SeriesColumns county = SeriesColumns::build("48201", reports_every("48201", 3, 10, 30));
  std::vector<int32_t> state;
  for (int d = 1; d < 30; ++d) {
    if (d != 13 && d != 14) state.push_back(18322 + d);
  }
  serve::apply_annotations(county, {}, &state);
  EXPECT_DOUBLE_EQ(county.new_cases_avg7[12], county.new_cases_avg7_raw[12]);  // 90 / 7
  EXPECT_DOUBLE_EQ(county.new_cases_avg7[11], 60.0 / 7.0);
  // Day 15's report covers days 13 .. 15 (its state reported on neither 13 nor 14): reports 15
  // (days 13 .. 15), 12, 11, 10, 9 (one day each): 7 days, 30 + 30 + 30 over 7.
  EXPECT_DOUBLE_EQ(county.new_cases_avg7[15], 90.0 / 7.0);
  // Day 14 has no report of either: its window ends with day 12's report (days 6 .. 12).
  EXPECT_DOUBLE_EQ(county.new_cases_avg7[14], county.new_cases_avg7_raw[12]);
  // report_days: the days a series' counts changed, known.
  SeriesColumns tx = SeriesColumns::build("48", reports_every("48", 3, 10, 12));
  EXPECT_EQ(serve::report_days(tx), (std::vector<int32_t>{18322 + 3, 18322 + 6, 18322 + 9}));
}

}  // namespace
}  // namespace covid
