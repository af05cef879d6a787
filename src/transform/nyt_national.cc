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
    kept(o.date);
    rows_.push_back(std::move(o));
    sources_.push_back(
        {row.line(kCases), row.line(kDeaths), row.column(kCases), row.column(kDeaths)});
  }
}

void NytNationalReader::on_end() {
  rows_ = sort_and_check(std::move(rows_), sources_,
                         [](const Observation&, const char* count) { return std::string(count); });
  sources_.clear();
}

}  // namespace covid
