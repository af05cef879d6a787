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

#include "common/secrets.h"
#include "extract/http_client.h"
#include "load/store.h"
#include "notify/dispatcher.h"
#include "pipeline/etl_run.h"
#include "schedule/cron.h"
#include "schedule/event_log.h"
#include "schedule/run_manager.h"
#include "serve/api.h"
#include "serve/assets.h"
#include "serve/router.h"
#include "serve/serve_command.h"
#include "serve/server.h"
#include "serve/snapshot.h"

namespace covid {
namespace {

using WallClock = std::chrono::system_clock;
using serve::error_response;

bool equal_constant_time(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  size_t n = std::max(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

void json_response(serve::Response& resp, int status, const nlohmann::json& body) {
  resp.status = status;
  resp.set_body(body.dump(), "application/json");
  resp.cache_control = "no-store";
}

// The token of an "Authorization: Bearer TOKEN" header, or "" for any other. The scheme's name is
// case-insensitive and may be followed by more than one space (RFC 9110, section 11.4).
std::string_view bearer_token(std::string_view authorization) {
  size_t space = authorization.find(' ');
  if (space != 6) return {};
  constexpr std::string_view kScheme = "bearer";
  for (size_t i = 0; i < space; ++i) {
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != kScheme[i]) return {};
  }
  std::string_view token = authorization.substr(space);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  return token;
}

// The trigger's token check, with a limit on wrong tokens per client address (Request::client:
// an IPv4 address or an IPv6 /64): after kMaxFailures wrong tokens from one client within a
// minute, that client gets 429, whatever token it sends, until the oldest of them is a minute old.
// Other clients are not affected (a stranger cannot lock the owner out). The table is bounded:
// at kMaxClients clients, those with no wrong token in the last minute are dropped, then those
// whose last wrong token is the oldest. Thread-safe.
class TokenGate {
 public:
  explicit TokenGate(std::string token) : token_(std::move(token)) {}
  bool enabled() const { return !token_.empty(); }
  // 0: allowed; otherwise the status to answer (401 or 429).
  int check(std::string_view client, std::string_view authorization) {
    std::lock_guard<std::mutex> lock(mu_);
    auto now = std::chrono::steady_clock::now();
    auto it = failures_.find(client);
    if (it != failures_.end()) {
      auto& times = it->second;
      while (!times.empty() && now - times.front() > kWindow) times.pop_front();
      if (times.empty()) {
        failures_.erase(it);
        it = failures_.end();
      } else if (times.size() >= kMaxFailures) {
        return 429;
      }
    }
    if (equal_constant_time(bearer_token(authorization), token_)) return 0;
    if (it == failures_.end()) {
      make_room(now);
      it = failures_
               .emplace(std::string(client), std::deque<std::chrono::steady_clock::time_point>())
               .first;
    }
    it->second.push_back(now);
    return 401;
  }

 private:
  static constexpr size_t kMaxFailures = 5;
  static constexpr size_t kMaxClients = 10'000;
  static constexpr std::chrono::minutes kWindow{1};

  void make_room(std::chrono::steady_clock::time_point now) {
    if (failures_.size() < kMaxClients) return;
    std::erase_if(failures_,
                  [&](const auto& entry) { return now - entry.second.back() > kWindow; });
    while (failures_.size() >= kMaxClients) {
      auto oldest = failures_.begin();
      for (auto i = failures_.begin(); i != failures_.end(); ++i) {
        if (i->second.back() < oldest->second.back()) oldest = i;
      }
      failures_.erase(oldest);
    }
  }

  std::string token_;
  std::mutex mu_;
  // Per client: the times of its wrong tokens in the last minute, oldest first (never empty).
  std::map<std::string, std::deque<std::chrono::steady_clock::time_point>, std::less<>> failures_;
};

std::optional<int64_t> parse_id(std::string_view s) {
  if (s.empty() || s.size() > 18) return std::nullopt;
  int64_t v = 0;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

// A finished run from the runs table, in the shape of `run --json`.
nlohmann::json record_json(const RunRecord& r) {
  auto or_null = [](const std::string& s) {
    return s.empty() ? nlohmann::json() : nlohmann::json(s);
  };
  return {{"status", to_string(r.status)},       {"run_id", r.id},
          {"inserted", r.counts.inserted},       {"updated", r.counts.updated},
          {"unchanged", r.counts.unchanged},     {"missing", r.counts.missing},
          {"warnings", r.counts.warnings},       {"error_count", r.counts.errors},
          {"stage", or_null(r.stage)},           {"message", or_null(r.error)},
          {"first_date", or_null(r.first_date)}, {"last_date", or_null(r.last_date)},
          {"duration_ms", r.duration_ms}};
}

// When the newest successful (ok or unchanged) run started, if any.
std::optional<WallClock::time_point> last_success(const std::string& db) {
  StoreOptions so;
  so.read_only = true;
  auto store = open_store(db, so);
  if (!store.ok()) return std::nullopt;
  auto runs = (*store)->list_runs(100);
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

  // The runs write through their own connection; the server reads through the snapshot cache,
  // which sees each run's data once it commits.
  const std::string db = config->db;
  auto runner_for = [](std::shared_ptr<const Config> c) {
    return [c](const RunOptions& options) {
      CurlHttpClient http;
      SystemClock clock;
      return run_etl(*c, http, clock, options);
    };
  };
  RunManager runs(runner_for(config), log);

  // The daemon owns its database: create and migrate it now, so the server (which reads it
  // read-only) has it from the start, before the first run.
  StoreOptions writable;
  writable.lock_timeout = config->lock_timeout;
  if (auto created = open_store(db, writable); !created.ok()) {
    std::fprintf(stderr, "covid-etl: %s\n", created.status().message().c_str());
    return exit_code(created.status().kind());
  }
  StoreOptions read_only;
  read_only.read_only = true;
  serve::SnapshotCache cache([db, read_only] { return open_store(db, read_only); },
                             serve::SnapshotCache::Options{});
  (void)cache.load();  // an unreadable database is not fatal: data endpoints answer 503

  serve::ServerMetrics metrics;
  serve::Router router(metrics);
  const char* token_env = std::getenv("COVID_ETL_TRIGGER_TOKEN");
  TokenGate gate(token_env != nullptr ? token_env : "");
  if (token_env != nullptr) remember_secret(token_env);
  router.add("/api/v1/runs", serve::method_bit(serve::Method::kPost),
             [&](const serve::Request& req, serve::Response& resp) {
               if (!gate.enabled()) return error_response(resp, 404, "no such path");
               int denied = gate.check(req.client, req.header("Authorization"));
               if (denied == 429) {
                 error_response(resp, 429,
                                "too many wrong tokens from this address; try again in a minute");
                 resp.headers.emplace_back("Retry-After", "60");
                 return;
               }
               if (denied == 401) {
                 error_response(resp, 401, "a valid bearer token is required");
                 resp.headers.emplace_back("WWW-Authenticate", "Bearer");
                 return;
               }
               RunManager::Start s = runs.start("api", std::chrono::seconds(10));
               if (!s.started) {
                 return json_response(resp, 409,
                                      {{"status", 409},
                                       {"error", "conflict"},
                                       {"message", "a run is in progress"},
                                       {"id", s.id}});
               }
               if (s.id == 0) {
                 return json_response(
                     resp, 503,
                     {{"status", 503},
                      {"error", "unavailable"},
                      {"message", s.error.empty() ? "the run has not started" : s.error}});
               }
               json_response(resp, 202, {{"id", s.id}});
               resp.headers.emplace_back("Location", "/api/v1/runs/" + std::to_string(s.id));
             });
  router.add(
      "/api/v1/runs/{id}", serve::kGetHead, [&](const serve::Request& req, serve::Response& resp) {
        auto id =
            parse_id(req.path_params.empty() ? std::string_view() : req.path_params[0].second);
        if (!id) return error_response(resp, 400, "a run id is a number");
        if (auto s = runs.status(*id)) return json_response(resp, 200, *s);
        // One read by the run's key, through the server's own connection.
        auto found = cache.run(*id);
        if (!found.ok()) {
          error_response(resp, 503, "the database cannot be read: " + found.status().message());
          resp.headers.emplace_back("Retry-After", "1");
          return;
        }
        if (*found) return json_response(resp, 200, record_json(**found));
        error_response(resp, 404, "no run " + std::to_string(*id));
      });
  serve::add_api_routes(router, cache, metrics);
  serve::add_asset_routes(router);
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
           {"trigger", gate.enabled()}});

  // The scheduler: sleeps until the next tick, or until a reload or stop wakes it.
  std::mutex mu;
  std::condition_variable wake;
  bool stopping = false;
  int generation = 0;  // bumped by a reload: recompute the next tick
  CronSchedule schedule = *cron;

  auto now = WallClock::now();
  auto last = last_success(db);
  if (!last || now - *last > schedule.period(now)) {
    log.log("catch_up", last ? "the last successful run started at " + when(*last) + ": running now"
                             : "no successful run yet: running now");
    runs.start("catch-up", std::chrono::milliseconds(0));
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
                "a run is in progress: the run due at " + when(*next) + " is skipped");
      } else {
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
  // One more attempt at what is still in the outbox.
  writable.lock_timeout = std::chrono::milliseconds(1000);
  if (auto store = open_store(db, writable); store.ok()) {
    SystemClock clock;
    Dispatcher dispatcher(config->channels, clock, config->dispatch);
    FlushReport r = dispatcher.flush(**store);
    if (r.delivered + r.pending + r.failed > 0) {
      log.log("outbox", std::to_string(r.delivered) + " delivered, " + std::to_string(r.pending) +
                            " pending");
    }
  }
  log.log("stopped", "stopped");
  return 0;
}

}  // namespace covid
