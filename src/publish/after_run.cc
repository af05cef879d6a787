#include "publish/after_run.h"

#include <cstdio>

#include "common/secrets.h"
#include "notify/dispatcher.h"
#include "publish/publisher.h"

namespace covid {
namespace {

constexpr size_t kRunsLookedAt = 100;  // for an earlier publish that failed

// Whether the newest earlier run that reached its commit failed at its publish.
bool earlier_publish_failed(Store& store, int64_t this_run) {
  auto runs = store.list_runs(kRunsLookedAt);
  if (!runs.ok()) return false;
  for (const RunRecord& r : *runs) {
    if (r.id == this_run || r.status == RunStatus::kRunning) continue;
    if (r.status == RunStatus::kFailed && r.stage != "publish") continue;  // before its commit
    return r.status == RunStatus::kFailed;
  }
  return false;
}

}  // namespace

bool publish_due(const Config& config, Store& store, const RunSummary& summary) {
  if (config.publish_to.empty() || summary.dry_run || !summary.run_id) return false;
  if (summary.status == RunStatus::kOk) return true;
  return summary.status == RunStatus::kUnchanged && earlier_publish_failed(store, *summary.run_id);
}

void publish_after_run(const Config& config, Store& store, const Clock& clock,
                       RunSummary& summary) {
  if (!publish_due(config, store, summary)) return;
  auto r = publish_to(config, config.publish_to);
  if (r.ok()) {
    summary.publish = {{"to", config.publish_to}, {"objects", r->objects},
                       {"written", r->written},   {"unchanged", r->unchanged},
                       {"deleted", r->deleted},   {"bytes_written", r->bytes_written},
                       {"seconds", r->seconds}};
    return;
  }
  std::string error = scrub(r.status().message());
  summary.publish = {{"to", config.publish_to}, {"error", error}};
  summary.status = RunStatus::kFailed;
  summary.failure = Status(r.status().kind(), error);
  summary.failed_stage = "publish";

  std::string run = "covid-etl run " + std::to_string(*summary.run_id);
  Message m;
  m.run_id = *summary.run_id;
  m.event = "failure";
  m.subject = "covid-etl: run " + std::to_string(*summary.run_id) + " FAILED at publish: " + error;
  m.body = run + " loaded its data (" + std::to_string(summary.counts.inserted) + " inserted, " +
           std::to_string(summary.counts.updated) +
           " updated: committed), but its publish failed: " + error +
           "\nThe published dashboard is as it was before this run; the next run publishes "
           "again (or run `covid-etl publish`).\n";
  m.payload = to_json(summary).dump();
  Dispatcher dispatcher(config.channels, clock, config.dispatch);
  Status recorded = Status::Load("the run's record could not be read");
  if (auto rec = store.get_run(*summary.run_id); rec.ok() && *rec) {
    RunRecord record = **rec;
    record.status = RunStatus::kFailed;
    record.stage = "publish";
    record.error = error;
    recorded = store.finish_run(record, dispatcher.address(m));
  } else if (!rec.ok()) {
    recorded = rec.status();
  }
  if (!recorded.ok()) {
    // The failure cannot wait in the outbox: tell the channels now, as a run that cannot record
    // its failure does (pipeline/etl_run.h).
    std::fprintf(stderr, "covid-etl: the publish failure could not be recorded: %s\n",
                 scrub(recorded.message()).c_str());
    dispatcher.send_now(m);
    return;
  }
  FlushReport f = dispatcher.flush(store);
  if (summary.notifications) {
    summary.notifications->delivered += f.delivered;
    summary.notifications->pending = f.pending;
    summary.notifications->failed += f.failed;
    for (std::string& e : f.errors) summary.notifications->errors.push_back(std::move(e));
  } else {
    summary.notifications = std::move(f);
  }
}

}  // namespace covid
