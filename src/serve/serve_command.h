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

namespace covid::serve {

int serve_command(const Config& config);

// The server's limits: the defaults, with what [serve] sets (connections, per client, the header
// timeout). Also for the daemon's server.
ServerLimits server_limits(const Config& config);

}  // namespace covid::serve
