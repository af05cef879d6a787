// The JSON and text the API makes from a snapshot, besides the series (series.h): the summary,
// the run history and the data part of /metrics. Pure functions of their arguments.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "load/store.h"

namespace covid::serve {

class Snapshot;
struct RunTotals;
struct SeriesColumns;

// {"location", "first_date", "last_date", "days", "latest": {...}, "recovered_last_date",
//  "last_run": {...}|null, "last_success": {...}|null, "runs": {status: count}} for the location
// whose series is `series` (nullptr: none).
std::string summary_json(const Snapshot& snap, std::string_view location,
                         const SeriesColumns* series);

// {"runs": [...]}: the newest `limit` runs, each with the fields of `history --json`.
std::string runs_json(const std::vector<RunRecord>& runs, size_t limit);

// Prometheus text for the runs table (runs by status, rows by outcome, last run, last success)
// and the series held.
std::string data_metrics(const Snapshot& snap);

// Seconds since the epoch of an RFC 3339 UTC timestamp as the store writes them
// (2021-03-17T12:15:00.123Z); nullopt when it is not one.
std::optional<double> epoch_seconds(std::string_view timestamp);

RunTotals total_runs(const std::vector<RunRecord>& newest_first);

}  // namespace covid::serve
