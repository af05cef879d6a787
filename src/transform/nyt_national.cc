#include "transform/nyt_national.h"

#include <algorithm>
#include <numeric>

namespace covid {
namespace {
enum Col { kDate, kCases, kDeaths };
}

NytNationalReader::NytNationalReader(std::string file, const Clock& clock)
    : TableReader(std::move(file), {"date", "cases", "deaths"}, clock) {}

void NytNationalReader::on_row(const Row& row) {
  Observation o;
  bool ok = read_date(row, kDate, &o.date);
  ok = read_count(row, kCases, &o.cases) && ok;
  ok = read_count(row, kDeaths, &o.deaths) && ok;
  if (ok && check_unique_date(row, kDate, o.date)) {
    rows_.push_back(std::move(o));
    sources_.push_back(
        {row.line(kCases), row.line(kDeaths), row.column(kCases), row.column(kDeaths)});
  }
}

void NytNationalReader::on_end() {
  std::vector<size_t> order(rows_.size());
  std::iota(order.begin(), order.end(), 0);
  if (!std::is_sorted(rows_.begin(), rows_.end(), by_location_date)) {
    std::sort(order.begin(), order.end(),
              [&](size_t a, size_t b) { return rows_[a].date < rows_[b].date; });
  }
  std::vector<Observation> sorted;
  sorted.reserve(rows_.size());
  for (size_t k = 0; k < order.size(); ++k) {
    const Observation& o = rows_[order[k]];
    if (k > 0) {
      const Observation& prev = rows_[order[k - 1]];
      const Source& src = sources_[order[k]];
      auto check = [&](const char* name, int64_t before, int64_t now, uint64_t line,
                       uint32_t column) {
        if (now < before) {
          warning(line, column,
                  std::string(name) + " went down from " + std::to_string(before) + " on " +
                      format_date(prev.date) + " to " + std::to_string(now) + " on " +
                      format_date(o.date) + " (a revision upstream; loaded as given)");
        }
      };
      check("cases", prev.cases, o.cases, src.cases_line, src.cases_column);
      check("deaths", prev.deaths, o.deaths, src.deaths_line, src.deaths_column);
    }
    sorted.push_back(o);
  }
  rows_ = std::move(sorted);
  sources_.clear();
}

}  // namespace covid
