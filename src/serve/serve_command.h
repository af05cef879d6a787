// `covid-etl serve`: the dashboard and the JSON API on config.listen, from config.db opened
// read-only, until SIGINT or SIGTERM (then a graceful stop and exit status 0).
//
// Prints "covid-etl serve: listening on http://HOST:PORT/ (database ...)" on stdout once the
// port is bound (with the real port when 0 was asked for). Returns the exit status: 64 for a
// bad address or a database URL no store takes; a database that cannot be read yet is not
// fatal (the data endpoints answer 503 until it can).
#pragma once

#include "config/config.h"
#include "serve/limits.h"
#include "serve/snapshot.h"

namespace covid::serve {

int serve_command(const Config& config);

// The server's limits: the defaults, with what [serve] sets (connections, per client, the header
// timeout). Also for the daemon's server.
ServerLimits server_limits(const Config& config);

// The snapshot cache's options for `config` (serve/snapshot.h), also the daemon's: the
// [freshness] allowances, and how often to ask the database for its data version: a local file
// (SQLite) at most once a millisecond, a database over the network (PostgreSQL, DynamoDB) at
// most every 250 ms, so that a server under load sends it a few trivial queries a second, and
// every server on one database shows a run's data within a second of its commit.
SnapshotCache::Options snapshot_options(const Config& config);

}  // namespace covid::serve
