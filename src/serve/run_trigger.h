// The run endpoints of the API beside GET /api/v1/runs (api.h), for a process that runs the ETL
// (the daemon, schedule/daemon.h) and hands the server its trigger:
//   POST /api/v1/runs       with "Authorization: Bearer TOKEN": starts a run and answers 202
//                           {"id": RUN_ID} (Location: /api/v1/runs/RUN_ID); 409 with the running
//                           run's id while a run is under way; 503 when the run failed before it
//                           was recorded. Without a token configured the endpoint answers 404; a
//                           wrong token 401 (compared in constant time), and after 5 wrong tokens
//                           from one client address within a minute, 429 for that address only.
//   GET /api/v1/runs/{id}   a run this process started: {"status": "running", ...}, then its
//                           summary (the JSON of `run --json`); any other: its record, read from
//                           the store by its key (SnapshotCache::run, Store::get_run), in the
//                           shape of `run --json` (run_json.h, run_result_json); 404 for no such
//                           run, 400 for an id that is not a number, 503 while the store cannot
//                           be read.
// `covid-etl serve` has no trigger: it registers neither route.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "serve/router.h"
#include "serve/snapshot.h"

namespace covid::serve {

// What starts runs and knows the ones it started (schedule/run_manager.h behind the daemon).
// Called from the server's threads: implementations are thread-safe.
class RunTrigger {
 public:
  virtual ~RunTrigger() = default;
  struct Started {
    bool started = false;  // false: a run was under way (its id in `id`, 0 if not known yet)
    int64_t id = 0;        // the run's id; 0 when it failed before it was recorded
    std::string error;     // why it failed before it was recorded
  };
  // Starts a run unless one is under way; waits a bounded time for the new run's id.
  virtual Started start() = 0;
  // A run started here: {"status": "running", ...} while it runs, then its summary; nullopt for
  // a run this trigger does not know (an older one: the store has it).
  virtual std::optional<nlohmann::json> status(int64_t id) const = 0;
};

// Registers POST /api/v1/runs and GET /api/v1/runs/{id}. `token`: the bearer token the trigger
// takes (empty: POST answers 404); remembered as a secret by the caller. `trigger` and `cache`
// outlive the router.
void add_run_routes(Router& router, SnapshotCache& cache, RunTrigger& trigger, std::string token);

}  // namespace covid::serve
