// Freshness: whether each source still changes as often as its dataset says it should.
//
// Each dataset declares its cadence and whether it is archived (pipeline/datasets.h: cadence_days,
// archived_since). Each run records, in the source's state (common/records.h SourceState), when
// it first saw the source's content as it is now (changed_at: the content hash changed then). A
// source is, at time `now`:
// - `archived` (since its own date: source_archived_since(), JHU's 2023-03-10, else its dataset's
//   archived_since) when it is archived upstream: never stale, whatever its age;
// - `stale` since changed_at + the allowance when more than the allowance has passed since its
//   content last changed. The allowance, in days, is `[freshness] daily_stale_after_days`
//   (default 2) for a daily dataset, `[freshness] weekly_stale_after_days` (default 9) for a
//   weekly one, and the cadence + 2 days for any other cadence;
// - `fresh` otherwise; `unknown` for a state that does not say its dataset or when it changed (one
//   written by a version before these were kept, until the next run that reads the source).
// A run's notification says that a source is stale once per stale period: the state keeps when it
// was told (stale_told_at), and forgets it when the content changes.
#pragma once

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "common/records.h"
#include "pipeline/datasets.h"

namespace covid {

struct FreshnessOptions {
  int daily_stale_after_days = 2;   // [freshness] daily_stale_after_days
  int weekly_stale_after_days = 9;  // [freshness] weekly_stale_after_days
};

// How many days without a change a source of this cadence is allowed.
int stale_after_days(int cadence_days, const FreshnessOptions& options);

struct SourceFreshness {
  std::string state;  // fresh, stale, archived, unknown
  std::string since;  // YYYY-MM-DD for stale and archived; empty otherwise
  // "fresh", "stale since 2026-12-03", "archived since 2023-03-23", "unknown".
  std::string text() const;
};

// The freshness of a source whose dataset has this cadence and archive date (nullptr: not
// archived), at `now`.
SourceFreshness source_freshness(const SourceState& state, int cadence_days,
                                 const char* archived_since, const FreshnessOptions& options,
                                 std::chrono::system_clock::time_point now);
// The same for the dataset `state.dataset` names in `registry` (datasets(), or a test's).
SourceFreshness source_freshness(const SourceState& state, const std::vector<Dataset>& registry,
                                 const FreshnessOptions& options,
                                 std::chrono::system_clock::time_point now);

// A source's states are kept by URL. Of the URLs of one source (its name: "who", "nyt"), those
// saved by the newest run (SourceState::run_id) are the ones it is loaded from now, and their
// states are the source's. The others (an old URL, such as the WHO's before it moved) are kept
// but `superseded`: never stale, never the source's state. Whether `state` is one of those.
bool superseded(const SourceState& state, const std::map<std::string, SourceState>& states);

// The sources' states as JSON, sorted by (name, url): [{"name", "dataset", "url", "state",
// "since", "changed_at", "text"}]: the current ones only (the run summary, /api/v1/summary, the
// dashboard), or with `include_superseded` every URL kept, the superseded ones with state
// "superseded" and text "superseded (last read by run N)" (history --sources).
nlohmann::json sources_freshness_json(const std::map<std::string, SourceState>& states,
                                      const std::vector<Dataset>& registry,
                                      const FreshnessOptions& options,
                                      std::chrono::system_clock::time_point now,
                                      bool include_superseded = false);

// Parses an RFC 3339 UTC timestamp as format_timestamp() writes it ("2026-12-07T00:10:00.000Z",
// fractions optional); false when it is not one.
bool parse_timestamp(const std::string& text, std::chrono::system_clock::time_point* out);

}  // namespace covid
