// The 7-day averages as the New York Times computes them with its notes on anomalous days
// (rolling-averages/README.md of nytimes/covid-19-data), applied to a SeriesColumns' plain
// averages (serve/series.h), for every place that shows them (/api/v1/series, /api/v1/states).
//
// The rule, per metric (cases, deaths; a note's `type` says which, `both` is both):
// - Reports (the NYT's places: the nation, states, counties). Many agencies did not report every
//   day, so the Times average over reports: a day on which neither cumulative changed (and, for
//   a county, its state reported nothing either) is taken as a day without a report (the
//   published files cannot tell it from a day with nothing new otherwise), and
//   a report's count covers it and the days without a report just before it. The window of date
//   D is made of whole reports, newest first from the last report on or before D (days without a
//   report at its end are left out: it reaches further back instead), until they cover at least
//   7 days; so it may cover more than 7. For a place reporting every day it is D-6 .. D. A
//   country's (the WHO's) window is the plain D-6 .. D.
// - A date is left out of a location's average when a note of that location on it (its
//   [from, to]) has omit_from_average, or a note of a place containing it (the location's state,
//   for a county: "SS" of "SSCCC" or "SS:Name"; the nation, for a state or county) has
//   omit_on_subgeographies. A report left out is left out with the days it covers.
// - A day's count in the average is its new count plus the adjusted_count of the location's own
//   notes on that date (negative for a backlog: Texas on 2022-01-14, -26,236 cases).
// - The average on date D is the sum of the counts of the window's reports not left out, divided
//   by the days they cover: null when all are left out, a count in the window is unknown, its
//   dates are not consecutive, or the series does not reach back to a whole window.
// - The nation's average is the sum of its states' and territories' averages on each date
//   (use_state_sums(); each state's follows the rule above with its own notes), where they have
//   one; the nation's own notes still mark its `omitted` dates.
// - `omitted[i]` marks the dates left out (bit 1 cases, bit 2 deaths); the plain averages stay in
//   *_avg7_raw.
// Pure functions.
#pragma once

#include <cstdint>
#include <map>
#include <string_view>
#include <vector>

#include "serve/series.h"
#include "transform/reference.h"

namespace covid::serve {

// The places whose notes marked for subgeographies apply to `location`: its state (for a county)
// and the nation (for a state or county).
std::vector<std::string> containing_places(std::string_view location);

// Whether a location's averages are over its reports (the NYT's places: the nation, a state, a
// county) rather than the plain 7 days (a country).
bool averaged_by_reports(std::string_view location);

// The dates (Date::days, ascending) on which `s` reported (a count changed, known): for a county's
// apply_annotations, its state's.
std::vector<int32_t> report_days(const SeriesColumns& s);

// Makes `s`'s averages follow the rule above with `annotations` (any locations, any order: those
// of s.location and of the places containing it are used). `carried_by`: the report_days() of
// the place whose files carry s (a county's state), or nullptr: a day on one of them is a report
// of s, its zero a zero reported.
void apply_annotations(SeriesColumns& s, const std::vector<Annotation>& annotations,
                       const std::vector<int32_t>* carried_by = nullptr);

// The sums of the states' (and territories') averages by date, for the nation's.
struct StateAverageSums {
  std::map<int32_t, double> cases, deaths;  // by Date::days; no entry: no state has an average
  bool empty() const { return cases.empty() && deaths.empty(); }
  // Adds a state's averages (made by apply_annotations) to the sums.
  void add(const SeriesColumns& state);
};

// Makes the nation's averages the sums of its states' on every date the sums have (the others
// keep the nation's own).
void use_state_sums(SeriesColumns& nation, const StateAverageSums& sums);

}  // namespace covid::serve
