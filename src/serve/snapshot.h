// Snapshot: everything the API answers for one version of the data, read once from the store and
// kept in memory with the common responses already made (and gzipped). SnapshotCache hands out
// the current snapshot and replaces it when the store's data_version() changes, so a run that
// commits (in this process or another) is seen by the next request (from a millisecond after
// the commit), without a restart.
//
// The nation's series is read with the snapshot. What is only sometimes asked for is read from
// the store on first use and then kept with the snapshot, so for one version of the data: the
// list of locations (Store::list_locations), the series of any other location (one indexed read,
// Store::read_series; kept in a least-recently-used cache bounded in bytes), and the table of
// states (every state's series, read once), the rankings and the map levels (each level's series
// read once; SnapshotCache::once makes a caller that comes meanwhile wait for that one). A new
// version starts with none of them; with Options::prebuild_maps a thread of the cache builds the
// map levels of each new version at once, off the requests' path.
//
// When the store cannot be read any more (a server gone, a SQLite file deleted), the last snapshot
// is still served and problem() says why, until the store can be read again. A store whose
// data_version() fails is opened again at once (a SQLite file replaced by another, `mv new.db
// covid.db`, is noticed there: sqlite/sqlite_store.h), then once every reopen_interval; a store
// opened again always gets a new snapshot.
//
// A Snapshot is immutable once published (its caches of responses made on demand are internally
// locked): share it freely between threads. SnapshotCache is thread-safe: current() never makes a
// request wait for another thread's check or rebuild (that request gets the snapshot before).
// The store is used under the cache's lock only, by one thread at a time: a request that needs
// a read (a series not cached yet) waits for the lock; one served from memory never does.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "load/store.h"
#include "pipeline/freshness.h"
#include "serve/annotated_average.h"
#include "serve/locations.h"
#include "serve/lru.h"
#include "serve/map_data.h"
#include "serve/representation.h"
#include "serve/series.h"
#include "serve/views.h"  // RunTotals

namespace covid::serve {

// The series of one location other than the nation, read on first use: its columns and the
// response with every date.
struct LocationSeries {
  SeriesColumns columns;
  std::shared_ptr<const Representation> full;
  size_t bytes() const;  // about what it holds in memory
};

class Snapshot {
 public:
  static constexpr size_t kRunsKept = 1000;  // the most /api/v1/runs?limit= can ask for
  static constexpr size_t kDefaultRuns = 50;
  // The series of other locations kept per snapshot: at most this many, within the byte budget
  // of SnapshotCache::Options::series_cache_bytes (a county's full series is ~100 KB).
  static constexpr size_t kMaxSeriesKept = 4096;
  static constexpr size_t kDefaultSeriesCacheBytes = size_t{64} << 20;

  explicit Snapshot(size_t series_cache_bytes = kDefaultSeriesCacheBytes)
      : series_cache_(kMaxSeriesKept, series_cache_bytes) {}

  uint64_t version = 0;
  bool available = false;  // false: no database to read (error says why)
  std::string error;
  std::map<std::string, SeriesColumns, std::less<>> series;  // by location id
  // Every population the store holds, by location id (Store::populations(), read with the
  // snapshot): the series' rates per 100,000 and the locations' `population`.
  std::map<std::string, int64_t, std::less<>> populations;
  std::optional<int64_t> population(std::string_view id) const {
    auto it = populations.find(id);
    return it == populations.end() ? std::nullopt : std::optional<int64_t>(it->second);
  }
  std::vector<RunRecord> runs;  // newest first, up to kRunsKept
  // Every annotation (Store::read_annotations), sorted by key: read with the snapshot (the NYT's
  // whole file is ~1,700 notes), applied to every series' averages (serve/annotated_average.h)
  // and answered by /api/v1/annotations.
  std::vector<Annotation> annotations;
  // The sums of the states' averages by date (serve/annotated_average.h), read with the snapshot:
  // the nation's averages.
  StateAverageSums state_sums;
  // Each state's report_days(), read with the snapshot: its counties' averages.
  std::map<std::string, std::vector<int32_t>, std::less<>> state_reports;
  // A location's series as every response shows it: built from its rows, its averages following
  // the annotations and, for a county, its state's reports (the nation's the sums of its states'),
  // then its rates from its population.
  SeriesColumns columns(std::string location, const std::vector<Observation>& rows) const;
  RunTotals totals;
  // Each source's freshness when the snapshot was made (pipeline/freshness.h, default
  // allowances), a JSON array.
  std::string sources_json = "[]";

  // Made once per version: the full series and export of every location, the summary, the
  // default page of runs, and the data part of /metrics.
  std::map<std::string, std::shared_ptr<const Representation>, std::less<>> series_full,
      export_full;
  std::shared_ptr<const Representation> summary, runs_default;
  std::string metrics;

  // A response for other parameters (a date range, other fields, a search), made on first use
  // and kept with this snapshot; the least recently used are dropped beyond kMaxDerived of them
  // or kMaxDerivedBytes.
  std::shared_ptr<const Representation> derived(
      const std::string& key,
      const std::function<std::shared_ptr<const Representation>()>& make) const;
  static constexpr size_t kMaxDerived = 512;
  static constexpr size_t kMaxDerivedBytes = size_t{32} << 20;

  // The series of other locations this snapshot holds now (they come and go; for /metrics).
  size_t series_cached() const { return series_cache_.size(); }

 private:
  friend class SnapshotCache;  // fills what is read on first use

  mutable LruCache<Representation> derived_{kMaxDerived, kMaxDerivedBytes};
  mutable LruCache<LocationSeries> series_cache_;
  // What is made from a whole level's series once per version, on first use: the first caller
  // makes it, any other that asks meanwhile waits for that one (SnapshotCache::once).
  template <typename T>
  using Made = std::shared_future<Result<std::shared_ptr<const T>>>;

  mutable std::mutex lazy_mu_;  // guards the three below
  mutable std::shared_ptr<const LocationIndex> locations_;
  mutable std::map<std::string, Made<Representation>, std::less<>> made_;  // states, rankings
  mutable std::map<std::string, Made<MapLevel>, std::less<>> maps_;
};

// Reads the data for `locations` and the runs, and makes the common responses; the sources'
// states are judged with `freshness` (the configured [freshness] allowances).
Result<std::shared_ptr<Snapshot>> build_snapshot(
    Store& store, uint64_t version, const std::vector<std::string>& locations,
    size_t series_cache_bytes = Snapshot::kDefaultSeriesCacheBytes,
    const FreshnessOptions& freshness = {});

// One location's series as every response shows it (Snapshot::columns: its averages with the
// NYT's notes, the nation's the sums of its states', its rates), read from `store` alone: for
// `covid-etl export`, which has no snapshot.
Result<SeriesColumns> read_location_columns(Store& store, const std::string& location);

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
    // The series read with every snapshot; any other location's is read on first use.
    std::vector<std::string> locations{kNation};
    // The memory each snapshot may keep for the series of other locations (least recently used
    // dropped beyond it).
    size_t series_cache_bytes = Snapshot::kDefaultSeriesCacheBytes;
    // How long a source may go unchanged before /api/v1/summary calls it stale ([freshness]).
    FreshnessOptions freshness;
    // Build the map levels (state, county, country: map_level()) of each new version of the
    // data at once, in a thread of the cache's own, off the requests' path: the first
    // /api/v1/map of the counties would otherwise read every county's series (seconds). A
    // request that comes while a level is being built waits for that build. `serve` and the
    // daemon turn it on.
    bool prebuild_maps = false;
    // What the cache's log lines on stderr (the database unreadable, then readable again)
    // start with; empty: no log lines (a caller that reports the failure itself).
    std::string log_prefix = "covid-etl serve";
  };

  SnapshotCache(Opener open, Options options);
  ~SnapshotCache();  // stops the map builder (a level being read is abandoned)
  SnapshotCache(const SnapshotCache&) = delete;
  SnapshotCache& operator=(const SnapshotCache&) = delete;

  // Opens the store and builds the first snapshot. A usage error (a --db URL no store takes)
  // is returned; other failures leave an unavailable snapshot and are retried by current().
  Status load();
  std::shared_ptr<const Snapshot> current();
  // Why the store cannot be read now while an older snapshot is served, or nullptr when it can
  // (or when nothing is served: current() says so then).
  std::shared_ptr<const std::string> problem() const { return problem_.load(); }
  // One run's record, read from the store by its key (Store::get_run); an error when the store
  // cannot be read now.
  Result<std::optional<RunRecord>> run(int64_t id);
  // Makes the next current() check the store (for a caller that has just committed a run).
  void invalidate() { next_check_ns_.store(0, std::memory_order_relaxed); }
  uint64_t builds() const { return builds_.load(std::memory_order_relaxed); }

  // What `snap` holds for one version of the data beyond what build_snapshot() made: each read
  // from the store on first use (under the cache's lock) and kept with `snap`. A store that
  // fails, or none open (the database went away), is an error (the API answers 503).
  //
  // Every location the store knows.
  Result<std::shared_ptr<const LocationIndex>> locations(const Snapshot& snap);
  // The series of any location: nullptr for one the store does not know. The nation's, and
  // those of Options::locations, are answered from snap.series instead, which this does not
  // consult.
  Result<std::shared_ptr<const LocationSeries>> series(const Snapshot& snap,
                                                       std::string_view location);
  // The columns of any location's series as series() makes them (nullopt for one the store
  // does not know), read from the store each time and not kept, with no response made: for
  // `covid-etl publish`, which reads every location once and renders its own objects.
  Result<std::optional<SeriesColumns>> read_columns(const Snapshot& snap,
                                                    std::string_view location);
  // The table of states (/api/v1/states, locations.h: states_json), made from every state's series.
  Result<std::shared_ptr<const Representation>> states(const Snapshot& snap);
  // The rankings of a level (/api/v1/rankings, locations.h: rankings_json): `level` state,
  // county (of `state`, a state's id: required) or country; made from the level's series, read
  // once per version of the data and level, and kept with `snap`.
  Result<std::shared_ptr<const Representation>> rankings(const Snapshot& snap,
                                                         const std::string& level,
                                                         const std::string& state);
  // Every location of a level (state, county, country) with its 7-day averages on one date axis,
  // for /api/v1/map (map_data.h): every series of the level read once per version of the data
  // (ahead of any request with Options::prebuild_maps).
  Result<std::shared_ptr<const MapLevel>> map_level(const Snapshot& snap, std::string_view level);
  // Series read from the store by series(), states() and rankings() since start (a cached one is
  // not read).
  uint64_t series_reads() const { return series_reads_.load(std::memory_order_relaxed); }
  // Map levels built since start (map_level(), on request or ahead of it), and the series they
  // read.
  uint64_t map_builds() const { return map_builds_.load(std::memory_order_relaxed); }
  uint64_t map_reads() const { return map_reads_.load(std::memory_order_relaxed); }

 private:
  void refresh();  // under mu_
  // `slots[key]` of a snapshot: made by make() the first time it is asked for (outside any lock),
  // waited for by every caller that asks while it is being made. A failure is given to them and
  // forgotten: the next caller makes it again.
  template <typename T>
  Result<std::shared_ptr<const T>> once(
      const Snapshot& snap, std::map<std::string, Snapshot::Made<T>, std::less<>>& slots,
      std::string_view key, const std::function<Result<std::shared_ptr<const T>>()>& make);
  // One location's rows from the store, counted in series_reads_; the caller holds mu_.
  Result<std::vector<Observation>> read_rows(std::string_view location);
  // The series of every location of `level` (only the counties of `state` when it is not empty),
  // as the API shows them, in the index's order: one read from the store each, under mu_.
  // Each read is counted in `reads`. Abandoned (an error) when the cache is being destroyed.
  Result<std::vector<StateSeries>> read_level(const Snapshot& snap, const LocationIndex& index,
                                              std::string_view level, std::string_view state,
                                              std::atomic<uint64_t>& reads);
  // The map builder's thread (Options::prebuild_maps): builds the levels of prebuild_next_.
  void prebuild_loop();
  void set_unavailable(const std::string& error);
  void log_once(const std::string& message);

  Opener open_;
  Options options_;
  std::mutex mu_;
  std::unique_ptr<Store> store_;
  std::chrono::steady_clock::time_point next_open_{};
  std::string last_logged_;
  std::atomic<std::shared_ptr<const Snapshot>> current_;
  std::atomic<std::shared_ptr<const std::string>> problem_;
  std::atomic<int64_t> next_check_ns_{0};
  std::atomic<uint64_t> builds_{0};
  std::atomic<uint64_t> series_reads_{0};
  std::atomic<uint64_t> map_builds_{0};
  std::atomic<uint64_t> map_reads_{0};
  std::atomic<bool> stopping_{false};
  std::mutex prebuild_mu_;  // guards prebuild_next_
  std::condition_variable prebuild_cv_;
  std::shared_ptr<const Snapshot> prebuild_next_;  // the newest snapshot whose maps are not built
  std::thread prebuilder_;                         // last: started once the rest is made
};

}  // namespace covid::serve
