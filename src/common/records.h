// Records: the plain record types that several layers share, kept below all of them so that data
// flows one way. A run's record (RunStatus, RunCounts, RunRecord) is written by the pipeline,
// stored by load/, shown by serve/ and app/; an outbox message (OutboxMessage, OutboxStatus,
// DeliveryUpdate) is written by the pipeline, kept by load/ and delivered by notify/ (through the
// Outbox interface, common/outbox.h); what a run saw of a source (SourceValidators, SourceState)
// is sent by extract/ and kept by load/. Plain values; the enums' names are their text in the
// database and in JSON.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace covid {

enum class RunStatus { kRunning, kOk, kUnchanged, kFailed };
const char* to_string(RunStatus s);
std::optional<RunStatus> parse_run_status(std::string_view s);

struct RunCounts {
  uint64_t rows_read = 0;
  uint64_t inserted = 0, updated = 0, unchanged = 0, missing = 0;
  uint64_t warnings = 0, errors = 0;
};

struct RunRecord {
  int64_t id = 0;
  std::string started_at, finished_at;  // RFC 3339 UTC
  RunStatus status = RunStatus::kRunning;
  std::string stage;  // for a failed run: extract, validate or load
  RunCounts counts;
  std::string first_date, last_date;  // of the source series
  std::string error;                  // for a failed run
  std::string sources_json;           // what was fetched: URL, HTTP status, ETag, hash, bytes
  int64_t duration_ms = 0;
  // The data-quality warnings of the run, counted by kind (pipeline/quality.h): a JSON object
  // such as {"deaths_above_cases": 1, "outlier": 2}; empty for a run recorded before they were
  // kept (or a run that failed before its checks), "{}" when it had none.
  std::string quality_json;
};

// One notification for one channel, kept in the outbox until it is delivered.
enum class OutboxStatus { kPending, kDelivered, kFailed };
const char* to_string(OutboxStatus s);
std::optional<OutboxStatus> parse_outbox_status(std::string_view s);

struct OutboxMessage {
  int64_t id = 0;
  int64_t run_id = 0;   // 0: not tied to a run
  std::string channel;  // the [[notify]] entry's name
  std::string event;    // success, unchanged, failure
  std::string subject;
  std::string body;     // the human message
  std::string payload;  // JSON: the run summary
  OutboxStatus status = OutboxStatus::kPending;
  int attempts = 0;
  std::string last_error;
  std::string created_at, delivered_at;
};

// The outcome of delivery attempts, recorded with Outbox::record_delivery.
struct DeliveryUpdate {
  int64_t id = 0;
  OutboxStatus status = OutboxStatus::kPending;  // kPending: try again later
  int attempts_added = 0;
  std::string error;  // without secrets
  std::string at;     // RFC 3339 UTC
};

// What a previous successful run saw of a source: sent back as If-None-Match / If-Modified-Since.
struct SourceValidators {
  std::string etag;
  std::string last_modified;
  bool empty() const { return etag.empty() && last_modified.empty(); }
};

// What a successful run saw of one source, for the next run's conditional GET.
struct SourceState {
  std::string url;  // the redacted URL (common/redact_url.h), never one with a secret
  SourceValidators validators;
  std::string content_hash;
  uint64_t bytes = 0;
  // Which source it is: its name (nyt, states, ...) and its dataset's (pipeline/datasets.h), which
  // say its cadence and whether it is archived. Empty in states written before they were kept.
  std::string name = {}, dataset = {};
  // The column names of its header line, comma-separated, as the last successful run read them
  // (empty: not known), compared with the next run's (pipeline/quality.h).
  std::string header = {};
  // When a run first saw its content as it is now (RFC 3339 UTC): the content hash changed then.
  // Empty: not known (a state written before it was kept).
  std::string changed_at = {};
  // When a run's notification said the source was stale (RFC 3339 UTC); empty since its content
  // last changed. A stale source is told of once per stale period (pipeline/freshness.h).
  std::string stale_told_at = {};
  // The run that last saved it, as Store::source_states() reads it (0: not known); save_source()
  // takes the run's id instead. Of a source's URLs (its name), those of the newest run are the
  // ones it is loaded from now; the others are kept but superseded (pipeline/freshness.h).
  int64_t run_id = 0;
};

}  // namespace covid
