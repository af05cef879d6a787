#include "serve/run_json.h"

#include "common/secrets.h"
#include "pipeline/run_summary.h"

namespace covid::serve {
namespace {

using nlohmann::json;

json text_or_null(const std::string& s) { return s.empty() ? json() : json(s); }

// The run's quality warnings by kind; null when the record does not hold them.
json quality_json(const RunRecord& r) {
  json q = r.quality_json.empty() ? json() : json::parse(r.quality_json, nullptr, false);
  return q.is_object() ? q : json();
}

}  // namespace

json run_record_json(const RunRecord& r) {
  json sources = json::array();
  if (!r.sources_json.empty()) sources = json::parse(r.sources_json, nullptr, false);
  if (sources.is_discarded()) sources = json::array();
  sources = redact_source_urls(std::move(sources));  // a record written before URLs were redacted
  return {{"id", r.id},
          {"started_at", r.started_at},
          {"finished_at", text_or_null(r.finished_at)},
          {"status", to_string(r.status)},
          {"stage", text_or_null(r.stage)},
          {"rows_read", r.counts.rows_read},
          {"inserted", r.counts.inserted},
          {"updated", r.counts.updated},
          {"unchanged", r.counts.unchanged},
          {"missing", r.counts.missing},
          {"warnings", r.counts.warnings},
          {"error_count", r.counts.errors},
          {"error", text_or_null(scrub(r.error))},
          {"first_date", text_or_null(r.first_date)},
          {"last_date", text_or_null(r.last_date)},
          {"duration_ms", r.duration_ms},
          {"quality", quality_json(r)},
          {"sources", sources}};
}

json run_result_json(const RunRecord& r) {
  return {{"status", to_string(r.status)},
          {"run_id", r.id},
          {"inserted", r.counts.inserted},
          {"updated", r.counts.updated},
          {"unchanged", r.counts.unchanged},
          {"missing", r.counts.missing},
          {"warnings", r.counts.warnings},
          {"error_count", r.counts.errors},
          {"stage", text_or_null(r.stage)},
          {"message", text_or_null(r.error)},
          {"first_date", text_or_null(r.first_date)},
          {"last_date", text_or_null(r.last_date)},
          {"duration_ms", r.duration_ms}};
}

}  // namespace covid::serve
