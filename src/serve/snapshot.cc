#include "serve/snapshot.h"

#include <cstdio>
#include <future>

#include "pipeline/freshness.h"
#include "serve/annotated_average.h"
#include "serve/views.h"
#include "transform/country_codes.h"
#include "transform/location.h"
#include "transform/state_fips.h"

namespace covid::serve {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr const char* kJson = "application/json";
constexpr const char* kCsv = "text/csv; charset=utf-8";
// Data may change with the next run: caches must ask again, and get a 304 when it did not.
constexpr const char* kDataCache = "no-cache";
// Responses made on demand: a lower gzip level than the precomputed ones' 9.
constexpr int kOnDemandGzipLevel = 6;
// All runs ever recorded are summed for /metrics.
constexpr size_t kRunsSummed = 10'000'000;

int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now().time_since_epoch())
      .count();
}

size_t representation_bytes(const Representation& r) {
  return sizeof r + r.identity.size() + r.gzip.size() + r.etag.size() + r.etag_gzip.size();
}

}  // namespace

size_t LocationSeries::bytes() const {
  const SeriesColumns& s = columns;
  size_t n = sizeof *this + s.location.size() +
             s.size() * (sizeof(Date) + 5 * sizeof(int64_t) + 2 * sizeof(double));
  return n + (full ? representation_bytes(*full) : 0);
}

std::shared_ptr<const Representation> Snapshot::derived(
    const std::string& key,
    const std::function<std::shared_ptr<const Representation>()>& make) const {
  if (auto hit = derived_.get(key)) return hit;
  auto rep = make();  // outside any lock: two threads may make the same one; the first is kept
  return derived_.put(key, rep, representation_bytes(*rep) + key.size());
}

SeriesColumns Snapshot::columns(std::string location, const std::vector<Observation>& rows) const {
  SeriesColumns s = SeriesColumns::build(location, rows);
  const std::vector<int32_t>* carried_by = nullptr;
  if (std::string_view(location_level(s.location)) == "county") {
    auto state = state_reports.find(std::string_view(s.location).substr(0, 2));
    if (state != state_reports.end()) carried_by = &state->second;
  }
  apply_annotations(s, annotations, carried_by);
  if (s.location == kNation) use_state_sums(s, state_sums);
  s.set_population(population(location));
  return s;
}

namespace {

// What every series of a snapshot is made with: the populations, the notes, and the `states`'
// averages (for the nation's) and reports (for their counties').
Status read_reference(Store& store, Snapshot& snap, const std::vector<std::string_view>& states) {
  auto populations = store.populations();
  if (!populations.ok()) return populations.status();
  for (const Population& p : *populations) snap.populations.emplace(p.location, p.population);
  auto annotations = store.read_annotations("", std::nullopt, std::nullopt);
  if (!annotations.ok()) return annotations.status();
  snap.annotations = std::move(*annotations);
  // Each state by its code (a list of the locations would be a Scan on DynamoDB); a state the
  // store does not hold has no rows.
  for (std::string_view fips : states) {
    auto rows = store.read_series(fips, std::nullopt, std::nullopt);
    if (!rows.ok()) return rows.status();
    if (rows->empty()) continue;
    SeriesColumns state = snap.columns(std::string(fips), *rows);
    snap.state_sums.add(state);
    snap.state_reports.emplace(std::string(fips), report_days(state));
  }
  return Status::Ok();
}

// Every state's code.
std::vector<std::string_view> all_states() {
  std::vector<std::string_view> out;
  for (const auto& [fips, name] : kStatesByFips) out.push_back(fips);
  return out;
}

}  // namespace

Result<SeriesColumns> read_location_columns(Store& store, const std::string& location) {
  Snapshot snap(0);
  std::string_view level = location_level(location);
  std::vector<std::string_view> states =
      level == "nation"   ? all_states()
      : level == "county" ? std::vector<std::string_view>{std::string_view(location).substr(0, 2)}
                          : std::vector<std::string_view>{};
  COVID_RETURN_IF_ERROR(read_reference(store, snap, states));
  auto rows = store.read_series(location, std::nullopt, std::nullopt);
  if (!rows.ok()) return rows.status();
  return snap.columns(location, *rows);
}

Result<std::shared_ptr<Snapshot>> build_snapshot(Store& store, uint64_t version,
                                                 const std::vector<std::string>& locations,
                                                 size_t series_cache_bytes,
                                                 const FreshnessOptions& freshness) {
  auto snap = std::make_shared<Snapshot>(series_cache_bytes);
  snap->version = version;
  snap->available = true;
  // The nation's averages are the sums of its states', a county's are over its state's reports.
  COVID_RETURN_IF_ERROR(read_reference(store, *snap, all_states()));
  for (const std::string& loc : locations) {
    auto rows = store.read_series(loc, std::nullopt, std::nullopt);
    if (!rows.ok()) return rows.status();
    snap->series.emplace(loc, snap->columns(loc, *rows));
  }
  auto runs = store.list_runs(kRunsSummed);
  if (!runs.ok()) return runs.status();
  snap->totals = total_runs(*runs);
  auto states = store.source_states();
  if (!states.ok()) return states.status();
  snap->sources_json =
      sources_freshness_json(*states, datasets(), freshness, std::chrono::system_clock::now())
          .dump();
  if (runs->size() > Snapshot::kRunsKept) runs->resize(Snapshot::kRunsKept);
  snap->runs = std::move(*runs);

  for (const auto& [loc, s] : snap->series) {
    snap->series_full.emplace(loc,
                              Representation::make(kJson, series_json(s, 0, s.size()), kDataCache));
    snap->export_full.emplace(
        loc, Representation::make(
                 kCsv, export_csv(s, 0, s.size()), kDataCache, 9,
                 {{"Content-Disposition", "attachment; filename=\"covid-" + loc + ".csv\""}}));
  }
  auto nation = snap->series.find(kNation);
  snap->summary = Representation::make(
      kJson,
      summary_json(snap->totals, kNation, nation != snap->series.end() ? &nation->second : nullptr,
                   snap->sources_json),
      kDataCache);
  snap->runs_default =
      Representation::make(kJson, runs_json(snap->runs, Snapshot::kDefaultRuns), kDataCache);
  snap->metrics = data_metrics(snap->available, snap->totals, snap->series);
  return snap;
}

SnapshotCache::SnapshotCache(Opener open, Options options)
    : open_(std::move(open)), options_(std::move(options)) {
  auto empty = std::make_shared<Snapshot>();
  empty->error = "the database has not been read yet";
  empty->metrics = data_metrics(empty->available, empty->totals, empty->series);
  current_.store(std::move(empty));
  if (options_.prebuild_maps) prebuilder_ = std::thread([this] { prebuild_loop(); });
}

SnapshotCache::~SnapshotCache() {
  if (!prebuilder_.joinable()) return;
  {
    std::lock_guard lock(prebuild_mu_);
    stopping_.store(true);
  }
  prebuild_cv_.notify_all();
  prebuilder_.join();
}

void SnapshotCache::prebuild_loop() {
  for (;;) {
    std::shared_ptr<const Snapshot> snap;
    {
      std::unique_lock lock(prebuild_mu_);
      prebuild_cv_.wait(lock, [&] { return stopping_.load() || prebuild_next_ != nullptr; });
      if (stopping_.load()) return;
      snap = std::move(prebuild_next_);
    }
    for (const char* level : {"state", "county", "country"}) {
      {
        std::lock_guard lock(prebuild_mu_);  // a newer version came meanwhile: build that one
        if (stopping_.load() || prebuild_next_ != nullptr) break;
      }
      (void)map_level(*snap, level);  // a failure is logged; the next request tries again
    }
  }
}

Status SnapshotCache::load() {
  std::lock_guard lock(mu_);
  auto store = open_();
  if (!store.ok()) {
    if (store.status().kind() == ErrorKind::kUsage) return store.status();
    set_unavailable(store.status().message());
    log_once(store.status().message() + "; serving without data until it can be read");
    next_open_ = SteadyClock::now() + options_.reopen_interval;
    return Status::Ok();
  }
  store_ = std::move(*store);
  refresh();
  return Status::Ok();
}

std::shared_ptr<const Snapshot> SnapshotCache::current() {
  int64_t now = steady_ns();
  if (now >= next_check_ns_.load(std::memory_order_relaxed)) {
    std::unique_lock lock(mu_, std::try_to_lock);
    if (lock.owns_lock()) {
      next_check_ns_.store(now + std::chrono::nanoseconds(options_.check_interval).count(),
                           std::memory_order_relaxed);
      refresh();
    }
  }
  return current_.load();
}

void SnapshotCache::refresh() {
  bool reopened = false;
  if (!store_) {
    if (SteadyClock::now() < next_open_) return;
    auto store = open_();
    if (!store.ok()) {
      next_open_ = SteadyClock::now() + options_.reopen_interval;
      set_unavailable(store.status().message());
      return;
    }
    store_ = std::move(*store);
    reopened = true;
  }
  auto version = store_->data_version();
  if (!version.ok() && !reopened) {
    // A connection lost, or a SQLite file replaced or deleted: open the store again at once. The
    // old one is closed first (SQLite: the new file must not share the old one's -shm).
    log_once(version.status().message());
    store_.reset();
    auto store = open_();
    if (store.ok()) {
      store_ = std::move(*store);
      reopened = true;
      version = store_->data_version();
    } else {
      version = store.status();
    }
  }
  if (!version.ok()) {
    log_once(version.status().message());
    set_unavailable(version.status().message());
    store_.reset();  // open again, a moment later
    next_open_ = SteadyClock::now() + options_.reopen_interval;
    return;
  }
  auto cur = current_.load();
  // A store opened again may be another database (a file replaced), and versions of two
  // connections do not compare (SQLite): read it whatever its version says.
  if (cur->available && cur->version == *version && !reopened) {
    if (problem_.load()) problem_.store(nullptr);
    return;
  }
  if (cur->available && cur->totals.runs == 0) {
    // The store was opened before any run: it may have been a file whose schema was not written
    // yet, which a store reads as empty for as long as it stays open. Open it again.
    auto reopened_store = open_();
    if (reopened_store.ok()) {
      store_ = std::move(*reopened_store);
      version = store_->data_version();
      if (!version.ok()) return;
    }
  }
  auto snap = build_snapshot(*store_, *version, options_.locations, options_.series_cache_bytes,
                             options_.freshness);
  if (!snap.ok()) {
    log_once(snap.status().message());
    // Keep serving the last good data (said so by problem()); try again on the next check.
    set_unavailable(snap.status().message());
    store_.reset();
    next_open_ = SteadyClock::now() + options_.reopen_interval;
    return;
  }
  builds_.fetch_add(1, std::memory_order_relaxed);
  if (!last_logged_.empty()) {
    if (!options_.log_prefix.empty()) {
      std::fprintf(stderr, "%s: reading the database again\n", options_.log_prefix.c_str());
    }
    last_logged_.clear();
  }
  std::shared_ptr<const Snapshot> published(std::move(*snap));
  current_.store(published);
  problem_.store(nullptr);
  if (prebuilder_.joinable()) {
    {
      std::lock_guard lock(prebuild_mu_);
      prebuild_next_ = std::move(published);
    }
    prebuild_cv_.notify_one();
  }
}

Result<std::optional<RunRecord>> SnapshotCache::run(int64_t id) {
  std::lock_guard lock(mu_);
  if (!store_) return Status::Load("the database cannot be read now");
  auto found = store_->get_run(id);
  if (!found.ok()) log_once(found.status().message());
  return found;
}

Result<std::shared_ptr<const LocationIndex>> SnapshotCache::locations(const Snapshot& snap) {
  {
    std::lock_guard lock(snap.lazy_mu_);
    if (snap.locations_) return snap.locations_;
  }
  std::lock_guard lock(mu_);
  {
    std::lock_guard lazy(snap.lazy_mu_);  // another thread may have read them while we waited
    if (snap.locations_) return snap.locations_;
  }
  if (!store_) return Status::Load("the database cannot be read now");
  auto list = store_->list_locations();
  if (!list.ok()) {
    log_once(list.status().message());
    return list.status();
  }
  auto index = std::make_shared<const LocationIndex>(std::move(*list), snap.populations);
  std::lock_guard lazy(snap.lazy_mu_);
  snap.locations_ = index;
  return index;
}

Result<std::shared_ptr<const LocationSeries>> SnapshotCache::series(const Snapshot& snap,
                                                                    std::string_view location) {
  std::string key(location);
  if (auto hit = snap.series_cache_.get(key)) return hit;
  auto index = locations(snap);
  if (!index.ok()) return index.status();
  if ((*index)->find(location) == nullptr) return std::shared_ptr<const LocationSeries>();
  std::vector<Observation> rows;
  {
    std::lock_guard lock(mu_);
    if (auto hit = snap.series_cache_.get(key)) return hit;  // read by another thread meanwhile
    auto read = read_rows(location);
    if (!read.ok()) return read.status();
    rows = std::move(*read);
  }
  auto entry = std::make_shared<LocationSeries>();
  entry->columns = snap.columns(key, rows);
  const SeriesColumns& s = entry->columns;
  entry->full =
      Representation::make(kJson, series_json(s, 0, s.size()), kDataCache, kOnDemandGzipLevel);
  size_t bytes = entry->bytes();
  return snap.series_cache_.put(key, std::move(entry), bytes);
}

Result<std::vector<Observation>> SnapshotCache::read_rows(std::string_view location) {
  if (!store_) return Status::Load("the database cannot be read now");
  auto read = store_->read_series(location, std::nullopt, std::nullopt);
  if (!read.ok()) {
    log_once(read.status().message());
    return read.status();
  }
  series_reads_.fetch_add(1, std::memory_order_relaxed);
  return read;
}

Result<std::optional<SeriesColumns>> SnapshotCache::read_columns(const Snapshot& snap,
                                                                 std::string_view location) {
  auto index = locations(snap);
  if (!index.ok()) return index.status();
  if ((*index)->find(location) == nullptr) return std::optional<SeriesColumns>();
  std::vector<Observation> rows;
  {
    std::lock_guard lock(mu_);
    auto read = read_rows(location);
    if (!read.ok()) return read.status();
    rows = std::move(*read);
  }
  return std::optional<SeriesColumns>(snap.columns(std::string(location), rows));
}

template <typename T>
Result<std::shared_ptr<const T>> SnapshotCache::once(
    const Snapshot& snap, std::map<std::string, Snapshot::Made<T>, std::less<>>& slots,
    std::string_view key, const std::function<Result<std::shared_ptr<const T>>()>& make) {
  std::unique_lock lazy(snap.lazy_mu_);
  if (auto it = slots.find(key); it != slots.end()) {
    Snapshot::Made<T> made = it->second;
    lazy.unlock();
    return made.get();  // made, or being made by another thread: wait for it
  }
  std::promise<Result<std::shared_ptr<const T>>> promise;
  slots.emplace(std::string(key), promise.get_future().share());
  lazy.unlock();
  Result<std::shared_ptr<const T>> result = make();
  if (!result.ok()) {
    lazy.lock();
    slots.erase(slots.find(key));
    lazy.unlock();
  }
  promise.set_value(result);
  return result;
}

Result<std::vector<StateSeries>> SnapshotCache::read_level(const Snapshot& snap,
                                                           const LocationIndex& index,
                                                           std::string_view level,
                                                           std::string_view state,
                                                           std::atomic<uint64_t>& reads) {
  std::vector<StateSeries> out;
  for (const Location& l : index.all()) {
    if (l.type != level) continue;
    // A county's id begins with its state's: 06037, or 36:New York City.
    if (!state.empty() &&
        (l.id.size() < state.size() + 1 || l.id.compare(0, state.size(), state) != 0))
      continue;
    if (stopping_.load(std::memory_order_relaxed)) return Status::Load("the server is stopping");
    std::vector<Observation> rows;
    {
      // The lock for each read only, so that a request that needs the store (another location's
      // series) is not kept waiting for a whole level (every county: seconds).
      std::lock_guard lock(mu_);
      if (!store_) return Status::Load("the database cannot be read now");
      auto read = store_->read_series(l.id, std::nullopt, std::nullopt);
      if (!read.ok()) {
        log_once(read.status().message());
        return read.status();
      }
      rows = std::move(*read);
    }
    reads.fetch_add(1, std::memory_order_relaxed);
    out.push_back(StateSeries{&l, snap.columns(l.id, rows)});
  }
  return out;
}

Result<std::shared_ptr<const Representation>> SnapshotCache::states(const Snapshot& snap) {
  return once<Representation>(
      snap, snap.made_, "states", [&]() -> Result<std::shared_ptr<const Representation>> {
        auto index = locations(snap);
        if (!index.ok()) return index.status();
        auto states = read_level(snap, **index, "state", "", series_reads_);
        if (!states.ok()) return states.status();
        return Representation::make(kJson, states_json(*states), kDataCache, kOnDemandGzipLevel);
      });
}

Result<std::shared_ptr<const Representation>> SnapshotCache::rankings(const Snapshot& snap,
                                                                      const std::string& level,
                                                                      const std::string& state) {
  return once<Representation>(snap, snap.made_, "rankings|" + level + "|" + state,
                              [&]() -> Result<std::shared_ptr<const Representation>> {
                                auto index = locations(snap);
                                if (!index.ok()) return index.status();
                                auto rows = read_level(snap, **index, level, state, series_reads_);
                                if (!rows.ok()) return rows.status();
                                return Representation::make(kJson,
                                                            rankings_json(level, state, *rows),
                                                            kDataCache, kOnDemandGzipLevel);
                              });
}

Result<std::shared_ptr<const MapLevel>> SnapshotCache::map_level(const Snapshot& snap,
                                                                 std::string_view level) {
  return once<MapLevel>(snap, snap.maps_, level, [&]() -> Result<std::shared_ptr<const MapLevel>> {
    auto index = locations(snap);
    if (!index.ok()) return index.status();
    auto rows = read_level(snap, **index, level, "", map_reads_);
    if (!rows.ok()) return rows.status();
    const CountryCodes* codes = nullptr;
    if (level == "country" && iso_country_codes().ok()) codes = &*iso_country_codes();
    std::vector<const Location*> locs;
    std::vector<SeriesColumns> series;
    std::vector<std::string> numeric;
    for (StateSeries& r : *rows) {
      locs.push_back(r.location);
      numeric.push_back(codes != nullptr ? codes->numeric(r.location->id) : std::string());
      series.push_back(std::move(r.series));
    }
    auto made =
        std::make_shared<const MapLevel>(make_map_level(std::string(level), locs, series, numeric));
    map_builds_.fetch_add(1, std::memory_order_relaxed);
    return made;
  });
}

void SnapshotCache::set_unavailable(const std::string& error) {
  auto cur = current_.load();
  if (!cur->available && cur->error == error) return;
  if (cur->available) {  // keep serving the last good snapshot, and say why it may be stale
    auto problem = problem_.load();
    if (!problem || *problem != error) problem_.store(std::make_shared<const std::string>(error));
    return;
  }
  auto snap = std::make_shared<Snapshot>();
  snap->error = error;
  snap->metrics = data_metrics(snap->available, snap->totals, snap->series);
  current_.store(std::shared_ptr<const Snapshot>(std::move(snap)));
}

void SnapshotCache::log_once(const std::string& message) {
  if (message == last_logged_) return;
  last_logged_ = message;
  if (options_.log_prefix.empty()) return;
  std::fprintf(stderr, "%s: %s\n", options_.log_prefix.c_str(), message.c_str());
}

}  // namespace covid::serve
