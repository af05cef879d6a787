#include "pipeline/run_summary.h"

#include <algorithm>
#include <cstdio>
#include <set>

#include "common/secrets.h"
#include "extract/http_client.h"
#include "pipeline/datasets.h"
#include "transform/location.h"

namespace covid {
namespace {

constexpr size_t kWarningSamples = 10;
constexpr size_t kTextErrors = 20;

nlohmann::json issue_json(const Issue& i) {
  nlohmann::json j = {
      {"file", i.file}, {"line", nullptr}, {"column", nullptr}, {"message", i.message}};
  if (i.line > 0) j["line"] = i.line;
  if (i.column > 0) j["column"] = i.column;
  return j;
}

nlohmann::json or_null(const std::string& s) {
  return s.empty() ? nlohmann::json() : nlohmann::json(s);
}

std::string human_bytes(uint64_t n) {
  char buf[32];
  if (n < 1024)
    std::snprintf(buf, sizeof buf, "%llu B", (unsigned long long)n);
  else if (n < 1024 * 1024)
    std::snprintf(buf, sizeof buf, "%.1f KiB", double(n) / 1024);
  else
    std::snprintf(buf, sizeof buf, "%.1f MiB", double(n) / (1024 * 1024));
  return buf;
}

}  // namespace

nlohmann::json sources_to_json(const std::vector<SourceReport>& sources) {
  nlohmann::json out = nlohmann::json::array();
  for (const SourceReport& r : sources) {
    out.push_back({{"name", r.name},
                   {"url", r.url},
                   {"http_status", r.http_status},
                   {"not_modified", r.not_modified},
                   {"etag", or_null(r.etag)},
                   {"last_modified", or_null(r.last_modified)},
                   {"content_hash", or_null(r.content_hash)},
                   {"bytes", r.bytes},
                   {"rows", r.rows},
                   {"kept_rows", r.kept_rows},
                   {"dates", r.dates},
                   {"attempts", r.attempts},
                   {"load_key", or_null(r.load_key)}});
  }
  return out;
}

nlohmann::json redact_source_urls(nlohmann::json sources) {
  if (!sources.is_array()) return sources;
  for (nlohmann::json& source : sources) {
    if (source.is_object() && source.contains("url") && source["url"].is_string()) {
      source["url"] = redact_url(source["url"].get<std::string>());
    }
  }
  return sources;
}

nlohmann::json quality_counts_json(const QualityReport& q) {
  nlohmann::json by_kind = nlohmann::json::object();
  for (const auto& [kind, n] : q.counts()) by_kind[kind] = n;
  return by_kind;
}

nlohmann::json to_json(const RunSummary& s) {
  nlohmann::json j;
  j["status"] = to_string(s.status);
  j["run_id"] = s.run_id ? nlohmann::json(*s.run_id) : nlohmann::json();
  j["dry_run"] = s.dry_run;
  j["rows_read"] = s.counts.rows_read;
  j["inserted"] = s.counts.inserted;
  j["updated"] = s.counts.updated;
  j["unchanged"] = s.counts.unchanged;
  j["missing"] = s.counts.missing;
  j["warnings"] = s.diagnostics.warning_count();
  nlohmann::json samples = nlohmann::json::array();
  for (size_t i = 0; i < s.diagnostics.warnings().size() && i < kWarningSamples; ++i) {
    samples.push_back(issue_json(s.diagnostics.warnings()[i]));
  }
  j["warning_samples"] = samples;
  nlohmann::json first = nlohmann::json::array();
  for (size_t i = 0; i < s.quality.samples().size() && i < kWarningSamples; ++i) {
    const QualityWarning& w = s.quality.samples()[i];
    first.push_back({{"kind", w.kind},
                     {"subject", w.subject},
                     {"date", or_null(w.date)},
                     {"message", w.message}});
  }
  j["quality"] = {{"warnings", s.quality.total()},
                  {"by_kind", quality_counts_json(s.quality)},
                  {"first", first}};
  nlohmann::json stale = nlohmann::json::array();
  for (const RunSummary::Stale& st : s.stale) {
    stale.push_back({{"name", st.name},
                     {"url", st.url},
                     {"since", st.since},
                     {"changed_at", or_null(st.changed_at)}});
  }
  j["stale_sources"] = stale;
  j["source_states"] = s.source_states;
  nlohmann::json errors = nlohmann::json::array();
  for (const Issue& i : s.diagnostics.errors()) errors.push_back(issue_json(i));
  uint64_t error_count = s.diagnostics.error_count();
  if (s.status == RunStatus::kFailed && errors.empty()) {
    errors.push_back({{"file", nullptr},
                      {"line", nullptr},
                      {"column", nullptr},
                      {"message", scrub(s.failure.message())}});
    error_count = 1;
  }
  j["errors"] = errors;
  j["error_count"] = error_count;
  j["stage"] = s.status == RunStatus::kFailed ? nlohmann::json(s.stage()) : nlohmann::json();
  j["message"] = s.status == RunStatus::kFailed ? nlohmann::json(scrub(s.failure.message()))
                                                : nlohmann::json();
  j["first_date"] = or_null(s.first_date);
  j["last_date"] = or_null(s.last_date);
  nlohmann::json ranges = nlohmann::json::object();
  for (const auto& [dataset, r] : s.date_ranges)
    ranges[dataset] = {{"first_date", r.first}, {"last_date", r.second}};
  j["date_ranges"] = std::move(ranges);
  j["duration_ms"] = s.duration_ms;
  j["sources"] = sources_to_json(s.sources);
  nlohmann::json levels = nlohmann::json::object();
  for (const auto& [level, l] : s.levels) {
    levels[level] = {{"locations", l.locations}, {"locations_changed", l.locations_changed},
                     {"inserted", l.inserted},   {"updated", l.updated},
                     {"unchanged", l.unchanged}, {"missing", l.missing},
                     {"replaced", l.replaced},   {"last_changed", or_null(l.last_changed)}};
  }
  j["levels"] = levels;
  j["publish"] = s.publish;
  j["notifications"] = nlohmann::json();
  if (s.notifications) {
    j["notifications"] = {{"delivered", s.notifications->delivered},
                          {"pending", s.notifications->pending},
                          {"failed", s.notifications->failed},
                          {"errors", s.notifications->errors}};
  }
  return j;
}

std::string to_text(const RunSummary& s) {
  std::string out = "covid-etl run";
  if (s.run_id) out += " " + std::to_string(*s.run_id);
  if (s.dry_run) out += " (dry run: nothing written)";
  out += ": ";
  if (s.status == RunStatus::kFailed) {
    out += "FAILED at " + s.stage() + ": " + s.failure.message();
  } else {
    out += to_string(s.status);
  }
  out += " (" + std::to_string(s.duration_ms) + " ms)\n";
  for (const SourceReport& r : s.sources) {
    out += "  " + r.name + "  " + r.url + "  ";
    if (r.not_modified) {
      out += r.http_status == 304 ? "304 not modified" : "not modified (the same content hash)";
    } else if (r.http_status == 0) {
      out += "no answer";
    } else {
      out += std::to_string(r.http_status) + ", " + human_bytes(r.bytes) + ", " +
             std::to_string(r.rows) + " rows";
    }
    if (r.attempts > 1) out += ", " + std::to_string(r.attempts) + " attempts";
    out += "\n";
  }
  if (s.date_ranges.size() > 1) {
    for (const auto& [dataset, r] : s.date_ranges)
      out += "  series    " + dataset + " " + r.first + " .. " + r.second + "\n";
  } else if (!s.first_date.empty()) {
    out += "  series    " + s.first_date + " .. " + s.last_date + "\n";
  }
  if (s.status != RunStatus::kFailed || s.failed_stage == "publish") {
    out += std::string("  ") + (s.dry_run ? "would load " : "loaded    ") +
           std::to_string(s.counts.inserted) + " inserted, " + std::to_string(s.counts.updated) +
           " updated, " + std::to_string(s.counts.unchanged) + " unchanged, " +
           std::to_string(s.counts.missing) + " missing from the source\n";
    if (s.levels.size() > 1 || (s.levels.size() == 1 && s.levels.begin()->first != "nation")) {
      for (const auto& [level, l] : s.levels) {
        char buf[160];
        std::snprintf(buf, sizeof buf,
                      "    %-8s %llu locations: %llu inserted, %llu updated, %llu unchanged\n",
                      level.c_str(), (unsigned long long)l.locations,
                      (unsigned long long)l.inserted, (unsigned long long)l.updated,
                      (unsigned long long)l.unchanged);
        out += buf;
        if (l.replaced > 0) {
          out += "    " + level + ": " + std::to_string(l.replaced) +
                 " stored rows deleted first (--replace-dataset)\n";
        }
      }
    }
  }
  if (s.diagnostics.warning_count() > 0) {
    out += "  warnings  " + std::to_string(s.diagnostics.warning_count()) + ", the first:\n";
    for (size_t i = 0; i < s.diagnostics.warnings().size() && i < 3; ++i) {
      out += "    " + s.diagnostics.warnings()[i].to_string() + "\n";
    }
  }
  if (s.quality.total() > 0) {
    out += "  quality   " + std::to_string(s.quality.total()) + " warnings (";
    bool firstkind = true;
    for (const auto& [kind, n] : s.quality.counts()) {
      out += (firstkind ? "" : ", ") + kind + " " + std::to_string(n);
      firstkind = false;
    }
    out += "), the first:\n";
    for (size_t i = 0; i < s.quality.samples().size() && i < 3; ++i) {
      out += "    " + s.quality.samples()[i].message + "\n";
    }
  }
  for (const RunSummary::Stale& st : s.stale) {
    out += "  stale     " + st.name + "  " + st.url + ": not changed since " + st.changed_at +
           ", stale since " + st.since + "\n";
  }
  if (s.notifications &&
      (s.notifications->delivered + s.notifications->pending + s.notifications->failed) > 0) {
    const FlushReport& n = *s.notifications;
    out += "  notified  " + std::to_string(n.delivered) + " delivered, " +
           std::to_string(n.pending) + " pending, " + std::to_string(n.failed) + " failed\n";
    for (const std::string& e : n.errors) out += "    " + e + "\n";
  }
  if (s.publish.is_object()) {
    const nlohmann::json& p = s.publish;
    std::string to = p.value("to", "");
    if (p.contains("error")) {
      out += "  publish   " + to + ": FAILED: " + p.value("error", "") + "\n";
    } else {
      char buf[200];
      std::snprintf(buf, sizeof buf,
                    ": %llu objects: %llu written (%llu bytes), %llu unchanged, %llu deleted, "
                    "in %.2f s\n",
                    (unsigned long long)p.value("objects", uint64_t{0}),
                    (unsigned long long)p.value("written", uint64_t{0}),
                    (unsigned long long)p.value("bytes_written", uint64_t{0}),
                    (unsigned long long)p.value("unchanged", uint64_t{0}),
                    (unsigned long long)p.value("deleted", uint64_t{0}), p.value("seconds", 0.0));
      out += "  published " + to + buf;
    }
  }
  if (s.diagnostics.error_count() > 0) {
    out += "  errors    " + std::to_string(s.diagnostics.error_count()) + ", the first:\n";
    for (size_t i = 0; i < s.diagnostics.errors().size() && i < kTextErrors; ++i) {
      out += "    " + s.diagnostics.errors()[i].to_string() + "\n";
    }
  }
  out += unreachable_hint(s);
  return scrub(out);  // the last net before it is printed or logged
}

std::string unreachable_hint(const RunSummary& s) {
  if (s.status != RunStatus::kFailed || s.failure.kind() != ErrorKind::kExtract ||
      !s.failed_stage.empty())
    return "";
  bool unreachable = false;
  for (const SourceReport& r : s.sources) {
    bool http = r.url.starts_with("http://") || r.url.starts_with("https://");
    unreachable = unreachable || (http && r.http_status == 0 && !r.not_modified);
  }
  if (!unreachable) return "";
  std::vector<std::string> names = s.datasets;
  if (names.empty()) names = {"national", "states"};
  std::string flags, files;
  for (const Dataset& d : datasets()) {
    if (std::find(names.begin(), names.end(), d.name) == names.end()) continue;
    flags += std::string(" ") + d.local_flags;
    files += std::string(files.empty() ? "" : ", ") + d.local_files;
  }
  return "  hint      a source could not be reached. To run from local copies of the files "
         "instead:\n"
         "              covid-etl run" +
         flags + "\n            (" + files + "; with make: make run RUN_ARGS=\"" + flags.substr(1) +
         "\")\n";
}

}  // namespace covid
