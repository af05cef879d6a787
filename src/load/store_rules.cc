#include "load/store_rules.h"

#include <utility>

namespace covid {

RunStatus stored_run_status(std::string_view text) {
  return parse_run_status(text).value_or(RunStatus::kFailed);
}

OutboxStatus stored_outbox_status(std::string_view text) {
  return parse_outbox_status(text).value_or(OutboxStatus::kPending);
}

std::string lock_timeout_message(std::string_view store, std::chrono::milliseconds waited,
                                 std::string_view detail) {
  std::string out = "the database ";
  out += store;
  out += " is locked by another run";
  out += detail;
  out += "; gave up after waiting " + std::to_string(waited.count()) + " ms (lock_timeout_ms)";
  return out;
}

Status check_schema_version(int64_t found, int64_t known, std::string_view where,
                            std::string_view noun) {
  if (found <= known) return Status::Ok();
  return Status::Load(std::string(where) + ": " + std::string(noun) + " " + std::to_string(found) +
                      " is newer than this covid-etl knows (" + std::to_string(known) + ")");
}

Result<std::optional<std::map<Date, StoredDigest>>> date_digests_answer(
    std::map<Date, StoredDigest> stored, const std::function<Result<bool>()>& level_has_rows) {
  if (stored.empty()) {
    Result<bool> rows = level_has_rows();
    if (!rows.ok()) return rows.status();
    if (*rows) return std::optional<std::map<Date, StoredDigest>>();
  }
  return std::optional(std::move(stored));
}

RunRecord interrupted_run_record(const InterruptedRun& run, int64_t noticed_by) {
  RunRecord r;
  r.id = run.id;
  r.started_at = run.started_at;
  r.status = RunStatus::kFailed;
  r.error = interrupted_run_message(noticed_by);
  return r;
}

Status close_interrupted_runs(const std::vector<InterruptedRun>& found, int64_t noticed_by,
                              const InterruptedOutbox& tell, const CloseInterruptedRun& close) {
  for (const InterruptedRun& run : found) {
    RunRecord closed = interrupted_run_record(run, noticed_by);
    std::vector<OutboxMessage> outbox;
    if (tell) outbox = tell(closed);
    COVID_RETURN_IF_ERROR(close(closed, outbox));
  }
  return Status::Ok();
}

}  // namespace covid
