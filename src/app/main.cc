// covid-etl: the command line, nothing else. Each sub-command parses its flags, builds the
// configuration (defaults < --config file < environment < flags) and calls into the pipeline.
#include <sqlite3.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "app/terminal_progress.h"
#include "commit.h"  // generated: COVID_ETL_COMMIT (cmake/commit.cmake)
#include "common/clock.h"
#include "common/libcurl.h"
#include "common/secrets.h"
#include "common/suggest.h"
#include "config/config.h"
#include "extract/http_client.h"
#include "load/postgres/libpq.h"
#include "load/store.h"
#include "notify/dispatcher.h"
#include "pipeline/etl_run.h"
#include "pipeline/freshness.h"
#include "publish/after_run.h"
#include "publish/destination.h"
#include "publish/publisher.h"
#include "schedule/daemon.h"
#include "schedule/lambda_runtime.h"
#include "serve/locations.h"
#include "serve/run_json.h"
#include "serve/series.h"
#include "serve/serve_command.h"
#include "serve/snapshot.h"

namespace covid {
namespace {

constexpr int kUsageExit = 64;

struct CommonFlags {
  std::string config_file;
  std::string db;
};

// Builds the configuration from the layers; flags are applied by the caller.
Result<Config> build_config(const CommonFlags& flags) {
  Config config;
  std::string file = flags.config_file;
  if (file.empty()) {
    if (const char* env = std::getenv("COVID_ETL_CONFIG"); env != nullptr) file = env;
  }
  if (!file.empty()) {
    auto loaded = load_config_file(file, config);
    if (!loaded.ok()) return loaded.status();
    config = std::move(*loaded);
  }
  apply_environment(config);
  if (!flags.db.empty()) config.db = flags.db;
  remember_config_secrets(config);
  return config;
}

// build_config for the commands that publish after a run (run, daemon, lambda): [publish] to is
// checked as publish would open it (publish/destination.h check_destination: its form, and S3's
// credentials in the environment), before anything is extracted. Found only at the publish, after
// the run's commit, a malformed destination would fail every run.
Result<Config> build_run_config(const CommonFlags& flags) {
  auto config = build_config(flags);
  if (!config.ok() || config->publish_to.empty()) return config;
  if (Status s = check_destination(config->publish_to); !s.ok()) {
    return Status(s.kind(), "[publish] to (or COVID_ETL_PUBLISH_TO): " + s.message());
  }
  return config;
}

// Flags users of other tools type, and ours for them: offered for an unknown flag when no flag of
// the command is near it by edit distance (common/suggest.h did_you_mean), and only for the
// commands named (space-separated; "*": every command) that have the flag meant. Keep it short:
// each entry is a name people really type (servers' --port and --host, a dataset's name for its
// source's flag, other tools' --since/--until, --output), not every synonym, and none that a flag
// of the command is already near (that one is suggested instead: --dir gives --db).
struct FlagAlias {
  std::string_view commands;
  KnownAlias alias;
};
constexpr FlagAlias kFlagAliases[] = {
    {"*", {"--database", "--db URL"}},
    {"*", {"--database-url", "--db URL"}},
    {"*", {"--config-file", "--config FILE"}},
    {"serve daemon", {"--port", "--listen HOST:PORT"}},
    {"serve daemon", {"--host", "--listen HOST:PORT"}},
    {"serve daemon", {"--bind", "--listen HOST:PORT"}},
    {"serve daemon", {"--address", "--listen HOST:PORT"}},
    {"run", {"--annotations", "--anomalies"}},  // the dataset's name for its source's flag
    {"run", {"--world", "--who"}},
    {"run", {"--county", "--counties"}},
    {"run", {"--force", "--accept-shrink"}},
    {"export", {"--since", "--from DATE"}},
    {"export", {"--start", "--from DATE"}},
    {"export", {"--until", "--to DATE"}},
    {"export", {"--end", "--to DATE"}},
    {"export", {"--fips", "--location"}},
    {"export", {"--state", "--location"}},
    {"export", {"--county", "--location"}},
    {"export", {"--json", "--format json"}},
    {"export", {"--csv", "--format csv"}},
    {"publish", {"--output", "--to DIR"}},
    {"publish", {"--out", "--to DIR"}},
    {"publish", {"--dest", "--to DIR"}},
};

// The aliases of kFlagAliases that apply to `command`.
std::vector<KnownAlias> flag_aliases(std::string_view command) {
  std::vector<KnownAlias> out;
  for (const FlagAlias& a : kFlagAliases) {
    bool applies = a.commands == "*";
    for (size_t at = 0; !applies && at < a.commands.size();) {
      size_t end = std::min(a.commands.find(' ', at), a.commands.size());
      applies = a.commands.substr(at, end - at) == command;
      at = end + 1;
    }
    if (applies) out.push_back(a.alias);
  }
  return out;
}

// After a parse error: the rest of a line after "covid-etl" (": ..." or " SUB: ...") naming the
// sub-command or flag that does not exist, with the nearest valid names (common/suggest.h); "" when
// every name given is known (the error is of another kind: a missing value, a bad one, a flag
// twice).
std::string unknown_name_hint(CLI::App& app, int argc, char** argv) {
  std::vector<std::string> commands;
  for (CLI::App* sub : app.get_subcommands(std::function<bool(CLI::App*)>())) {
    commands.push_back(sub->get_name());
  }
  int i = 1;
  while (i < argc && std::string_view(argv[i]).starts_with("-")) ++i;
  if (i == argc) return "";
  std::string command = argv[i];
  CLI::App* sub = nullptr;
  for (CLI::App* s : app.get_subcommands(std::function<bool(CLI::App*)>())) {
    if (s->get_name() == command) sub = s;
  }
  if (sub == nullptr) {
    std::string list;
    for (const std::string& c : commands) list += (list.empty() ? "" : ", ") + c;
    return ": '" + command + "' is not a command" + did_you_mean(command, commands) +
           "; the commands: " + list;
  }
  std::vector<std::string> flags = {"--help"};
  for (const CLI::Option* o : sub->get_options()) {
    for (const std::string& name : o->get_lnames()) flags.push_back("--" + name);
  }
  for (++i; i < argc; ++i) {
    std::string_view a = argv[i];
    if (!a.starts_with("--")) continue;
    std::string flag(a.substr(0, a.find('=')));
    if (std::find(flags.begin(), flags.end(), flag) != flags.end()) continue;
    return " " + command + ": unknown flag '" + flag + "'" +
           did_you_mean(flag, flags, flag_aliases(command));
  }
  return "";
}

// `covid-etl --version`: the version (README "Versions"), the commit and the libraries: SQLite
// (linked in), libcurl and libpq (loaded when first used: here, to say which one would be).
std::string version_text() {
  std::string out = "covid-etl " COVID_ETL_VERSION " (commit " COVID_ETL_COMMIT ")\n";
  out += std::string("SQLite ") + sqlite3_libversion() + " (linked in)\n";
  std::string error;
  if (const LibCurl* curl = LibCurl::get(&error)) {
    const curl_version_info_data* v = curl->version_info(CURLVERSION_NOW);
    out += std::string("libcurl ") + v->version +
           (v->ssl_version ? std::string(", ") + v->ssl_version : "") + " (libcurl.so.4)\n";
  } else {
    out += "libcurl: not available (" + error + ")\n";
  }
  error.clear();
  if (const LibPq* pq = LibPq::get(&error)) {
    int v = pq->lib_version();
    out += "libpq " + std::to_string(v / 10000) + "." + std::to_string(v % 10000) + " (libpq.so.5)";
  } else {
    out += "libpq: not available, PostgreSQL databases cannot be used (" + error + ")";
  }
  return out;
}

int report(const Status& s) {
  std::fprintf(stderr, "covid-etl: %s\n", scrub(s.message()).c_str());
  return exit_code(s.kind());
}

Result<std::optional<Date>> date_flag(const std::string& text, const char* name) {
  if (text.empty()) return std::optional<Date>();
  Date d;
  if (parse_date(text, &d) != DateError::kNone) {
    return Status::Usage(std::string(name) + ": '" + text + "' is not a date in YYYY-MM-DD form");
  }
  return std::optional<Date>(d);
}

// US, a state's 2-digit FIPS, a county's 5-digit FIPS, or "SS:Name" for a county without FIPS.
bool valid_location(const std::string& id) {
  auto digits = [&](size_t n) {
    if (id.size() < n) return false;
    for (size_t i = 0; i < n; ++i) {
      if (id[i] < '0' || id[i] > '9') return false;
    }
    return true;
  };
  if (id == kNation || is_country_id(id)) return true;
  if (id.size() == 2 || id.size() == 5) return digits(id.size());
  return id.size() > 3 && digits(2) && id[2] == ':';
}

int cmd_run(const CommonFlags& flags, const std::string& nyt, const std::string& jhu,
            const std::vector<std::string>& states, const std::vector<std::string>& counties,
            const std::string& population, const std::string& anomalies, const std::string& who,
            const std::vector<std::string>& replace, bool json, bool dry_run, bool accept_shrink,
            bool quiet) {
  auto config = build_run_config(flags);
  if (!config.ok()) return report(config.status());
  if (accept_shrink) config->accept_shrink = true;
  if (!nyt.empty()) config->nyt_url = nyt;
  if (!jhu.empty()) config->jhu_url = jhu;
  if (!states.empty()) {  // setting a source turns its dataset on
    config->states_urls = states;
    config->states = true;
  }
  if (!counties.empty()) {
    config->counties_urls = counties;
    config->counties = true;
  }
  if (!population.empty()) {
    config->population_url = population;
    config->populations = true;
  }
  if (!anomalies.empty()) {
    config->anomalies_url = anomalies;
    config->annotations = true;
  }
  if (!who.empty()) {
    config->who_url = who;
    config->world = true;
  }
  for (const std::string& warning : mixed_source_warnings(*config)) {
    std::fprintf(stderr, "covid-etl: warning: %s\n", scrub(warning).c_str());
  }
  CurlHttpClient http;
  SystemClock clock;
  RunOptions options;
  options.dry_run = dry_run;
  options.replace_datasets = replace;
  // Progress on a terminal only: never in a log, a pipe or JSON output (app/terminal_progress.h).
  std::optional<TerminalProgress> progress;
  if (!json && !quiet && isatty(fileno(stderr)) == 1) {
    progress.emplace(stderr);
    options.progress = &*progress;
  }
  auto store = open_store(config->db, run_store_options(*config, dry_run));
  RunSummary summary = store.ok() ? run_etl(*config, **store, http, clock, options)
                                  : run_etl_unopened(*config, store.status(), http, clock, options);
  // [publish] to: the dashboard published once the run has committed (publish/after_run.h).
  if (store.ok()) publish_after_run(*config, **store, clock, summary);
  if (json) {
    std::cout << scrub(to_json(summary).dump()) << "\n";
    std::fputs(unreachable_hint(summary).c_str(), stderr);
  } else {
    std::string text = to_text(summary);
    if (!quiet || summary.status == RunStatus::kFailed)
      std::fputs(text.c_str(), summary.status == RunStatus::kFailed ? stderr : stdout);
  }
  return summary.exit_status();
}

int cmd_export(const CommonFlags& flags, const std::string& format, const std::string& from_text,
               const std::string& to_text, const std::string& location_text, bool per_100k) {
  auto config = build_config(flags);
  if (!config.ok()) return report(config.status());
  auto from = date_flag(from_text, "--from");
  if (!from.ok()) return report(from.status());
  auto to = date_flag(to_text, "--to");
  if (!to.ok()) return report(to.status());
  if (*from && *to && **from > **to) return report(Status::Usage("--from is after --to"));
  StoreOptions so;
  so.read_only = true;
  so.lock_timeout = config->lock_timeout;
  auto store = open_store(config->db, so);
  if (!store.ok()) return report(store.status());
  // An id as it is; a FIPS code without its zero, or a name, through the stored locations.
  std::string location = serve::pad_fips(location_text);
  if (!valid_location(location)) {
    auto locations = (*store)->list_locations();
    if (!locations.ok()) return report(locations.status());
    serve::LocationIndex index(std::move(*locations));
    serve::LocationIndex::Resolved r = index.resolve(location_text);
    if (r.location == nullptr) {
      return report(Status::Usage(
          "--location: " + serve::unresolved_message(location_text, r) +
          (r.ambiguous ? ""
                       : " (give US, a state's FIPS code such as 06, a county's such as 06037, "
                         "a name such as California or \"Los Angeles, California\", or a "
                         "country's ISO alpha-3 code such as FRA)")));
    }
    location = r.location->id;
  }
  // The rates' 7-day averages are the API's (/api/v1/series, /api/v1/export.csv): made over the
  // whole series (a range's first days average the days before it) as the server makes them
  // (serve::read_location_columns), then the range is cut.
  serve::SeriesColumns series;
  if (per_100k) {
    auto read = serve::read_location_columns(**store, location);
    if (!read.ok()) return report(read.status());
    series = std::move(*read);
  } else {
    auto rows = (*store)->read_series(location, *from, *to);
    if (!rows.ok()) return report(rows.status());
    series = serve::SeriesColumns::build(location, *rows);
  }
  auto [begin, end] =
      per_100k ? series.range(*from, *to) : std::pair<size_t, size_t>(0, series.size());
  std::string out = format == "csv" ? serve::export_csv(series, begin, end, per_100k)
                                    : serve::export_json(series, begin, end, per_100k);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

// history --sources: each source's freshness (pipeline/freshness.h).
int print_sources(const Config& config, Store& store, bool json) {
  auto states = store.source_states();
  if (!states.ok()) return report(states.status());
  SystemClock clock;
  nlohmann::json arr = sources_freshness_json(
      *states, datasets(),
      FreshnessOptions{config.daily_stale_after_days, config.weekly_stale_after_days}, clock.now(),
      /*include_superseded=*/true);  // every URL kept, the old ones superseded
  if (json) {
    std::cout << scrub(arr.dump()) << "\n";
    return 0;
  }
  std::printf("%-10s %-10s %-28s %-26s %s\n", "source", "dataset", "state", "changed (UTC)", "url");
  for (const auto& s : arr) {
    auto text = [&](const char* k) { return s[k].is_string() ? s[k].get<std::string>() : "-"; };
    std::printf("%-10s %-10s %-28s %-26s %s\n", text("name").c_str(), text("dataset").c_str(),
                text("text").c_str(), text("changed_at").c_str(), scrub(text("url")).c_str());
  }
  return 0;
}

int cmd_history(const CommonFlags& flags, bool json, size_t limit, bool sources) {
  auto config = build_config(flags);
  if (!config.ok()) return report(config.status());
  StoreOptions so;
  so.read_only = true;
  auto store = open_store(config->db, so);
  if (!store.ok()) return report(store.status());
  if (sources) return print_sources(*config, **store, json);
  auto runs = (*store)->list_runs(limit);
  if (!runs.ok()) return report(runs.status());
  if (json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const RunRecord& r : *runs) arr.push_back(serve::run_record_json(r));
    std::cout << scrub(arr.dump()) << "\n";
    return 0;
  }
  std::printf("%-5s %-24s %-9s %-8s %8s %8s %9s %7s %8s %5s %5s %5s %5s  %s\n", "id",
              "started (UTC)", "status", "stage", "inserted", "updated", "unchanged", "missing",
              "warnings", "d>c", "outl", "drop", "hdr", "error");
  for (const RunRecord& r : *runs) {
    // The quality warnings by kind (pipeline/quality.h); "-" where the record does not hold them.
    nlohmann::json q = serve::run_record_json(r)["quality"];
    auto kind = [&](const char* k) {
      return q.is_object() ? std::to_string(q.value(k, uint64_t{0})) : std::string("-");
    };
    std::printf("%-5lld %-24s %-9s %-8s %8llu %8llu %9llu %7llu %8llu %5s %5s %5s %5s  %s\n",
                (long long)r.id, r.started_at.c_str(), to_string(r.status),
                r.stage.empty() ? "-" : r.stage.c_str(), (unsigned long long)r.counts.inserted,
                (unsigned long long)r.counts.updated, (unsigned long long)r.counts.unchanged,
                (unsigned long long)r.counts.missing, (unsigned long long)r.counts.warnings,
                kind("deaths_above_cases").c_str(), kind("outlier").c_str(),
                kind("rows_dropped").c_str(), kind("header_changed").c_str(),
                scrub(r.error).c_str());
  }
  return 0;
}

// notify --list | --flush | --test: the outbox and the configured channels.
int cmd_notify(const CommonFlags& flags, bool list, bool all, bool flush, bool test, bool json) {
  auto config = build_config(flags);
  if (!config.ok()) return report(config.status());
  SystemClock clock;
  Dispatcher dispatcher(config->channels, clock, config->dispatch);
  if (test) {
    Message m;
    m.event = "test";
    m.subject = "covid-etl: test message";
    m.body = "This is a test message from covid-etl (`covid-etl notify --test`).\n";
    m.payload = nlohmann::json{{"status", "test"}}.dump();
    int failed = 0;
    nlohmann::json results = nlohmann::json::array();
    for (const auto& [channel, d] : dispatcher.send_now(m)) {
      failed += d.ok ? 0 : 1;
      results.push_back({{"channel", channel},
                         {"ok", d.ok},
                         {"error", d.ok ? nlohmann::json() : nlohmann::json(d.error)}});
      if (!json)
        std::printf("%-16s %s%s\n", channel.c_str(), d.ok ? "ok" : "FAILED: ", d.error.c_str());
    }
    if (json) std::cout << results.dump() << "\n";
    return failed == 0 ? 0 : 1;
  }
  StoreOptions so;
  so.read_only = list;
  so.lock_timeout = config->lock_timeout;
  auto store = open_store(config->db, so);
  if (!store.ok()) return report(store.status());
  if (flush) {
    FlushReport r = dispatcher.flush(**store);
    if (json) {
      std::cout << nlohmann::json{{"delivered", r.delivered},
                                  {"pending", r.pending},
                                  {"failed", r.failed},
                                  {"errors", r.errors}}
                       .dump()
                << "\n";
    } else {
      std::printf("%d delivered, %d pending, %d failed\n", r.delivered, r.pending, r.failed);
      for (const std::string& e : r.errors) std::printf("  %s\n", e.c_str());
    }
    return r.pending + r.failed == 0 && r.errors.empty() ? 0 : 1;
  }
  auto messages = (*store)->list_outbox(all, 1000);
  if (!messages.ok()) return report(messages.status());
  if (json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const OutboxMessage& m : *messages) {
      arr.push_back(
          {{"id", m.id},
           {"run_id", m.run_id},
           {"channel", m.channel},
           {"event", m.event},
           {"status", to_string(m.status)},
           {"attempts", m.attempts},
           {"last_error", m.last_error.empty() ? nlohmann::json() : nlohmann::json(m.last_error)},
           {"created_at", m.created_at},
           {"delivered_at",
            m.delivered_at.empty() ? nlohmann::json() : nlohmann::json(m.delivered_at)},
           {"subject", m.subject}});
    }
    std::cout << scrub(arr.dump()) << "\n";
    return 0;
  }
  std::printf("%-5s %-5s %-12s %-9s %-9s %8s  %-24s %s\n", "id", "run", "channel", "event",
              "status", "attempts", "created (UTC)", "last error");
  for (const OutboxMessage& m : *messages) {
    std::printf("%-5lld %-5lld %-12s %-9s %-9s %8d  %-24s %s\n", (long long)m.id,
                (long long)m.run_id, m.channel.c_str(), m.event.c_str(), to_string(m.status),
                m.attempts, m.created_at.c_str(), m.last_error.c_str());
  }
  return 0;
}

// serve: the dashboard and the JSON API until SIGINT/SIGTERM (src/serve/).
int cmd_serve(const CommonFlags& flags, const std::string& listen) {
  auto config = build_config(flags);
  if (!config.ok()) return report(config.status());
  if (!listen.empty()) config->listen = listen;
  return serve::serve_command(*config);
}

// publish: the dashboard as static objects (src/publish/publisher.h).
int cmd_publish(const CommonFlags& flags, const std::string& to, bool json) {
  auto config = build_config(flags);
  if (!config.ok()) return report(config.status());
  std::string dest = to.empty() ? config->publish_to : to;
  if (dest.empty()) {
    return report(Status::Usage(
        "publish: give --to DEST (a folder, file:///PATH or s3://BUCKET/PREFIX) or [publish] to "
        "in the configuration"));
  }
  auto r = publish_to(*config, dest);
  if (!r.ok()) return report(r.status());
  if (json) {
    std::cout << nlohmann::json{{"objects", r->objects},
                                {"written", r->written},
                                {"unchanged", r->unchanged},
                                {"deleted", r->deleted},
                                {"bytes_written", r->bytes_written},
                                {"seconds", r->seconds}}
                     .dump()
              << "\n";
  } else {
    std::printf("covid-etl publish: %s\n", r->text().c_str());
  }
  return 0;
}

int main_impl(int argc, char** argv) {
  // As an AWS Lambda function's `bootstrap`, the binary gets no arguments: it is the runtime.
  std::string_view program = argv[0];
  if (program.substr(program.rfind('/') + 1) == "bootstrap" && argc == 1) {
    return run_lambda_runtime([] { return build_run_config(CommonFlags{}); }, publish_after_run);
  }

  CLI::App app{"covid-etl: download, validate and load the US COVID-19 series (NYT + JHU)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", version_text,
                       "print the version, the commit and the libraries' versions, and exit");

  CommonFlags flags;
  auto add_common = [&](CLI::App* sub) {
    sub->add_option("--config", flags.config_file, "TOML configuration file (env COVID_ETL_CONFIG)")
        ->check(CLI::ExistingFile);
    sub->add_option("--db", flags.db,
                    std::string("database: a path, sqlite:PATH or "
                                "postgresql://user:password@host:port/dbname[?schema=NAME] or "
                                "dynamodb://TABLE?region=REGION[&endpoint=URL] (env COVID_ETL_DB; "
                                "default ") +
                        kDefaultDb + ")");
  };

  std::string nyt, jhu, population, anomalies, who;
  std::vector<std::string> states, counties, replace;
  bool json = false, dry_run = false, accept_shrink = false;
  CLI::App* run = app.add_subcommand("run", "one ETL run: extract, validate, join, load");
  add_common(run);
  run->add_option("--nyt", nyt,
                  std::string("NYT national series URL or path (env COVID_ETL_NYT_URL; default ") +
                      kDefaultNytUrl + ")");
  run->add_option("--jhu", jhu,
                  std::string("JHU combined series URL or path (env COVID_ETL_JHU_URL; default ") +
                      kDefaultJhuUrl + ")");
  run->add_option(
      "--states", states,
      std::string("NYT state series URL or path, may be repeated: read in order; turns the "
                  "states dataset on (env COVID_ETL_STATES_URL; default ") +
          kDefaultStatesUrl + " when --nyt is the default too)");
  run->add_option(
      "--counties", counties,
      std::string("NYT county series URL or path, may be repeated: read in order; turns the "
                  "counties dataset on (env COVID_ETL_COUNTIES_URL; off by default; "
                  "[datasets] counties = true reads ") +
          kDefaultCountiesUrl + ")");
  run->add_option(
      "--population", population,
      std::string("JHU lookup table URL or path (populations, for rates per 100,000); turns "
                  "the populations dataset on (env COVID_ETL_POPULATION_URL; default ") +
          kDefaultPopulationUrl + " when --nyt is the default too)");
  run->add_option("--anomalies", anomalies,
                  std::string("NYT anomalies.csv URL or path: notes on anomalous days, loaded as "
                              "annotations; turns the annotations dataset on (env "
                              "COVID_ETL_ANOMALIES_URL; default ") +
                      kDefaultAnomaliesUrl + " when --nyt is the default too)");
  run->add_option(
      "--who", who,
      std::string("WHO global series URL or path (daily or weekly); turns the world dataset "
                  "on (env COVID_ETL_WHO_URL; default ") +
          kDefaultWhoUrl + " when --nyt is the default too)");
  run->add_option("--replace-dataset", replace,
                  "replace a dataset's stored rows and cadence with its source's, in the run's "
                  "one transaction (e.g. world, when the WHO's file changed from daily to weekly); "
                  "may be repeated");
  run->add_flag("--json", json, "print the run summary as one JSON object");
  bool quiet = false;
  run->add_flag("--quiet", quiet,
                "no progress on the terminal, and no summary unless the run fails")
      ->excludes("--json");
  run->add_flag("--dry-run", dry_run,
                "extract, transform and validate; report what would change; write nothing");
  run->add_flag(
      "--accept-shrink", accept_shrink,
      "load a source that has far fewer rows or dates than the last successful run read "
      "(more than [transform] max_shrink fewer: refused otherwise, as a download cut short)");

  std::string format = "csv", from, to, location = kNation;
  bool per_100k = false;
  CLI::App* exp = app.add_subcommand("export", "print the loaded series of one location");
  add_common(exp);
  exp->add_option("--format", format, "csv or json")->check(CLI::IsMember({"csv", "json"}));
  exp->add_option("--from", from, "first date, YYYY-MM-DD");
  exp->add_option("--to", to, "last date, YYYY-MM-DD");
  exp->add_option("--location", location,
                  "US (the default), a state's FIPS code such as 06 (or 6), a county's such as "
                  "06037, \"36:New York City\" for a county without FIPS, a country's ISO "
                  "alpha-3 code such as FRA, or a name: California, \"Los Angeles, California\" "
                  "(any case)");
  exp->add_flag("--per-100k", per_100k,
                "add cases_per_100k, deaths_per_100k, new_cases_avg7_per_100k and "
                "new_deaths_avg7_per_100k (empty without a population)");

  size_t limit = 50;
  bool history_json = false;
  CLI::App* hist = app.add_subcommand("history", "past runs, newest first");
  add_common(hist);
  hist->add_flag("--json", history_json, "print as a JSON array");
  bool history_sources = false;
  hist->add_flag("--sources", history_sources,
                 "each source's state instead of the runs: fresh, stale since DATE, archived");
  hist->add_option("--limit", limit, "how many runs, 1 to 1000 as the API's (default 50)")
      ->check(CLI::Range(1, 1000));

  bool list = false, all = false, flush = false, test = false, notify_json = false;
  CLI::App* notify = app.add_subcommand("notify", "the notification outbox and channels");
  add_common(notify);
  auto* list_opt = notify->add_flag("--list", list, "show pending and failed deliveries");
  notify->add_flag("--all", all, "with --list: delivered ones too")->needs(list_opt);
  auto* flush_opt = notify->add_flag("--flush", flush, "deliver what is pending now");
  auto* test_opt = notify->add_flag("--test", test,
                                    "send a test message to every channel and report each result");
  list_opt->excludes(flush_opt)->excludes(test_opt);
  flush_opt->excludes(test_opt);
  notify->add_flag("--json", notify_json, "print as JSON");

  std::string listen;
  CLI::App* serve =
      app.add_subcommand("serve", "serve the dashboard and the JSON API from the database");
  add_common(serve);
  serve->add_option("--listen", listen,
                    "HOST:PORT to listen on (default 127.0.0.1:8080; env COVID_ETL_LISTEN)");

  std::string log_format = "human";
  CLI::App* daemon = app.add_subcommand(
      "daemon", "serve the dashboard and API, and run the ETL on a schedule and on trigger");
  add_common(daemon);
  daemon->add_option("--listen", listen,
                     "HOST:PORT to listen on (default 127.0.0.1:8080; env COVID_ETL_LISTEN)");
  daemon->add_option("--log-format", log_format, "human or json")
      ->check(CLI::IsMember({"human", "json"}));

  std::string publish_dest;
  bool publish_json = false;
  CLI::App* publish = app.add_subcommand(
      "publish",
      "write the dashboard and every API response it needs as static files to a folder or an S3 "
      "bucket, incrementally");
  add_common(publish);
  publish->add_option("--to", publish_dest,
                      "where: a folder (./site), file:///PATH, or "
                      "s3://BUCKET[/PREFIX][?region=R][&endpoint=URL] (default: [publish] to; env "
                      "COVID_ETL_PUBLISH_TO)");
  publish->add_flag("--json", publish_json, "print the counts as one JSON object");

  CLI::App* lambda = app.add_subcommand(
      "lambda", "the AWS Lambda runtime loop: one ETL run per invocation (also as `bootstrap`)");
  add_common(lambda);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    if (std::string hint = unknown_name_hint(app, argc, argv); !hint.empty()) {
      std::fprintf(stderr, "covid-etl%s\nRun with --help for more information.\n", hint.c_str());
      return kUsageExit;
    }
    app.exit(e);
    return kUsageExit;
  }
  if (run->parsed())
    return cmd_run(flags, nyt, jhu, states, counties, population, anomalies, who, replace, json,
                   dry_run, accept_shrink, quiet);
  if (exp->parsed()) return cmd_export(flags, format, from, to, location, per_100k);
  if (hist->parsed()) return cmd_history(flags, history_json, limit, history_sources);
  if (serve->parsed()) return cmd_serve(flags, listen);
  if (publish->parsed()) return cmd_publish(flags, publish_dest, publish_json);
  if (daemon->parsed()) {
    return daemon_command(
        [&flags, &listen, &log_format]() -> Result<Config> {
          auto c = build_run_config(flags);
          if (!c.ok()) return c;
          if (!listen.empty()) c->listen = listen;
          if (log_format == "json") {  // every line on stderr is JSON, notifications' too
            if (c->channels.empty()) {
              ChannelConfig log;
              log.name = log.type = "log";
              c->channels.push_back(log);
            }
            for (ChannelConfig& channel : c->channels) channel.json = channel.type == "log";
          }
          return c;
        },
        log_format == "json");
  }
  if (lambda->parsed()) {
    return run_lambda_runtime([&flags] { return build_run_config(flags); }, publish_after_run);
  }
  if (notify->parsed()) {
    if (!list && !flush && !test) {
      std::fprintf(stderr, "covid-etl notify: give one of --list, --flush or --test\n");
      return kUsageExit;
    }
    return cmd_notify(flags, list, all, flush, test, notify_json);
  }
  return kUsageExit;
}

}  // namespace
}  // namespace covid

int main(int argc, char** argv) { return covid::main_impl(argc, argv); }
