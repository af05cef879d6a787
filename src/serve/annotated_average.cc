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

// The average of the days of each 7-date window not left out for `metric`, with the adjustments.
void average(const SeriesColumns& s, const std::vector<int64_t>& daily,
             const std::map<int32_t, int64_t>& adjust, uint8_t metric, std::vector<double>* avg) {
  size_t n = s.size();
  avg->assign(n, std::nan(""));
  for (size_t i = 6; i < n; ++i) {
    if (s.date[i].days - s.date[i - 6].days != 6) continue;
    int64_t sum = 0;
    int days = 0;
    bool known = true;
    for (size_t k = i - 6; k <= i && known; ++k) {
      if (s.omitted[k] & metric) continue;
      known = daily[k] != kNoValue;
      if (!known) break;
      auto adj = adjust.find(s.date[k].days);
      sum += daily[k] + (adj != adjust.end() ? adj->second : 0);
      ++days;
    }
    if (known && days > 0) (*avg)[i] = double(sum) / double(days);
  }
}

}  // namespace

std::vector<std::string> containing_places(std::string_view location) {
  std::string level = location_level(location);
  if (level == "county") return {std::string(location.substr(0, 2)), kNation};
  if (level == "state") return {kNation};
  return {};
}

void apply_annotations(SeriesColumns& s, const std::vector<Annotation>& annotations) {
  std::vector<std::string> up = containing_places(s.location);
  std::map<int32_t, int64_t> adjust_cases, adjust_deaths;
  bool any = false;
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
  average(s, s.new_cases, adjust_cases, kCases, &s.new_cases_avg7);
  average(s, s.new_deaths, adjust_deaths, kDeaths, &s.new_deaths_avg7);
}

}  // namespace covid::serve
