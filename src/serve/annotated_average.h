// The 7-day averages as the New York Times computes them with its notes on anomalous days
// (rolling-averages/README.md of nytimes/covid-19-data), applied to a SeriesColumns' plain
// averages (serve/series.h), for every place that shows them (/api/v1/series, /api/v1/states).
//
// The rule, per metric (cases, deaths; a note's `type` says which, `both` is both):
// - A date is left out of a location's average when a note of that location on it (its
//   [from, to]) has omit_from_average, or a note of a place containing it (the location's state,
//   for a county: "SS" of "SSCCC" or "SS:Name"; the nation, for a state or county) has
//   omit_on_subgeographies.
// - A day's count in the average is its new count plus the adjusted_count of the location's own
//   notes on that date (negative for a backlog: Texas on 2022-01-14, -26,236 cases).
// - The average on date D is the sum of those counts over the days of the window D-6 .. D that
//   are not left out, divided by how many they are: null when all seven are left out, and, as for
//   the plain average, when a day that counts is unknown or the window is not seven consecutive
//   dates.
// - `omitted[i]` marks the dates left out (bit 1 cases, bit 2 deaths); the plain averages stay in
//   *_avg7_raw.
// Not done (the Times' README describes them for its own files): extending the window over days
// without reports, county deaths averaged over 30 days, the nation's average as the sum of the
// states'. Pure functions.
#pragma once

#include <string_view>
#include <vector>

#include "serve/series.h"
#include "transform/reference.h"

namespace covid::serve {

// The places whose notes marked for subgeographies apply to `location`: its state (for a county)
// and the nation (for a state or county).
std::vector<std::string> containing_places(std::string_view location);

// Makes `s`'s averages follow the rule above with `annotations` (any locations, any order: those
// of s.location and of the places containing it are used).
void apply_annotations(SeriesColumns& s, const std::vector<Annotation>& annotations);

}  // namespace covid::serve
