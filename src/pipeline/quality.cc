#include "pipeline/quality.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

namespace covid {
namespace {

bool known(int64_t v) { return v >= 0; }

// The median of v[0..n), n > 0, reordering them: the middle value, or the mean of the two middle
// ones (nth_element, not a sort: this runs for every row a first load inserts).
double median_in_place(double* v, size_t n) {
  std::nth_element(v, v + n / 2, v + n);
  double upper = v[n / 2];
  if (n % 2 == 1) return upper;
  return (*std::max_element(v, v + n / 2) + upper) / 2;
}

std::string number(double v) {
  char buf[64];
  if (v == std::floor(v) && std::fabs(v) < 1e15)
    std::snprintf(buf, sizeof buf, "%.0f", v);
  else
    std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::vector<std::string> split_header(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    if (comma == std::string::npos) comma = s.size();
    out.push_back(s.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

std::string list(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + ("'" + n + "'");
  return out;
}

}  // namespace

void QualityReport::add(QualityWarning w) {
  ++total_;
  ++counts_[w.kind];
  if (samples_.size() < kSamples) samples_.push_back(std::move(w));
}

std::optional<double> robust_score(int64_t x, std::vector<int64_t> window) {
  if (window.size() < kMinWindow) return std::nullopt;
  const size_t n = window.size();
  std::vector<double> values(2 * n);  // the window's values, then their deviations
  double* w = values.data();
  double* dev = w + n;
  for (size_t i = 0; i < n; ++i) w[i] = double(window[i]);
  double med = median_in_place(w, n);
  double sum = 0;  // exact: halves of integers far below 2^53, in any order
  for (size_t i = 0; i < n; ++i) {
    dev[i] = std::fabs(w[i] - med);
    sum += dev[i];
  }
  double scale = 1.4826 * median_in_place(dev, n);
  if (scale == 0) scale = 1.2533 * sum / double(n);
  scale = std::max(scale, 1.0);
  return std::fabs(double(x) - med) / scale;
}

void SortedWindow::add(int64_t v) {
  sorted_.insert(std::upper_bound(sorted_.begin(), sorted_.end(), v), v);
}

void SortedWindow::remove(int64_t v) {
  sorted_.erase(std::lower_bound(sorted_.begin(), sorted_.end(), v));
}

double SortedWindow::median() const {
  const size_t n = sorted_.size();
  double upper = double(sorted_[n / 2]);
  if (n % 2 == 1) return upper;
  return (double(sorted_[n / 2 - 1]) + upper) / 2;
}

std::optional<double> SortedWindow::score(int64_t x) const {
  const size_t n = sorted_.size();
  if (n < kMinWindow) return std::nullopt;
  const double med = median();
  const int64_t* s = sorted_.data();
  auto dev = [&](size_t k) { return std::fabs(double(s[k]) - med); };
  // The deviations in ascending order are two ascending runs merged: the values below the
  // median read downwards from it, and the others read upwards (subtraction is monotonic in
  // floating point too). Take the merge's elements n/2 - 1 and n/2.
  size_t up = size_t(
      std::lower_bound(s, s + n, med, [](int64_t v, double m) { return double(v) < m; }) - s);
  size_t down = up;  // the next below is down - 1
  double lower_mid = 0, upper_mid = 0;
  for (size_t taken = 0; taken <= n / 2; ++taken) {
    double d;
    if (down > 0 && (up == n || dev(down - 1) <= dev(up))) {
      d = dev(--down);
    } else {
      d = dev(up++);
    }
    lower_mid = upper_mid;
    upper_mid = d;
  }
  double mad = n % 2 == 1 ? upper_mid : (lower_mid + upper_mid) / 2;
  double scale = 1.4826 * mad;
  if (scale == 0) {
    double sum = 0;  // exact: halves of integers far below 2^53, in any order
    for (size_t k = 0; k < n; ++k) sum += dev(k);
    scale = 1.2533 * sum / double(n);
  }
  scale = std::max(scale, 1.0);
  return std::fabs(double(x) - med) / scale;
}

void check_deaths_above_cases(const Observation& o, QualityReport& out) {
  if (!known(o.cases) || !known(o.deaths) || o.deaths <= o.cases) return;
  std::string date = format_date(o.date);
  out.add({"deaths_above_cases", o.location, date,
           "location " + o.location + " on " + date + ": " + std::to_string(o.deaths) +
               " deaths but " + std::to_string(o.cases) + " cases"});
}

void check_outliers(const std::vector<Observation>& rows, const std::vector<bool>& checked,
                    const QualityOptions& options, QualityReport& out) {
  check_outliers(rows.data(), rows.size(), checked, 0, options, out);
}

void check_outliers(const Observation* rows, size_t n, const std::vector<bool>& checked,
                    size_t first_checked, const QualityOptions& options, QualityReport& out) {
  std::vector<int64_t> change(n);  // value(i) - value(i - 1) where known[i]
  std::vector<bool> known_change(n);
  SortedWindow window;
  for (const char* metric : {"cases", "deaths"}) {
    bool cases = metric[0] == 'c';
    auto value = [&](size_t i) { return cases ? rows[i].cases : rows[i].deaths; };
    for (size_t i = 1; i < n; ++i) {
      known_change[i] = known(value(i)) && known(value(i - 1));
      if (known_change[i]) change[i] = value(i) - value(i - 1);
    }
    // The window of row i: the known changes of rows max(1, i - kWindow) .. i - 1.
    window = SortedWindow();
    for (size_t i = 1; i < n; ++i) {
      if (i >= 2 && known_change[i - 1]) window.add(change[i - 1]);
      if (i >= kWindow + 2 && known_change[i - 1 - kWindow]) window.remove(change[i - 1 - kWindow]);
      if (!checked[first_checked + i] || !known_change[i]) continue;
      auto score = window.score(change[i]);
      if (!score || *score <= options.outlier_threshold) continue;
      std::string date = format_date(rows[i].date);
      out.add({"outlier", rows[i].location, date,
               "location " + rows[i].location + " on " + date + ": " + metric + " changed by " +
                   std::to_string(change[i]) + " (" + std::to_string(value(i - 1)) + " -> " +
                   std::to_string(value(i)) + ") where the median change of the previous " +
                   std::to_string(window.size()) + " was " + number(window.median()) +
                   ": robust score " + number(std::round(*score * 10) / 10) + " > " +
                   number(options.outlier_threshold)});
    }
  }
}

void check_rows_dropped(const std::vector<Observation>& missing, QualityReport& out) {
  std::map<std::string, std::vector<Date>> by_location;
  for (const Observation& o : missing) by_location[o.location].push_back(o.date);
  for (auto& [location, dates] : by_location) {
    std::sort(dates.begin(), dates.end());
    std::string first = format_date(dates.front());
    std::string last = format_date(dates.back());
    out.add({"rows_dropped", location, first,
             "location " + location + ": " + std::to_string(dates.size()) +
                 (dates.size() == 1 ? " row" : " rows") +
                 " the database holds the source no longer gives (" +
                 (dates.size() == 1 ? first : first + " .. " + last) +
                 "); its row count dropped, the stored rows are kept"});
  }
}

std::string join_header(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) out += (i > 0 ? "," : "") + names[i];
  return out;
}

void check_header(const std::string& name, const std::string& before,
                  const std::vector<std::string>& now, QualityReport& out) {
  if (before.empty() || now.empty()) return;
  std::vector<std::string> was = split_header(before);
  std::set<std::string> was_set(was.begin(), was.end()), now_set(now.begin(), now.end());
  std::vector<std::string> gained, lost;
  for (const std::string& n : now) {
    if (!was_set.count(n)) gained.push_back(n);
  }
  for (const std::string& n : was) {
    if (!now_set.count(n)) lost.push_back(n);
  }
  if (gained.empty() && lost.empty()) return;
  std::string what;
  if (!gained.empty()) what = "gained " + list(gained);
  if (!lost.empty()) what += (what.empty() ? "lost " : " and lost ") + list(lost);
  out.add({"header_changed", name, "",
           "source " + name + ": its header " + what +
               " since the last successful run (was: " + before + ")"});
}

Status check_plan(const LoadPlan& plan, const QualityOptions& options, QualityReport& out) {
  // The rows in memory: those inserted or revised are checked. plan.rows and the inserted rows
  // are sorted by (location, date); the revisions, few, are sorted here.
  const std::vector<Observation>& rows = plan.rows;
  std::vector<Observation> revised;
  for (const Revision& r : plan.changes.updated) revised.push_back(r.after);
  std::sort(revised.begin(), revised.end(), by_location_date);
  std::vector<bool> changed(rows.size());
  auto mark = [&](const std::vector<Observation>& keys) {
    size_t k = 0;
    for (size_t i = 0; i < rows.size() && k < keys.size(); ++i) {
      while (k < keys.size() && by_location_date(keys[k], rows[i])) ++k;
      if (k < keys.size() && keys[k].location == rows[i].location && keys[k].date == rows[i].date)
        changed[i] = true;
    }
  };
  mark(plan.changes.inserted);
  mark(revised);
  for (size_t begin = 0; begin < rows.size();) {
    size_t end = begin;
    bool any = false;
    while (end < rows.size() && rows[end].location == rows[begin].location) any |= changed[end++];
    if (any) {
      for (size_t i = begin; i < end; ++i) {
        if (changed[i]) check_deaths_above_cases(rows[i], out);
      }
      check_outliers(rows.data() + begin, end - begin, changed, begin, options, out);
    }
    begin = end;
  }
  // The levels read as date blocks: deaths above cases on the revised dates and a few new ones.
  std::vector<Observation> missing = plan.changes.missing;
  for (const LoadPlan::BlockLevel& b : plan.blocks) {
    for (const Observation& o : b.changes.inserted) check_deaths_above_cases(o, out);
    for (const Revision& r : b.changes.updated) check_deaths_above_cases(r.after, out);
    missing.insert(missing.end(), b.changes.missing.begin(), b.changes.missing.end());
    if (b.source == nullptr || b.fresh.size() > kMaxFreshBlocks) continue;
    for (size_t i : b.fresh) {
      auto block = b.source->read_block(i);
      if (!block.ok()) return block.status();
      for (const Observation& o : *block) check_deaths_above_cases(o, out);
    }
  }
  check_rows_dropped(missing, out);
  return Status::Ok();
}

}  // namespace covid
