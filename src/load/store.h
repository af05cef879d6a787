// Store: where covid-etl keeps its data, its run records and what it last saw of each source.
//
// Every database (SQLite now; PostgreSQL and DynamoDB later) implements this interface and
// nothing above it knows which one it talks to. The contract:
// - Data is keyed by (location, date); a LoadTransaction writes a whole run's ChangeSet, its
//   revisions, the source states and the run's record atomically: after a crash, the store
//   shows the data before or after the run, never a mix.
// - begin_load() takes the store's run lock: a second run waits at most the configured lock
//   timeout, then fails with a clear message. Loads never interleave.
// - A run is recorded as `running` by begin_run() before anything else, and its record is
//   completed either in the load transaction or, for a run that fails, by finish_run().
// - Every failure is a Status of kind kLoad; secrets in connection strings never appear in it.
// A Store is used by one thread at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "extract/fetcher.h"
#include "load/classify.h"
#include "transform/observation.h"

namespace covid {

enum class RunStatus { kRunning, kOk, kUnchanged, kFailed };
const char* to_string(RunStatus s);
std::optional<RunStatus> parse_run_status(std::string_view s);

struct RunCounts {
  uint64_t rows_read = 0;
  uint64_t inserted = 0, updated = 0, unchanged = 0, missing = 0;
  uint64_t warnings = 0, errors = 0;
};

struct RunRecord {
  int64_t id = 0;
  std::string started_at, finished_at;  // RFC 3339 UTC
  RunStatus status = RunStatus::kRunning;
  std::string stage;                    // for a failed run: extract, validate or load
  RunCounts counts;
  std::string first_date, last_date;    // of the source series
  std::string error;                    // for a failed run
  std::string sources_json;             // what was fetched: URL, HTTP status, ETag, hash, bytes
  int64_t duration_ms = 0;
};

// What a successful run saw of one source, for the next run's conditional GET.
struct SourceState {
  std::string url;
  SourceValidators validators;
  std::string content_hash;
  uint64_t bytes = 0;
};

class LoadTransaction {
 public:
  virtual ~LoadTransaction() = default;  // rolls back unless committed

  // The stored rows of a location, sorted by date.
  virtual Result<std::vector<Observation>> existing(std::string_view location) = 0;
  virtual Status write(int64_t run_id, const ChangeSet& changes) = 0;
  virtual Status save_source(int64_t run_id, const SourceState& state) = 0;
  virtual Status finish_run(const RunRecord& run) = 0;
  virtual Status commit() = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  virtual Result<int64_t> begin_run(const std::string& started_at) = 0;
  virtual Status finish_run(const RunRecord& run) = 0;
  virtual Result<std::unique_ptr<LoadTransaction>> begin_load() = 0;

  // Rows of a location within [from, to] (either end open when absent), sorted by date.
  virtual Result<std::vector<Observation>> read_series(std::string_view location,
                                                       std::optional<Date> from,
                                                       std::optional<Date> to) = 0;
  // The most recent runs first.
  virtual Result<std::vector<RunRecord>> list_runs(size_t limit) = 0;
  // Source URL -> what the last successful run saw of it.
  virtual Result<std::map<std::string, SourceState>> source_states() = 0;
  // The store's location for messages, without secrets.
  virtual std::string describe() const = 0;
};

struct StoreOptions {
  bool read_only = false;  // export, history, serve: never create or write
  std::chrono::milliseconds lock_timeout{30'000};
};

// Opens the store a --db URL names: a plain path or sqlite:PATH (postgresql:// and dynamodb://
// are reserved for their stores). A usage error for a URL no store understands.
Result<std::unique_ptr<Store>> open_store(const std::string& url, const StoreOptions& options);

}  // namespace covid
