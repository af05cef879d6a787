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
  out.reserve(series_.size());
  for (const Series& s : series_) {
    if (s.read) out.push_back(Location{s.id, "country", s.name, "", ""});
  }
  std::sort(out.begin(), out.end(),
            [](const Location& a, const Location& b) { return a.id < b.id; });
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

uint32_t WhoReader::series_of(std::string_view code) {
  std::string key(code);  // two or three letters: no allocation
  auto it = known_.find(key);
  if (it != known_.end()) return it->second;
  std::optional<Country> found = codes_->find(code);
  if (!found) return kNoSeries;
  auto [id, added] = by_id_.try_emplace(found->id, uint32_t(series_.size()));
  if (added) series_.push_back(Series{std::move(found->id), std::move(found->name)});
  known_.emplace(std::move(key), id->second);
  return id->second;
}

uint64_t WhoReader::first_line(Series& s, uint32_t series, int32_t date, uint64_t line) {
  auto key = [&](int32_t d) { return (uint64_t(series) << 32) | uint32_t(d); };
  if (!s.out_of_order) {
    if (date > s.last_date) {
      s.last_date = date;
      return 0;
    }
    s.out_of_order = true;  // from now on, every date of the series is kept
    for (size_t i = 0; i < pending_.size(); ++i) {
      if (pending_[i].series == series) seen_.emplace(key(pending_[i].date), pending_[i].line);
    }
  }
  auto [it, inserted] = seen_.emplace(key(date), line);
  return inserted ? 0 : it->second;
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
  Date date;
  bool ok = read_date(row, kDate, &date);
  const uint32_t series = series_of(row[kCode]);
  if (series == kNoSeries) {
    error(row.line(kCode), row.column(kCode),
          column_name(kCode) + ": " +
              (row[kCode].empty() ? std::string("empty value")
                                  : quote_excerpt(row[kCode]) +
                                        " is not an ISO 3166-1 alpha-2 code nor one of the "
                                        "WHO's documented codes (README: The world)"));
    ok = false;
  }
  Pending p{};
  ok = read_count(row, kCases, &p.cases) && ok;
  ok = read_count(row, kDeaths, &p.deaths) && ok;
  ok = read_new(row, kNewCases, &p.new_cases) && ok;
  ok = read_new(row, kNewDeaths, &p.new_deaths) && ok;
  if (!ok) return;
  Series& s = series_[series];
  s.read = true;
  if (uint64_t first = first_line(s, series, date.days, row.line(kDate))) {
    error(row.line(kDate), row.column(kDate),
          column_name(kDate) + ": " + column_name(kCode) + " '" + std::string(row[kCode]) + "' (" +
              s.id + ") on " + format_date(date) + " appears twice (first on line " +
              std::to_string(first) + ")");
    return;
  }
  p.line = row.line(kDate);
  p.series = series;
  p.date = date.days;
  p.date_column = row.column(kDate);
  p.new_cases_column = row.column(kNewCases);
  p.cases_column = row.column(kCases);
  p.new_deaths_column = row.column(kNewDeaths);
  p.deaths_column = row.column(kDeaths);
  kept(date);
  pending_.push_back(p);
}

void WhoReader::on_end() {
  if (diagnostics().has_errors()) return;  // nothing will be loaded
  // Sorted by (id, date): the series in id order (a counting sort by series), each one's rows in
  // date order (the file's order already, unless its dates came out of order).
  std::vector<uint32_t> by_id(series_.size());
  std::iota(by_id.begin(), by_id.end(), 0);
  std::sort(by_id.begin(), by_id.end(),
            [&](uint32_t a, uint32_t b) { return series_[a].id < series_[b].id; });
  std::vector<size_t> begin(series_.size() + 1);  // by series: where its rows start in order
  for (size_t i = 0; i < pending_.size(); ++i) ++begin[pending_[i].series];
  size_t at = 0;
  for (uint32_t k : by_id) {
    size_t n = begin[k];
    begin[k] = at;
    at += n;
  }
  std::vector<size_t> order(pending_.size());
  {
    std::vector<size_t> next(begin.begin(), begin.end() - 1);
    for (size_t i = 0; i < pending_.size(); ++i) order[next[pending_[i].series]++] = i;
  }
  for (uint32_t k = 0; k < series_.size(); ++k) {
    if (!series_[k].out_of_order) continue;
    auto first = order.begin() + long(begin[k]);
    size_t n = 0;
    for (size_t i = 0; i < pending_.size(); ++i) n += pending_[i].series == k;
    auto last = first + long(n);
    std::sort(first, last, [&](size_t a, size_t b) { return pending_[a].date < pending_[b].date; });
  }
  // The cadence: the first gap found (in id order) decides; every other gap must equal it.
  std::string cadence_example;
  for (size_t k = 1; k < order.size(); ++k) {
    const Pending& prev = pending_[order[k - 1]];
    const Pending& x = pending_[order[k]];
    if (prev.series != x.series) continue;
    const std::string& location = series_[x.series].id;
    const Date prev_date{prev.date}, date{x.date};
    int gap = x.date - prev.date;
    if (cadence_ == 0 && (gap == 1 || gap == 7)) {
      cadence_ = gap;
      cadence_example = location + " " + format_date(prev_date) + " -> " + format_date(date);
    }
    if (gap != cadence_) {
      std::string what = cadence_ == 0 ? std::string("neither daily (1) nor weekly (7)")
                                       : std::string("but the file's series are ") +
                                             (cadence_ == 1 ? "daily" : "weekly") + " (" +
                                             cadence_example + ")";
      error(x.line, x.date_column,
            column_name(kDate) + ": " + format_date(date) + " is " + std::to_string(gap) +
                " days after " + location + "'s previous date " + format_date(prev_date) + ", " +
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
                    signed_text(change) + " since " + format_date(prev_date) + " (" +
                    std::to_string(before) + " -> " + std::to_string(now) +
                    "): an empty count is allowed only where the cumulative did not change");
        }
      } else if (given != change) {
        error(x.line, new_column,
              column_name(new_col) + ": " + std::to_string(given) + " contradicts " +
                  column_name(cum_col) + ", which changed by " + signed_text(change) + " since " +
                  format_date(prev_date) + " (" + std::to_string(before) + " -> " +
                  std::to_string(now) + ")");
        return;
      }
      if (change < 0) {
        warning(x.line, given == kNoValue ? cum_column : new_column,
                column_name(cum_col) + " of " + location + " went down from " +
                    std::to_string(before) + " on " + format_date(prev_date) + " to " +
                    std::to_string(now) + " on " + format_date(date) +
                    " (a revision upstream; loaded as given)");
      }
    };
    check(kNewCases, kCases, x.new_cases, prev.cases, x.cases, x.new_cases_column, x.cases_column);
    check(kNewDeaths, kDeaths, x.new_deaths, prev.deaths, x.deaths, x.new_deaths_column,
          x.deaths_column);
  }
  if (cadence_ < 0) cadence_ = 0;
  if (diagnostics().has_errors()) return;
  rows_.reserve(order.size());
  for (size_t i : order) {
    const Pending& p = pending_[i];
    rows_.push_back(Observation{series_[p.series].id, Date{p.date}, p.cases, p.deaths, kUnknown});
  }
  pending_.clear();
}

}  // namespace covid
