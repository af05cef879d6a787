#include "serve/serve_command.h"

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <ctime>
#include <thread>

#include "load/dynamodb/dynamo_url.h"
#include "load/postgres/pg_url.h"
#include "load/store.h"
#include "serve/api.h"
#include "serve/assets.h"
#include "serve/router.h"
#include "serve/server.h"
#include "serve/snapshot.h"

namespace covid::serve {

SnapshotCache::Options snapshot_options(const Config& config) {
  SnapshotCache::Options options;
  options.freshness = {config.daily_stale_after_days, config.weekly_stale_after_days};
  const std::string& db = config.db;
  // The map levels of each new version built ahead of requests; not on DynamoDB, where reading a
  // whole level is a Scan that costs read capacity whether anyone asks for the map or not.
  options.prebuild_maps = !is_dynamodb_url(db);
  if ((db.find("://") != std::string::npos && !db.starts_with("sqlite:")) || is_postgres_url(db)) {
    // A database over the network: its data version is a query, not a local read.
    options.check_interval = std::chrono::milliseconds(250);
  }
  return options;
}

ServerLimits server_limits(const Config& config) {
  ServerLimits limits;
  limits.max_connections = size_t(config.max_connections);
  limits.max_connections_per_client = size_t(config.max_connections_per_client);
  limits.header_timeout = config.header_timeout;
  limits.frame_ancestors = config.frame_ancestors;
  return limits;
}

int serve_command(const Config& config) {
  std::string host;
  uint16_t port = 0;
  if (!parse_listen(config.listen, &host, &port)) {
    std::fprintf(stderr, "covid-etl: --listen: '%s' is not HOST:PORT (e.g. 127.0.0.1:8080)\n",
                 config.listen.c_str());
    return exit_code(ErrorKind::kUsage);
  }

  // SIGINT and SIGTERM are taken by one thread with sigwait: blocked here, before any other
  // thread starts, so that every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  StoreOptions so;
  so.read_only = true;
  so.lock_timeout = config.lock_timeout;
  std::string db = config.db;
  SnapshotCache cache([db, so] { return open_store(db, so); }, snapshot_options(config));
  Status loaded = cache.load();
  if (!loaded.ok()) {
    std::fprintf(stderr, "covid-etl: %s\n", loaded.message().c_str());
    return exit_code(loaded.kind());
  }

  ServerMetrics metrics;
  Router router(metrics);
  add_api_routes(router, cache, metrics);
  add_asset_routes(router, &cache);
  HttpServer server([&router](Request& req, Response& resp) { router.dispatch(req, resp); },
                    metrics, server_limits(config));
  Status listening = server.listen(host, port);
  if (!listening.ok()) {
    std::fprintf(stderr, "covid-etl: %s\n", listening.message().c_str());
    return exit_code(listening.kind());
  }
  std::printf("covid-etl serve: listening on http://%s/ (database %s)\n",
              server.local_address().c_str(), display_store_url(db).c_str());
  std::fflush(stdout);

  std::atomic<bool> done{false};
  std::thread waiter([&] {
    timespec tick{0, 200'000'000};
    while (!done.load()) {
      int sig = sigtimedwait(&signals, nullptr, &tick);
      if (sig == SIGINT || sig == SIGTERM) {
        std::fprintf(stderr, "covid-etl serve: %s: stopping\n",
                     sig == SIGINT ? "SIGINT" : "SIGTERM");
        server.stop();
        return;
      }
    }
  });
  server.run();
  done.store(true);
  waiter.join();
  std::fprintf(stderr, "covid-etl serve: stopped\n");
  return 0;
}

}  // namespace covid::serve
