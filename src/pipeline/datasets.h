// Datasets: the registry of everything a run can load. Each entry declares a dataset once: its
// name (as `[datasets]` names it), its level of locations, the metrics it fills, its sources and
// their readers, and its rules (the national series' join with JHU's recovered counts; a county
// file's date order, which lets unchanged dates be skipped). A run (pipeline/etl_run.h) iterates
// over the datasets the configuration turns on and knows none of them by name.
//
// Adding a dataset is: a reader (transform/), a DatasetRun (here, in datasets.cc), one entry in
// datasets(), tests.
//
// A DatasetRun is one dataset's part of one run: it owns the readers its sources stream into and,
// once they are read and valid, hands over its rows (in memory) or its date blocks (spooled, when
// the store keeps date digests for its level). Not thread-safe.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/diagnostics.h"
#include "config/config.h"
#include "extract/body_filter.h"
#include "load/plan.h"
#include "load/store.h"
#include "transform/reference.h"
#include "transform/table_reader.h"

namespace covid {

// One source of a dataset: the name it is reported and compared under (nyt, jhu, states,
// counties; several files may share one), its URL, the reader its body streams into, and what
// the CSV reader parses of the body when not all of it (extract/body_filter.h).
struct SourceSlot {
  std::string name;
  std::string url;
  TableReader* reader = nullptr;
  BodyFilter* filter = nullptr;
};

class DatasetRun {
 public:
  virtual ~DatasetRun() = default;
  // The sources to fetch, in order.
  virtual std::vector<SourceSlot>& sources() = 0;
  // For a dataset whose files are date-ordered: the store keeps date digests for its level
  // (`known`, read before the download); its dates are then spooled by date and the unchanged
  // ones not parsed. Called before any fetch; the default keeps rows in memory.
  virtual Status use_date_digests(std::map<Date, StoredDigest> known) {
    (void)known;
    return Status::Ok();
  }
  // After every source was read: problems found across its files, and checks against the store
  // (`stored`: the store's locations, by id; empty when the store keeps no names) of what was
  // not parsed. Errors go to `out`.
  virtual Status check(Store& store, const std::map<std::string, const Location*>& stored,
                       Diagnostics& out) {
    (void)store;
    (void)stored;
    (void)out;
    return Status::Ok();
  }
  // Once valid, once: appends its rows read into memory to `rows` (any order; moved out of its
  // readers) and its locations to `locations`. A usage of the data that makes it unusable is an
  // InvalidData status.
  virtual Status take_rows(std::vector<Observation>& rows,
                           std::map<std::string, Location>& locations) = 0;
  // Once valid: appends its reference data (populations, annotations: transform/reference.h) to
  // `out`. The default, for a dataset of series only, adds nothing.
  virtual Status take_reference(ReferenceData& out) {
    (void)out;
    return Status::Ok();
  }
  // Once valid: the days between consecutive dates of its series (1: daily, 7: weekly), as found
  // in its source, which the store keeps per dataset (a source of another cadence is refused:
  // load/plan.h); 0 when the dataset does not check it or the source did not tell.
  virtual int cadence_days() const { return 0; }
  // Its date blocks, when use_date_digests() made it spool them; nullptr otherwise.
  virtual const BlockSource* blocks() const { return nullptr; }
  // Distinct locations among its blocks (the skipped dates' included: `stored` as in check()).
  virtual uint64_t block_locations(const std::map<std::string, const Location*>& stored) const {
    (void)stored;
    return 0;
  }
  // The first and last date of its blocks, if any.
  virtual std::optional<std::pair<Date, Date>> block_dates() const { return std::nullopt; }
};

struct Dataset {
  const char* name;  // national, states, counties, world, populations, annotations
  // Of its locations: nation, state, county, country (transform/location.h); "" for a dataset of
  // reference data only (populations, annotations), which has no series: its rows are none, its
  // DatasetRun hands over take_reference() only, and no date digests or location checks concern it.
  const char* level;
  const char* level_plural;  // its locations counted in messages: "states"; "" with no level
  const char* metrics;       // what it fills: "cases, deaths, recovered"
  // Its files list each date's rows together, dates ascending: with date digests in the store,
  // a run skips the dates that did not change (extract/date_block_skipper.h).
  bool date_ordered;
  // Who publishes it (labels its locations wherever they appear: "The New York Times").
  const char* source_label;
  // How often its sources are expected to change, in days (1: daily, 7: weekly), and the date
  // they stopped being updated upstream ("2023-03-23"), nullptr while they still are.
  int cadence_days;
  const char* archived_since;
  // Whether the configuration turns it on (with at least one source).
  bool (*enabled)(const Config& config);
  std::unique_ptr<DatasetRun> (*start)(const Config& config, const Clock& clock);
  // How to run it from local copies: the flags ("--nyt FILE --jhu FILE") and the files they take
  // ("the NYT's us.csv, JHU's time-series-19-covid-combined.csv"); the unreachable-source hint
  // (pipeline/run_summary.h) names those of the datasets the run loads.
  const char* local_flags;
  const char* local_files;
  // Its source_label shortened ("NYT", "WHO"): said after a name that another source's location
  // has too ("United States (WHO)": serve/locations.h).
  const char* source_short;
  // A source of it that stopped before the dataset did, by name, and its own date (its data's
  // last date): "jhu", "2023-03-10" (JHU's US series; the national dataset goes on to 2023-03-23
  // with the NYT's). nullptr, nullptr when none.
  const char* early_source;
  const char* early_source_archived_since;
};

// The date the source `source` (its name: "nyt", "jhu") of `d` stopped being updated upstream:
// its own where it stopped before the dataset (early_source), else the dataset's archived_since
// (nullptr: still updated).
const char* source_archived_since(const Dataset& d, std::string_view source);

// Every dataset, in the order a run reads them.
const std::vector<Dataset>& datasets();

// The dataset whose rows are at `level`, or nullptr (always for "": no series there).
const Dataset* dataset_at_level(std::string_view level);

}  // namespace covid
