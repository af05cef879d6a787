// LoadPlan: what a run will change in the store, decided before anything is written, for every
// dataset and every store alike. Planning is the stage between validation and the load:
//
//   plan_load(view, input) -> LoadPlan        (reads only; pure but for the reads)
//   apply(transaction, run_id, plan)          (writes only)
//
// The input is the validated rows read into memory (every level, sorted by (location, date)) and,
// for a level whose file is date-ordered and whose store keeps date digests, its date blocks (a
// BlockSource: pipeline/county_spool.h) with the digests the store held when the load began. The
// rules, once for every store:
// - a row is inserted, revised (old and new values kept) or unchanged (load/classify.h); stored
//   rows and values the source no longer gives are kept and counted as missing;
// - a date block whose digest equals the stored one is unchanged and not read at all; a date the
//   store does not have is fresh: its rows are inserted without comparing anything; a date whose
//   digest changed is compared row by row with the store's rows of that date (all of them, when
//   the store holds more rows than the source gave: rows are never deleted);
// - the digests of the dates that changed are saved; for a level read into memory whose store
//   keeps digests (PlanInput::digest_levels), the digests of all its dates, computed from the
//   rows;
// - populations (reference data) are compared by location with the store's: new, changed (figure,
//   source or year) or unchanged; a stored one the source no longer gives is kept;
// - every insert, of every level, goes to the store in one stream in (location, date) order (the
//   order of the store's key, so that a store appends instead of splitting pages), then the
//   revisions, then the digests.
// - a dataset's cadence (the days between its series' dates: 1 daily, 7 weekly) is kept per
//   dataset; a source whose cadence differs from the stored one is refused (InvalidData, with the
//   way to start over), never mixed into one series, unless the run replaces that dataset
//   (--replace-dataset): then apply() first deletes the level's stored rows
//   (LoadTransaction::delete_level: observations, digests, locations; revisions are history and
//   stay), and every row of the source is inserted, in the same transaction.
// The view is the load transaction (under the run lock, so nothing changes between the plan and
// its apply), or a read-only store for a dry run (a dry run is the plan without the apply).
// A LoadPlan is a value: to_text() prints it; tests build and check it without a store.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "common/status.h"
#include "load/classify.h"
#include "load/date_digest.h"
#include "load/store.h"
#include "transform/location.h"
#include "transform/observation.h"
#include "transform/reference.h"

namespace covid {

// The reads planning needs. TransactionView reads through a LoadTransaction, StoreReadView
// through a (read-only) Store.
class StoreView {
 public:
  virtual ~StoreView() = default;
  // The stored rows of `locations` (sorted, unique), sorted by (location, date).
  virtual Result<std::vector<Observation>> existing_many(
      const std::vector<std::string>& locations) = 0;
  // The stored rows among `locations` (sorted, unique) on `date`, sorted by location.
  virtual Result<std::vector<Observation>> existing_on(
      Date date, const std::vector<std::string>& locations) = 0;
  // Every stored row of `level` on `date`, sorted by location.
  virtual Result<std::vector<Observation>> existing_on_date(std::string_view level, Date date) = 0;
  // Every stored population, sorted by location (the default: none, for a view over no store).
  virtual Result<std::vector<Population>> populations() { return std::vector<Population>(); }
  // Every stored annotation, sorted by key (load/store.h). The default fails.
  virtual Result<std::vector<Annotation>> existing_annotations() {
    return Status::Load("this view reads no annotations");
  }
};

class TransactionView final : public StoreView {
 public:
  explicit TransactionView(LoadTransaction& t) : t_(t) {}
  Result<std::vector<Observation>> existing_many(
      const std::vector<std::string>& locations) override {
    return t_.existing_many(locations);
  }
  Result<std::vector<Observation>> existing_on(Date date,
                                               const std::vector<std::string>& locations) override {
    return t_.existing_on(date, locations);
  }
  Result<std::vector<Observation>> existing_on_date(std::string_view level, Date date) override {
    return t_.existing_on_date(level, date);
  }
  Result<std::vector<Population>> populations() override { return t_.populations(); }
  Result<std::vector<Annotation>> existing_annotations() override {
    return t_.existing_annotations();
  }

 private:
  LoadTransaction& t_;
};

// Reads a store's series one location at a time (a dry run, where there is no transaction).
class StoreReadView final : public StoreView {
 public:
  explicit StoreReadView(Store& store) : store_(store) {}
  Result<std::vector<Observation>> existing_many(
      const std::vector<std::string>& locations) override;
  Result<std::vector<Observation>> existing_on(Date date,
                                               const std::vector<std::string>& locations) override;
  Result<std::vector<Observation>> existing_on_date(std::string_view level, Date date) override;
  Result<std::vector<Population>> populations() override { return store_.populations(); }
  Result<std::vector<Annotation>> existing_annotations() override {
    return store_.read_annotations("", std::nullopt, std::nullopt);
  }

 private:
  Store& store_;
};

// One date's rows of a level, as planning sees them.
struct DateBlockInfo {
  Date date;
  DateDigest digest;  // of the block's rows
  bool kept = false;  // its rows can be read; false: equal to the digest known before the run
  std::optional<BytesDigest> bytes;  // of its lines in the file, when known
};

// A level's rows by date (pipeline/county_spool.h keeps them in a temporary file).
class BlockSource {
 public:
  virtual ~BlockSource() = default;
  virtual size_t block_count() const = 0;
  // In ascending date order.
  virtual const DateBlockInfo& block(size_t i) const = 0;
  // A kept block's rows, sorted by location.
  virtual Result<std::vector<Observation>> read_block(size_t i) const = 0;
  // The rows of the kept `blocks`, in (location, date) order; valid while the source is.
  virtual std::unique_ptr<RowCursor> merge_blocks(const std::vector<size_t>& blocks) const = 0;
};

// What a run changed at one level of locations (nation, state, county).
struct LevelCounts {
  uint64_t locations = 0;          // in the source
  uint64_t locations_changed = 0;  // with a row inserted or updated
  uint64_t inserted = 0, updated = 0, unchanged = 0, missing = 0;
  uint64_t replaced = 0;     // stored rows deleted first (--replace-dataset), known after apply()
  std::string last_changed;  // the latest date inserted or updated; empty if none
};

// Counts changes by level; `rows` is what the source gave, sorted by (location, date).
std::map<std::string, LevelCounts> count_levels(const ChangeSet& changes,
                                                const std::vector<Observation>& rows);

// The key of LoadPlan::levels (and of the run summary's levels) that counts populations.
inline constexpr const char* kPopulationsLevel = "populations";

struct PlanInput {
  // The rows read into memory, every level, sorted by (location, date), keys unique.
  std::vector<Observation> rows;
  // The locations the rows belong to, saved (added or renamed) before any row.
  std::vector<Location> locations;
  // Levels of `rows` whose store keeps date digests but has none for them yet: all their dates'
  // digests are saved.
  std::vector<std::string> digest_levels;
  // A level read as date blocks.
  struct Blocks {
    std::string level;
    const BlockSource* source = nullptr;
    std::map<Date, StoredDigest> stored;  // the store's digests, read under the run lock
    uint64_t locations = 0;               // distinct locations in the source
  };
  std::vector<Blocks> blocks;
  // The reference data read (populations, annotations), compared with the store's.
  ReferenceData reference;
  // Per dataset that checks its cadence or is replaced: what the source has and the store holds.
  struct Dataset {
    std::string name;           // world
    std::string level;          // country
    int days = 0;               // the source's cadence; 0: not known
    std::optional<int> stored;  // the store's (Store::dataset_cadence), read under the run lock
    bool replace = false;       // --replace-dataset
  };
  std::vector<Dataset> datasets;
};

struct LoadPlan {
  // The rows read into memory, as the source gave them (PlanInput::rows: kAbsent where a source
  // gave no value), and what they change: inserted (sorted by (location, date)), revised,
  // unchanged, missing, missing values.
  std::vector<Observation> rows;
  ChangeSet changes;
  // A level read as date blocks.
  struct BlockLevel {
    std::string level;
    const BlockSource* source = nullptr;
    std::vector<size_t> fresh;        // dates the store does not have: every row is inserted
    ChangeSet changes;                // of the revised dates: rows inserted and revised on them
    std::vector<Date> skipped;        // dates whose digest did not change: not compared
    std::vector<Date> missing_dates;  // with stored rows the source no longer gives
    std::unordered_set<std::string> changed;  // locations with a row inserted or revised so far
  };
  std::vector<BlockLevel> blocks;
  std::vector<Location> locations;                              // to save
  std::map<std::string, std::map<Date, StoredDigest>> digests;  // by level, to save
  std::map<std::string, LevelCounts> levels;  // every level's counts (apply completes them)
  // Reference data: the populations that are new or changed (figure, source or year), to save.
  // Their counts are levels[kPopulationsLevel]'s; a stored population the source no longer gives
  // is kept (counted as missing).
  std::vector<Population> populations;
  // The annotations read (PlanInput::reference), against the store's by key, when the run read
  // any (a run without the annotations dataset compares none): new, revised (the new values: the
  // text and flags before are not kept, the row notes the run that last wrote it), unchanged, and
  // stored ones the source no longer gives (kept as stored, like missing rows). Their counts are
  // the level "annotations" of `levels` (locations: the places with a note; locations_changed:
  // the notes inserted or revised; last_changed: the latest date of one) and in the totals.
  struct Annotations {
    std::vector<Annotation> inserted, revised, missing;
    uint64_t unchanged = 0;
  };
  Annotations annotations;
  std::vector<std::string> replace_levels;  // deleted before anything is written
  std::map<std::string, int> cadences;      // by dataset, to save

  // Whether anything is written: rows, or reference data.
  bool changed() const;
  // The run's totals of rows over every level (reference data not counted).
  uint64_t inserted() const;
  uint64_t updated() const;
  uint64_t unchanged() const;
  uint64_t missing() const;
};

// The cadence rule: an InvalidData status (naming --replace-dataset) when `d`'s source has a
// cadence other than the one its store holds and the run does not replace it; Ok otherwise.
// plan_load() checks it; a run checks it first too, before comparing row counts (a weekly file
// after daily ones is refused for its cadence, not as a shrunk source).
[[nodiscard]] Status check_cadence(const PlanInput::Dataset& d);

// The plan for `input`. Fails only when a read fails, or when a block's rows were not kept
// although its digest no longer matches (another run changed the date meanwhile).
Result<LoadPlan> plan_load(StoreView& view, PlanInput input);

// Writes the plan in `t` for run `run_id`: locations, then every insert in one (location, date)
// stream, then the revisions, then the digests, then the populations. Completes the block levels'
// locations_changed (their fresh dates' locations are known only as their rows go by). Does not
// commit.
Status apply(LoadTransaction& t, int64_t run_id, LoadPlan& plan);

// A few lines for people: per level, what would be inserted, revised, kept, skipped.
std::string to_text(const LoadPlan& plan);

}  // namespace covid
