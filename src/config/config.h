// Config: everything a run needs to know, from three layers, later ones winning:
// the built-in defaults, a TOML file (--config), the environment (COVID_ETL_DB,
// COVID_ETL_NYT_URL, COVID_ETL_JHU_URL), then command-line flags (applied by the caller).
//
// The file is parsed, then checked: unknown keys, wrong types and out-of-range values are usage
// errors naming the file, line and column. Loading does no other I/O. Plain value.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "common/status.h"
#include "extract/fetcher.h"
#include "transform/join.h"

namespace covid {

inline constexpr const char* kDefaultNytUrl =
    "https://raw.githubusercontent.com/nytimes/covid-19-data/master/us.csv";
inline constexpr const char* kDefaultJhuUrl =
    "https://raw.githubusercontent.com/datasets/covid-19/master/data/time-series-19-covid-combined.csv";
inline constexpr const char* kDefaultDb = "data/covid.db";

struct Config {
  std::string db = kDefaultDb;
  std::string nyt_url = kDefaultNytUrl;
  std::string jhu_url = kDefaultJhuUrl;
  JoinKind join = JoinKind::kLeft;
  FetchOptions fetch;
  std::chrono::milliseconds lock_timeout{30'000};
};

// Reads a TOML configuration file over `base`.
Result<Config> load_config_file(const std::string& path, Config base);

// Applies the COVID_ETL_* variables found by `getenv` (std::getenv by default).
void apply_environment(Config& config,
                       const std::function<const char*(const char*)>& getenv = {});

}  // namespace covid
