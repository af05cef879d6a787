// SeriesColumns: one location's series in columns, with the daily values derived from it, and
// the writers for the API's series JSON and the export (CSV and JSON, for the API and the CLI).
//
// Daily values are differences of consecutive dates' cumulative counts (null on the first date,
// after a gap in the dates, or where either count is unknown); a negative daily value is a
// revision upstream and is kept as it is. The 7-day averages need the seven daily values of the
// days ending on that date, all known. A weekly series (every two consecutive dates 7 days apart:
// the WHO's) has the week's counts as its new values, on the week's date, and the week's count
// divided by 7 as its 7-day averages. Plain value; immutable after build(), so thread-safe to
// read.
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

  static SeriesColumns build(std::string location, const std::vector<Observation>& rows);
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
  kAllFields = (1u << 8) - 1,
};

// Parses a comma-separated list of field names; an error names the first unknown one.
Result<unsigned> parse_fields(std::string_view list);

// {"location":"US","from":..,"to":..,"count":N,"date":[..],"cases":[..],...} for rows [begin, end).
std::string series_json(const SeriesColumns& s, size_t begin, size_t end,
                        unsigned fields = kAllFields);

// The export of rows [begin, end), the one writer of each format for `covid-etl export` and the
// API (/api/v1/export.csv). CSV: a header line date,cases,deaths,recovered, then one line per
// date, an unknown count empty. JSON (`export --format json`): one array of
// {"cases", "date", "deaths", "recovered"} objects (an unknown count null), then a newline.
std::string export_csv(const SeriesColumns& s, size_t begin, size_t end);
std::string export_json(const SeriesColumns& s, size_t begin, size_t end);

}  // namespace covid::serve
