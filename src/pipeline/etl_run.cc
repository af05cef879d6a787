#include "pipeline/etl_run.h"

#include <algorithm>
#include <chrono>
#include <climits>
#include <iterator>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "common/secrets.h"
#include "extract/fetcher.h"
#include "load/classify.h"
#include "load/store.h"
#include "notify/dispatcher.h"
#include "pipeline/county_spool.h"
#include "pipeline/date_block_skipper.h"
#include "pipeline/run_message.h"
#include "pipeline/table_sink.h"
#include "transform/jhu_recovered.h"
#include "transform/join.h"
#include "transform/nyt_counties.h"
#include "transform/nyt_national.h"
#include "transform/nyt_states.h"

namespace covid {
namespace {

constexpr const char* kCountyLevel = "county";

struct SourceRun {
  std::string name;
  std::string url;
  TableReader* reader;
  SourceReport report;
  bool attempted = false;
  BodyFilter* filter = nullptr;  // what the CSV reader parses of the body, when not all of it
};

// What the last successful run (ok or unchanged) read of each source, by (name, URL as shown):
// the rows and dates its dataset took, for the shrink check and for a source that answers 304.
struct PreviousRun {
  int64_t id = 0;
  std::map<std::pair<std::string, std::string>, SourceReport> sources;
};

Result<PreviousRun> last_success(Store& store) {
  constexpr size_t kLookBack = 1000;  // failed runs in between are passed over
  auto runs = store.list_runs(kLookBack);
  if (!runs.ok()) return runs.status();
  PreviousRun out;
  for (const RunRecord& r : *runs) {
    if (r.status != RunStatus::kOk && r.status != RunStatus::kUnchanged) continue;
    out.id = r.id;
    auto sources = nlohmann::json::parse(r.sources_json, nullptr, false);
    if (!sources.is_array()) break;
    for (const auto& j : sources) {
      if (!j.is_object() || !j.contains("name") || !j["name"].is_string() || !j.contains("url") ||
          !j["url"].is_string()) {
        continue;
      }
      SourceReport& rep = out.sources[{j["name"].get<std::string>(), j["url"].get<std::string>()}];
      const auto count = [&](const char* key) {  // absent in runs before these were kept
        auto v = j.find(key);
        return v != j.end() && v->is_number_unsigned() ? v->get<uint64_t>() : uint64_t{0};
      };
      rep.kept_rows = count("kept_rows");
      rep.dates = count("dates");
    }
    break;
  }
  return out;
}

// Dates as a short list: runs of consecutive dates as "first .. last", at most `max` items.
std::string date_list(std::vector<Date> dates, size_t max = 4) {
  std::sort(dates.begin(), dates.end());
  dates.erase(std::unique(dates.begin(), dates.end()), dates.end());
  std::vector<std::string> items;
  for (size_t i = 0; i < dates.size();) {
    size_t j = i;
    while (j + 1 < dates.size() && dates[j + 1].days == dates[j].days + 1) ++j;
    items.push_back(j == i ? format_date(dates[i])
                           : format_date(dates[i]) + " .. " + format_date(dates[j]));
    i = j + 1;
  }
  std::string out;
  for (size_t i = 0; i < items.size() && i < max; ++i) out += (i > 0 ? ", " : "") + items[i];
  if (items.size() > max) out += " and " + std::to_string(items.size() - max) + " more";
  return out;
}

// The dataset a level's rows come from, as the configuration names it.
const char* dataset_of_level(std::string_view level) {
  if (level == "nation") return "national";
  if (level == "state") return "states";
  return "counties";
}

std::string plural(uint64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

class Run {
 public:
  Run(const Config& config, HttpClient& http, const Clock& clock, const RunOptions& options)
      : config_(config),
        http_(http),
        clock_(clock),
        options_(options),
        start_(std::chrono::steady_clock::now()),
        dispatcher_(config.channels, clock, config.dispatch) {
    summary_.dry_run = options.dry_run;
    summary_.started_at = format_timestamp(clock.now());
    // Parsing a URL for display remembers its secrets (common/secrets.h), before any is needed.
    for (const std::string& url : {config.nyt_url, config.jhu_url}) (void)redact_url(url);
    for (const std::string& url : states_urls(config)) (void)redact_url(url);
    for (const std::string& url : counties_urls(config)) (void)redact_url(url);
  }

  RunSummary execute() {
    Status s = open();
    if (s.ok()) s = extract();
    if (s.ok() && summary_.status != RunStatus::kUnchanged) s = validate();
    if (s.ok() && summary_.status != RunStatus::kUnchanged) s = load();
    if (!s.ok()) fail(s);
    // After the commit: deliver this run's notifications and any left by earlier runs. A
    // notifier that is down changes nothing above.
    if (store_ && !options_.dry_run) summary_.notifications = dispatcher_.flush(*store_);
    return std::move(summary_);
  }

 private:
  Status open() {
    StoreOptions so;
    so.lock_timeout = config_.lock_timeout;
    so.read_only = options_.dry_run;
    so.missing_ok = options_.dry_run;  // a new database: everything would be inserted
    auto store = open_store(config_.db, so);
    if (!store.ok()) return store.status();
    store_ = std::move(store.value());
    auto previous = last_success(*store_);
    if (!previous.ok()) return previous.status();
    previous_ = std::move(*previous);
    if (options_.dry_run) return Status::Ok();
    // An earlier run found interrupted on the way is told of to the channels that want failures.
    auto id = store_->begin_run(summary_.started_at, [this](const RunRecord& r) {
      return dispatcher_.address(interrupted_message(r));
    });
    if (!id.ok()) return id.status();
    summary_.run_id = *id;
    if (options_.on_started) options_.on_started(*id);
    auto states = store_->source_states();
    if (!states.ok()) return states.status();
    states_ = std::move(*states);
    return Status::Ok();
  }

  // Fetches one source into its reader; `conditional` sends the last run's validators.
  Status fetch(Fetcher& fetcher, SourceRun& src, bool conditional) {
    SourceValidators validators;
    auto it =
        states_.find(redact_url(src.url));  // kept under the URL as shown, without its secrets
    if (conditional && it != states_.end()) validators = it->second.validators;
    TableSink sink(*src.reader, src.filter);
    src.report = SourceReport();
    src.report.name = src.name;
    src.report.url = redact_url(src.url);
    src.attempted = true;
    auto r = fetcher.fetch(src.url, validators, sink);
    if (!r.ok()) {
      src.report.attempts = fetcher.attempts();  // a failed source says how often it was tried
      return r.status();
    }
    src.report = SourceReport{src.name,
                              redact_url(src.url),
                              r->http_status,
                              r->not_modified,
                              r->etag,
                              r->last_modified,
                              r->content_hash,
                              r->bytes,
                              0,
                              0,
                              0,
                              r->attempts};
    if (!r->not_modified) {
      sink.finish();
      src.report.rows = src.reader->rows_read();
      src.report.kept_rows = src.reader->rows_kept();
      src.report.dates = src.reader->dates_kept();
    } else if (auto p = previous_.sources.find({src.name, src.report.url});
               p != previous_.sources.end()) {
      src.report.kept_rows = p->second.kept_rows;  // unchanged since the run that read it
      src.report.dates = p->second.dates;
    }
    return Status::Ok();
  }

  Status extract() {
    sources_.clear();
    if (config_.national) {
      sources_ = {{"nyt", config_.nyt_url, &nyt_, {}, false},
                  {"jhu", config_.jhu_url, &jhu_, {}, false}};
    }
    for (const std::string& url : states_urls(config_)) {
      states_readers_.push_back(std::make_unique<StatesReader>(redact_url(url), clock_));
      sources_.push_back({"states", url, states_readers_.back().get(), {}, false});
    }
    for (const std::string& url : counties_urls(config_)) {
      counties_readers_.push_back(std::make_unique<CountiesReader>(redact_url(url), clock_));
      sources_.push_back({"counties", url, counties_readers_.back().get(), {}, false});
    }
    COVID_RETURN_IF_ERROR(prepare_county_spool());
    if (sources_.empty()) {
      return Status::Usage(
          "no dataset to load: [datasets] turns national, states and counties off");
    }
    Fetcher fetcher(http_, clock_, config_.fetch);
    bool all_not_modified = true;
    for (SourceRun& src : sources_) {
      COVID_RETURN_IF_ERROR(fetch(fetcher, src, !options_.dry_run));
      all_not_modified = all_not_modified && src.report.not_modified;
    }
    if (all_not_modified) {
      summary_.status = RunStatus::kUnchanged;
      report_sources();
      return finish_unchanged_by_304();
    }
    // The join needs every body: fetch again, unconditionally, what answered 304.
    for (SourceRun& src : sources_) {
      if (src.report.not_modified) COVID_RETURN_IF_ERROR(fetch(fetcher, src, false));
    }
    report_sources();
    return Status::Ok();
  }

  // Counties go through a spool, date by date, when the store keeps date digests (and the run
  // writes): the rows are never all in memory and unchanged dates are skipped. Otherwise (a dry
  // run, a store without digests) they are read into memory like the other datasets.
  Status prepare_county_spool() {
    if (counties_readers_.empty() || options_.dry_run) return Status::Ok();
    auto digests = store_->date_digests(kCountyLevel);
    if (!digests.ok()) return digests.status();
    if (!digests->has_value()) return Status::Ok();
    spool_ = std::make_unique<CountySpool>(std::move(**digests));
    COVID_RETURN_IF_ERROR(spool_->open());
    for (SourceRun& src : sources_) {
      for (auto& reader : counties_readers_) {
        if (src.reader != reader.get()) continue;
        reader->set_sink(spool_.get());
        skippers_.push_back(std::make_unique<DateBlockSkipper>(*reader, *spool_));
        src.filter = skippers_.back().get();
      }
    }
    return Status::Ok();
  }

  void report_sources() {
    summary_.sources.clear();
    for (const SourceRun& src : sources_) {
      summary_.sources.push_back(src.report);
      summary_.counts.rows_read += src.report.rows;
    }
  }

  Status finish_unchanged_by_304() {
    if (options_.dry_run) return Status::Ok();
    RunRecord rec = record(RunStatus::kUnchanged);
    return store_->finish_run(rec, outbox());
  }

  // This run's notifications, addressed to the channels that want them.
  std::vector<OutboxMessage> outbox() const {
    return dispatcher_.address(run_message(summary_, config_.dashboard_url));
  }

  // A county file whose dates were partly skipped had its names compared only among the dates
  // parsed; the skipped dates' names are the store's (they were loaded from those same lines).
  // A county parsed under a name other than the store's is an error when it has a row on a
  // skipped date (without one, the file renamed it throughout: a rename, as when all is parsed).
  // A store that keeps no names (DynamoDB) has none to compare with.
  Status check_skipped_names() {
    if (!spool_ || spool_->skipped_blocks() == 0 || !store_->keeps_location_names())
      return Status::Ok();
    auto stored = store_->list_locations();
    if (!stored.ok()) return stored.status();
    std::unordered_map<std::string, const Location*> by_id;
    for (const Location& l : *stored) by_id.emplace(l.id, &l);
    for (const auto& reader : counties_readers_) {
      const auto& skipped = reader->skipped();
      if (skipped.empty() || reader->diagnostics().has_errors()) continue;
      for (const Location& l : reader->locations()) {
        auto it = by_id.find(l.id);
        if (it == by_id.end() || (it->second->name == l.name && it->second->state == l.state))
          continue;
        auto rows = store_->read_series(l.id, skipped.front().date, skipped.back().date);
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

  Status validate() {
    COVID_RETURN_IF_ERROR(check_skipped_names());
    for (const SourceRun& src : sources_) summary_.diagnostics.merge(src.reader->diagnostics());
    if (spool_ && spool_->problem()) summary_.diagnostics.error(*spool_->problem());
    if (spool_) COVID_RETURN_IF_ERROR(spool_->io_status());
    if (!summary_.diagnostics.has_errors()) check_shrink();
    if (summary_.diagnostics.has_errors()) {
      uint64_t n = summary_.diagnostics.error_count();
      return Status::InvalidData(std::to_string(n) + (n == 1 ? " error" : " errors") +
                                 " in the source data; nothing was loaded");
    }
    if (config_.national) {
      rows_ = join_recovered(nyt_.rows(), jhu_.recovered(), config_.join);
      if (rows_.empty()) {
        return Status::InvalidData(
            "the joined series is empty (no date is in both sources); nothing was loaded");
      }
    }
    if (!states_readers_.empty() || !counties_readers_.empty()) {
      COVID_RETURN_IF_ERROR(add_states());
      COVID_RETURN_IF_ERROR(warn_renamed());
    }
    Date first{INT32_MAX}, last{INT32_MIN};
    for (const Observation& o : rows_) {
      first = std::min(first, o.date);
      last = std::max(last, o.date);
    }
    if (spool_ && !spool_->blocks().empty()) {
      first = std::min(first, spool_->blocks().front().date);
      last = std::max(last, spool_->blocks().back().date);
    }
    summary_.first_date = format_date(first);
    summary_.last_date = format_date(last);
    return Status::Ok();
  }

  // Adds the rows of every state and county file to rows_, sorted by (location, date), and
  // collects their locations for the locations table. Two files with the same (location, date)
  // are an error.
  Status add_states() {
    std::map<std::string, Location> locations;
    for (const auto& reader : states_readers_) {
      rows_.insert(rows_.end(), reader->rows().begin(), reader->rows().end());
      for (Location& l : reader->locations()) locations.emplace(l.id, std::move(l));
    }
    for (const auto& reader : counties_readers_) {
      rows_.insert(rows_.end(), reader->rows().begin(), reader->rows().end());
      for (Location& l : reader->locations()) locations.emplace(l.id, std::move(l));
    }
    std::stable_sort(rows_.begin(), rows_.end(), by_location_date);
    for (size_t i = 1; i < rows_.size(); ++i) {
      if (rows_[i].location == rows_[i - 1].location && rows_[i].date == rows_[i - 1].date) {
        return Status::InvalidData("location " + rows_[i].location + " on " +
                                   format_date(rows_[i].date) +
                                   " is in two files; nothing was loaded");
      }
    }
    if (rows_.empty() && (!spool_ || spool_->rows() == 0)) {
      return Status::InvalidData("the series is empty; nothing was loaded");
    }
    for (auto& [id, l] : locations) locations_.push_back(std::move(l));
    return Status::Ok();
  }

  // A source whose dataset took far fewer rows or dates than the last successful run read from
  // the source of the same name ("nyt", "jhu", "states", "counties"; all its files together,
  // whatever their URLs) is what a download cut short at a line boundary looks like: an error
  // unless accept_shrink.
  void check_shrink() {
    struct Totals {
      uint64_t rows = 0, dates = 0, before_rows = 0, before_dates = 0;
      bool comparable = false;
      std::string file;
    };
    std::map<std::string, Totals> by_name;
    for (const SourceRun& src : sources_) {
      Totals& t = by_name[src.name];
      t.rows += src.report.kept_rows;
      t.dates += src.report.dates;  // the files of a dataset hold separate dates
      t.file = t.file.empty() ? src.report.url : src.name;  // one file, or the source's name
    }
    for (const auto& [key, rep] : previous_.sources) {
      auto t = by_name.find(key.first);
      if (t == by_name.end()) continue;
      t->second.comparable =
          rep.kept_rows > 0 && (t->second.before_rows == 0 || t->second.comparable);
      t->second.before_rows += rep.kept_rows;  // 0: read before kept rows were recorded
      t->second.before_dates += rep.dates;
    }
    for (const auto& [name, t] : by_name) {
      if (!t.comparable) continue;
      auto shrank = [&](uint64_t now, uint64_t before) {
        return before > 0 && now<before&& double(before - now)> double(before) * config_.max_shrink;
      };
      std::string what;
      if (shrank(t.rows, t.before_rows)) {
        what = plural(t.rows, "row", "rows") + " where the last successful run (" +
               std::to_string(previous_.id) + ") read " + std::to_string(t.before_rows);
      } else if (shrank(t.dates, t.before_dates)) {
        what = plural(t.dates, "date", "dates") + " where the last successful run (" +
               std::to_string(previous_.id) + ") read " + std::to_string(t.before_dates);
      } else {
        continue;
      }
      std::string message = name + ": the source shrank: " + what + ", more than " +
                            std::to_string(int(config_.max_shrink * 100 + 0.5)) +
                            "% fewer (a download cut short?)";
      if (config_.accept_shrink) {
        summary_.diagnostics.warning_first(
            Issue{t.file, 0, 0, message + "; loaded as told (accept_shrink)"});
      } else {
        summary_.diagnostics.error(
            Issue{t.file, 0, 0,
                  message + "; if the source really shrank, run again with --accept-shrink "
                            "(or [transform] accept_shrink = true)"});
      }
    }
  }

  // A location the store knows under another name or state: a rename upstream, loaded, and said.
  Status warn_renamed() {
    if (!store_->keeps_location_names()) return Status::Ok();
    auto stored = store_->list_locations();
    if (!stored.ok()) return stored.status();
    std::unordered_map<std::string_view, const Location*> by_id;
    for (const Location& l : *stored) by_id.emplace(l.id, &l);
    auto shown = [](const Location& l) {
      return "'" + l.name + "'" + (l.state.empty() ? std::string() : " (" + l.state + ")");
    };
    for (const Location& l : locations_) {
      auto it = by_id.find(l.id);
      if (it == by_id.end() || it->second->name.empty()) continue;  // new, or a store without names
      if (it->second->name == l.name && it->second->state == l.state) continue;
      summary_.diagnostics.warning_first(Issue{
          dataset_of_level(location_level(l.id)), 0, 0,
          "location " + l.id + " is " + shown(l) + " in the source but " + shown(*it->second) +
              " in the database: renamed upstream? Its series is kept; the new name is saved"});
    }
    return Status::Ok();
  }

  // Says, per dataset, which stored rows and values the source no longer gives (they are kept).
  void warn_missing(const ChangeSet& c) {
    std::map<std::string, std::pair<uint64_t, std::vector<Date>>> rows;  // dataset -> rows, dates
    for (const Observation& o : c.missing) {
      auto& [n, dates] = rows[dataset_of_level(location_level(o.location))];
      ++n;
      dates.push_back(o.date);
    }
    if (county_.missing > 0) {
      auto& [n, dates] = rows["counties"];
      n += county_.missing;
      dates.insert(dates.end(), county_missing_dates_.begin(), county_missing_dates_.end());
    }
    for (const auto& [dataset, r] : rows) {
      summary_.diagnostics.warning_first(Issue{
          dataset, 0, 0,
          plural(r.first, "row", "rows") + " the database holds " + (r.first == 1 ? "is" : "are") +
              " no longer in the source (" + date_list(r.second) + "); kept as stored"});
    }
    std::map<std::string, std::pair<std::set<std::string>, std::vector<Date>>> values;
    for (const Observation& o : c.missing_values) {
      auto it = std::lower_bound(rows_.begin(), rows_.end(), o, by_location_date);
      if (it == rows_.end() || it->location != o.location || it->date != o.date) continue;
      auto& [counts, dates] = values[dataset_of_level(location_level(o.location))];
      if (it->cases == kAbsent && o.cases != kUnknown) counts.insert("cases");
      if (it->deaths == kAbsent && o.deaths != kUnknown) counts.insert("deaths");
      if (it->recovered == kAbsent && o.recovered != kUnknown) counts.insert("recovered");
      dates.push_back(o.date);
    }
    for (const auto& [dataset, v] : values) {
      std::string names;
      for (const std::string& n : v.first) names += (names.empty() ? "" : ", ") + n;
      summary_.diagnostics.warning_first(
          Issue{dataset, 0, 0,
                "the sources no longer give " + names + " for " +
                    plural(v.second.size(), "date", "dates") + " whose value the database holds (" +
                    date_list(v.second) + "); the stored values are kept"});
    }
  }

  // The distinct locations of rows_, in order.
  std::vector<std::string> row_locations() const {
    std::vector<std::string> out;
    for (const Observation& o : rows_) {
      if (out.empty() || out.back() != o.location) out.push_back(o.location);
    }
    return out;
  }

  // The stored rows of every location in rows_, sorted by (location, date).
  template <typename Read>
  Result<std::vector<Observation>> stored_rows(Read read) const {
    std::vector<Observation> all;
    for (const std::string& location : row_locations()) {
      auto rows = read(location);
      if (!rows.ok()) return rows.status();
      all.insert(all.end(), std::make_move_iterator(rows->begin()),
                 std::make_move_iterator(rows->end()));
    }
    return all;
  }

  void count(const ChangeSet& c) {
    summary_.counts.inserted = c.inserted.size() + county_.inserted;
    summary_.counts.updated = c.updated.size() + county_.updated;
    summary_.counts.unchanged = c.unchanged + county_.unchanged;
    summary_.counts.missing = c.missing.size() + c.missing_values.size() + county_.missing;
    warn_missing(c);
    bool changed = !c.empty() || county_.inserted > 0 || county_.updated > 0;
    summary_.status = changed ? RunStatus::kOk : RunStatus::kUnchanged;
    summary_.levels = count_levels(c, rows_);
    if (spool_) summary_.levels[kCountyLevel] = county_;
  }

  Status load() {
    if (options_.dry_run) {
      auto stored = stored_rows([this](const std::string& location) {
        return store_->read_series(location, std::nullopt, std::nullopt);
      });
      if (!stored.ok()) return stored.status();
      summary_.changes = classify(*stored, rows_);
      count(summary_.changes);
      finish_timing();
      return Status::Ok();
    }
    auto txn = store_->begin_load();
    if (!txn.ok()) return txn.status();
    LoadTransaction& t = **txn;
    std::optional<std::map<Date, StoredDigest>> county_digests_now;
    if (spool_) {  // read before this run adds county locations (see SqliteStore::date_digests)
      auto now = store_->date_digests(kCountyLevel);
      if (!now.ok()) return now.status();
      if (!now->has_value())
        return Status::Load("the county digests disappeared during the run; run again");
      county_digests_now = std::move(*now);
    }
    auto stored = t.existing_many(row_locations());
    if (!stored.ok()) return stored.status();
    summary_.changes = classify(*stored, rows_);
    if (!locations_.empty()) COVID_RETURN_IF_ERROR(t.save_locations(locations_));
    COVID_RETURN_IF_ERROR(t.write(*summary_.run_id, summary_.changes));
    if (!counties_readers_.empty()) {
      COVID_RETURN_IF_ERROR(spool_ ? load_counties(t, *county_digests_now)
                                   : t.save_date_digests(kCountyLevel, county_digests()));
    }
    count(summary_.changes);
    // States are kept under the redacted URL; one kept under a URL with a secret in it (written
    // before) goes.
    for (const auto& [url, state] : states_) {
      if (redact_url(url) != url) COVID_RETURN_IF_ERROR(t.forget_source(url));
    }
    for (const SourceRun& src : sources_) {
      SourceState st{redact_url(src.url),
                     {src.report.etag, src.report.last_modified},
                     src.report.content_hash,
                     src.report.bytes};
      COVID_RETURN_IF_ERROR(t.save_source(*summary_.run_id, st));
    }
    RunRecord rec = record(summary_.status);
    COVID_RETURN_IF_ERROR(t.finish_run(rec, outbox()));
    return t.commit();
  }

  // The county rows of the spool, date by date, against the store's digests as they are now,
  // inside the load transaction:
  // 1. a date whose digest is unchanged is skipped (most of them, every day);
  // 2. a date the store does not have is new: all its rows are inserted, with every other new
  //    date, in one pass in (location, date) order;
  // 3. a date whose digest changed is revised: its rows are compared with the stored ones;
  // 4. the digests of the dates that changed are saved.
  Status load_counties(LoadTransaction& t, const std::map<Date, StoredDigest>& stored) {
    std::map<Date, StoredDigest> save;
    std::vector<const CountySpool::Block*> fresh;
    std::unordered_set<std::string> changed;
    county_ = LevelCounts();
    county_.locations = spool_->location_count();
    if (spool_->skipped_blocks() > 0) {
      // The locations of the dates not parsed are not known one by one; they are among the
      // store's (loaded with those dates before), with every location parsed (saved above).
      auto all = store_->list_locations();
      if (!all.ok()) return all.status();
      county_.locations = size_t(std::count_if(
          all->begin(), all->end(), [](const Location& l) { return l.type == kCountyLevel; }));
    }
    auto changed_on = [&](Date date) {
      std::string d = format_date(date);
      if (d > county_.last_changed) county_.last_changed = d;
    };
    for (const CountySpool::Block& b : spool_->blocks()) {
      auto s = stored.find(b.date);
      if (s != stored.end() && s->second.source.same_content(b.digest)) {
        county_.unchanged += b.digest.rows;
        if (b.bytes &&
            s->second.bytes != b.bytes) {  // the same rows in other bytes, or bytes not kept yet
          save[b.date] = s->second;
          save[b.date].bytes = b.bytes;
        }
        continue;
      }
      if (!b.kept) {
        return Status::Load("another run changed the county rows of " + format_date(b.date) +
                            " while this one read its sources; run again");
      }
      if (s == stored.end()) {
        fresh.push_back(&b);
        county_.inserted += b.digest.rows;
        changed_on(b.date);
        save[b.date] = StoredDigest{b.digest, b.digest.rows, b.bytes};
        continue;
      }
      auto incoming = spool_->read(b);
      if (!incoming.ok()) return incoming.status();
      std::vector<std::string> locations;
      locations.reserve(incoming->size());
      for (const Observation& o : *incoming) locations.push_back(o.location);
      auto before = t.existing_on(b.date, locations);
      if (!before.ok()) return before.status();
      if (before->size() < s->second.stored_rows) {  // the store has rows the source dropped
        before = t.existing_on_date(kCountyLevel, b.date);
        if (!before.ok()) return before.status();
      }
      ChangeSet c = classify(*before, *incoming);
      c.missing = dropped(*before, *incoming);
      COVID_RETURN_IF_ERROR(t.write(*summary_.run_id, c));
      county_.inserted += c.inserted.size();
      county_.updated += c.updated.size();
      county_.unchanged += c.unchanged;
      county_.missing += c.missing.size();
      if (!c.missing.empty()) county_missing_dates_.push_back(b.date);
      for (const Observation& o : c.inserted) changed.insert(o.location);
      for (const Revision& r : c.updated) changed.insert(r.after.location);
      if (!c.empty()) changed_on(b.date);
      save[b.date] = StoredDigest{b.digest, incoming->size() + c.missing.size(), b.bytes};
    }
    // Whole dates the source no longer has: their rows are kept, and reported.
    std::set<Date> in_source;
    for (const CountySpool::Block& b : spool_->blocks()) in_source.insert(b.date);
    for (const auto& [date, d] : stored) {
      if (!in_source.count(date) && d.stored_rows > 0) {
        county_.missing += d.stored_rows;
        county_missing_dates_.push_back(date);
      }
    }
    if (!fresh.empty()) {
      std::unique_ptr<RowCursor> merged = spool_->merge(fresh);
      DistinctLocations cursor(*merged, changed);
      COVID_RETURN_IF_ERROR(t.insert_sorted(*summary_.run_id, cursor));
    }
    county_.locations_changed = changed.size();
    return t.save_date_digests(kCountyLevel, save);
  }

  // The stored rows of one date whose location the source no longer has on that date (both
  // sorted by location). classify() does not see them: it compares the locations of `incoming`.
  static std::vector<Observation> dropped(const std::vector<Observation>& stored,
                                          const std::vector<Observation>& incoming) {
    std::vector<Observation> out;
    auto in = incoming.begin();
    for (const Observation& o : stored) {
      while (in != incoming.end() && in->location < o.location) ++in;
      if (in == incoming.end() || in->location != o.location) out.push_back(o);
    }
    return out;
  }

  // Passes rows on, noting each location once (rows come grouped by location).
  class DistinctLocations final : public RowCursor {
   public:
    DistinctLocations(RowCursor& rows, std::unordered_set<std::string>& seen)
        : rows_(rows), seen_(seen) {}
    Result<const Observation*> next() override {
      auto row = rows_.next();
      if (row.ok() && *row != nullptr && (*row)->location != last_) {
        last_ = (*row)->location;
        seen_.insert(last_);
      }
      return row;
    }

   private:
    RowCursor& rows_;
    std::unordered_set<std::string>& seen_;
    std::string last_;
  };

  // The digests of the county dates read into memory (a store that did not keep them yet, or
  // does not keep them at all), for the next run: the rows the source gave per date, and the
  // rows held per date, missing ones included.
  std::map<Date, StoredDigest> county_digests() const {
    std::map<Date, StoredDigest> out;
    for (const Observation& o : rows_) {
      if (std::string_view(location_level(o.location)) != kCountyLevel) continue;
      StoredDigest& d = out[o.date];
      d.source.add(o);
      ++d.stored_rows;
    }
    for (const Observation& o : summary_.changes.missing) {
      if (std::string_view(location_level(o.location)) == kCountyLevel) ++out[o.date].stored_rows;
    }
    return out;
  }

  void finish_timing() {
    summary_.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::steady_clock::now() - start_)
                               .count();
  }

  RunRecord record(RunStatus status) {
    finish_timing();
    summary_.counts.warnings = summary_.diagnostics.warning_count();
    summary_.counts.errors = summary_.diagnostics.error_count();
    RunRecord r;
    r.id = summary_.run_id.value_or(0);
    r.started_at = summary_.started_at;
    r.finished_at = format_timestamp(clock_.now());
    r.status = status;
    r.counts = summary_.counts;
    r.first_date = summary_.first_date;
    r.last_date = summary_.last_date;
    r.sources_json = scrub(sources_to_json(summary_.sources).dump());
    r.duration_ms = summary_.duration_ms;
    return r;
  }

  void fail(const Status& failure) {
    // Libraries' texts were scrubbed where they entered; this is the last net before the failure
    // is recorded, printed and sent.
    const Status s(failure.kind(), scrub(failure.message()));
    summary_.status = RunStatus::kFailed;
    summary_.failure = s;
    summary_.changes = ChangeSet();
    summary_.counts.inserted = summary_.counts.updated = summary_.counts.unchanged = 0;
    summary_.counts.missing = 0;
    summary_.levels.clear();
    if (summary_.sources.empty()) report_sources_partial();
    if (options_.dry_run) {
      finish_timing();
      return;
    }
    Status recorded = Status::Load("no run record");
    if (store_ && summary_.run_id) {
      RunRecord r = record(RunStatus::kFailed);
      r.stage = stage_name(s.kind());
      r.error = s.message();
      if (!summary_.diagnostics.errors().empty()) {
        r.error += ": " + summary_.diagnostics.errors().front().to_string();
      }
      r.error = scrub(r.error);
      recorded = store_->finish_run(r, outbox());
      if (!recorded.ok() && s.kind() != ErrorKind::kLoad) {
        summary_.failure =
            Status(s.kind(), scrub(s.message() + " (and the failure could not be recorded: " +
                                   recorded.message() + ")"));
      }
    } else {
      finish_timing();
    }
    if (!recorded.ok()) {
      // Without a database to hold it, the failure is still told, straight away.
      FlushReport direct;
      for (const auto& [channel, d] :
           dispatcher_.send_now(run_message(summary_, config_.dashboard_url))) {
        if (d.ok) {
          ++direct.delivered;
        } else {
          ++direct.failed;
          direct.errors.push_back(channel + ": " + d.error);
        }
      }
      summary_.notifications = direct;
    }
  }

  // Reports the sources tried before a failure in extraction (the failed one without status).
  void report_sources_partial() {
    for (const SourceRun& src : sources_) {
      if (src.attempted) summary_.sources.push_back(src.report);
    }
  }

  const Config& config_;
  HttpClient& http_;
  const Clock& clock_;
  RunOptions options_;
  std::chrono::steady_clock::time_point start_;
  RunSummary summary_;
  Dispatcher dispatcher_;
  std::unique_ptr<Store> store_;
  std::map<std::string, SourceState> states_;
  NytNationalReader nyt_{redact_url(config_.nyt_url), clock_};
  JhuRecoveredReader jhu_{redact_url(config_.jhu_url), clock_};
  std::vector<std::unique_ptr<StatesReader>> states_readers_;
  std::vector<std::unique_ptr<CountiesReader>> counties_readers_;
  std::vector<Location> locations_;
  std::unique_ptr<CountySpool> spool_;
  std::vector<std::unique_ptr<DateBlockSkipper>> skippers_;  // one per county source
  LevelCounts county_;                                       // the spooled counties' counts
  std::vector<Date> county_missing_dates_;  // the spooled dates with stored rows the source lost
  PreviousRun previous_;                    // what the last successful run read
  std::vector<SourceRun> sources_;
  std::vector<Observation> rows_;
};

}  // namespace

RunSummary run_etl(const Config& config, HttpClient& http, const Clock& clock,
                   const RunOptions& options) {
  return Run(config, http, clock, options).execute();
}

}  // namespace covid
