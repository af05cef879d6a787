// RunSummary: everything one ETL run did, in one place. The command line prints it (text or
// --json), the run record is derived from it, and later the notifications, the API and /metrics
// read the same counters. Plain value.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/diagnostics.h"
#include "common/status.h"
#include "load/classify.h"
#include "load/plan.h"
#include "load/store.h"
#include "notify/dispatcher.h"
#include "pipeline/quality.h"

namespace covid {

struct SourceReport {
  std::string name;  // "nyt", "jhu"
  std::string url;   // without credentials
  long http_status = 0;
  bool not_modified = false;
  std::string etag, last_modified, content_hash;
  uint64_t bytes = 0;
  uint64_t rows = 0;
  // The rows the dataset took from the body and their distinct dates (0: not known, as in a run
  // before these were kept); a source that answered 304 carries the last successful run's.
  uint64_t kept_rows = 0, dates = 0;
  int attempts = 0;
  // What the rows loaded from it depend on besides its bytes (the reading rules, the schema, the
  // join, the dataset and its files), as a hash: a local file whose hash and key are the last
  // successful run's is not read again (pipeline/etl_run.h). Empty in runs before it was kept.
  std::string load_key = {};
};

struct RunSummary {
  RunStatus status = RunStatus::kFailed;
  std::optional<int64_t> run_id;
  bool dry_run = false;
  Status failure;  // ok unless status is kFailed
  RunCounts counts;
  Diagnostics diagnostics;
  std::string first_date, last_date;  // of every dataset's series together
  // Each dataset's first and last date, by dataset ("national", "world"): the datasets' series
  // need not cover the same dates (the NYT's end in 2023, the WHO's go on).
  std::map<std::string, std::pair<std::string, std::string>> date_ranges;
  std::string started_at;
  int64_t duration_ms = 0;
  std::vector<SourceReport> sources;
  // The datasets the run loads (pipeline/datasets.h names), in the registry's order: the
  // unreachable-source hint names their local-file flags.
  std::vector<std::string> datasets;
  ChangeSet changes;
  std::map<std::string, LevelCounts> levels;  // by level: "nation", "state"
  std::optional<FlushReport> notifications;   // what delivery achieved after the run
  QualityReport quality;                      // the data-quality checks' warnings
  // The sources this run's notification says are stale (once per stale period:
  // pipeline/freshness.h), and every source's freshness after the run (sources_freshness_json).
  struct Stale {
    std::string name, url, since, changed_at;
  };
  std::vector<Stale> stale;
  nlohmann::json source_states = nlohmann::json::array();
  // The stage of a failure when it is not stage_name(failure.kind()): "publish" for a run whose
  // data was committed but whose publish (publish/after_run.h) failed.
  std::string failed_stage;
  // What the publish after the run did (publish/after_run.h): {"to", "objects", "written",
  // "unchanged", "deleted", "bytes_written", "seconds"} or {"to", "error"}; null: no publish.
  nlohmann::json publish = nullptr;

  std::string stage() const {
    return failed_stage.empty() ? stage_name(failure.kind()) : failed_stage;
  }

  int exit_status() const { return status == RunStatus::kFailed ? exit_code(failure.kind()) : 0; }
};

nlohmann::json to_json(const RunSummary& s);
// The quality warnings' counts by kind: {"deaths_above_cases": 2, "outlier": 1}.
nlohmann::json quality_counts_json(const QualityReport& q);
nlohmann::json sources_to_json(const std::vector<SourceReport>& sources);
// `sources` (sources_to_json's form, as stored) with each url redacted again (redact_url): records
// written before query tokens were redacted are shown without them.
nlohmann::json redact_source_urls(nlohmann::json sources);
std::string to_text(const RunSummary& s);
// For a run that failed because a source over http(s) gave no answer at all (a name that does
// not resolve, a connection refused or timed out: no HTTP status), what to do: the command that
// runs from local files instead, with the flags of the datasets it loads (RunSummary::datasets;
// none known: the national series' and the states'). "" for any other run. to_text ends with it.
std::string unreachable_hint(const RunSummary& s);

}  // namespace covid
