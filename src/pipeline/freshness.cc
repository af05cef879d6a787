#include "pipeline/freshness.h"

#include <algorithm>
#include <cstdio>
#include <tuple>
#include <vector>

#include "common/date.h"
#include "pipeline/datasets.h"

namespace covid {
namespace {

const Dataset* dataset_named(const std::vector<Dataset>& registry, const std::string& name) {
  for (const Dataset& d : registry) {
    if (name == d.name) return &d;
  }
  return nullptr;
}

}  // namespace

bool parse_timestamp(const std::string& text, std::chrono::system_clock::time_point* out) {
  if (text.size() < 20 || text[10] != 'T' || text.back() != 'Z') return false;
  Date date;
  if (parse_date(std::string_view(text).substr(0, 10), &date) != DateError::kNone) return false;
  int h = 0, m = 0, s = 0, used = 0;
  if (std::sscanf(text.c_str() + 11, "%2d:%2d:%2d%n", &h, &m, &s, &used) != 3 || used != 8)
    return false;
  if (h > 23 || m > 59 || s > 60) return false;
  int64_t ms = 0;
  size_t at = 19;
  if (text[at] == '.') {
    int64_t scale = 100;
    for (++at; at + 1 < text.size(); ++at) {
      if (text[at] < '0' || text[at] > '9') return false;
      ms += (text[at] - '0') * scale;
      scale /= 10;
    }
  }
  if (at + 1 != text.size()) return false;
  *out =
      std::chrono::system_clock::time_point(std::chrono::sys_days(std::chrono::days(date.days))) +
      std::chrono::hours(h) + std::chrono::minutes(m) + std::chrono::seconds(s) +
      std::chrono::milliseconds(ms);
  return true;
}

int stale_after_days(int cadence_days, const FreshnessOptions& options) {
  if (cadence_days == 1) return options.daily_stale_after_days;
  if (cadence_days == 7) return options.weekly_stale_after_days;
  return cadence_days + 2;
}

std::string SourceFreshness::text() const {
  return since.empty() ? state : state + " since " + since;
}

SourceFreshness source_freshness(const SourceState& state, const std::vector<Dataset>& registry,
                                 const FreshnessOptions& options,
                                 std::chrono::system_clock::time_point now) {
  const Dataset* d = dataset_named(registry, state.dataset);
  if (d == nullptr) return {"unknown", ""};
  return source_freshness(state, d->cadence_days, source_archived_since(*d, state.name), options,
                          now);
}

SourceFreshness source_freshness(const SourceState& state, int cadence_days,
                                 const char* archived_since, const FreshnessOptions& options,
                                 std::chrono::system_clock::time_point now) {
  if (archived_since != nullptr) return {"archived", archived_since};
  std::chrono::system_clock::time_point changed;
  if (!parse_timestamp(state.changed_at, &changed)) return {"unknown", ""};
  auto stale_at = changed + std::chrono::days(stale_after_days(cadence_days, options));
  if (now <= stale_at) return {"fresh", ""};
  auto day = std::chrono::floor<std::chrono::days>(stale_at);
  return {"stale", format_date(Date{int32_t(day.time_since_epoch().count())})};
}

bool superseded(const SourceState& state, const std::map<std::string, SourceState>& states) {
  if (state.name.empty()) return false;  // written before names were kept: not comparable
  for (const auto& [url, other] : states) {
    if (other.name == state.name && other.run_id > state.run_id) return true;
  }
  return false;
}

nlohmann::json sources_freshness_json(const std::map<std::string, SourceState>& states,
                                      const std::vector<Dataset>& registry,
                                      const FreshnessOptions& options,
                                      std::chrono::system_clock::time_point now,
                                      bool include_superseded) {
  std::vector<const SourceState*> sorted;
  for (const auto& [url, st] : states) {
    if (include_superseded || !superseded(st, states)) sorted.push_back(&st);
  }
  std::stable_sort(sorted.begin(), sorted.end(), [](const SourceState* a, const SourceState* b) {
    return std::tie(a->name, a->url) < std::tie(b->name, b->url);
  });
  nlohmann::json out = nlohmann::json::array();
  for (const SourceState* st : sorted) {
    bool old = superseded(*st, states);
    SourceFreshness f =
        old ? SourceFreshness{"superseded", ""} : source_freshness(*st, registry, options, now);
    std::string text =
        old ? "superseded (last read by run " + std::to_string(st->run_id) + ")" : f.text();
    auto or_null = [](const std::string& s) {
      return s.empty() ? nlohmann::json() : nlohmann::json(s);
    };
    out.push_back({{"name", or_null(st->name)},
                   {"dataset", or_null(st->dataset)},
                   {"url", st->url},
                   {"state", f.state},
                   {"since", or_null(f.since)},
                   {"changed_at", or_null(st->changed_at)},
                   {"text", text}});
  }
  return out;
}

}  // namespace covid
