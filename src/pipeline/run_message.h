// The notification for a run: subject, human text and the JSON summary, by outcome:
// - success: "N new dates, M revised", a table of the new and revised dates (revised values as
//   old -> new), at most 50 lines then "and K more", the first and last date, the dashboard URL;
// - unchanged: one line;
// - failure: the stage, the error, the first validation errors as file:line:column: message,
//   and that nothing was loaded;
// - interrupted (an earlier run whose process died): a failure, with when it started.
// Pure function.
#pragma once

#include <string>

#include "notify/dispatcher.h"
#include "pipeline/run_summary.h"

namespace covid {

inline constexpr size_t kMessageTableLines = 50;
// The data-quality warnings a success message lists (pipeline/quality.h).
inline constexpr size_t kMessageQualityLines = 10;

Message run_message(const RunSummary& summary, const std::string& dashboard_url);

// The failure notification for an earlier run whose process ended before the run did, put in
// the outbox by the run that found it `running` and closed it (Store::begin_run).
Message interrupted_message(const RunRecord& interrupted);

}  // namespace covid
