#include "transform/nyt_counties.h"

#include <algorithm>
#include <numeric>
#include <utility>

#include "transform/fields.h"

namespace covid {
namespace {
enum Col { kDate, kCounty, kState, kFips, kCases, kDeaths };

constexpr std::pair<std::string_view, std::string_view> kStates[] = {
    {"Alabama", "01"}, {"Alaska", "02"}, {"Arizona", "04"}, {"Arkansas", "05"},
    {"California", "06"}, {"Colorado", "08"}, {"Connecticut", "09"}, {"Delaware", "10"},
    {"District of Columbia", "11"}, {"Florida", "12"}, {"Georgia", "13"}, {"Hawaii", "15"},
    {"Idaho", "16"}, {"Illinois", "17"}, {"Indiana", "18"}, {"Iowa", "19"}, {"Kansas", "20"},
    {"Kentucky", "21"}, {"Louisiana", "22"}, {"Maine", "23"}, {"Maryland", "24"},
    {"Massachusetts", "25"}, {"Michigan", "26"}, {"Minnesota", "27"}, {"Mississippi", "28"},
    {"Missouri", "29"}, {"Montana", "30"}, {"Nebraska", "31"}, {"Nevada", "32"},
    {"New Hampshire", "33"}, {"New Jersey", "34"}, {"New Mexico", "35"}, {"New York", "36"},
    {"North Carolina", "37"}, {"North Dakota", "38"}, {"Ohio", "39"}, {"Oklahoma", "40"},
    {"Oregon", "41"}, {"Pennsylvania", "42"}, {"Rhode Island", "44"}, {"South Carolina", "45"},
    {"South Dakota", "46"}, {"Tennessee", "47"}, {"Texas", "48"}, {"Utah", "49"},
    {"Vermont", "50"}, {"Virginia", "51"}, {"Washington", "53"}, {"West Virginia", "54"},
    {"Wisconsin", "55"}, {"Wyoming", "56"}, {"American Samoa", "60"}, {"Guam", "66"},
    {"Northern Mariana Islands", "69"}, {"Puerto Rico", "72"}, {"Virgin Islands", "78"},
};

bool five_digits(std::string_view s) {
  return s.size() == 5 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}
}  // namespace

std::string_view state_fips_by_name(std::string_view name) {
  for (const auto& [n, code] : kStates) {
    if (n == name) return code;
  }
  return {};
}

CountiesReader::CountiesReader(std::string file, const Clock& clock)
    : TableReader(std::move(file), {"date", "county", "state", "fips", "cases", "deaths"}, clock) {}

std::vector<Location> CountiesReader::locations() const {
  std::vector<Location> out;
  out.reserve(places_.size());
  for (const auto& [id, p] : places_) {
    out.push_back(Location{id, "county", p.county, p.state, id.size() == 5 ? id : std::string()});
  }
  return out;
}

void CountiesReader::on_row(const Row& row) {
  Observation o;
  bool ok = read_date(row, kDate, &o.date);
  std::string_view fips = row[kFips], county = row[kCounty], state = row[kState];
  if (county.empty()) {
    error(row.line(kCounty), row.column(kCounty), column_name(kCounty) + ": empty value");
    ok = false;
  }
  if (state.empty()) {
    error(row.line(kState), row.column(kState), column_name(kState) + ": empty value");
    ok = false;
  }
  if (!fips.empty()) {
    if (five_digits(fips)) {
      o.location = std::string(fips);
    } else {
      error(row.line(kFips), row.column(kFips),
            column_name(kFips) + ": " + quote_excerpt(fips) + " is not a 5-digit county FIPS code");
      ok = false;
    }
  } else if (!state.empty() && !county.empty()) {
    std::string_view code = state_fips_by_name(state);
    if (code.empty()) {
      error(row.line(kState), row.column(kState),
            column_name(kState) + ": " + quote_excerpt(state) +
                " is not a state or territory NYT names (needed for a county without FIPS)");
      ok = false;
    } else {
      o.location = std::string(code) + ":" + std::string(county);
    }
  }
  ok = read_count(row, kCases, &o.cases) && ok;
  if (!row[kDeaths].empty()) {
    ok = read_count(row, kDeaths, &o.deaths) && ok;
  }  // else: unknown
  if (!ok) return;
  auto [p, first] = places_.emplace(o.location, Place{std::string(county), std::string(state), row.line()});
  if (!first && (p->second.county != county || p->second.state != state)) {
    error(row.line(kCounty), row.column(kCounty),
          "fips " + o.location + " is " + quote_excerpt(county) + ", " + quote_excerpt(state) +
              " here but " + quote_excerpt(p->second.county) + ", " + quote_excerpt(p->second.state) +
              " on line " + std::to_string(p->second.line));
    return;
  }
  auto [it, inserted] = seen_[o.location].emplace(o.date.days, row.line(kDate));
  if (!inserted) {
    error(row.line(kDate), row.column(kDate),
          "location " + o.location + " on " + format_date(o.date) + " appears twice (first on line " +
              std::to_string(it->second) + ")");
    return;
  }
  rows_.push_back(std::move(o));
  sources_.push_back({row.line(kCases), row.line(kDeaths), row.column(kCases), row.column(kDeaths)});
}

void CountiesReader::on_end() {
  seen_.clear();
  if (diagnostics().has_errors()) return;  // nothing will be loaded
  rows_ = sort_and_check(std::move(rows_), sources_, [](const Observation& o, const char* count) {
    return std::string(count) + " of " + o.location;
  });
  sources_.clear();
}

}  // namespace covid
