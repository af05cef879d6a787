#include "transform/jhu_recovered.h"

#include <algorithm>
#include <numeric>

#include "transform/observation.h"

namespace covid {
namespace {
enum Col { kDate, kCountry, kProvince, kRecovered };
}

JhuRecoveredReader::JhuRecoveredReader(std::string file, const Clock& clock)
    : TableReader(std::move(file), {"Date", "Country/Region", "Province/State", "Recovered"},
                  clock) {}

void JhuRecoveredReader::on_row(const Row& row) {
  if (row[kCountry] != "US" || !row[kProvince].empty()) return;
  DatedCount v{};
  bool ok = read_date(row, kDate, &v.date);
  ok = read_count(row, kRecovered, &v.value) && ok;
  if (ok && check_unique_date(row, kDate, v.date)) {
    kept(v.date);
    recovered_.push_back(v);
    lines_.emplace_back(row.line(kRecovered), row.column(kRecovered));
  }
}

std::vector<size_t> apply_recovered_zero_rule(std::vector<DatedCount>& values) {
  std::vector<size_t> changed;
  bool seen_positive = false;
  for (size_t i = 0; i < values.size(); ++i) {
    if (values[i].value > 0) seen_positive = true;
    if (seen_positive && values[i].value == 0) {
      values[i].value = kUnknown;
      changed.push_back(i);
    }
  }
  return changed;
}

void JhuRecoveredReader::on_end() {
  std::vector<size_t> order(recovered_.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return recovered_[a].date < recovered_[b].date; });
  std::vector<DatedCount> sorted;
  std::vector<std::pair<uint64_t, uint32_t>> lines;
  sorted.reserve(order.size());
  for (size_t i : order) {
    sorted.push_back(recovered_[i]);
    lines.push_back(lines_[i]);
  }
  for (size_t i : apply_recovered_zero_rule(sorted)) {
    warning(lines[i].first, lines[i].second,
            "Recovered: 0 on " + format_date(sorted[i].date) +
                " after positive values means not reported; stored as unknown");
  }
  recovered_ = std::move(sorted);
  lines_.clear();
}

}  // namespace covid
