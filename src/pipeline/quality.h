// Data-quality checks: what a run says about data that is valid but suspicious. They run after
// validation and planning, and only warn: a run never fails because of them. Four kinds:
//
// - deaths_above_cases: a row whose cumulative deaths exceed its cumulative cases (both known);
// - outlier: a daily change (the cumulative count minus the series' previous row's) far from the
//   changes of the same series and metric (cases, deaths) in its trailing window: the previous
//   kWindow (28) rows' changes, which for a daily series are the previous 28 days. Its robust
//   score is |x - median| / scale, with scale = 1.4826 * MAD (the median absolute deviation),
//   or, where more than half the window's changes are equal (MAD = 0), 1.2533 * the mean absolute
//   deviation, and never less than 1 (one case). A score above the threshold
//   (`[quality] outlier_threshold`, default 10) warns. A change is scored only with at least
//   kMinWindow (14) changes before it in the window: a series' first days are never scored;
//   - rows_dropped: a location whose stored rows the source no longer gives (its row count
//   dropped between runs; the plan's missing rows, load/plan.h); the stored rows are kept;
// - header_changed: a source whose header gained or lost columns since the last successful run
//   (compared with the header kept in its state, common/records.h SourceState::header).
//
// Which rows are checked (so that a daily run does not repeat the whole history's warnings):
// only the rows this run inserts or revises, with the trailing window taken from the source's
// series in memory. A level read as date blocks (counties spooled by date, pipeline/
// county_spool.h) is not in memory: its revised dates' rows and the rows of at most
// kMaxFreshBlocks new dates are checked for deaths above cases only (no outlier check there); a
// first load's hundreds of new dates are not read again for it. Dropped rows are told per
// location where the plan has them (rows read into memory, and the revised dates of a block
// level); a date that disappeared whole is told per level by the run's missing-rows warning.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "load/plan.h"
#include "transform/observation.h"

namespace covid {

struct QualityWarning {
  std::string kind;     // deaths_above_cases, outlier, rows_dropped, header_changed
  std::string subject;  // the location id, or the source's name for header_changed
  std::string date;     // YYYY-MM-DD; empty for header_changed
  std::string message;  // names the location, the date and the values
};

// Every warning counted by kind; the first kSamples kept.
class QualityReport {
 public:
  static constexpr size_t kSamples = 50;
  void add(QualityWarning w);
  uint64_t total() const { return total_; }
  const std::map<std::string, uint64_t>& counts() const { return counts_; }
  const std::vector<QualityWarning>& samples() const { return samples_; }

 private:
  std::map<std::string, uint64_t> counts_;
  std::vector<QualityWarning> samples_;
  uint64_t total_ = 0;
};

struct QualityOptions {
  double outlier_threshold = 10;  // [quality] outlier_threshold
};

inline constexpr size_t kWindow = 28;
inline constexpr size_t kMinWindow = 14;
inline constexpr size_t kMaxFreshBlocks = 31;

// The robust score of `x` against `window` (the previous changes); std::nullopt with fewer than
// kMinWindow values.
std::optional<double> robust_score(int64_t x, std::vector<int64_t> window);

// The trailing window of one series' changes kept sorted as it slides (values enter and leave
// one at a time), so that each row's score costs a few dozen steps instead of two selections:
// score(x) is bit for bit robust_score(x, the window's values) (the same doubles, from the same
// operations; the mean absolute deviation is a sum of halves of integers, exact in any order
// for counts below 2^46), median() the median robust_score uses. Plain value.
class SortedWindow {
 public:
  void add(int64_t v);
  // Removes one value equal to `v`, which the window holds.
  void remove(int64_t v);
  size_t size() const { return sorted_.size(); }
  const std::vector<int64_t>& values() const { return sorted_; }  // ascending
  // The median of the values (size() > 0).
  double median() const;
  // robust_score(x, values()): std::nullopt with fewer than kMinWindow values.
  std::optional<double> score(int64_t x) const;

 private:
  std::vector<int64_t> sorted_;
};

// Deaths above cases in `o` (both known).
void check_deaths_above_cases(const Observation& o, QualityReport& out);

// The outlier check of one location's series `rows` (sorted by date): the rows whose index has
// `checked[i]` set are scored, cases and deaths.
void check_outliers(const std::vector<Observation>& rows, const std::vector<bool>& checked,
                    const QualityOptions& options, QualityReport& out);
// The same over rows[0..n), whose flags are checked[first_checked ..].
void check_outliers(const Observation* rows, size_t n, const std::vector<bool>& checked,
                    size_t first_checked, const QualityOptions& options, QualityReport& out);

// One rows_dropped warning per location among `missing` (stored rows the source no longer
// gives, any order).
void check_rows_dropped(const std::vector<Observation>& missing, QualityReport& out);

// A header_changed warning for source `name` when `now` gained or lost columns against `before`
// (comma-separated, as kept in SourceState::header). Nothing when `before` is empty (not known)
// or only the columns' order changed.
void check_header(const std::string& name, const std::string& before,
                  const std::vector<std::string>& now, QualityReport& out);

// The header as SourceState::header keeps it: names joined with commas.
std::string join_header(const std::vector<std::string>& names);

// The checks of a plan's rows (all but the header check), before apply().
Status check_plan(const LoadPlan& plan, const QualityOptions& options, QualityReport& out);

}  // namespace covid
