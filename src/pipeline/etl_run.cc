#include "pipeline/etl_run.h"

#include <xxhash.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <iterator>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "common/secrets.h"
#include "extract/fetcher.h"
#include "load/date_digest.h"
#include "load/migrations.h"
#include "load/plan.h"
#include "load/store.h"
#include "notify/dispatcher.h"
#include "pipeline/datasets.h"
#include "pipeline/freshness.h"
#include "pipeline/quality.h"
#include "pipeline/run_message.h"
#include "pipeline/table_sink.h"

namespace covid {
namespace {

struct SourceRun {
  SourceSlot slot;
  SourceReport report;
  bool attempted = false;
  const Dataset* dataset = nullptr;
  std::string header;    // the body's header's columns (join_header), once read
  std::string load_key;  // what its rows depend on besides its bytes (source_load_key)
};

// What a source's rows in the store depend on besides its bytes: the reading rules and schema of
// this build, the join, its dataset and name, and the files of its dataset. A local file whose
// bytes and key are those of the last successful run's is not read again (Run::known_hash).
// Bumped whenever a reader's validation or what it takes from a file changes (as
// BytesDigest::kRulesVersion is for the county reader, also mixed in): files loaded under older
// rules are then read again once.
constexpr int kReadingRules = 1;

std::string source_load_key(const Config& config, const Dataset& dataset,
                            const std::vector<SourceSlot>& slots, const SourceSlot& slot) {
  std::string text =
      "rules " + std::to_string(kReadingRules) + "." + std::to_string(BytesDigest::kRulesVersion) +
      "\nschema " + std::to_string(sql_schema_version()) + "\njoin " +
      std::to_string(int(config.join)) + "\ndataset " + dataset.name + "\nsource " + slot.name;
  for (const SourceSlot& s : slots) text += "\nfile " + redact_url(s.url);
  char buf[32];
  std::snprintf(buf, sizeof buf, "xxh3-64:%016llx",
                (unsigned long long)XXH3_64bits(text.data(), text.size()));
  return buf;
}

// What the last successful run (ok or unchanged) read of each source, by (name, URL as shown):
// the rows and dates its dataset took, for the shrink check and for a source that answers 304.
struct PreviousRun {
  int64_t id = 0;
  std::map<std::pair<std::string, std::string>, SourceReport> sources;
  // No run began after it (none failed, was interrupted or is running since): what the store
  // holds is what it left.
  bool latest = false;
};

Result<PreviousRun> last_success(Store& store) {
  constexpr size_t kLookBack = 1000;  // failed runs in between are passed over
  auto runs = store.list_runs(kLookBack);
  if (!runs.ok()) return runs.status();
  PreviousRun out;
  for (const RunRecord& r : *runs) {
    if (r.status != RunStatus::kOk && r.status != RunStatus::kUnchanged) continue;
    out.id = r.id;
    out.latest = &r == &runs->front();
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
      const auto text = [&](const char* key) {  // absent or null in older runs
        auto v = j.find(key);
        return v != j.end() && v->is_string() ? v->get<std::string>() : std::string();
      };
      rep.content_hash = text("content_hash");
      rep.load_key = text("load_key");
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
  const Dataset* d = dataset_at_level(level);
  return d != nullptr ? d->name : "unknown";
}

std::string plural(uint64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

// A body on its way to its table, told to a progress display (RunOptions::progress) as it comes.
class ProgressSink final : public SourceSink {
 public:
  ProgressSink(SourceSink& next, const TableReader& reader, RunProgress& progress,
               std::string_view name)
      : next_(next), reader_(reader), progress_(progress), name_(name) {}
  void write(std::string_view bytes) override {
    next_.write(bytes);
    bytes_ += bytes.size();
    progress_.fetching(name_, bytes_, total_, reader_.rows_read());
  }
  void expect(uint64_t total) override { total_ = total; }
  void restart() override {
    next_.restart();
    bytes_ = 0;
  }

 private:
  SourceSink& next_;
  const TableReader& reader_;
  RunProgress& progress_;
  std::string_view name_;
  uint64_t bytes_ = 0, total_ = 0;
};

class Run {
 public:
  // `store`: the store the caller opened; nullptr when it could not (`open_failure` says why).
  Run(const Config& config, Store* store, Status open_failure, HttpClient& http, const Clock& clock,
      const RunOptions& options)
      : config_(config),
        http_(http),
        clock_(clock),
        options_(options),
        start_(std::chrono::steady_clock::now()),
        dispatcher_(config.channels, clock, config.dispatch),
        store_(store),
        open_failure_(std::move(open_failure)) {
    summary_.dry_run = options.dry_run;
    summary_.started_at = format_timestamp(clock.now());
    // Parsing a URL for display remembers its secrets (common/secrets.h), before any is needed.
    for (const std::string& url : {config.nyt_url, config.jhu_url}) (void)redact_url(url);
    for (const std::string& url : states_urls(config)) (void)redact_url(url);
    for (const std::string& url : counties_urls(config)) (void)redact_url(url);
    (void)redact_url(population_url(config));
    (void)redact_url(anomalies_url(config));
    (void)redact_url(who_url(config));
  }

  RunSummary execute() {
    Status s = open();
    if (s.ok()) s = extract();
    if (s.ok() && summary_.status != RunStatus::kUnchanged) s = validate();
    if (s.ok() && summary_.status != RunStatus::kUnchanged) s = load();
    if (options_.progress != nullptr) options_.progress->finished();
    if (!s.ok()) fail(s);
    // After the commit: deliver this run's notifications and any left by earlier runs. A
    // notifier that is down changes nothing above.
    if (store_ && !options_.dry_run) summary_.notifications = dispatcher_.flush(*store_);
    return std::move(summary_);
  }

 private:
  // Opens the store, reads what the run needs of it before the download (the last successful
  // run, the sources' validators) and records the run as running.
  Status open() {
    if (store_ == nullptr) return open_failure_;  // the caller could not open it
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

  // The content hash that makes a local file not_modified (extract/fetcher.h): the one the
  // source's stored state and the last successful run both have, when that run was the last one
  // (nothing failed or ran since), read the source for the same dataset under the same load key,
  // the store was not migrated on opening, and the run replaces nothing. Else empty: the file is
  // read.
  std::string known_hash(const SourceRun& src) const {
    if (!options_.replace_datasets.empty() || !previous_.latest || store_->migrated_on_open())
      return {};
    const std::string url = redact_url(src.slot.url);
    auto state = states_.find(url);
    auto prev = previous_.sources.find({src.slot.name, url});
    if (state == states_.end() || prev == previous_.sources.end()) return {};
    const SourceState& st = state->second;
    if (st.content_hash.empty() || st.content_hash != prev->second.content_hash ||
        st.name != src.slot.name || src.dataset == nullptr || st.dataset != src.dataset->name ||
        prev->second.load_key != src.load_key) {
      return {};
    }
    return st.content_hash;
  }

  // Fetches one source into its reader; `conditional` sends the last run's validators (for a
  // local file, its content hash).
  Status fetch(Fetcher& fetcher, SourceRun& src, bool conditional) {
    SourceValidators validators;
    auto it = states_.find(redact_url(src.slot.url));  // kept under the URL without its secrets
    if (conditional && it != states_.end()) validators = it->second.validators;
    TableSink sink(*src.slot.reader, src.slot.filter);
    src.report = SourceReport();
    src.report.name = src.slot.name;
    src.report.url = redact_url(src.slot.url);
    src.attempted = true;
    const std::string known = conditional ? known_hash(src) : std::string();
    std::optional<ProgressSink> shown;  // only with a progress display: nothing in the way else
    if (options_.progress != nullptr)
      shown.emplace(sink, *src.slot.reader, *options_.progress, src.slot.name);
    auto r = shown ? fetcher.fetch(src.slot.url, validators, *shown, known)
                   : fetcher.fetch(src.slot.url, validators, sink, known);
    if (!r.ok()) {
      src.report.attempts = fetcher.attempts();  // a failed source says how often it was tried
      return r.status();
    }
    src.report = SourceReport{src.slot.name,
                              redact_url(src.slot.url),
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
    src.report.load_key = src.load_key;
    if (!r->not_modified) {
      sink.finish();
      src.header = join_header(src.slot.reader->header());
      src.report.rows = src.slot.reader->rows_read();
      src.report.kept_rows = src.slot.reader->rows_kept();
      src.report.dates = src.slot.reader->dates_kept();
    } else if (auto p = previous_.sources.find({src.slot.name, src.report.url});
               p != previous_.sources.end()) {
      src.report.kept_rows = p->second.kept_rows;  // unchanged since the run that read it
      src.report.dates = p->second.dates;
    }
    return Status::Ok();
  }

  // The configured datasets, each with its readers; a date-ordered dataset whose store keeps
  // digests for its level spools its dates and skips the unchanged ones (not in a dry run, which
  // reads everything into memory).
  Status start_datasets() {
    for (const Dataset& d : registry()) {
      if (!d.enabled(config_)) continue;
      runs_.push_back({&d, d.start(config_, clock_)});
      summary_.datasets.push_back(d.name);
      if (!d.date_ordered || options_.dry_run || *d.level == '\0') continue;
      auto digests = store_->date_digests(d.level);
      if (!digests.ok()) return digests.status();
      if (digests->has_value())
        COVID_RETURN_IF_ERROR(runs_.back().run->use_date_digests(**digests));
    }
    for (const std::string& name : options_.replace_datasets) {
      bool on = std::any_of(runs_.begin(), runs_.end(),
                            [&](const DatasetEntry& e) { return name == e.dataset->name; });
      if (!on) {
        return Status::Usage(
            "--replace-dataset " + name + ": not a dataset this run loads (the datasets: " +
            dataset_names(/*series_only=*/true) + "; turned on by their source or [datasets])");
      }
    }
    for (const DatasetEntry& e : runs_) {
      for (const SourceSlot& slot : e.run->sources()) {
        sources_.push_back({slot,
                            {},
                            false,
                            e.dataset,
                            {},
                            source_load_key(config_, *e.dataset, e.run->sources(), slot)});
      }
    }
    if (sources_.empty()) {
      return Status::Usage("no dataset to load: [datasets] turns every dataset off (" +
                           dataset_names(/*series_only=*/false) + ")");
    }
    return Status::Ok();
  }

  Status extract() {
    COVID_RETURN_IF_ERROR(start_datasets());
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

  void report_sources() {
    summary_.sources.clear();
    for (const SourceRun& src : sources_) {
      summary_.sources.push_back(src.report);
      summary_.counts.rows_read += src.report.rows;
    }
  }

  // Nothing was downloaded; the sources' states change only when a notification now says one is
  // stale (or a state written by an older version gains what it lacked): then in a load
  // transaction, with the run's record.
  Status finish_unchanged_by_304() {
    if (options_.dry_run) return Status::Ok();
    std::vector<SourceState> next = next_states();
    bool same = true;
    for (const SourceState& st : next) {
      auto it = states_.find(st.url);
      same = same && it != states_.end() && it->second.name == st.name &&
             it->second.dataset == st.dataset && it->second.changed_at == st.changed_at &&
             it->second.stale_told_at == st.stale_told_at;
    }
    RunRecord rec = record(RunStatus::kUnchanged);
    if (same) return store_->finish_run(rec, outbox());
    auto txn = store_->begin_load();
    if (!txn.ok()) return txn.status();
    for (const SourceState& st : next)
      COVID_RETURN_IF_ERROR((*txn)->save_source(*summary_.run_id, st));
    COVID_RETURN_IF_ERROR((*txn)->finish_run(rec, outbox()));
    return (*txn)->commit();
  }

  // The state each source is saved with: what this run saw of it, when its content last changed
  // (now, when its hash differs from the stored one), and when a notification said it was stale.
  // A source stale for the first time since it last changed goes into the summary (its
  // notification says so) and is marked as told. The summary also gets every source's freshness.
  std::vector<SourceState> next_states() {
    const auto now = clock_.now();
    const std::string now_text = format_timestamp(now);
    const FreshnessOptions fo{config_.daily_stale_after_days, config_.weekly_stale_after_days};
    std::vector<SourceState> out;
    std::map<std::string, SourceState> all = states_;
    for (const SourceRun& src : sources_) {
      const std::string url = redact_url(src.slot.url);
      auto prev = states_.find(url);
      SourceState st;
      if (src.report.not_modified && prev != states_.end()) {
        st = prev->second;  // unchanged since the run that read it
      } else {
        st.url = url;
        st.validators = {src.report.etag, src.report.last_modified};
        st.content_hash = src.report.content_hash;
        st.bytes = src.report.bytes;
        st.header = src.header;
      }
      st.name = src.slot.name;
      st.dataset = src.dataset != nullptr ? src.dataset->name : "";
      st.run_id = summary_.run_id.value_or(0);  // the URLs it is loaded from now
      bool changed = prev == states_.end() ||
                     (!src.report.not_modified && prev->second.content_hash != st.content_hash);
      st.changed_at =
          changed || prev->second.changed_at.empty() ? now_text : prev->second.changed_at;
      st.stale_told_at = changed ? std::string() : prev->second.stale_told_at;
      SourceFreshness f = source_freshness(st, registry(), fo, now);
      if (f.state == "stale" && st.stale_told_at.empty()) {
        summary_.stale.push_back({st.name, st.url, f.since, st.changed_at});
        st.stale_told_at = now_text;
      }
      all[url] = st;
      out.push_back(std::move(st));
    }
    summary_.source_states = sources_freshness_json(all, registry(), fo, now);
    return out;
  }

  // This run's notifications, addressed to the channels that want them.
  std::vector<OutboxMessage> outbox() const {
    return dispatcher_.address(run_message(summary_, config_.dashboard_url));
  }

  // The store's locations, read once, when a dataset has locations of its own to compare and the
  // store keeps their names (DynamoDB keeps none: its list is a scan of every key, and no name
  // could be compared).
  Status read_stored_locations() {
    bool needed = false;
    for (const DatasetEntry& e : runs_) {
      std::string_view level = e.dataset->level;
      needed = needed || (level != "nation" && !level.empty());  // reference data: no names
    }
    if (!needed || !store_->keeps_location_names()) return Status::Ok();
    auto stored = store_->list_locations();
    if (!stored.ok()) return stored.status();
    stored_locations_ = std::move(*stored);
    for (const Location& l : stored_locations_) stored_by_id_.emplace(l.id, &l);
    return Status::Ok();
  }

  Status validate() {
    if (options_.progress != nullptr)
      options_.progress->step("validating", summary_.counts.rows_read);
    COVID_RETURN_IF_ERROR(read_stored_locations());
    Diagnostics across;  // problems across a dataset's files, after the files' own
    for (DatasetEntry& e : runs_)
      COVID_RETURN_IF_ERROR(e.run->check(*store_, stored_by_id_, across));
    for (const SourceRun& src : sources_)
      summary_.diagnostics.merge(src.slot.reader->diagnostics());
    summary_.diagnostics.merge(across);
    if (!summary_.diagnostics.has_errors()) {
      COVID_RETURN_IF_ERROR(check_cadences());  // the real problem of a weekly file after daily
      check_shrink();
    }
    for (const SourceRun& src : sources_) {
      auto prev = states_.find(redact_url(src.slot.url));
      if (prev == states_.end()) continue;
      check_header(src.slot.name + " (" + redact_url(src.slot.url) + ")", prev->second.header,
                   src.slot.reader->header(), summary_.quality);
    }
    if (summary_.diagnostics.has_errors()) {
      uint64_t n = summary_.diagnostics.error_count();
      return Status::InvalidData(std::to_string(n) + (n == 1 ? " error" : " errors") +
                                 " in the source data; nothing was loaded");
    }
    std::map<std::string, Location> locations;
    bool any_blocks = false, any_series = false;
    for (DatasetEntry& e : runs_) {
      COVID_RETURN_IF_ERROR(e.run->take_rows(input_.rows, locations));
      COVID_RETURN_IF_ERROR(e.run->take_reference(input_.reference));
      any_series = any_series || *e.dataset->level != '\0';
      bool replace = replaced(*e.dataset);
      if (e.run->cadence_days() > 0 || replace)
        input_.datasets.push_back(
            {e.dataset->name, e.dataset->level, e.run->cadence_days(), std::nullopt, replace});
      if (const BlockSource* b = e.run->blocks()) {
        any_blocks = any_blocks || b->block_count() > 0;
        input_.blocks.push_back({e.dataset->level, b, {}, e.run->block_locations(stored_by_id_)});
      } else if (e.dataset->date_ordered && !options_.dry_run) {
        input_.digest_levels.push_back(e.dataset->level);  // digests kept from now on
      }
    }
    // Two files (or datasets) with the same (location, date) are an error. One dataset's rows
    // come sorted: then there is nothing to sort.
    if (!std::is_sorted(input_.rows.begin(), input_.rows.end(), by_location_date))
      std::stable_sort(input_.rows.begin(), input_.rows.end(), by_location_date);
    for (size_t i = 1; i < input_.rows.size(); ++i) {
      const Observation& a = input_.rows[i - 1];
      const Observation& b = input_.rows[i];
      if (a.location == b.location && a.date == b.date) {
        return Status::InvalidData("location " + b.location + " on " + format_date(b.date) +
                                   " is in two files; nothing was loaded");
      }
    }
    if (any_series && input_.rows.empty() && !any_blocks)
      return Status::InvalidData("the series is empty; nothing was loaded");
    for (auto& [id, l] : locations) input_.locations.push_back(std::move(l));
    warn_renamed();
    Date first{INT32_MAX}, last{INT32_MIN};
    std::map<std::string, std::pair<Date, Date>> ranges;  // by dataset
    auto widen = [&](std::pair<Date, Date>& r, Date from, Date to) {
      first = std::min(first, from);
      last = std::max(last, to);
      r.first = std::min(r.first, from);
      r.second = std::max(r.second, to);
    };
    const Date none_yet[2] = {Date{INT32_MAX}, Date{INT32_MIN}};
    std::string_view level;  // of the rows before: they come sorted by location
    std::pair<Date, Date>* range = nullptr;
    for (const Observation& o : input_.rows) {
      if (range == nullptr || location_level(o.location) != level) {
        level = location_level(o.location);
        range =
            &ranges.try_emplace(dataset_of_level(level), none_yet[0], none_yet[1]).first->second;
      }
      widen(*range, o.date, o.date);
    }
    for (const DatasetEntry& e : runs_) {
      if (auto r = e.run->block_dates()) {
        widen(ranges.try_emplace(e.dataset->name, none_yet[0], none_yet[1]).first->second, r->first,
              r->second);
      }
    }
    if (first <= last) {  // a run of reference data only has no dates
      summary_.first_date = format_date(first);
      summary_.last_date = format_date(last);
    }
    for (const auto& [dataset, r] : ranges)
      summary_.date_ranges[dataset] = {format_date(r.first), format_date(r.second)};
    return Status::Ok();
  }

  // A dataset whose source has another cadence than the store's is refused before its row count
  // is compared (a weekly file after daily ones has far fewer rows: the cadence, and the advice
  // to --replace-dataset, is what to tell). Checked again under the run lock by plan_load().
  Status check_cadences() {
    for (const DatasetEntry& e : runs_) {
      int days = e.run->cadence_days();
      if (days == 0 || replaced(*e.dataset)) continue;
      auto stored = store_->dataset_cadence(e.dataset->name);
      if (!stored.ok()) return stored.status();
      COVID_RETURN_IF_ERROR(
          check_cadence({e.dataset->name, e.dataset->level, days, *stored, false}));
    }
    return Status::Ok();
  }

  // A source whose dataset took far fewer rows or dates than the last successful run read from
  // the source of the same name ("nyt", "jhu", "states", "counties"; all its files together,
  // whatever their URLs) is what a download cut short at a line boundary looks like: an error
  // unless accept_shrink. A dataset this run replaces (--replace-dataset) is not compared: its
  // stored rows go, whatever their number.
  void check_shrink() {
    struct Totals {
      uint64_t rows = 0, dates = 0, before_rows = 0, before_dates = 0;
      bool comparable = false;
      std::string file;
    };
    std::map<std::string, Totals> by_name;
    for (const SourceRun& src : sources_) {
      if (src.dataset != nullptr && replaced(*src.dataset)) continue;
      Totals& t = by_name[src.slot.name];
      t.rows += src.report.kept_rows;
      t.dates += src.report.dates;  // the files of a dataset hold separate dates
      t.file = t.file.empty() ? src.report.url : src.slot.name;  // one file, or the source's name
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
  void warn_renamed() {
    if (!store_->keeps_location_names()) return;
    auto shown = [](const Location& l) {
      return "'" + l.name + "'" + (l.state.empty() ? std::string() : " (" + l.state + ")");
    };
    for (const Location& l : input_.locations) {
      auto it = stored_by_id_.find(l.id);
      if (it == stored_by_id_.end() || it->second->name.empty()) continue;  // new, or no names
      if (it->second->name == l.name && it->second->state == l.state) continue;
      summary_.diagnostics.warning_first(Issue{
          dataset_of_level(location_level(l.id)), 0, 0,
          "location " + l.id + " is " + shown(l) + " in the source but " + shown(*it->second) +
              " in the database: renamed upstream? Its series is kept; the new name is saved"});
    }
  }

  // Says, per dataset, which stored rows and values the source no longer gives (they are kept).
  void warn_missing(const LoadPlan& plan) {
    const ChangeSet& c = plan.changes;
    std::map<std::string, std::pair<uint64_t, std::vector<Date>>> rows;  // dataset -> rows, dates
    for (const Observation& o : c.missing) {
      auto& [n, dates] = rows[dataset_of_level(location_level(o.location))];
      ++n;
      dates.push_back(o.date);
    }
    for (const LoadPlan::BlockLevel& b : plan.blocks) {
      uint64_t missing = plan.levels.at(b.level).missing;
      if (missing == 0) continue;
      auto& [n, dates] = rows[dataset_of_level(b.level)];
      n += missing;
      dates.insert(dates.end(), b.missing_dates.begin(), b.missing_dates.end());
    }
    for (const auto& [dataset, r] : rows) {
      summary_.diagnostics.warning_first(Issue{
          dataset, 0, 0,
          plural(r.first, "row", "rows") + " the database holds " + (r.first == 1 ? "is" : "are") +
              " no longer in the source (" + date_list(r.second) + "); kept as stored"});
    }
    std::map<std::string, std::pair<std::set<std::string>, std::vector<Date>>> values;
    for (const Observation& o : c.missing_values) {
      auto it = std::lower_bound(plan.rows.begin(), plan.rows.end(), o, by_location_date);
      if (it == plan.rows.end() || it->location != o.location || it->date != o.date) continue;
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

  // The plan's counts into the summary, and its in-memory changes (the notifications list them).
  void count(LoadPlan& plan) {
    summary_.counts.inserted = plan.inserted();
    summary_.counts.updated = plan.updated();
    summary_.counts.unchanged = plan.unchanged();
    summary_.counts.missing = plan.missing();
    warn_missing(plan);
    summary_.status = plan.changed() ? RunStatus::kOk : RunStatus::kUnchanged;
    summary_.levels = plan.levels;
    summary_.changes = std::move(plan.changes);
  }

  // The plan against the store's rows as they are under the run lock, then its apply, the
  // sources' states and the run record, in one transaction. A dry run plans against the store as
  // it is and stops there.
  // The stored cadence of each dataset that checks it (read under the run lock when loading).
  Status read_cadences() {
    for (PlanInput::Dataset& d : input_.datasets) {
      auto stored = store_->dataset_cadence(d.name);
      if (!stored.ok()) return stored.status();
      d.stored = *stored;
    }
    return Status::Ok();
  }

  Status load() {
    if (options_.dry_run) {
      COVID_RETURN_IF_ERROR(read_cadences());
      StoreReadView view(*store_);
      auto plan = plan_load(view, std::move(input_));
      if (!plan.ok()) return plan.status();
      COVID_RETURN_IF_ERROR(check_plan(*plan, {config_.outlier_threshold}, summary_.quality));
      count(*plan);
      finish_timing();
      return Status::Ok();
    }
    if (options_.progress != nullptr) options_.progress->step("loading", summary_.counts.rows_read);
    auto txn = store_->begin_load();
    if (!txn.ok()) return txn.status();
    LoadTransaction& t = **txn;
    for (PlanInput::Blocks& b : input_.blocks) {
      // Read under the lock (and before this run adds locations: see SqliteStore::date_digests).
      auto now = store_->date_digests(b.level);
      if (!now.ok()) return now.status();
      if (!now->has_value())
        return Status::Load("the " + b.level + " digests disappeared during the run; run again");
      b.stored = std::move(**now);
    }
    COVID_RETURN_IF_ERROR(read_cadences());
    TransactionView view(t);
    auto plan = plan_load(view, std::move(input_));
    if (!plan.ok()) return plan.status();
    COVID_RETURN_IF_ERROR(check_plan(*plan, {config_.outlier_threshold}, summary_.quality));
    COVID_RETURN_IF_ERROR(apply(t, *summary_.run_id, *plan));
    count(*plan);
    // States are kept under the redacted URL; one kept under a URL with a secret in it (written
    // before) goes.
    for (const auto& [url, state] : states_) {
      if (redact_url(url) != url) COVID_RETURN_IF_ERROR(t.forget_source(url));
    }
    for (const SourceState& st : next_states())
      COVID_RETURN_IF_ERROR(t.save_source(*summary_.run_id, st));
    RunRecord rec = record(summary_.status);
    COVID_RETURN_IF_ERROR(t.finish_run(rec, outbox()));
    return t.commit();
  }

  // The registry's datasets' names, ", "-separated; with `series_only`, those with a series (the
  // ones --replace-dataset can name).
  std::string dataset_names(bool series_only) const {
    std::string out;
    for (const Dataset& d : registry()) {
      if (series_only && *d.level == '\0') continue;
      out += (out.empty() ? "" : ", ") + std::string(d.name);
    }
    return out;
  }

  // Whether this run replaces `d` (--replace-dataset).
  bool replaced(const Dataset& d) const {
    return std::find(options_.replace_datasets.begin(), options_.replace_datasets.end(), d.name) !=
           options_.replace_datasets.end();
  }

  const std::vector<Dataset>& registry() const {
    return options_.datasets != nullptr ? *options_.datasets : datasets();
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
    if (status != RunStatus::kFailed) r.quality_json = quality_counts_json(summary_.quality).dump();
    return r;
  }

  void fail(const Status& failure) {
    // Libraries' texts were scrubbed where they entered; this is the last net before the failure
    // is recorded, printed and sent.
    const Status s(failure.kind(), scrub(failure.message()));
    summary_.status = RunStatus::kFailed;
    summary_.changes = ChangeSet();
    summary_.failure = s;
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

  struct DatasetEntry {
    const Dataset* dataset;
    std::unique_ptr<DatasetRun> run;
  };

  const Config& config_;
  HttpClient& http_;
  const Clock& clock_;
  RunOptions options_;
  std::chrono::steady_clock::time_point start_;
  RunSummary summary_;
  Dispatcher dispatcher_;
  Store* store_;         // the caller's (run_etl); nullptr when it could not be opened
  Status open_failure_;  // why, then
  std::map<std::string, SourceState> states_;
  PreviousRun previous_;  // what the last successful run read
  std::vector<DatasetEntry> runs_;
  std::vector<SourceRun> sources_;
  std::vector<Location> stored_locations_;  // the store's, when a dataset compares names
  std::map<std::string, const Location*> stored_by_id_;
  PlanInput input_;  // what validation hands to the plan
};

}  // namespace

StoreOptions run_store_options(const Config& config, bool dry_run) {
  StoreOptions so;
  so.lock_timeout = config.lock_timeout;
  so.read_only = dry_run;
  so.missing_ok = dry_run;  // a new database: everything would be inserted
  return so;
}

RunSummary run_etl(const Config& config, Store& store, HttpClient& http, const Clock& clock,
                   const RunOptions& options) {
  return Run(config, &store, Status::Ok(), http, clock, options).execute();
}

RunSummary run_etl_unopened(const Config& config, const Status& open_failure, HttpClient& http,
                            const Clock& clock, const RunOptions& options) {
  return Run(config, nullptr, open_failure, http, clock, options).execute();
}

}  // namespace covid
