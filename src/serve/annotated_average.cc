#include "serve/annotated_average.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "transform/location.h"

namespace covid::serve {
namespace {

constexpr uint8_t kCases = 1, kDeaths = 2;

uint8_t metrics_of(const Annotation& a) {
  return a.type == "cases" ? kCases : a.type == "deaths" ? kDeaths : uint8_t(kCases | kDeaths);
}

// Whether the location reported on day k: either cumulative changed (an unknown change counts as
// a report, so that the average over it is null), or the place whose files carry it (a county's
// state) reported that day, so its zero is a zero reported. The Times' files cannot tell a day
// without a report from a day on which nothing new was reported otherwise: a day on which
// neither changed is taken as a day without a report.
bool reported(const SeriesColumns& s, size_t k, const std::vector<int32_t>* carried_by) {
  return s.new_cases[k] != 0 || s.new_deaths[k] != 0 ||
         (carried_by != nullptr &&
          std::binary_search(carried_by->begin(), carried_by->end(), s.date[k].days));
}

// The average of each date's window for `metric`, with the adjustments. A window is made of
// reports, each with the days without a report just before it (the days its count covers),
// newest first, from the last report on or before the date, until they cover at least 7 days
// (days without a report at the window's end are left out: the window reaches further back
// instead); `report[k]`: whether day k is a report (every day: the plain 7 days). A report left out
// for `metric` (its date omitted) is left out with the days it covers; the average is the sum of
// the counts kept over the days they cover. Null when every report of the window is left out, a
// count in it is unknown, its dates are not consecutive or the series does not reach back far
// enough.
void average(const SeriesColumns& s, const std::vector<int64_t>& daily,
             const std::map<int32_t, int64_t>& adjust, uint8_t metric,
             const std::vector<bool>& report, std::vector<double>* avg) {
  size_t n = s.size();
  avg->assign(n, std::nan(""));
  // last[k]: the index of the last report on or before day k, or n when there is none.
  std::vector<size_t> last(n, n);
  for (size_t k = 0; k < n; ++k) {
    last[k] = report[k] ? k : k > 0 ? last[k - 1] : n;
  }
  for (size_t i = 0; i < n; ++i) {
    size_t report = last[i];
    int covered = 0, days = 0;
    int64_t sum = 0;
    bool known = true;
    size_t first = i;  // the window's first day
    while (covered < 7 && known) {
      if (report == n) {
        known = false;  // the series begins before the window is whole
        break;
      }
      size_t begin = report > 0 && last[report - 1] != n ? last[report - 1] + 1 : 0;
      int span = int(report - begin) + 1;
      covered += span;
      first = begin;
      if (!(s.omitted[report] & metric)) {
        for (size_t k = begin; k <= report && known; ++k) {
          known = daily[k] != kNoValue;
          if (!known) break;
          auto adj = adjust.find(s.date[k].days);
          sum += daily[k] + (adj != adjust.end() ? adj->second : 0);
        }
        days += span;
      }
      report = begin > 0 ? last[begin - 1] : n;
    }
    if (!known || days == 0) continue;
    if (s.date[i].days - s.date[first].days != int32_t(i - first)) continue;  // a gap in the dates
    (*avg)[i] = double(sum) / double(days);
  }
}

}  // namespace

std::vector<std::string> containing_places(std::string_view location) {
  std::string level = location_level(location);
  if (level == "county") return {std::string(location.substr(0, 2)), kNation};
  if (level == "state") return {kNation};
  return {};
}

bool averaged_by_reports(std::string_view location) {
  std::string_view level = location_level(location);
  return level == "nation" || level == "state" || level == "county";
}

std::vector<int32_t> report_days(const SeriesColumns& s) {
  std::vector<int32_t> out;
  for (size_t k = 0; k < s.size(); ++k) {
    bool known = s.new_cases[k] != kNoValue && s.new_deaths[k] != kNoValue;
    if (known && reported(s, k, nullptr)) out.push_back(s.date[k].days);
  }
  return out;
}

void apply_annotations(SeriesColumns& s, const std::vector<Annotation>& annotations,
                       const std::vector<int32_t>* carried_by) {
  std::vector<std::string> up = containing_places(s.location);
  std::map<int32_t, int64_t> adjust_cases, adjust_deaths;
  bool any = averaged_by_reports(s.location);
  s.omitted.assign(s.size(), 0);
  for (const Annotation& a : annotations) {
    bool own = a.location == s.location;
    bool above =
        !own && a.omit_on_subgeographies && std::find(up.begin(), up.end(), a.location) != up.end();
    if (!own && !above) continue;
    uint8_t metric = metrics_of(a);
    Date last = a.to.value_or(a.from);
    if ((own && a.omit_from_average) || above) {
      auto [b, e] = s.range(a.from, last);
      for (size_t i = b; i < e; ++i) s.omitted[i] |= metric;
      any = any || b < e;
    }
    if (own && a.adjusted_count != 0) {
      for (Date d = a.from; d <= last; d.days++) {
        if (metric & kCases) adjust_cases[d.days] += a.adjusted_count;
        if (metric & kDeaths) adjust_deaths[d.days] += a.adjusted_count;
      }
      any = true;
    }
  }
  if (!any) return;  // the plain averages stand
  bool by_reports = averaged_by_reports(s.location);
  std::vector<bool> report(s.size(), true);
  for (size_t k = 0; k < s.size() && by_reports; ++k) report[k] = reported(s, k, carried_by);
  average(s, s.new_cases, adjust_cases, kCases, report, &s.new_cases_avg7);
  average(s, s.new_deaths, adjust_deaths, kDeaths, report, &s.new_deaths_avg7);
}

void StateAverageSums::add(const SeriesColumns& state) {
  for (size_t i = 0; i < state.size(); ++i) {
    if (!std::isnan(state.new_cases_avg7[i])) cases[state.date[i].days] += state.new_cases_avg7[i];
    if (!std::isnan(state.new_deaths_avg7[i]))
      deaths[state.date[i].days] += state.new_deaths_avg7[i];
  }
}

void use_state_sums(SeriesColumns& nation, const StateAverageSums& sums) {
  for (size_t i = 0; i < nation.size(); ++i) {
    if (auto c = sums.cases.find(nation.date[i].days); c != sums.cases.end())
      nation.new_cases_avg7[i] = c->second;
    if (auto d = sums.deaths.find(nation.date[i].days); d != sums.deaths.end())
      nation.new_deaths_avg7[i] = d->second;
  }
}

}  // namespace covid::serve
