// The AWS Lambda custom runtime: covid-etl as a function's `bootstrap`.
//
// The loop of the Lambda Runtime API
// (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html) at $AWS_LAMBDA_RUNTIME_API: GET
// /2018-06-01/runtime/invocation/next waits for an invocation; each one is one ETL run (the event
// is not needed: the configuration says what to load); the run summary (the JSON of `run --json`)
// goes to .../invocation/{id}/response, or, when the run failed, an error with the summary to
// .../invocation/{id}/error, its type naming the stage that failed (covid-etl.ValidateFailed, ...,
// covid-etl.PublishFailed for a run committed but not published). A configuration that cannot be
// loaded goes to /runtime/init/error and the process exits. Runs until the API goes away.
#pragma once

#include <functional>

#include "common/clock.h"
#include "common/status.h"
#include "config/config.h"
#include "load/store.h"
#include "pipeline/run_summary.h"

namespace covid {

// What runs after each run, with the run's store, before the invocation is answered: the
// publish of [publish] to (publish/after_run.h, given by app/: this file sits below publish/).
using AfterRun = std::function<void(const Config&, Store&, const Clock&, RunSummary&)>;

// `load_config` builds the configuration (an init error when it fails). Returns the exit status.
int run_lambda_runtime(const std::function<Result<Config>()>& load_config,
                       const AfterRun& after_run = {});

}  // namespace covid
