#include "pipeline/datasets.h"

#include <algorithm>
#include <iterator>

#include "common/secrets.h"
#include "extract/date_block_skipper.h"
#include "pipeline/county_spool.h"
#include "transform/jhu_populations.h"
#include "transform/jhu_recovered.h"
#include "transform/join.h"
#include "transform/nyt_anomalies.h"
#include "transform/nyt_counties.h"
#include "transform/nyt_national.h"
#include "transform/nyt_states.h"
#include "transform/who_global.h"

namespace covid {
namespace {

// The national series: NYT's cases and deaths joined with JHU's recovered counts by date.
class NationalRun final : public DatasetRun {
 public:
  NationalRun(const Config& config, const Clock& clock)
      : config_(config),
        nyt_(redact_url(config.nyt_url), clock),
        jhu_(redact_url(config.jhu_url), clock) {
    sources_ = {{"nyt", config.nyt_url, &nyt_}, {"jhu", config.jhu_url, &jhu_}};
  }
  std::vector<SourceSlot>& sources() override { return sources_; }
  Status take_rows(std::vector<Observation>& rows,
                   std::map<std::string, Location>& locations) override {
    (void)locations;  // the nation is always in the store's locations
    std::vector<Observation> joined = join_recovered(nyt_.rows(), jhu_.recovered(), config_.join);
    if (joined.empty()) {
      return Status::InvalidData(
          "the joined series is empty (no date is in both sources); nothing was loaded");
    }
    rows.insert(rows.end(), std::make_move_iterator(joined.begin()),
                std::make_move_iterator(joined.end()));
    return Status::Ok();
  }

 private:
  const Config& config_;
  NytNationalReader nyt_;
  JhuRecoveredReader jhu_;
  std::vector<SourceSlot> sources_;
};

// A dataset of one or more files of the same kind (`name` is the source name they share), each
// read by its own Reader, which gives rows() and locations().
template <typename Reader>
class FilesRun : public DatasetRun {
 public:
  FilesRun(const char* name, const std::vector<std::string>& urls, const Clock& clock) {
    for (const std::string& url : urls) {
      readers_.push_back(std::make_unique<Reader>(redact_url(url), clock));
      sources_.push_back({name, url, readers_.back().get()});
    }
  }
  std::vector<SourceSlot>& sources() override { return sources_; }
  Status take_rows(std::vector<Observation>& rows,
                   std::map<std::string, Location>& locations) override {
    for (const auto& reader : readers_) {
      if (rows.empty()) {
        rows = reader->take_rows();  // no copy of a file's rows
      } else {
        std::vector<Observation> more = reader->take_rows();
        rows.insert(rows.end(), std::make_move_iterator(more.begin()),
                    std::make_move_iterator(more.end()));
      }
      for (Location& l : reader->locations()) locations.emplace(l.id, std::move(l));
    }
    return Status::Ok();
  }

 protected:
  std::vector<std::unique_ptr<Reader>> readers_;
  std::vector<SourceSlot> sources_;
};

// NYT's states, from one file or several.
class StatesRun final : public FilesRun<StatesReader> {
 public:
  StatesRun(const Config& config, const Clock& clock)
      : FilesRun("states", states_urls(config), clock) {}
};

// NYT's counties: read into memory, or, when the store keeps county date digests, spooled date by
// date with the unchanged dates' lines skipped before parsing.
class CountiesRun final : public FilesRun<CountiesReader> {
 public:
  CountiesRun(const Config& config, const Clock& clock)
      : FilesRun("counties", counties_urls(config), clock) {}

  Status use_date_digests(std::map<Date, StoredDigest> known) override {
    spool_ = std::make_unique<CountySpool>(std::move(known));
    COVID_RETURN_IF_ERROR(spool_->open());
    for (size_t i = 0; i < readers_.size(); ++i) {
      readers_[i]->set_sink(spool_.get());
      targets_.push_back(std::make_unique<CountyBlockTarget>(*readers_[i], *spool_));
      skippers_.push_back(std::make_unique<DateBlockSkipper>(*targets_.back()));
      sources_[i].filter = skippers_.back().get();
    }
    return Status::Ok();
  }

  Status check(Store& store, const std::map<std::string, const Location*>& stored,
               Diagnostics& out) override {
    if (!spool_) return Status::Ok();
    COVID_RETURN_IF_ERROR(check_skipped_names(store, stored));
    if (spool_->problem()) out.error(*spool_->problem());
    return spool_->io_status();
  }

  const BlockSource* blocks() const override { return spool_.get(); }

  uint64_t block_locations(const std::map<std::string, const Location*>& stored) const override {
    if (!spool_) return 0;
    if (spool_->skipped_blocks() == 0) return spool_->location_count();
    // The locations of the dates not parsed are not known one by one; they are among the
    // store's (loaded with those dates before), with every location parsed. A store that keeps
    // no names (DynamoDB: `stored` is empty) is not asked: the locations parsed are counted.
    uint64_t n = 0;
    for (const auto& [id, l] : stored) n += l->type == "county";
    for (const auto& reader : readers_) {
      for (const Location& l : reader->locations()) n += !stored.count(l.id);
    }
    return n;
  }

  std::optional<std::pair<Date, Date>> block_dates() const override {
    if (!spool_ || spool_->blocks().empty()) return std::nullopt;
    return std::make_pair(spool_->blocks().front().date, spool_->blocks().back().date);
  }

 private:
  // A county file whose dates were partly skipped had its names compared only among the dates
  // parsed; the skipped dates' names are the store's (they were loaded from those same lines).
  // A county parsed under a name other than the store's is an error when it has a row on a
  // skipped date (without one, the file renamed it throughout: a rename, as when all is parsed).
  // `stored` is empty for a store that keeps no names (DynamoDB): nothing to compare.
  Status check_skipped_names(Store& store, const std::map<std::string, const Location*>& stored) {
    if (spool_->skipped_blocks() == 0) return Status::Ok();
    for (const auto& reader : readers_) {
      const auto& skipped = reader->skipped();
      if (skipped.empty() || reader->diagnostics().has_errors()) continue;
      for (const Location& l : reader->locations()) {
        auto it = stored.find(l.id);
        if (it == stored.end() || (it->second->name == l.name && it->second->state == l.state))
          continue;
        auto rows = store.read_series(l.id, skipped.front().date, skipped.back().date);
        if (!rows.ok()) return rows.status();
        auto on_skipped =
            std::find_if(skipped.begin(), skipped.end(), [&](const CountiesReader::Skipped& s) {
              return std::any_of(rows->begin(), rows->end(),
                                 [&](const Observation& o) { return o.date == s.date; });
            });
        if (on_skipped != skipped.end())
          reader->renamed_since(l.id, it->second->name, it->second->state, *on_skipped);
      }
    }
    return Status::Ok();
  }

  std::unique_ptr<CountySpool> spool_;
  std::vector<std::unique_ptr<CountyBlockTarget>> targets_;  // one per file
  std::vector<std::unique_ptr<DateBlockSkipper>> skippers_;
};

// The WHO's global series: one file, daily or weekly (its cadence is checked against the store's
// by the plan: load/plan.h).
class WorldRun final : public FilesRun<WhoReader> {
 public:
  WorldRun(const Config& config, const Clock& clock) : FilesRun("who", {who_url(config)}, clock) {}
  int cadence_days() const override { return readers_.front()->cadence_days(); }
};

// A dataset of reference data only (transform/reference.h): one source, one reader, no series.
template <typename Reader>
class ReferenceRun : public DatasetRun {
 public:
  ReferenceRun(const char* source, const std::string& url, const Clock& clock)
      : reader_(redact_url(url), clock) {
    sources_ = {{source, url, &reader_}};
  }
  std::vector<SourceSlot>& sources() override { return sources_; }
  Status take_rows(std::vector<Observation>& rows,
                   std::map<std::string, Location>& locations) override {
    (void)rows;
    (void)locations;
    return Status::Ok();
  }

 protected:
  Reader reader_;

 private:
  std::vector<SourceSlot> sources_;
};

// JHU's lookup table: populations.
class PopulationsRun final : public ReferenceRun<PopulationsReader> {
 public:
  PopulationsRun(const Config& config, const Clock& clock)
      : ReferenceRun("population", population_url(config), clock) {}
  Status take_reference(ReferenceData& out) override {
    out.populations.insert(out.populations.end(), reader_.populations().begin(),
                           reader_.populations().end());
    return Status::Ok();
  }
};

// NYT's notes on anomalous days: annotations.
class AnnotationsRun final : public ReferenceRun<AnomaliesReader> {
 public:
  AnnotationsRun(const Config& config, const Clock& clock)
      : ReferenceRun("anomalies", anomalies_url(config), clock) {}
  Status take_reference(ReferenceData& out) override {
    out.annotations.insert(out.annotations.end(), reader_.annotations().begin(),
                           reader_.annotations().end());
    return Status::Ok();
  }
};

template <typename R>
std::unique_ptr<DatasetRun> start(const Config& config, const Clock& clock) {
  return std::make_unique<R>(config, clock);
}

}  // namespace

const std::vector<Dataset>& datasets() {
  static const std::vector<Dataset> all = {
      {"national", "nation", "nations", "cases, deaths, recovered", false,
       "The New York Times, Johns Hopkins University", 1, "2023-03-23",
       [](const Config& c) { return c.national; }, &start<NationalRun>, "--nyt FILE --jhu FILE",
       "the NYT's us.csv, JHU's time-series-19-covid-combined.csv", "NYT", "jhu", "2023-03-10"},
      {"states", "state", "states", "cases, deaths", false, "The New York Times", 1, "2023-03-23",
       [](const Config& c) { return !states_urls(c).empty(); }, &start<StatesRun>, "--states FILE",
       "the NYT's us-states.csv", "NYT", nullptr, nullptr},
      {"counties", "county", "counties", "cases, deaths", true, "The New York Times", 1,
       "2023-03-23", [](const Config& c) { return !counties_urls(c).empty(); }, &start<CountiesRun>,
       "--counties FILE", "the NYT's us-counties.csv", "NYT", nullptr, nullptr},
      {"world", "country", "countries", "cases, deaths", false, "World Health Organization", 7,
       nullptr, [](const Config& c) { return !who_url(c).empty(); }, &start<WorldRun>, "--who FILE",
       "the WHO's WHO-COVID-19-global-data.csv", "WHO", nullptr, nullptr},
      // Reference data: no level, no series.
      {"populations", "", "", "population", false, "Johns Hopkins University CSSE", 1, "2023-03-10",
       [](const Config& c) { return !population_url(c).empty(); }, &start<PopulationsRun>,
       "--population FILE", "JHU's UID_ISO_FIPS_LookUp_Table.csv", "JHU", nullptr, nullptr},
      // Reference data: notes on locations' dates, no level of its own (level "").
      {"annotations", "", "", "annotations", false, "The New York Times", 1, "2023-03-23",
       [](const Config& c) { return !anomalies_url(c).empty(); }, &start<AnnotationsRun>,
       "--anomalies FILE", "the NYT's anomalies.csv", "NYT", nullptr, nullptr},
  };
  return all;
}

const char* source_archived_since(const Dataset& d, std::string_view source) {
  if (d.early_source != nullptr && source == d.early_source) return d.early_source_archived_since;
  return d.archived_since;
}

const Dataset* dataset_at_level(std::string_view level) {
  if (level.empty()) return nullptr;  // reference datasets have no level
  for (const Dataset& d : datasets()) {
    if (d.level == level) return &d;
  }
  return nullptr;
}

}  // namespace covid
