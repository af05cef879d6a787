#include "load/store.h"

#include "load/sqlite/sqlite_store.h"

namespace covid {

const char* to_string(RunStatus s) {
  switch (s) {
    case RunStatus::kRunning: return "running";
    case RunStatus::kOk: return "ok";
    case RunStatus::kUnchanged: return "unchanged";
    case RunStatus::kFailed: return "failed";
  }
  return "failed";
}

std::optional<RunStatus> parse_run_status(std::string_view s) {
  for (RunStatus r : {RunStatus::kRunning, RunStatus::kOk, RunStatus::kUnchanged, RunStatus::kFailed}) {
    if (s == to_string(r)) return r;
  }
  return std::nullopt;
}

Result<std::unique_ptr<Store>> open_store(const std::string& url, const StoreOptions& options) {
  std::string_view u = url;
  if (u.empty()) return Status::Usage("no database given (--db, COVID_ETL_DB or db in the configuration)");
  if (u.starts_with("sqlite://")) {
    u.remove_prefix(9);
  } else if (u.starts_with("sqlite:")) {
    u.remove_prefix(7);
  } else if (u.starts_with("postgresql://") || u.starts_with("postgres://") ||
             u.starts_with("dynamodb://")) {
    return Status::Usage("database URL scheme '" + std::string(u.substr(0, u.find(':'))) +
                         "' is not supported by this build yet; use a SQLite path");
  } else if (u.find("://") != std::string_view::npos) {
    return Status::Usage("unknown database URL scheme in '" + std::string(u.substr(0, u.find(':'))) +
                         "://...'; use a path or sqlite:PATH");
  }
  if (u.empty()) return Status::Usage("empty SQLite path in database URL");
  return SqliteStore::open(std::string(u), options);
}

}  // namespace covid
