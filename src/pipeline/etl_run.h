// EtlRun: one run of the pipeline, extract -> transform -> validate -> plan -> load,
// all-or-nothing.
//
// The store is opened once by the command that runs (the CLI's `run`, each run of the daemon and
// of the Lambda runtime), with run_store_options(), and handed to run_etl(); the run uses it from
// the calling thread only. A store that could not be opened is reported by run_etl_unopened().
//
// The steps, in order:
//  1. record the run as `running` in the store (not in a dry run);
//  2. start every dataset the configuration turns on (pipeline/datasets.h: the run knows none by
//     name); a date-ordered dataset whose store keeps date digests for its level spools its
//     dates and skips the unchanged ones before parsing (extract/date_block_skipper.h);
//  3. fetch every source, conditionally when a previous run saw it; the bodies stream into their
//     dataset readers. When every source answers 304 the run ends as `unchanged` at once. A local
//     file's conditional read is its content hash: it is not modified when its hash is the one
//     its stored state and the last successful run both have, that run was the last one, read it
//     for the same dataset under the same load key (the reading rules and schema of this build,
//     the join, the dataset's files), the store was not migrated on opening, and the run
//     replaces no dataset (not in a dry run). Such a file is read only to hash it;
//  4. decide once, after reading everything, whether the data is valid: any error fails the run
//     (exit 2) with nothing written. A source whose dataset took more than config.max_shrink
//     fewer rows or dates than in the last successful run is an error too (a download cut
//     short), unless config.accept_shrink;
//  5. plan (load/plan.h) against the store's rows under the run lock, apply the plan, save the
//     source states and complete the run record in one transaction. Stored rows and values the
//     sources no longer give are kept, counted as missing and said in a warning per dataset. A
//     dry run plans against the store as it is and writes nothing.
// A failure at any step records the run as failed with its stage and message.
// The HttpClient, Clock and Store come from outside so tests can inject faults.
#pragma once

#include <functional>

#include "common/clock.h"
#include "config/config.h"
#include "extract/http_client.h"
#include "load/store.h"
#include "pipeline/datasets.h"
#include "pipeline/progress.h"
#include "pipeline/run_summary.h"

namespace covid {

struct RunOptions {
  bool dry_run = false;
  // --replace-dataset NAME: the datasets whose stored rows (and cadence) this run replaces with
  // its source's, in its one load transaction (load/plan.h). Each must be turned on.
  std::vector<std::string> replace_datasets;
  // Called with the run's id as soon as it is recorded (before extraction): the daemon answers
  // a trigger with it.
  std::function<void(int64_t)> on_started;
  // The registry of datasets the run reads (nullptr: datasets(), pipeline/datasets.h); tests give
  // their own, e.g. a dataset that is not archived.
  const std::vector<Dataset>* datasets = nullptr;
  // Told of the downloads and steps as they go (pipeline/progress.h); nullptr: nothing is.
  RunProgress* progress = nullptr;
};

// How a run opens config.db: writable; for a dry run read-only, a database that does not exist
// yet reading as empty (everything would be inserted).
StoreOptions run_store_options(const Config& config, bool dry_run);

// One run on `store` (config.db, opened with run_store_options(config, options.dry_run)): it is
// recorded there, loaded there, and the outbox is delivered from there after the commit. The
// store stays the caller's.
RunSummary run_etl(const Config& config, Store& store, HttpClient& http, const Clock& clock,
                   const RunOptions& options);

// The run whose store could not be opened (`open_failure`, open_store's error): failed with that
// error, nothing written, and its failure told to the channels straight away (there is no outbox
// to keep it), as run_etl() reports any run that cannot record its failure.
RunSummary run_etl_unopened(const Config& config, const Status& open_failure, HttpClient& http,
                            const Clock& clock, const RunOptions& options);

}  // namespace covid
