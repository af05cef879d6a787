#include "transform/who_global.h"

#include <algorithm>
#include <numeric>

#include "transform/fields.h"

namespace covid {
namespace {
enum Col { kDate, kCode, kNewCases, kCases, kNewDeaths, kDeaths };

std::string signed_text(int64_t v) { return (v > 0 ? "+" : "") + std::to_string(v); }
}  // namespace

WhoReader::WhoReader(std::string file, const Clock& clock, const CountryCodes* codes)
    : TableReader(std::move(file),
                  {"Date_reported", "Country_code", "New_cases", "Cumulative_cases", "New_deaths",
                   "Cumulative_deaths"},
                  clock),
      codes_(codes) {}

std::vector<Location> WhoReader::locations() const {
  std::vector<Location> out;
  out.reserve(names_.size());
  for (const auto& [id, name] : names_) out.push_back(Location{id, "country", name, "", ""});
  return out;
}

bool WhoReader::read_new(const Row& row, size_t i, int64_t* out) {
  std::string_view text = row[i];
  if (text.empty()) {
    *out = kNoValue;
    return true;
  }
  bool negative = text[0] == '-' && text.size() > 1 && text[1] != '0';
  int64_t v = 0;
  CountError e = parse_count(negative ? text.substr(1) : text, &v);
  if (e != CountError::kNone) {
    error(row.line(i), row.column(i),
          column_name(i) + ": " +
              (e == CountError::kTooLarge ? describe(e, text)
                                          : quote_excerpt(text) + " is not an integer"));
    return false;
  }
  *out = negative ? -v : v;
  return true;
}

const Country* WhoReader::country(std::string_view code) {
  std::string key(code);  // two or three letters: no allocation
  auto it = known_.find(key);
  if (it != known_.end()) return &it->second;
  std::optional<Country> found = codes_->find(code);
  if (!found) return nullptr;
  return &known_.emplace(std::move(key), std::move(*found)).first->second;
}

void WhoReader::on_row(const Row& row) {
  if (codes_ == nullptr) {
    const Result<CountryCodes>& table = iso_country_codes();
    if (!table.ok()) {
      if (!diagnostics().has_errors())
        error(row.line(kCode), row.column(kCode), table.status().message());
      return;
    }
    codes_ = &*table;
  }
  Observation o;
  bool ok = read_date(row, kDate, &o.date);
  const Country* country = this->country(row[kCode]);
  if (country == nullptr) {
    error(row.line(kCode), row.column(kCode),
          column_name(kCode) + ": " +
              (row[kCode].empty() ? std::string("empty value")
                                  : quote_excerpt(row[kCode]) +
                                        " is not an ISO 3166-1 alpha-2 code nor one of the "
                                        "WHO's documented codes (README: The world)"));
    ok = false;
  }
  Extra x{};
  ok = read_count(row, kCases, &o.cases) && ok;
  ok = read_count(row, kDeaths, &o.deaths) && ok;
  ok = read_new(row, kNewCases, &x.new_cases) && ok;
  ok = read_new(row, kNewDeaths, &x.new_deaths) && ok;
  if (!ok) return;
  o.location = country->id;
  o.recovered = kUnknown;
  names_.try_emplace(o.location, country->name);
  auto [number, added] = index_.try_emplace(o.location, uint32_t(index_.size()));
  (void)added;
  uint64_t key = (uint64_t(number->second) << 32) | uint32_t(o.date.days);
  auto [it, inserted] = seen_.emplace(key, row.line(kDate));
  if (!inserted) {
    error(row.line(kDate), row.column(kDate),
          column_name(kDate) + ": " + column_name(kCode) + " '" + std::string(row[kCode]) + "' (" +
              o.location + ") on " + format_date(o.date) + " appears twice (first on line " +
              std::to_string(it->second) + ")");
    return;
  }
  x.line = row.line(kDate);
  x.date_column = row.column(kDate);
  x.new_cases_column = row.column(kNewCases);
  x.cases_column = row.column(kCases);
  x.new_deaths_column = row.column(kNewDeaths);
  x.deaths_column = row.column(kDeaths);
  kept(o.date);
  rows_.push_back(std::move(o));
  extras_.push_back(x);
}

void WhoReader::on_end() {
  if (diagnostics().has_errors()) return;  // nothing will be loaded
  std::vector<size_t> order(rows_.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return by_location_date(rows_[a], rows_[b]); });
  // The cadence: the first gap found (in id order) decides; every other gap must equal it.
  std::string cadence_example;
  for (size_t k = 1; k < order.size(); ++k) {
    const Observation& prev = rows_[order[k - 1]];
    const Observation& o = rows_[order[k]];
    if (prev.location != o.location) continue;
    const Extra& x = extras_[order[k]];
    int gap = o.date.days - prev.date.days;
    if (cadence_ == 0 && (gap == 1 || gap == 7)) {
      cadence_ = gap;
      cadence_example = o.location + " " + format_date(prev.date) + " -> " + format_date(o.date);
    }
    if (gap != cadence_) {
      std::string what = cadence_ == 0 ? std::string("neither daily (1) nor weekly (7)")
                                       : std::string("but the file's series are ") +
                                             (cadence_ == 1 ? "daily" : "weekly") + " (" +
                                             cadence_example + ")";
      error(x.line, x.date_column,
            column_name(kDate) + ": " + format_date(o.date) + " is " + std::to_string(gap) +
                " days after " + o.location + "'s previous date " + format_date(prev.date) + ", " +
                what + ": a file's dates must be all daily or all weekly");
      cadence_ = -1;  // reported once
      break;
    }
    // New_* against the change of the cumulative.
    auto check = [&](size_t new_col, size_t cum_col, int64_t given, int64_t before, int64_t now,
                     uint32_t new_column, uint32_t cum_column) {
      int64_t change = now - before;
      if (given == kNoValue) {
        if (change != 0) {
          error(x.line, new_column,
                column_name(new_col) + ": empty, but " + column_name(cum_col) + " changed by " +
                    signed_text(change) + " since " + format_date(prev.date) + " (" +
                    std::to_string(before) + " -> " + std::to_string(now) +
                    "): an empty count is allowed only where the cumulative did not change");
        }
      } else if (given != change) {
        error(x.line, new_column,
              column_name(new_col) + ": " + std::to_string(given) + " contradicts " +
                  column_name(cum_col) + ", which changed by " + signed_text(change) + " since " +
                  format_date(prev.date) + " (" + std::to_string(before) + " -> " +
                  std::to_string(now) + ")");
        return;
      }
      if (change < 0) {
        warning(x.line, given == kNoValue ? cum_column : new_column,
                column_name(cum_col) + " of " + o.location + " went down from " +
                    std::to_string(before) + " on " + format_date(prev.date) + " to " +
                    std::to_string(now) + " on " + format_date(o.date) +
                    " (a revision upstream; loaded as given)");
      }
    };
    check(kNewCases, kCases, x.new_cases, prev.cases, o.cases, x.new_cases_column, x.cases_column);
    check(kNewDeaths, kDeaths, x.new_deaths, prev.deaths, o.deaths, x.new_deaths_column,
          x.deaths_column);
  }
  if (cadence_ < 0) cadence_ = 0;
  if (diagnostics().has_errors()) return;
  std::vector<Observation> sorted;
  sorted.reserve(rows_.size());
  for (size_t i : order) sorted.push_back(std::move(rows_[i]));
  rows_ = std::move(sorted);
  extras_.clear();
  extras_.shrink_to_fit();
}

}  // namespace covid
