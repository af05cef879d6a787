#include "common/suggest.h"

#include <algorithm>
#include <numeric>

namespace covid {
namespace {

char lower(char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; }

}  // namespace

size_t edit_distance(std::string_view a, std::string_view b) {
  // Three rows of the dynamic programme: i-2, i-1, i.
  std::vector<size_t> before(b.size() + 1), prev(b.size() + 1), cur(b.size() + 1);
  std::iota(prev.begin(), prev.end(), size_t{0});
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
      if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
          lower(a[i - 2]) == lower(b[j - 1])) {
        cur[j] = std::min(cur[j], before[j - 2] + 1);
      }
    }
    std::swap(before, prev);
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

size_t suggestion_distance(std::string_view typed) {
  return typed.size() <= 4 ? 1 : typed.size() <= 8 ? 2 : 3;
}

std::vector<std::string> nearest_names(std::string_view typed,
                                       const std::vector<std::string>& names, size_t limit) {
  const size_t max = suggestion_distance(typed);
  std::vector<std::pair<size_t, size_t>> hits;  // (distance, index)
  for (size_t i = 0; i < names.size(); ++i) {
    size_t d = edit_distance(typed, names[i]);
    if (d <= max) hits.emplace_back(d, i);
  }
  std::stable_sort(hits.begin(), hits.end(),
                   [](const auto& x, const auto& y) { return x.first < y.first; });
  std::vector<std::string> out;
  for (const auto& [d, i] : hits) {
    if (out.size() == limit) break;
    if (std::find(out.begin(), out.end(), names[i]) == out.end()) out.push_back(names[i]);
  }
  return out;
}

std::string did_you_mean(std::string_view typed, const std::vector<std::string>& names) {
  std::vector<std::string> near = nearest_names(typed, names, 2);
  if (near.empty()) return "";
  std::string out = " (did you mean '" + near[0] + "'";
  if (near.size() > 1) out += " or '" + near[1] + "'";
  return out + "?)";
}

std::string did_you_mean(std::string_view typed, const std::vector<std::string>& names,
                         std::span<const KnownAlias> aliases) {
  if (std::string near = did_you_mean(typed, names); !near.empty()) return near;
  for (const KnownAlias& a : aliases) {
    if (a.typed.size() != typed.size() || edit_distance(a.typed, typed) != 0) continue;
    std::string_view name = a.meant.substr(0, a.meant.find(' '));
    if (std::find(names.begin(), names.end(), name) == names.end()) continue;
    return " (did you mean '" + std::string(a.meant) + "'?)";
  }
  return "";
}

}  // namespace covid
