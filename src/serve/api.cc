#include "serve/api.h"

#include <charconv>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "serve/representation.h"
#include "serve/series.h"
#include "serve/views.h"

namespace covid::serve {
namespace {

constexpr const char* kJson = "application/json";
constexpr const char* kCsv = "text/csv; charset=utf-8";
constexpr int kDerivedGzipLevel = 6;  // made on demand: cheaper than the precomputed level 9

// The parameters of one request, checked against the names an endpoint takes.
class Params {
 public:
  // False (with resp filled with a 400) when the query is malformed or names a parameter that is
  // not in `known` or names one twice.
  bool parse(const Request& req, std::initializer_list<std::string_view> known, Response& resp) {
    auto parsed = parse_query(req.query);
    if (!parsed.ok()) {
      error_response(resp, 400, parsed.status().message());
      return false;
    }
    for (auto& [k, v] : *parsed) {
      bool ok = false;
      for (std::string_view name : known) ok = ok || k == name;
      if (!ok) {
        std::string list;
        for (std::string_view name : known) list += (list.empty() ? "" : ", ") + std::string(name);
        error_response(resp, 400, "unknown parameter '" + k.substr(0, 64) + "'" +
                                      (list.empty() ? "; this endpoint takes none" : "; known: " + list));
        return false;
      }
      if (get(k)) {
        error_response(resp, 400, "parameter '" + k + "' is given more than once");
        return false;
      }
      values_.emplace_back(std::move(k), std::move(v));
    }
    return true;
  }

  const std::string* get(std::string_view name) const {
    for (const auto& [k, v] : values_) {
      if (k == name) return &v;
    }
    return nullptr;
  }

  // The date parameter `name`, if given; false (and a 400) when it is not a date.
  bool date(std::string_view name, std::optional<Date>* out, Response& resp) const {
    const std::string* v = get(name);
    if (v == nullptr) return true;
    Date d;
    if (parse_date(*v, &d) != DateError::kNone) {
      error_response(resp, 400, std::string(name) + ": '" + v->substr(0, 64) +
                                    "' is not a date in YYYY-MM-DD form");
      return false;
    }
    *out = d;
    return true;
  }

 private:
  std::vector<std::pair<std::string, std::string>> values_;
};

// The current snapshot, or nullptr with resp filled with a 503.
std::shared_ptr<const Snapshot> available(SnapshotCache& cache, Response& resp) {
  auto snap = cache.current();
  if (!snap->available) {
    error_response(resp, 503, "the database cannot be read: " + snap->error);
    resp.headers.emplace_back("Retry-After", "1");
    return nullptr;
  }
  return snap;
}

// The location parameter (default US); false (and a 400) for one the snapshot does not hold.
bool location(const Params& p, const Snapshot& snap, std::string* out, Response& resp) {
  const std::string* v = p.get("location");
  *out = v != nullptr ? *v : std::string(kNation);
  if (snap.series.find(*out) == snap.series.end()) {
    error_response(resp, 400, "location: unknown location '" + out->substr(0, 64) + "'");
    return false;
  }
  return true;
}

// from and to; false (and a 400) when malformed or from is after to.
bool date_range(const Params& p, std::optional<Date>* from, std::optional<Date>* to, Response& resp) {
  if (!p.date("from", from, resp) || !p.date("to", to, resp)) return false;
  if (*from && *to && **from > **to) {
    error_response(resp, 400, "from (" + format_date(**from) + ") is after to (" + format_date(**to) + ")");
    return false;
  }
  return true;
}

std::string date_key(const std::optional<Date>& d) { return d ? format_date(*d) : std::string(); }

void series(SnapshotCache& cache, const Request& req, Response& resp) {
  Params p;
  if (!p.parse(req, {"location", "from", "to", "fields"}, resp)) return;
  auto snap = available(cache, resp);
  if (!snap) return;
  std::string loc;
  std::optional<Date> from, to;
  if (!location(p, *snap, &loc, resp) || !date_range(p, &from, &to, resp)) return;
  unsigned fields = kAllFields;
  if (const std::string* f = p.get("fields")) {
    auto parsed = parse_fields(*f);
    if (!parsed.ok()) return error_response(resp, 400, parsed.status().message());
    fields = *parsed;
  }
  if (!from && !to && fields == kAllFields) return respond(req, snap->series_full.find(loc)->second, resp);
  const SeriesColumns& s = snap->series.find(loc)->second;
  std::string key = "series|" + loc + "|" + date_key(from) + "|" + date_key(to) + "|" + std::to_string(fields);
  respond(req, snap->derived(key, [&] {
            auto [b, e] = s.range(from, to);
            return Representation::make(kJson, series_json(s, b, e, fields), "no-cache", kDerivedGzipLevel);
          }), resp);
}

void export_csv_handler(SnapshotCache& cache, const Request& req, Response& resp) {
  Params p;
  if (!p.parse(req, {"location", "from", "to"}, resp)) return;
  auto snap = available(cache, resp);
  if (!snap) return;
  std::string loc;
  std::optional<Date> from, to;
  if (!location(p, *snap, &loc, resp) || !date_range(p, &from, &to, resp)) return;
  if (!from && !to) return respond(req, snap->export_full.find(loc)->second, resp);
  const SeriesColumns& s = snap->series.find(loc)->second;
  std::string key = "export|" + loc + "|" + date_key(from) + "|" + date_key(to);
  respond(req, snap->derived(key, [&] {
            auto [b, e] = s.range(from, to);
            std::string name = "covid-" + loc;
            if (from) name += "-from-" + format_date(*from);
            if (to) name += "-to-" + format_date(*to);
            return Representation::make(kCsv, export_csv(s, b, e), "no-cache", kDerivedGzipLevel,
                                        {{"Content-Disposition", "attachment; filename=\"" + name + ".csv\""}});
          }), resp);
}

void summary(SnapshotCache& cache, const Request& req, Response& resp) {
  Params p;
  if (!p.parse(req, {"location"}, resp)) return;
  auto snap = available(cache, resp);
  if (!snap) return;
  std::string loc;
  if (!location(p, *snap, &loc, resp)) return;
  if (loc == kNation) return respond(req, snap->summary, resp);
  respond(req, snap->derived("summary|" + loc, [&] {
            return Representation::make(kJson, summary_json(*snap, loc), "no-cache", kDerivedGzipLevel);
          }), resp);
}

void runs(SnapshotCache& cache, const Request& req, Response& resp) {
  Params p;
  if (!p.parse(req, {"limit"}, resp)) return;
  size_t limit = Snapshot::kDefaultRuns;
  if (const std::string* v = p.get("limit")) {
    unsigned long long n = 0;
    auto [ptr, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
    if (ec != std::errc() || ptr != v->data() + v->size() || v->empty() || n < 1 || n > Snapshot::kRunsKept) {
      return error_response(resp, 400, "limit: '" + v->substr(0, 64) + "' is not a number from 1 to " +
                                           std::to_string(Snapshot::kRunsKept));
    }
    limit = size_t(n);
  }
  auto snap = available(cache, resp);
  if (!snap) return;
  if (limit == Snapshot::kDefaultRuns) return respond(req, snap->runs_default, resp);
  respond(req, snap->derived("runs|" + std::to_string(limit), [&] {
            return Representation::make(kJson, runs_json(snap->runs, limit), "no-cache", kDerivedGzipLevel);
          }), resp);
}

void healthz(SnapshotCache& cache, const Request& req, Response& resp) {
  Params p;
  if (!p.parse(req, {}, resp)) return;
  auto snap = cache.current();
  nlohmann::json j;
  if (snap->available) {
    j = {{"status", "ok"}};
    if (snap->totals.last_run) j["last_run_status"] = to_string(snap->totals.last_run->status);
  } else {
    j = {{"status", "unavailable"}, {"message", snap->error}};
    resp.status = 503;
  }
  resp.set_body(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n", kJson);
  resp.cache_control = "no-store";
}

void metrics_handler(SnapshotCache& cache, const ServerMetrics& metrics, const Request& req, Response& resp) {
  Params p;
  if (!p.parse(req, {}, resp)) return;
  auto snap = cache.current();
  std::string out = snap->metrics;
  out += "# HELP covid_etl_snapshot_builds_total Times the server read a new version of the data.\n"
         "# TYPE covid_etl_snapshot_builds_total counter\ncovid_etl_snapshot_builds_total ";
  out += std::to_string(cache.builds());
  out += "\n";
  metrics.render(&out);
  resp.set_body(std::move(out), "text/plain; version=0.0.4; charset=utf-8");
  resp.cache_control = "no-store";
}

}  // namespace

void add_api_routes(Router& router, SnapshotCache& cache, const ServerMetrics& metrics) {
  SnapshotCache* c = &cache;
  const ServerMetrics* m = &metrics;
  router.add("/api/v1/series", kGetHead, [c](const Request& q, Response& r) { series(*c, q, r); });
  router.add("/api/v1/summary", kGetHead, [c](const Request& q, Response& r) { summary(*c, q, r); });
  router.add("/api/v1/runs", kGetHead, [c](const Request& q, Response& r) { runs(*c, q, r); });
  router.add("/api/v1/export.csv", kGetHead,
             [c](const Request& q, Response& r) { export_csv_handler(*c, q, r); });
  router.add("/healthz", kGetHead, [c](const Request& q, Response& r) { healthz(*c, q, r); });
  router.add("/metrics", kGetHead, [c, m](const Request& q, Response& r) { metrics_handler(*c, *m, q, r); });
}

}  // namespace covid::serve
