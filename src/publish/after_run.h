// The publish after a run (issue 19): `run`, the daemon and the Lambda handler publish the
// dashboard to [publish] to (Config::publish_to) once a run has committed.
//
// publish_after_run() publishes when config.publish_to is set and the run committed changes
// (status ok), or when it changed nothing (unchanged) but the last publish failed: the newest
// earlier run that got as far as its commit (status ok or unchanged, or failed at stage
// "publish") is one whose publish failed. A dry run, a failed run, or a run never recorded does
// not publish.
//
// A publish that fails does so after the data is safely committed: the run's record becomes
// failed at stage "publish" (its counts kept), a "failure" notification saying so goes into the
// outbox (Dispatcher::address) in the same transaction and is delivered at once
// (Dispatcher::flush), and the summary says so: status failed, failed_stage "publish", the
// publish's error as its failure (so the exit status is the error's: 3 for a destination that
// cannot be reached or written, 4 for a database that cannot be read). The published site is as
// it was (publish/publisher.h), and the next run publishes again. summary.publish holds what the
// publish did, or its error.
#pragma once

#include "common/clock.h"
#include "config/config.h"
#include "load/store.h"
#include "pipeline/run_summary.h"

namespace covid {

// Whether publish_after_run() would publish after this run (see above); reads the run history.
bool publish_due(const Config& config, Store& store, const RunSummary& summary);

void publish_after_run(const Config& config, Store& store, const Clock& clock, RunSummary& summary);

}  // namespace covid
