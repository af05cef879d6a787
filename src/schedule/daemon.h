// `covid-etl daemon`: one process that serves the dashboard and API and runs the ETL on its cron
// schedule, with a trigger endpoint for runs on demand.
//
// - Schedule: [schedule] cron (UTC unless time_zone names a zone). At start, when the last
//   successful run is older than one schedule period, a run starts at once (catch-up).
// - Trigger: POST /api/v1/runs with "Authorization: Bearer TOKEN" (COVID_ETL_TRIGGER_TOKEN; without
//   it the endpoint answers 404) starts a run and answers 202 {"id": RUN_ID}; 409 with the running
//   run's id during a run; 401 for a wrong token, compared in constant time, and 429 after 5 wrong
//   tokens within a minute. GET /api/v1/runs/{id}: "running", then the run summary. Both are
//   served by serve/ (serve/run_trigger.h); the daemon hands the server its run manager as the
//   trigger.
// - Stores: one per role, each opened once: the start's (creates and migrates the database, reads
//   the last success, then kept by the scheduler to hold the schedule), each run's (opened by the
//   run on the run thread and handed to run_etl), the server's (read-only, the snapshot cache's,
//   shared by the server's threads under its lock), and the stop's (the last delivery of the
//   outbox). No store is opened per request.
// - Several daemons on one database: one of them starts the scheduled (and catch-up) runs, the
//   one that holds the database's schedule (Store::claim_schedule, tried at each tick; on
//   PostgreSQL a lock that goes with the daemon's connection, so another daemon takes over at
//   its next tick when that one stops). The others log schedule_skipped (reason another_daemon,
//   and who holds it) and serve what that one's runs commit. Triggered runs are not scheduled:
//   any daemon starts them, and the run lock keeps loads from interleaving.
// - One run at a time: a schedule tick during a run is skipped and logged. Runs happen on their own
//   thread; requests are served meanwhile, and the new data is served once the run commits.
// - SIGTERM/SIGINT: stop accepting, wait up to [schedule] stop_timeout_ms for a run (a load that
//   is cut off rolls back), try once more to deliver the outbox, exit 0. SIGHUP reloads the
//   configuration (schedule, sources, channels; not the listen address or database).
// - Logs: one line per event on stderr, human-readable or JSON (--log-format json).
#pragma once

#include <functional>

#include "common/status.h"
#include "config/config.h"

namespace covid {

int daemon_command(const std::function<Result<Config>()>& load_config, bool json_logs);

}  // namespace covid
