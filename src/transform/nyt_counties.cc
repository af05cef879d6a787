#include "transform/nyt_counties.h"

#include <algorithm>
#include <numeric>

#include "transform/fields.h"

namespace covid {
namespace {
enum Col { kDate, kCounty, kState, kFips, kCases, kDeaths };

bool five_digits(std::string_view s) {
  return s.size() == 5 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}
}  // namespace

CountiesReader::CountiesReader(std::string file, const Clock& clock)
    : TableReader(std::move(file), {"date", "county", "state", "fips", "cases", "deaths"}, clock) {}

std::vector<Location> CountiesReader::locations() const {
  std::vector<Location> out;
  out.reserve(places_.size());
  for (const Place& p : places_) {
    out.push_back(
        Location{p.id, "county", p.county, p.state, p.id.size() == 5 ? p.id : std::string()});
  }
  std::sort(out.begin(), out.end(),
            [](const Location& a, const Location& b) { return a.id < b.id; });
  return out;
}

void CountiesReader::renamed_since(const std::string& id, std::string_view county,
                                   std::string_view state, const Skipped& where) {
  auto it = place_index_.find(id);
  if (it == place_index_.end()) return;
  const Place& p = places_[it->second];
  error(p.line, p.column,
        "fips " + id + " is " + quote_excerpt(p.county) + ", " + quote_excerpt(p.state) +
            " here but " + quote_excerpt(county) + ", " + quote_excerpt(state) + " on " +
            format_date(where.date) + " (the date's rows from line " +
            std::to_string(where.first_line) + ")");
}

void CountiesReader::on_restart() {
  rows_.clear();
  places_.clear();
  place_index_.clear();
  block_.clear();
  block_date_ = Date{INT32_MIN};
  block_number_ = last_skipped_ = -1;
  skipped_.clear();
  previous_ = first_ = kNoPlace;
  last_date_text_.clear();
  if (sink_ != nullptr) sink_->on_restart(*this);
}

void CountiesReader::flush_block() {
  if (!block_.empty() && sink_ != nullptr && !diagnostics().has_errors()) {
    sink_->on_block(*this, block_date_, block_line_, block_);
  }
  block_.clear();
}

bool CountiesReader::skip_block(Date date, uint64_t first_line, uint64_t rows) {
  if (sink_ == nullptr || diagnostics().has_errors() || date <= block_date_) return false;
  flush_block();
  block_date_ = date;
  block_line_ = first_line;
  last_skipped_ = ++block_number_;
  skipped_.push_back(Skipped{date, first_line});
  previous_ = kNoPlace;
  add_skipped_rows(rows);
  kept(date, rows);
  sink_->on_skipped_block(*this, date, first_line);
  return true;
}

void CountiesReader::on_row(const Row& row) {
  Date date;
  int64_t cases = kUnknown, deaths = kUnknown;
  std::string location;
  // ~3,000 rows in a row share a date: its text is parsed once.
  bool ok = true;
  if (row[kDate] == last_date_text_) {
    date = last_date_;
  } else if ((ok = read_date(row, kDate, &date))) {
    last_date_text_ = row[kDate];
    last_date_ = date;
  }
  std::string_view fips = row[kFips], county = row[kCounty], state = row[kState];
  if (county.empty()) {
    error(row.line(kCounty), row.column(kCounty), column_name(kCounty) + ": empty value");
    ok = false;
  }
  if (state.empty()) {
    error(row.line(kState), row.column(kState), column_name(kState) + ": empty value");
    ok = false;
  }
  // Names equal to a known county's were checked when it was first seen; NYT lists the counties
  // in the same order every date, so the one expected here is the place to compare with.
  uint32_t expected = previous_ == kNoPlace ? first_ : places_[previous_].next;
  if (expected == kNoPlace || places_[expected].county != county ||
      places_[expected].state != state) {
    ok = check_name(row, kCounty) && ok;
    ok = check_name(row, kState) && ok;
  }
  if (!fips.empty()) {
    if (five_digits(fips)) {
      // The first two digits are the county's state: a state or territory, and this row's.
      std::string_view known = state_name_by_fips(fips.substr(0, 2));
      if (known.empty()) {
        error(row.line(kFips), row.column(kFips),
              column_name(kFips) + ": " + quote_excerpt(fips) + " is no county: " +
                  std::string(fips.substr(0, 2)) + " is the FIPS code of no state or territory");
        ok = false;
      } else if (fips.substr(2) == "000") {
        error(row.line(kFips), row.column(kFips),
              column_name(kFips) + ": " + quote_excerpt(fips) +
                  " is no county (county code 000: " + std::string(known) + " as a whole)");
        ok = false;
      } else if (!state.empty() && known != state) {
        std::string_view other = state_fips_by_name(state);
        error(row.line(kFips), row.column(kFips),
              column_name(kFips) + ": " + quote_excerpt(fips) + " is a county of " +
                  std::string(known) + " (" + std::string(fips.substr(0, 2)) + "), not of " +
                  quote_excerpt(state) +
                  (other.empty() ? std::string(" (not a state or territory NYT names)")
                                 : " (" + std::string(other) + ")"));
        ok = false;
      } else {
        location = std::string(fips);
      }
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
      location = std::string(code) + ":" + std::string(county);
    }
  }
  ok = read_count(row, kCases, &cases) && ok;
  if (!row[kDeaths].empty()) {
    ok = read_count(row, kDeaths, &deaths) && ok;
  }  // else: unknown
  if (!ok) return;

  // The date order that lets the file stream through in blocks.
  if (date < block_date_) {
    error(row.line(kDate), row.column(kDate),
          column_name(kDate) + ": " + format_date(date) + " comes after " +
              format_date(block_date_) + " (line " + std::to_string(block_line_) +
              "): a county file must be in ascending date order, as NYT publishes it");
    return;
  }
  if (date > block_date_) {
    flush_block();
    block_date_ = date;
    block_line_ = row.line();
    ++block_number_;
    previous_ = kNoPlace;
  }

  // NYT lists the counties in the same order every date: the place that followed the previous
  // row's place last time is almost always this row's, which saves the lookup.
  uint32_t place = expected;
  bool first = false;
  if (place == kNoPlace || places_[place].id != location) {
    auto [it, added] = place_index_.try_emplace(location, uint32_t(places_.size()));
    if (added) {
      places_.push_back(Place{location, std::string(county), std::string(state), row.line(kCounty),
                              row.column(kCounty)});
    }
    place = it->second;
    first = added;
  }
  if (previous_ == kNoPlace)
    first_ = place;
  else
    places_[previous_].next = place;
  previous_ = place;
  Place& p = places_[place];
  if (!first && (p.county != county || p.state != state)) {
    error(row.line(kCounty), row.column(kCounty),
          "fips " + location + " is " + quote_excerpt(county) + ", " + quote_excerpt(state) +
              " here but " + quote_excerpt(p.county) + ", " + quote_excerpt(p.state) + " on line " +
              std::to_string(p.line));
    return;
  }
  if (p.block == block_number_) {
    error(row.line(kDate), row.column(kDate),
          "location " + location + " on " + format_date(date) + " appears twice (first on line " +
              std::to_string(p.block_line) + ")");
    return;
  }
  // Its previous row is the one before this in the file unless a skipped block lies between.
  bool previous_known = p.block > last_skipped_;
  p.block = block_number_;
  p.block_line = row.line(kDate);

  // A cumulative count that goes down from the county's previous date: a revision upstream.
  auto check = [&](const char* count, int64_t before, int64_t now, size_t col) {
    if (before == kUnknown || now == kUnknown || now >= before) return;
    warning(row.line(col), row.column(col),
            std::string(count) + " of " + location + " went down from " + std::to_string(before) +
                " on " + format_date(p.last_date) + " to " + std::to_string(now) + " on " +
                format_date(date) + " (a revision upstream; loaded as given)");
  };
  if (previous_known && p.last_date.days != INT32_MIN) {
    check("cases", p.last_cases, cases, kCases);
    check("deaths", p.last_deaths, deaths, kDeaths);
  }
  p.last_date = date;
  p.last_cases = cases;
  p.last_deaths = deaths;
  kept(date);

  if (sink_ != nullptr) {
    block_.push_back(CountyRow{place, cases, deaths});
  } else {
    Observation o;
    o.location = std::move(location);
    o.date = date;
    o.cases = cases;
    o.deaths = deaths;
    rows_.push_back(std::move(o));
  }
}

void CountiesReader::on_end() {
  flush_block();
  if (diagnostics().has_errors()) {
    rows_.clear();  // nothing will be loaded
    return;
  }
  std::sort(rows_.begin(), rows_.end(), by_location_date);
}

}  // namespace covid
