// A run record (common/records.h) as JSON: the one place where a stored run becomes JSON, for the
// command line (`history --json`), the API (/api/v1/runs, /api/v1/runs/{id}) and the daemon.
//
// Two shapes, each written here once:
// - run_record_json(): a row of the run history: {"id", "started_at", "finished_at", "status",
//   "stage", "rows_read", "inserted", "updated", "unchanged", "missing", "warnings",
//   "error_count", "error", "first_date", "last_date", "duration_ms", "quality", "sources"};
//   empty texts are null, "quality" is the data-quality warnings counted by kind
//   ({"deaths_above_cases": 1}; null for a failed run or one recorded before they were kept), the
//   error is scrubbed of secrets and the sources' URLs redacted again (a record written before
//   URLs were redacted).
// - run_result_json(): a finished run in the shape of `run --json` (pipeline/run_summary.h,
//   to_json), as far as the record keeps it: {"status", "run_id", "inserted", "updated",
//   "unchanged", "missing", "warnings", "error_count", "stage", "message", "first_date",
//   "last_date", "duration_ms"}.
// Pure functions of the record; thread-safe.
#pragma once

#include <nlohmann/json.hpp>

#include "common/records.h"

namespace covid::serve {

nlohmann::json run_record_json(const RunRecord& r);
nlohmann::json run_result_json(const RunRecord& r);

}  // namespace covid::serve
