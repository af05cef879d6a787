// The JSON API, version 1, over a SnapshotCache:
//   GET /api/v1/series?location=US&from=YYYY-MM-DD&to=YYYY-MM-DD&fields=a,b   columnar arrays
//   GET /api/v1/summary?location=US     latest values and data freshness
//   GET /api/v1/runs?limit=N            run history, newest first (N: 1..1000, default 50);
//                                       POST /api/v1/runs and GET /api/v1/runs/{id}, for a
//                                       process that runs the ETL: run_trigger.h
//   GET /api/v1/export.csv?location=US&from=..&to=..   what `covid-etl export` prints
//   GET /api/v1/locations?type=state|county|nation&q=text&limit=N   search (locations.h;
//                                       N: 1..1000, default 100)
//   GET /api/v1/states                  every state's latest 7-day average and 14-day change
//   GET /api/v1/rankings?level=state|county|country&state=SS   a level's latest 7-day averages,
//                                       absolute and per 100,000, and their 14-day change
//                                       (county: the counties of state SS, required)
// `location` is any location the store knows (the nation's series is made with each snapshot,
// any other's read from the store on its first request and kept; see snapshot.h).
//   GET /data/index.json                {"version":1,"api":"api/v1/","objects":null}: the page
//                                       asks it first; a site made by `covid-etl publish` answers
//                                       there the index of its objects (publish/publisher.h)
//   GET /healthz                        200 when the database can be read, else 503
//   GET /metrics                        Prometheus text: the runs table and the server
// Every parameter is checked: an unknown or repeated name, a malformed date, from after to, an
// unknown location or field, or a limit out of range answers 400 with a JSON error. Data
// responses carry an ETag and Cache-Control: no-cache, answer 304 to If-None-Match, and are
// gzipped when the client accepts it; while no database can be read they answer 503.
// Handlers are thread-safe (they only read snapshots).
#pragma once

#include "serve/metrics.h"
#include "serve/router.h"
#include "serve/snapshot.h"

namespace covid::serve {

void add_api_routes(Router& router, SnapshotCache& cache, const ServerMetrics& metrics);

}  // namespace covid::serve
