// The JSON and text the API makes from what a snapshot holds, besides the series (series.h):
// the summary, the run history and the data part of /metrics; and RunTotals, the runs table
// summed. Pure functions of their arguments. Below snapshot.h (which uses them): this file knows
// nothing of snapshots.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/records.h"
#include "serve/series.h"

namespace covid::serve {

// What the runs table says, summed: for /metrics and the summary.
struct RunTotals {
  uint64_t runs = 0;
  std::array<uint64_t, 4> by_status{};  // indexed by RunStatus
  uint64_t rows_read = 0, inserted = 0, updated = 0, unchanged = 0, missing = 0;
  std::optional<RunRecord> last_run;      // the newest run
  std::optional<RunRecord> last_success;  // the newest run with status ok or unchanged
};

// {"location", "first_date", "last_date", "days", "latest": {...}, "recovered_last_date",
//  "last_run": {...}|null, "last_success": {...}|null, "runs": {status: count}, "sources": [...]}
// for the location whose series is `series` (nullptr: none). `sources_json`: each source's
// freshness, a JSON array (pipeline/freshness.h sources_freshness_json).
std::string summary_json(const RunTotals& totals, std::string_view location,
                         const SeriesColumns* series, const std::string& sources_json = "[]");

// {"runs": [...]}: the newest `limit` runs, each with the fields of `history --json`
// (run_json.h, run_record_json).
std::string runs_json(const std::vector<RunRecord>& runs, size_t limit);

// Prometheus text for the runs table (runs by status, rows by outcome, last run, last success)
// and the series held; `available`: whether the database could be read.
std::string data_metrics(bool available, const RunTotals& totals,
                         const std::map<std::string, SeriesColumns, std::less<>>& series);

// Seconds since the epoch of an RFC 3339 UTC timestamp as the store writes them
// (2021-03-17T12:15:00.123Z); nullopt when it is not one.
std::optional<double> epoch_seconds(std::string_view timestamp);

RunTotals total_runs(const std::vector<RunRecord>& newest_first);

}  // namespace covid::serve
