// The AWS Lambda custom runtime: covid-etl as a function's `bootstrap`.
//
// The loop of the Lambda Runtime API
// (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html) at $AWS_LAMBDA_RUNTIME_API: GET
// /2018-06-01/runtime/invocation/next waits for an invocation; each one is one ETL run (the event
// is not needed: the configuration says what to load); the run summary (the JSON of `run --json`)
// goes to .../invocation/{id}/response, or, when the run failed, an error with the summary to
// .../invocation/{id}/error. A configuration that cannot be loaded goes to /runtime/init/error and
// the process exits. Runs until the API goes away.
#pragma once

#include <functional>

#include "common/status.h"
#include "config/config.h"

namespace covid {

// `load_config` builds the configuration (an init error when it fails). Returns the exit status.
int run_lambda_runtime(const std::function<Result<Config>()>& load_config);

}  // namespace covid
