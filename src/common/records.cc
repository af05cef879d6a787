#include "common/records.h"

namespace covid {

const char* to_string(RunStatus s) {
  switch (s) {
    case RunStatus::kRunning:
      return "running";
    case RunStatus::kOk:
      return "ok";
    case RunStatus::kUnchanged:
      return "unchanged";
    case RunStatus::kFailed:
      return "failed";
  }
  return "failed";
}

std::optional<RunStatus> parse_run_status(std::string_view s) {
  for (RunStatus r :
       {RunStatus::kRunning, RunStatus::kOk, RunStatus::kUnchanged, RunStatus::kFailed}) {
    if (s == to_string(r)) return r;
  }
  return std::nullopt;
}

const char* to_string(OutboxStatus s) {
  switch (s) {
    case OutboxStatus::kPending:
      return "pending";
    case OutboxStatus::kDelivered:
      return "delivered";
    case OutboxStatus::kFailed:
      return "failed";
  }
  return "failed";
}

std::optional<OutboxStatus> parse_outbox_status(std::string_view s) {
  for (OutboxStatus o : {OutboxStatus::kPending, OutboxStatus::kDelivered, OutboxStatus::kFailed}) {
    if (s == to_string(o)) return o;
  }
  return std::nullopt;
}

}  // namespace covid
