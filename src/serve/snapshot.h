// Snapshot: everything the API answers for one version of the data, read once from the store and
// kept in memory with the common responses already made (and gzipped). SnapshotCache hands out
// the current snapshot and replaces it when the store's data_version() changes, so a run that
// commits (in this process or another) is seen by the next request (from a millisecond after
// the commit), without a restart.
//
// A Snapshot is immutable once published (its cache of derived responses is internally locked):
// share it freely between threads. SnapshotCache is thread-safe: current() never makes a
// request wait for another thread's check or rebuild (that request gets the snapshot before).
// The store is used under the cache's lock only, by one thread at a time.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "load/store.h"
#include "serve/representation.h"
#include "serve/series.h"

namespace covid::serve {

// What the runs table says, summed: for /metrics and the summary.
struct RunTotals {
  uint64_t runs = 0;
  std::array<uint64_t, 4> by_status{};  // indexed by RunStatus
  uint64_t rows_read = 0, inserted = 0, updated = 0, unchanged = 0, missing = 0;
  std::optional<RunRecord> last_run;      // the newest run
  std::optional<RunRecord> last_success;  // the newest run with status ok or unchanged
};

class Snapshot {
 public:
  static constexpr size_t kRunsKept = 1000;  // the most /api/v1/runs?limit= can ask for
  static constexpr size_t kDefaultRuns = 50;

  uint64_t version = 0;
  bool available = false;  // false: no database to read (error says why)
  std::string error;
  std::map<std::string, SeriesColumns, std::less<>> series;  // by location id
  std::vector<RunRecord> runs;                               // newest first, up to kRunsKept
  RunTotals totals;

  // Made once per version: the full series and export of every location, the summary, the
  // default page of runs, and the data part of /metrics.
  std::map<std::string, std::shared_ptr<const Representation>, std::less<>> series_full, export_full;
  std::shared_ptr<const Representation> summary, runs_default;
  std::string metrics;

  // A response for other parameters (a date range, other fields), made on first use and kept
  // with this snapshot; at most kMaxDerived are kept (beyond that they are made every time).
  std::shared_ptr<const Representation> derived(
      const std::string& key, const std::function<std::shared_ptr<const Representation>()>& make) const;
  static constexpr size_t kMaxDerived = 512;

 private:
  mutable std::mutex mu_;
  mutable std::unordered_map<std::string, std::shared_ptr<const Representation>> derived_;
};

// Reads the data for `locations` and the runs, and makes the common responses.
Result<std::shared_ptr<Snapshot>> build_snapshot(Store& store, uint64_t version,
                                                 const std::vector<std::string>& locations);

class SnapshotCache {
 public:
  using Opener = std::function<Result<std::unique_ptr<Store>>()>;
  struct Options {
    // How often current() asks the store for its data version, at most: every request that
    // arrives this long after a commit is served the new data. (Asking on every request would
    // cost SQLite a read transaction, with file-lock system calls, per request: a few
    // microseconds, a tenth of the time of a request under load.)
    std::chrono::microseconds check_interval{1000};
    // While the store cannot be opened (no database yet), how often to try again.
    std::chrono::milliseconds reopen_interval{1000};
    std::vector<std::string> locations{kNation};
  };

  SnapshotCache(Opener open, Options options);
  SnapshotCache(const SnapshotCache&) = delete;
  SnapshotCache& operator=(const SnapshotCache&) = delete;

  // Opens the store and builds the first snapshot. A usage error (a --db URL no store takes)
  // is returned; other failures leave an unavailable snapshot and are retried by current().
  Status load();
  std::shared_ptr<const Snapshot> current();
  // Makes the next current() check the store (for a caller that has just committed a run).
  void invalidate() { next_check_ns_.store(0, std::memory_order_relaxed); }
  uint64_t builds() const { return builds_.load(std::memory_order_relaxed); }

 private:
  void refresh();  // under mu_
  void set_unavailable(const std::string& error);
  void log_once(const std::string& message);

  Opener open_;
  Options options_;
  std::mutex mu_;
  std::unique_ptr<Store> store_;
  std::chrono::steady_clock::time_point next_open_{};
  std::string last_logged_;
  std::atomic<std::shared_ptr<const Snapshot>> current_;
  std::atomic<int64_t> next_check_ns_{0};
  std::atomic<uint64_t> builds_{0};
};

}  // namespace covid::serve
