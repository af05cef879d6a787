#include "schedule/daemon.h"

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cctype>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "common/cron.h"
#include "common/secrets.h"
#include "extract/http_client.h"
#include "load/store.h"
#include "notify/dispatcher.h"
#include "pipeline/etl_run.h"
#include "publish/after_run.h"
#include "schedule/event_log.h"
#include "schedule/run_manager.h"
#include "serve/api.h"
#include "serve/assets.h"
#include "serve/router.h"
#include "serve/run_trigger.h"
#include "serve/serve_command.h"
#include "serve/server.h"
#include "serve/snapshot.h"

namespace covid {
namespace {

using WallClock = std::chrono::system_clock;

// The trigger the daemon hands the server (serve/run_trigger.h): its run manager.
class ManagerTrigger : public serve::RunTrigger {
 public:
  explicit ManagerTrigger(RunManager& runs) : runs_(runs) {}
  Started start() override {
    RunManager::Start s = runs_.start("api", std::chrono::seconds(10));
    return Started{s.started, s.id, s.error};
  }
  std::optional<nlohmann::json> status(int64_t id) const override { return runs_.status(id); }

 private:
  RunManager& runs_;
};

// When the newest successful (ok or unchanged) run started, if any.
std::optional<WallClock::time_point> last_success(Store& store) {
  auto runs = store.list_runs(100);
  if (!runs.ok()) return std::nullopt;
  for (const RunRecord& r : *runs) {
    if (r.status != RunStatus::kOk && r.status != RunStatus::kUnchanged) continue;
    std::tm tm{};
    if (strptime(r.started_at.c_str(), "%Y-%m-%dT%H:%M:%S", &tm) == nullptr) continue;
    return WallClock::from_time_t(timegm(&tm));
  }
  return std::nullopt;
}

std::string when(WallClock::time_point t) { return format_timestamp(t); }

}  // namespace

int daemon_command(const std::function<Result<Config>()>& load_config, bool json_logs) {
  EventLog log(json_logs);
  auto loaded = load_config();
  if (!loaded.ok()) {
    std::fprintf(stderr, "covid-etl: %s\n", loaded.status().message().c_str());
    return exit_code(loaded.status().kind());
  }
  auto config = std::make_shared<const Config>(std::move(*loaded));
  Status zone = use_time_zone(config->time_zone);
  if (!zone.ok()) {
    std::fprintf(stderr, "covid-etl: %s\n", zone.message().c_str());
    return exit_code(zone.kind());
  }
  bool utc = config->time_zone.empty() || config->time_zone == "UTC";
  auto cron = CronSchedule::parse(config->schedule, utc);
  if (!cron.ok()) {
    std::fprintf(stderr, "covid-etl: %s\n", cron.status().message().c_str());
    return exit_code(cron.status().kind());
  }
  std::string host;
  uint16_t port = 0;
  if (!parse_listen(config->listen, &host, &port)) {
    std::fprintf(stderr, "covid-etl: --listen: '%s' is not HOST:PORT\n", config->listen.c_str());
    return 64;
  }

  // Signals are taken by one thread with sigwait: blocked before any other thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  // The stores (a Store is used by one thread at a time, load/store.h), one per role:
  // - the start's, writable, opened once here: it creates and migrates the database, so the
  //   server has it from the start, and tells when the last success was; then the scheduler's,
  //   which holds the database's schedule (opened again after a lost connection);
  // - each run's, opened once by the run on the run thread (RunManager) and handed to run_etl:
  //   a run marks itself live for as long as its store is open (load/store.h, begin_run), and a
  //   connection per run survives a database server's restart between runs;
  // - the server's, read-only, opened once by the snapshot cache and shared by the server's
  //   threads under its lock (serve/snapshot.h), which sees each run's data once it commits;
  // - the stop's: one more delivery of the outbox, waiting at most a second for a lock.
  const std::string db = config->db;
  auto runner_for = [](std::shared_ptr<const Config> c) {
    return [c](const RunOptions& options) {
      CurlHttpClient http;
      SystemClock clock;
      auto store = open_store(c->db, run_store_options(*c, options.dry_run));
      if (!store.ok()) return run_etl_unopened(*c, store.status(), http, clock, options);
      RunSummary summary = run_etl(*c, **store, http, clock, options);
      // [publish] to: after a run that changed data, or that follows a failed publish.
      publish_after_run(*c, **store, clock, summary);
      return summary;
    };
  };
  RunManager runs(runner_for(config), log);

  StoreOptions writable;
  writable.lock_timeout = config->lock_timeout;
  auto own = open_store(db, writable);
  if (!own.ok()) {
    std::fprintf(stderr, "covid-etl: %s\n", own.status().message().c_str());
    return exit_code(own.status().kind());
  }
  std::unique_ptr<Store> store = std::move(*own);
  StoreOptions read_only;
  read_only.read_only = true;
  serve::SnapshotCache cache([db, read_only] { return open_store(db, read_only); },
                             serve::snapshot_options(*config));
  (void)cache.load();  // an unreadable database is not fatal: data endpoints answer 503

  serve::ServerMetrics metrics;
  serve::Router router(metrics);
  const char* token_env = std::getenv("COVID_ETL_TRIGGER_TOKEN");
  std::string token = token_env != nullptr ? token_env : "";
  if (token_env != nullptr) remember_secret(token_env);
  ManagerTrigger trigger(runs);
  serve::add_run_routes(router, cache, trigger, token);
  serve::add_api_routes(router, cache, metrics);
  serve::add_asset_routes(router, &cache);
  serve::HttpServer server(
      [&router](serve::Request& req, serve::Response& resp) { router.dispatch(req, resp); },
      metrics, serve::server_limits(*config));
  Status listening = server.listen(host, port);
  if (!listening.ok()) {
    std::fprintf(stderr, "covid-etl: %s\n", listening.message().c_str());
    return exit_code(listening.kind());
  }
  std::printf("covid-etl daemon: listening on http://%s/ (database %s, schedule \"%s\" %s)\n",
              server.local_address().c_str(), display_store_url(db).c_str(),
              config->schedule.c_str(), utc ? "UTC" : config->time_zone.c_str());
  std::fflush(stdout);
  log.log("started",
          "listening on " + server.local_address() + ", schedule \"" + config->schedule + "\"",
          {{"listen", server.local_address()},
           {"schedule", config->schedule},
           {"trigger", !token.empty()}});

  // The scheduler: sleeps until the next tick, or until a reload or stop wakes it.
  std::mutex mu;
  std::condition_variable wake;
  bool stopping = false;
  int generation = 0;  // bumped by a reload: recompute the next tick
  CronSchedule schedule = *cron;

  // The schedule's store, kept open: it holds the database's schedule (Store::claim_schedule)
  // while this daemon starts the scheduled runs. Used by this thread, then by the scheduler's.
  // A scheduled run starts only when this daemon holds the schedule: another daemon on the same
  // database that holds it runs it, and this one logs that it skipped it. A store that cannot be
  // reached does not hold back the run (which then fails, and says why).
  auto may_start = [&](const std::string& what) {
    if (!store) {
      auto reopened = open_store(db, writable);
      if (reopened.ok()) store = std::move(*reopened);
    }
    if (!store) return true;
    auto holder = store->claim_schedule();
    if (!holder.ok()) {
      store.reset();  // a lost connection: opened again at the next tick
      return true;
    }
    if (!*holder) return true;
    log.log("schedule_skipped", **holder + ": " + what + " is skipped",
            {{"reason", "another_daemon"}});
    return false;
  };

  auto now = WallClock::now();
  auto last = last_success(*store);
  if (!last || now - *last > schedule.period(now)) {
    std::string why = last ? "the last successful run started at " + when(*last)
                           : std::string("no successful run yet");
    if (may_start("the catch-up run (" + why + ")")) {
      log.log("catch_up", why + ": running now");
      runs.start("catch-up", std::chrono::milliseconds(0));
    }
  }

  std::thread scheduler([&] {
    std::unique_lock<std::mutex> lock(mu);
    while (!stopping) {
      int seen = generation;
      auto next = schedule.next(WallClock::now());
      if (!next) {
        log.log("schedule_never",
                "the schedule \"" + schedule.expression() + "\" names no future time");
        wake.wait(lock, [&] { return stopping || generation != seen; });
        continue;
      }
      log.log("next_run", "next scheduled run at " + when(*next), {{"at", when(*next)}});
      if (wake.wait_until(lock, *next, [&] { return stopping || generation != seen; })) continue;
      lock.unlock();
      if (runs.running()) {
        log.log("schedule_skipped",
                "a run is in progress: the run due at " + when(*next) + " is skipped",
                {{"reason", "running"}});
      } else if (may_start("the run due at " + when(*next))) {
        runs.start("schedule", std::chrono::milliseconds(0));
      }
      lock.lock();
    }
  });

  std::thread signal_thread([&] {
    for (;;) {
      int sig = 0;
      if (sigwait(&signals, &sig) != 0) continue;
      if (sig == SIGHUP) {
        auto fresh = load_config();
        if (!fresh.ok()) {
          log.log("reload_failed",
                  fresh.status().message() + " (keeping the current configuration)");
          continue;
        }
        auto next_cron = CronSchedule::parse(fresh->schedule, utc);
        if (!next_cron.ok()) {
          log.log("reload_failed",
                  next_cron.status().message() + " (keeping the current configuration)");
          continue;
        }
        auto c = std::make_shared<const Config>(std::move(*fresh));
        runs.set_runner(runner_for(c));
        {
          std::lock_guard<std::mutex> lock(mu);
          schedule = *next_cron;
          ++generation;
        }
        wake.notify_all();
        log.log("reloaded", "configuration reloaded; schedule \"" + c->schedule + "\"");
        continue;
      }
      log.log("stopping", std::string(sig == SIGINT ? "SIGINT" : "SIGTERM") + ": stopping");
      {
        std::lock_guard<std::mutex> lock(mu);
        stopping = true;
      }
      wake.notify_all();
      server.stop();
      return;
    }
  });

  server.run();
  signal_thread.join();
  scheduler.join();
  if (!runs.wait_idle(config->stop_timeout)) {
    log.log(
        "stopped",
        "the run did not finish within the stop timeout; exiting (an unfinished load rolls back)");
    std::fflush(stderr);
    std::_Exit(0);
  }
  // One more attempt at what is still in the outbox, through a store of its own that waits at
  // most a second for a lock.
  writable.lock_timeout = std::chrono::milliseconds(1000);
  if (auto last_store = open_store(db, writable); last_store.ok()) {
    SystemClock clock;
    Dispatcher dispatcher(config->channels, clock, config->dispatch);
    FlushReport r = dispatcher.flush(**last_store);
    if (r.delivered + r.pending + r.failed > 0) {
      log.log("outbox", std::to_string(r.delivered) + " delivered, " + std::to_string(r.pending) +
                            " pending");
    }
  }
  log.log("stopped", "stopped");
  return 0;
}

}  // namespace covid
