// Config: everything a run needs to know, from three layers, later ones winning:
// the built-in defaults, a TOML file (--config), the environment (COVID_ETL_DB,
// COVID_ETL_NYT_URL, COVID_ETL_JHU_URL, COVID_ETL_STATES_URL, COVID_ETL_COUNTIES_URL,
// COVID_ETL_WHO_URL, COVID_ETL_POPULATION_URL, COVID_ETL_ANOMALIES_URL, COVID_ETL_LISTEN), then
// command-line flags (applied by the caller).
//
// The file is parsed, then checked: unknown keys, wrong types and out-of-range values are usage
// errors naming the file, line and column. Loading does no other I/O. Plain value.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "extract/fetcher.h"
#include "notify/channel.h"
#include "notify/dispatcher.h"
#include "transform/join.h"

namespace covid {

inline constexpr const char* kDefaultNytUrl =
    "https://raw.githubusercontent.com/nytimes/covid-19-data/master/us.csv";
inline constexpr const char* kDefaultJhuUrl =
    "https://raw.githubusercontent.com/datasets/covid-19/master/data/"
    "time-series-19-covid-combined.csv";
inline constexpr const char* kDefaultStatesUrl =
    "https://raw.githubusercontent.com/nytimes/covid-19-data/master/us-states.csv";
inline constexpr const char* kDefaultCountiesUrl =
    "https://raw.githubusercontent.com/nytimes/covid-19-data/master/us-counties.csv";
inline constexpr const char* kDefaultPopulationUrl =
    "https://raw.githubusercontent.com/CSSEGISandData/COVID-19/master/csse_covid_19_data/"
    "UID_ISO_FIPS_LookUp_Table.csv";
inline constexpr const char* kDefaultAnomaliesUrl =
    "https://raw.githubusercontent.com/nytimes/covid-19-data/master/rolling-averages/anomalies.csv";
inline constexpr const char* kDefaultWhoUrl =
    "https://srhdpeuwpubsa.blob.core.windows.net/whdh/COVID/WHO-COVID-19-global-data.csv";
inline constexpr const char* kDefaultDb = "data/covid.db";
inline constexpr const char* kDefaultListen = "127.0.0.1:8080";  // serve: the dashboard and API

struct Config {
  std::string db = kDefaultDb;
  std::string listen = kDefaultListen;  // [serve] listen, COVID_ETL_LISTEN, --listen: HOST:PORT
  // [serve] limits of the server (serve and daemon; see serve/limits.h): connections open at once,
  // per client address (0: no limit per client), and how long a request's header may take.
  uint64_t max_connections = 10'000;
  uint64_t max_connections_per_client = 64;
  std::chrono::milliseconds header_timeout{10'000};
  // [serve] frame_ancestors: the origins allowed to frame the page (`?embed=1`), each
  // "scheme://host[:port]" (host may begin with "*."); empty: framing denied (X-Frame-Options DENY,
  // CSP frame-ancestors 'none').
  std::vector<std::string> frame_ancestors;
  std::string nyt_url = kDefaultNytUrl;
  std::string jhu_url = kDefaultJhuUrl;
  // [sources] states: one URL or a list read in order; COVID_ETL_STATES_URL, --states. Empty: not
  // configured (see states_urls()).
  std::vector<std::string> states_urls;
  // [sources] counties: the same for the NYT county series; COVID_ETL_COUNTIES_URL, --counties.
  std::vector<std::string> counties_urls;
  // [sources] anomalies: the NYT's notes on anomalous days (rolling-averages/anomalies.csv);
  // COVID_ETL_ANOMALIES_URL, --anomalies. Empty: not configured (see anomalies_url()).
  std::string anomalies_url;
  // [datasets] annotations: the anomalies as annotations; unset: std::nullopt (see
  // anomalies_url()).
  std::optional<bool> annotations;
  // [sources] who: the WHO's global series; COVID_ETL_WHO_URL, --who. Empty: not configured (see
  // who_url()).
  std::string who_url;
  // [datasets]: national (default on), states (default on, see states_urls()), counties (default
  // off, see counties_urls()). An unset `states` or `counties` is std::nullopt.
  bool national = true;
  std::optional<bool> states;
  std::optional<bool> counties;
  // [sources] population: JHU's lookup table (populations); COVID_ETL_POPULATION_URL,
  // --population. Empty: not configured (see population_url()). [datasets] populations turns the
  // dataset on or off; unset: std::nullopt.
  std::string population_url;
  std::optional<bool> populations;
  std::optional<bool> world;  // [datasets] world: see who_url()
  JoinKind join = JoinKind::kLeft;
  // [transform] max_shrink: a source with this share fewer rows or dates than the last successful
  // run saw (a download cut at a line boundary looks like that) fails validation, unless
  // accept_shrink (--accept-shrink) says the source really shrank.
  double max_shrink = 0.10;
  bool accept_shrink = false;
  // [quality] outlier_threshold: the robust score above which a daily change warns
  // (pipeline/quality.h).
  double outlier_threshold = 10;
  // [freshness] daily_stale_after_days, weekly_stale_after_days: how many days without a change
  // a daily or weekly source is allowed before it is stale (pipeline/freshness.h).
  int daily_stale_after_days = 2;
  int weekly_stale_after_days = 9;
  FetchOptions fetch;
  std::chrono::milliseconds lock_timeout{30'000};
  std::vector<ChannelConfig> channels;             // [[notify]]; none: a log channel
  DispatchOptions dispatch;                        // [notifications]
  std::string dashboard_url;                       // [notifications] dashboard_url, put in messages
  std::string schedule = "15 12 * * *";            // [schedule] cron: when the daemon runs the ETL
  std::string time_zone = "UTC";                   // [schedule] time_zone: an IANA name
  std::chrono::milliseconds stop_timeout{60'000};  // [schedule] how long a stop waits for a run
  // [publish] to, COVID_ETL_PUBLISH_TO: where `run` (and the daemon, the Lambda handler) publishes
  // the dashboard after a run (`covid-etl publish --to`: a folder, file://PATH or
  // s3://BUCKET/PREFIX); empty: no publish.
  std::string publish_to;
};

// Splits "HOST:PORT" ("127.0.0.1:8080", "[::1]:8080", "localhost:0"; port 0: any free port).
// False when the text is not of that form or the port is not 0..65535.
bool parse_listen(std::string_view text, std::string* host, uint16_t* port);

// Whether `origin` may be listed in [serve] frame_ancestors: http:// or https://, then a host of
// letters, digits, '-' and '.' (it may begin with "*." for any subdomain), then an optional
// ":port"; nothing else (no path, quote, space or ';', which would change the CSP header).
bool frame_origin_ok(std::string_view origin);

// The state files a run loads, in order; empty when the states dataset is off. States are on
// unless [datasets] states = false, but with no states source configured they are loaded (from
// the upstream URL) only when the national source is the upstream one too, or when
// [datasets] states = true says so: a run given local national files loads national only.
std::vector<std::string> states_urls(const Config& config);
// The county files a run loads, in order; empty when the counties dataset is off. Counties are
// off unless a source is configured or [datasets] counties = true (then from the upstream URL
// when no source is set); [datasets] counties = false turns them off whatever the sources say.
std::vector<std::string> counties_urls(const Config& config);

// The lookup table a run loads populations from; empty when the populations dataset is off. On
// as states are: unless [datasets] populations = false, from the configured source, else from the
// upstream URL when the national series is loaded from its upstream source or [datasets]
// populations = true.
std::string population_url(const Config& config);
// The anomalies file a run loads as annotations, or "" when the annotations dataset is off. Like
// the states: on unless [datasets] annotations = false; with no [sources] anomalies it is read
// from the upstream URL only when the national dataset is on and its source is the upstream one
// (a run of states or counties alone, [datasets] national = false, reads no notes), or when
// [datasets] annotations = true says so.
std::string anomalies_url(const Config& config);
// The WHO file a run loads; empty when the world dataset is off. Like states: on unless
// [datasets] world = false; with no `who` source configured, loaded from the upstream URL only
// when the national series is loaded from its upstream source, or when [datasets] world = true
// says so.
std::string who_url(const Config& config);

// The [datasets] switches: each dataset's key and what turning it on or off sets in a Config, in
// the registry's order. The registry (pipeline/datasets.h) sits above this layer and names the
// same datasets (a unit test checks that the two agree); messages that list the datasets take
// their names from the registry.
struct DatasetSwitch {
  const char* name;
  void (*set)(Config& config, bool on);
};
const std::vector<DatasetSwitch>& dataset_switches();
// Warnings for a run whose national pair of sources is half local: one of NYT and JHU is a local
// file (a path, or file://) and the other the upstream default URL, which the run then downloads
// (and, when it is the NYT's, the states, populations, notes and the WHO's series with it). Each
// names the flag to add. Empty when both are local, both remote, or either is configured.
std::vector<std::string> mixed_source_warnings(const Config& config);

// Reads a TOML configuration file over `base`.
Result<Config> load_config_file(const std::string& path, Config base);

// Remembers every secret the configuration holds (common/secrets.h): those in the source URLs
// and the database URL, and those the notification channels use.
void remember_config_secrets(const Config& config);

// Applies the COVID_ETL_* variables found by `getenv` (std::getenv by default).
void apply_environment(Config& config, const std::function<const char*(const char*)>& getenv = {});

}  // namespace covid
