#include "transform/nyt_states.h"

#include <algorithm>
#include <numeric>

#include "transform/fields.h"
#include "transform/state_fips.h"

namespace covid {
namespace {
enum Col { kDate, kState, kFips, kCases, kDeaths };

// A state FIPS code: two digits; one digit is taken as having lost its leading zero (a copy of
// us-states.csv saved through a spreadsheet has "6" for California). The code, or "".
std::string state_fips(std::string_view s) {
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (s.size() == 2 && digit(s[0]) && digit(s[1])) return std::string(s);
  if (s.size() == 1 && digit(s[0])) return "0" + std::string(s);
  return "";
}
}  // namespace

StatesReader::StatesReader(std::string file, const Clock& clock)
    : TableReader(std::move(file), {"date", "state", "fips", "cases", "deaths"}, clock) {}

std::vector<Location> StatesReader::locations() const {
  std::vector<Location> out;
  out.reserve(names_.size());
  for (const auto& [fips, n] : names_) out.push_back(Location{fips, "state", n.name, "", fips});
  return out;
}

void StatesReader::on_row(const Row& row) {
  Observation o;
  bool ok = read_date(row, kDate, &o.date);
  std::string fips = state_fips(row[kFips]);
  std::string_view name = row[kState];
  if (fips.empty()) {
    error(
        row.line(kFips), row.column(kFips),
        column_name(kFips) + ": " +
            (row[kFips].empty() ? std::string("empty value")
                                : quote_excerpt(row[kFips]) + " is not a 2-digit state FIPS code"));
    ok = false;
  }
  if (name.empty()) {
    error(row.line(kState), row.column(kState), column_name(kState) + ": empty value");
    ok = false;
  }
  bool clean_name = !name.empty() && check_name(row, kState);
  ok = clean_name && ok;
  // The code must be a state's or territory's, and the name that one's, as NYT spells it.
  if (!fips.empty()) {
    std::string_view known = state_name_by_fips(fips);
    if (known.empty()) {
      error(row.line(kFips), row.column(kFips),
            column_name(kFips) + ": " + quote_excerpt(row[kFips]) +
                " is the FIPS code of no state or territory");
      ok = false;
    } else if (clean_name && known != name) {
      std::string_view other = state_fips_by_name(name);
      error(row.line(kFips), row.column(kFips),
            column_name(kFips) + ": " + quote_excerpt(row[kFips]) + " is the FIPS code of " +
                std::string(known) + ", not of " + quote_excerpt(name) +
                (other.empty() ? std::string(" (not a state or territory NYT names)")
                               : " (" + std::string(other) + ")"));
      ok = false;
    }
  }
  ok = read_count(row, kCases, &o.cases) && ok;
  ok = read_count(row, kDeaths, &o.deaths) && ok;
  if (!ok) return;
  o.location = fips;
  // One name per code: every row's name is its code's (above), so a second name cannot occur.
  names_.emplace(o.location, Name{std::string(name), row.line(kState)});
  uint64_t key = (uint64_t((fips[0] - '0') * 10 + (fips[1] - '0')) << 32) | uint32_t(o.date.days);
  auto [it, inserted] = seen_.emplace(key, row.line(kDate));
  if (!inserted) {
    error(row.line(kDate), row.column(kDate),
          "fips " + o.location + " on " + format_date(o.date) + " appears twice (first on line " +
              std::to_string(it->second) + ")");
    return;
  }
  kept(o.date);
  rows_.push_back(std::move(o));
  sources_.push_back(
      {row.line(kCases), row.line(kDeaths), row.column(kCases), row.column(kDeaths)});
}

void StatesReader::on_end() {
  if (diagnostics().has_errors()) return;  // nothing will be loaded
  rows_ =
      sort_and_check(std::move(rows_), sources_, [this](const Observation& o, const char* count) {
        return std::string(count) + " of " + names_[o.location].name;
      });
  sources_.clear();
}

}  // namespace covid
