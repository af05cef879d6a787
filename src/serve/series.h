// SeriesColumns: one location's series in columns, with the daily values derived from it, and
// the writers for the API's series JSON and the export (CSV and JSON, for the API and the CLI).
//
// Daily values are differences of consecutive dates' cumulative counts (null on the first date,
// after a gap in the dates, or where either count is unknown); a negative daily value is a
// revision upstream and is kept as it is. The 7-day averages need the seven daily values of the
// days ending on that date, all known. apply_annotations() (serve/annotated_average.h) then makes
// the averages follow the NYT's method (over reports, with the NYT's notes: dates left out,
// backlogs adjusted), keeping the plain ones as *_raw. Rates per 100,000 people (set_population(),
// called last) are the cumulative counts and the 7-day averages scaled by 100,000 / population,
// null without a population (shown rounded to 2 decimals). A weekly series (every two consecutive
// dates 7 days apart: the WHO's) has the week's counts as its new values, on the week's date, and
// the week's count divided by 7 as its 7-day averages. Plain value; immutable once made, so
// thread-safe to read.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/date.h"
#include "common/status.h"
#include "transform/observation.h"

namespace covid::serve {

inline constexpr int64_t kNoValue = std::numeric_limits<int64_t>::min();  // null daily value

struct SeriesColumns {
  std::string location;
  std::vector<Date> date;
  std::vector<int64_t> cases, deaths, recovered;        // kUnknown: null
  std::vector<int64_t> new_cases, new_deaths;           // kNoValue: null
  std::vector<double> new_cases_avg7, new_deaths_avg7;  // NaN: null
  // Per 100,000 people (NaN: null; all null without a population), made by set_population().
  std::optional<int64_t> population;
  std::vector<double> cases_per_100k, deaths_per_100k;
  std::vector<double> new_cases_avg7_per_100k, new_deaths_avg7_per_100k;
  // The plain 7-day averages (build() sets the averages above to the same values), and the dates
  // apply_annotations() left out of the averages: bit 1 cases, bit 2 deaths.
  std::vector<double> new_cases_avg7_raw, new_deaths_avg7_raw;
  std::vector<uint8_t> omitted;

  static SeriesColumns build(std::string location, const std::vector<Observation>& rows);
  // Sets the location's population (std::nullopt or <= 0: none) and makes the rates per 100,000
  // from the counts and the 7-day averages as they are: call it after the averages are final.
  void set_population(std::optional<int64_t> population);
  size_t size() const { return date.size(); }
  // The rows with from <= date <= to, as [begin, end).
  std::pair<size_t, size_t> range(std::optional<Date> from, std::optional<Date> to) const;
};

// The arrays a series response may carry (the `fields` parameter); date is always included.
enum SeriesField : unsigned {
  kFieldDate = 1u << 0,
  kFieldCases = 1u << 1,
  kFieldDeaths = 1u << 2,
  kFieldRecovered = 1u << 3,
  kFieldNewCases = 1u << 4,
  kFieldNewDeaths = 1u << 5,
  kFieldNewCasesAvg7 = 1u << 6,
  kFieldNewDeathsAvg7 = 1u << 7,
  kFieldCasesPer100k = 1u << 8,
  kFieldDeathsPer100k = 1u << 9,
  kFieldNewCasesAvg7Per100k = 1u << 10,
  kFieldNewDeathsAvg7Per100k = 1u << 11,
  kFieldNewCasesAvg7Raw = 1u << 12,
  kFieldNewDeathsAvg7Raw = 1u << 13,
  kFieldOmitted = 1u << 14,
  kAllFields = (1u << 15) - 1,
};

// Parses a comma-separated list of field names; an error names the first unknown one.
Result<unsigned> parse_fields(std::string_view list);

// {"location":"US","from":..,"to":..,"count":N,"date":[..],"cases":[..],...} for rows [begin, end).
// `omitted` holds, per date, null or what the average left out that date: "cases", "deaths" or
// "both".
std::string series_json(const SeriesColumns& s, size_t begin, size_t end,
                        unsigned fields = kAllFields);

// The export of rows [begin, end), the one writer of each format for `covid-etl export` and the
// API (/api/v1/export.csv). CSV: a header line date,cases,deaths,recovered, then one line per
// date, an unknown count empty. JSON (`export --format json`): one array of
// {"cases", "date", "deaths", "recovered"} objects (an unknown count null), then a newline.
// With `per_100k`, four more columns (keys) follow recovered: cases_per_100k, deaths_per_100k,
// new_cases_avg7_per_100k, new_deaths_avg7_per_100k (rounded to 2 decimals; empty, or null,
// without a population; an average needs the six dates before it within the rows exported).
std::string export_csv(const SeriesColumns& s, size_t begin, size_t end, bool per_100k = false);
std::string export_json(const SeriesColumns& s, size_t begin, size_t end, bool per_100k = false);

}  // namespace covid::serve
