#include "serve/api.h"

#include <cctype>
#include <charconv>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "serve/locations.h"
#include "serve/map_data.h"
#include "serve/representation.h"
#include "serve/series.h"
#include "serve/views.h"

namespace covid::serve {
namespace {

constexpr const char* kJson = "application/json";
constexpr const char* kCsv = "text/csv; charset=utf-8";
constexpr int kDerivedGzipLevel = 6;    // made on demand: cheaper than the precomputed level 9
constexpr size_t kMaxLocationId = 200;  // longer is no location (and no store read)

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
        error_response(resp, 400,
                       "unknown parameter '" + k.substr(0, 64) + "'" +
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

  const std::string* get(std::string_view name) const { return first_param(values_, name); }

  // The date parameter `name`, if given; false (and a 400) when it is not a date.
  bool date(std::string_view name, std::optional<Date>* out, Response& resp) const {
    const std::string* v = get(name);
    if (v == nullptr) return true;
    Date d;
    if (parse_date(*v, &d) != DateError::kNone) {
      error_response(
          resp, 400,
          std::string(name) + ": '" + v->substr(0, 64) + "' is not a date in YYYY-MM-DD form");
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

// A 503 for a read on demand that failed.
void unreadable(Response& resp, const Status& status) {
  error_response(resp, 503, "the database cannot be read: " + status.message());
  resp.headers.emplace_back("Retry-After", "1");
}

// The series the `location` parameter names (default US).
struct Picked {
  std::string id;
  const SeriesColumns* columns = nullptr;
  std::shared_ptr<const Representation> full;  // every date, all fields
  std::shared_ptr<const LocationSeries> keep;  // holds a series read on demand
};

// False with resp filled: 400 for a location the store does not know, 503 when it cannot be read.
// The nation's series is the snapshot's own; any other is read on first use
// (SnapshotCache::series).
bool location(SnapshotCache& cache, const Params& p, const Snapshot& snap, Picked* out,
              Response& resp) {
  const std::string* v = p.get("location");
  out->id = v != nullptr ? *v : std::string(kNation);
  if (auto it = snap.series.find(out->id); it != snap.series.end()) {
    out->columns = &it->second;
    out->full = snap.series_full.find(out->id)->second;
    return true;
  }
  Result<std::shared_ptr<const LocationSeries>> found = std::shared_ptr<const LocationSeries>();
  if (!out->id.empty() && out->id.size() <= kMaxLocationId) found = cache.series(snap, out->id);
  if (!found.ok()) {
    unreadable(resp, found.status());
    return false;
  }
  if (*found == nullptr && v != nullptr && v->size() <= kMaxLocationId) {
    // Not an id: a name, or a FIPS code without its zero (LocationIndex::resolve).
    auto index = cache.locations(snap);
    if (!index.ok()) {
      unreadable(resp, index.status());
      return false;
    }
    LocationIndex::Resolved r = (*index)->resolve(*v);
    if (r.location == nullptr) {
      error_response(resp, 400,
                     "location: " + unresolved_message(*v, r) + " (see /api/v1/locations)");
      return false;
    }
    out->id = r.location->id;
    if (auto it = snap.series.find(out->id); it != snap.series.end()) {
      out->columns = &it->second;
      out->full = snap.series_full.find(out->id)->second;
      return true;
    }
    found = cache.series(snap, out->id);
    if (!found.ok()) {
      unreadable(resp, found.status());
      return false;
    }
  }
  if (*found == nullptr) {
    error_response(
        resp, 400,
        "location: unknown location '" + out->id.substr(0, 64) + "' (see /api/v1/locations)");
    return false;
  }
  out->keep = std::move(*found);
  out->columns = &out->keep->columns;
  out->full = out->keep->full;
  return true;
}

// A whole number parameter within [min, max]; false (and a 400) otherwise.
bool number(const Params& p, std::string_view name, size_t min, size_t max, size_t* out,
            Response& resp) {
  const std::string* v = p.get(name);
  if (v == nullptr) return true;
  unsigned long long n = 0;
  auto [ptr, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || ptr != v->data() + v->size() || v->empty() || n < min || n > max) {
    error_response(resp, 400,
                   std::string(name) + ": '" + v->substr(0, 64) + "' is not a number from " +
                       std::to_string(min) + " to " + std::to_string(max));
    return false;
  }
  *out = size_t(n);
  return true;
}

// A location id for a file name: letters, digits, '-' and '_' kept, anything else '-'.
std::string file_part(std::string_view id) {
  std::string out(id);
  for (char& c : out) {
    bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '_';
    if (!keep) c = '-';
  }
  return out;
}

// from and to; false (and a 400) when malformed or from is after to.
bool date_range(const Params& p, std::optional<Date>* from, std::optional<Date>* to,
                Response& resp) {
  if (!p.date("from", from, resp) || !p.date("to", to, resp)) return false;
  if (*from && *to && **from > **to) {
    error_response(resp, 400,
                   "from (" + format_date(**from) + ") is after to (" + format_date(**to) + ")");
    return false;
  }
  return true;
}

std::string date_key(const std::optional<Date>& d) { return d ? format_date(*d) : std::string(); }

void series(SnapshotCache& cache, const Request& req, Response& resp) {
  Params p;
  if (!p.parse(req, {"location", "from", "to", "fields"}, resp)) return;
  std::optional<Date> from, to;
  if (!date_range(p, &from, &to, resp)) return;
  unsigned fields = kAllFields;
  if (const std::string* f = p.get("fields")) {
    auto parsed = parse_fields(*f);
    if (!parsed.ok()) return error_response(resp, 400, parsed.status().message());
    fields = *parsed;
  }
  auto snap = available(cache, resp);
  if (!snap) return;
  Picked loc;
  if (!location(cache, p, *snap, &loc, resp)) return;
  if (!from && !to && fields == kAllFields) return respond(req, loc.full, resp);
  const SeriesColumns& s = *loc.columns;
  std::string key =
      "series|" + loc.id + "|" + date_key(from) + "|" + date_key(to) + "|" + std::to_string(fields);
  respond(req,
          snap->derived(key,
                        [&] {
                          auto [b, e] = s.range(from, to);
                          return Representation::make(kJson, series_json(s, b, e, fields),
                                                      "no-cache", kDerivedGzipLevel);
                        }),
          resp);
}

// GET /api/v1/annotations?location=ID&from=&to=: the location's notes whose dates overlap
// [from, to] (Snapshot::annotations), by date. A location is known when the store has it or a
// note names it; unknown: 400.
void annotations(SnapshotCache& cache, const Request& req, Response& resp) {
  Params p;
  if (!p.parse(req, {"location", "from", "to"}, resp)) return;
  std::optional<Date> from, to;
  if (!date_range(p, &from, &to, resp)) return;
  auto snap = available(cache, resp);
  if (!snap) return;
  const std::string* v = p.get("location");
  std::string id = v != nullptr ? *v : std::string(kNation);
  auto noted = [&](const Annotation& a) { return a.location == id; };
  const auto& all = snap->annotations;
  if (std::none_of(all.begin(), all.end(), noted)) {
    auto index = cache.locations(*snap);
    if (!index.ok()) return unreadable(resp, index.status());
    if (id.empty() || id.size() > kMaxLocationId || (*index)->find(id) == nullptr) {
      return error_response(
          resp, 400,
          "location: unknown location '" + id.substr(0, 64) + "' (see /api/v1/locations)");
    }
  }
  std::string key = "annotations|" + id + "|" + date_key(from) + "|" + date_key(to);
  respond(req,
          snap->derived(key,
                        [&] {
                          std::vector<const Annotation*> found;
                          for (const Annotation& a : all) {
                            if (a.location != id) continue;
                            if ((from && a.to.value_or(a.from) < *from) || (to && a.from > *to))
                              continue;
                            found.push_back(&a);
                          }
                          std::stable_sort(found.begin(), found.end(),
                                           [](const Annotation* a, const Annotation* b) {
                                             return a->from < b->from;
                                           });
                          nlohmann::ordered_json list = nlohmann::ordered_json::array();
                          for (const Annotation* a : found) {
                            list.push_back({{"from", format_date(a->from)},
                                            {"to", format_date(a->to.value_or(a->from))},
                                            {"type", a->type},
                                            {"omit_from_average", a->omit_from_average},
                                            {"omit_on_subgeographies", a->omit_on_subgeographies},
                                            {"adjusted_count", a->adjusted_count},
                                            {"text", a->text}});
                          }
                          nlohmann::ordered_json body = {{"location", id}, {"annotations", list}};
                          return Representation::make(kJson, body.dump() + "\n", "no-cache",
                                                      kDerivedGzipLevel);
                        }),
          resp);
}

void export_csv_handler(SnapshotCache& cache, const Request& req, Response& resp) {
  Params p;
  if (!p.parse(req, {"location", "from", "to", "per_100k"}, resp)) return;
  std::optional<Date> from, to;
  if (!date_range(p, &from, &to, resp)) return;
  bool per_100k = false;
  if (const std::string* v = p.get("per_100k")) {
    if (*v != "true" && *v != "false")
      return error_response(resp, 400, "per_100k: '" + v->substr(0, 64) + "' is not true or false");
    per_100k = *v == "true";
  }
  auto snap = available(cache, resp);
  if (!snap) return;
  Picked loc;
  if (!location(cache, p, *snap, &loc, resp)) return;
  if (!from && !to && !per_100k) {
    if (auto it = snap->export_full.find(loc.id); it != snap->export_full.end())
      return respond(req, it->second, resp);
  }
  const SeriesColumns& s = *loc.columns;
  std::string key = "export|" + loc.id + "|" + date_key(from) + "|" + date_key(to) +
                    (per_100k ? "|per_100k" : "");
  respond(
      req,
      snap->derived(key,
                    [&] {
                      auto [b, e] = s.range(from, to);
                      std::string name = "covid-" + file_part(loc.id);
                      if (from) name += "-from-" + format_date(*from);
                      if (to) name += "-to-" + format_date(*to);
                      return Representation::make(
                          kCsv, export_csv(s, b, e, per_100k), "no-cache", kDerivedGzipLevel,
                          {{"Content-Disposition", "attachment; filename=\"" + name + ".csv\""}});
                    }),
      resp);
}

void summary(SnapshotCache& cache, const Request& req, Response& resp) {
  Params p;
  if (!p.parse(req, {"location"}, resp)) return;
  auto snap = available(cache, resp);
  if (!snap) return;
  Picked loc;
  if (!location(cache, p, *snap, &loc, resp)) return;
  if (loc.id == kNation) return respond(req, snap->summary, resp);
  respond(req,
          snap->derived("summary|" + loc.id,
                        [&] {
                          return Representation::make(
                              kJson,
                              summary_json(snap->totals, loc.id, loc.columns, snap->sources_json),
                              "no-cache", kDerivedGzipLevel);
                        }),
          resp);
}

void locations(SnapshotCache& cache, const Request& req, Response& resp) {
  Params p;
  if (!p.parse(req, {"type", "q", "id", "limit"}, resp)) return;
  LocationSearch search;
  if (const std::string* t = p.get("type")) {
    if (*t != "nation" && *t != "state" && *t != "county" && *t != "country") {
      return error_response(
          resp, 400, "type: '" + t->substr(0, 64) + "' is not nation, state, county or country");
    }
    search.type = *t;
  }
  if (const std::string* q = p.get("q")) search.text = *q;
  if (const std::string* ids = p.get("id")) {
    std::string_view rest = *ids;
    while (true) {
      size_t comma = rest.find(',');
      if (comma != 0 && !rest.empty()) search.ids.emplace_back(rest.substr(0, comma));
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
    if (search.ids.empty() || search.ids.size() > LocationSearch::kMaxIds) {
      return error_response(resp, 400,
                            "id: give 1 to " + std::to_string(LocationSearch::kMaxIds) +
                                " location ids, separated by commas");
    }
  }
  if (!number(p, "limit", 1, LocationSearch::kMaxLimit, &search.limit, resp)) return;
  auto snap = available(cache, resp);
  if (!snap) return;
  auto index = cache.locations(*snap);
  if (!index.ok()) return unreadable(resp, index.status());
  // The id list with its length, so that no two queries make the same key.
  std::string ids = p.get("id") != nullptr ? *p.get("id") : std::string();
  std::string key = "locations|" + search.type + "|" + std::to_string(search.limit) + "|" +
                    std::to_string(ids.size()) + ":" + ids + "|" + search.text;
  respond(req,
          snap->derived(key,
                        [&] {
                          return Representation::make(kJson, locations_json(**index, search),
                                                      "no-cache", kDerivedGzipLevel);
                        }),
          resp);
}

void states(SnapshotCache& cache, const Request& req, Response& resp) {
  Params p;
  if (!p.parse(req, {}, resp)) return;
  auto snap = available(cache, resp);
  if (!snap) return;
  auto table = cache.states(*snap);
  if (!table.ok()) return unreadable(resp, table.status());
  respond(req, *table, resp);
}

// GET /api/v1/rankings?level=state|county|country&state=SS (state: for counties, required).
void rankings(SnapshotCache& cache, const Request& req, Response& resp) {
  Params p;
  if (!p.parse(req, {"level", "state"}, resp)) return;
  std::string level = p.get("level") != nullptr ? *p.get("level") : std::string("state");
  if (level != "state" && level != "county" && level != "country") {
    return error_response(resp, 400,
                          "level: '" + level.substr(0, 64) + "' is not state, county or country");
  }
  std::string state = p.get("state") != nullptr ? *p.get("state") : std::string();
  if (level == "county") {
    if (state.size() != 2 || !std::isdigit(static_cast<unsigned char>(state[0])) ||
        !std::isdigit(static_cast<unsigned char>(state[1]))) {
      return error_response(resp, 400,
                            "state: the counties of one state are ranked: give its 2-digit FIPS "
                            "code, e.g. state=06");
    }
  } else if (!state.empty()) {
    return error_response(resp, 400, "state: only for level=county");
  }
  auto snap = available(cache, resp);
  if (!snap) return;
  auto table = cache.rankings(*snap, level, state);
  if (!table.ok()) return unreadable(resp, table.status());
  respond(req, *table, resp);
}

void runs(SnapshotCache& cache, const Request& req, Response& resp) {
  Params p;
  if (!p.parse(req, {"limit"}, resp)) return;
  size_t limit = Snapshot::kDefaultRuns;
  if (!number(p, "limit", 1, Snapshot::kRunsKept, &limit, resp)) return;
  auto snap = available(cache, resp);
  if (!snap) return;
  if (limit == Snapshot::kDefaultRuns) return respond(req, snap->runs_default, resp);
  respond(req,
          snap->derived("runs|" + std::to_string(limit),
                        [&] {
                          return Representation::make(kJson, runs_json(snap->runs, limit),
                                                      "no-cache", kDerivedGzipLevel);
                        }),
          resp);
}

// GET /api/v1/map?level=&metric=&per_100k=&from=&to=&state=: every location of a level on the
// dates asked for (map_data.h), made from the level's matrix (read once per version of the data)
// and kept like the other derived responses.
constexpr size_t kMaxMapDates = 400;  // per request: a county level's full range is ~1,100

void map_handler(SnapshotCache& cache, const Request& req, Response& resp) {
  Params p;
  if (!p.parse(req, {"level", "metric", "per_100k", "from", "to", "state"}, resp)) return;
  std::string level = p.get("level") != nullptr ? *p.get("level") : "state";
  if (level != "state" && level != "county" && level != "country")
    return error_response(resp, 400,
                          "level: '" + level.substr(0, 64) + "' is not state, county or country");
  MapQuery q;
  if (const std::string* m = p.get("metric")) {
    if (*m != "cases" && *m != "deaths")
      return error_response(resp, 400, "metric: '" + m->substr(0, 64) + "' is not cases or deaths");
    q.metric = *m;
  }
  if (const std::string* v = p.get("per_100k")) {
    if (*v != "true" && *v != "false")
      return error_response(resp, 400, "per_100k: '" + v->substr(0, 64) + "' is not true or false");
    q.per_100k = *v == "true";
  }
  if (const std::string* st = p.get("state")) {
    if (level != "county") return error_response(resp, 400, "state: only with level=county");
    if (st->size() != 2 || !std::isdigit(static_cast<unsigned char>((*st)[0])) ||
        !std::isdigit(static_cast<unsigned char>((*st)[1])))
      return error_response(
          resp, 400, "state: '" + st->substr(0, 64) + "' is not a state's 2-digit FIPS code");
    q.state = *st;
  }
  if (!date_range(p, &q.from, &q.to, resp)) return;
  if (q.from && q.to && size_t(q.to->days - q.from->days) >= kMaxMapDates) {
    return error_response(resp, 400,
                          "from and to: at most " + std::to_string(kMaxMapDates) +
                              " days per request (ask for the range in parts)");
  }
  if ((q.from && !q.to) || (!q.from && q.to))
    return error_response(resp, 400, "from and to: give both, or neither (the last date)");
  auto snap = available(cache, resp);
  if (!snap) return;
  auto data = cache.map_level(*snap, level);
  if (!data.ok()) return unreadable(resp, data.status());
  std::string key = "map|" + level + "|" + q.metric + "|" + (q.per_100k ? "1" : "0") + "|" +
                    date_key(q.from) + "|" + date_key(q.to) + "|" + q.state;
  respond(req,
          snap->derived(key,
                        [&] {
                          return Representation::make(kJson, map_json(**data, q), "no-cache",
                                                      kDerivedGzipLevel);
                        }),
          resp);
}

// GET /data/index.json: where the page finds its data. A site made by `covid-etl publish` holds
// the index of its published objects there (publish/publisher.h); this server says "ask the API".
void data_index(const Request& req, Response& resp) {
  static const auto rep = Representation::make(
      kJson, "{\"version\":1,\"api\":\"api/v1/\",\"objects\":null}\n", "no-cache");
  respond(req, rep, resp);
}

// GET /api/v1: the endpoints, with where their description is.
void api_index(const Request& req, Response& resp) {
  Params p;
  if (!p.parse(req, {}, resp)) return;
  static const auto rep = [] {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    auto add = [&](const char* method, const char* path, const char* what) {
      list.push_back({{"method", method}, {"path", path}, {"description", what}});
    };
    add("GET", "/api/v1", "this index");
    add("GET", "/api/v1/openapi.json", "the OpenAPI 3.1 description of every endpoint");
    add("GET", "/api/v1/series", "one location's series in columns");
    add("GET", "/api/v1/map", "every location of a level on a range of dates, for maps");
    add("GET", "/api/v1/locations", "search the locations");
    add("GET", "/api/v1/states", "the table of states");
    add("GET", "/api/v1/rankings", "a level's locations by 7-day new cases and deaths");
    add("GET", "/api/v1/annotations", "the NYT's notes on a location's anomalous days");
    add("GET", "/api/v1/summary", "the latest date and values, and the data's freshness");
    add("GET", "/api/v1/runs", "the run history, newest first");
    add("GET", "/api/v1/runs/{id}", "one run (the daemon only)");
    add("POST", "/api/v1/runs", "start a run (the daemon only, with its token)");
    add("GET", "/api/v1/export.csv", "what `covid-etl export` prints");
    add("GET", "/healthz", "whether the database can be read");
    add("GET", "/metrics", "Prometheus metrics");
    nlohmann::ordered_json body = {
        {"version", 1}, {"openapi", "/api/v1/openapi.json"}, {"endpoints", list}};
    return Representation::make(kJson, body.dump(2) + "\n", "no-cache");
  }();
  respond(req, rep, resp);
}

void healthz(SnapshotCache& cache, const Request& req, Response& resp) {
  Params p;
  if (!p.parse(req, {}, resp)) return;
  auto snap = cache.current();
  nlohmann::json j;
  if (snap->available) {
    // Degraded: the last data read is still served, but the database cannot be read now (a
    // server gone, a SQLite file deleted): 503 too, so that a monitor that looks only at the
    // status code notices.
    auto problem = cache.problem();
    j = {{"status", problem ? "degraded" : "ok"}};
    if (problem) {
      j["message"] = *problem;
      resp.status = 503;
    }
    if (snap->totals.last_run) j["last_run_status"] = to_string(snap->totals.last_run->status);
  } else {
    j = {{"status", "unavailable"}, {"message", snap->error}};
    resp.status = 503;
  }
  resp.set_body(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n", kJson);
  resp.cache_control = "no-store";
}

void metrics_handler(SnapshotCache& cache, const ServerMetrics& metrics, const Request& req,
                     Response& resp) {
  Params p;
  if (!p.parse(req, {}, resp)) return;
  auto snap = cache.current();
  std::string out = snap->metrics;
  out +=
      "# HELP covid_etl_snapshot_builds_total Times the server read a new version of the data.\n"
      "# TYPE covid_etl_snapshot_builds_total counter\ncovid_etl_snapshot_builds_total ";
  out += std::to_string(cache.builds());
  out +=
      "\n# HELP covid_etl_series_reads_total Series read from the database on demand (any location "
      "but "
      "the nation, the first time it is asked for in a version of the data).\n"
      "# TYPE covid_etl_series_reads_total counter\ncovid_etl_series_reads_total ";
  out += std::to_string(cache.series_reads());
  out +=
      "\n# HELP covid_etl_map_levels_built_total Map levels (state, county, country) made from "
      "their series for /api/v1/map: each once per version of the data.\n"
      "# TYPE covid_etl_map_levels_built_total counter\ncovid_etl_map_levels_built_total ";
  out += std::to_string(cache.map_builds());
  out +=
      "\n# HELP covid_etl_map_series_reads_total Series read from the database for the map "
      "levels.\n"
      "# TYPE covid_etl_map_series_reads_total counter\ncovid_etl_map_series_reads_total ";
  out += std::to_string(cache.map_reads());
  out +=
      "\n# HELP covid_etl_series_cached Series of other locations than the nation kept in memory "
      "now.\n"
      "# TYPE covid_etl_series_cached gauge\ncovid_etl_series_cached ";
  out += std::to_string(snap->series_cached());
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
  router.add("/api/v1/summary", kGetHead,
             [c](const Request& q, Response& r) { summary(*c, q, r); });
  router.add("/api/v1/runs", kGetHead, [c](const Request& q, Response& r) { runs(*c, q, r); });
  router.add("/api/v1/locations", kGetHead,
             [c](const Request& q, Response& r) { locations(*c, q, r); });
  router.add("/api/v1/states", kGetHead, [c](const Request& q, Response& r) { states(*c, q, r); });
  router.add("/api/v1/rankings", kGetHead,
             [c](const Request& q, Response& r) { rankings(*c, q, r); });
  router.add("/api/v1/annotations", kGetHead,
             [c](const Request& q, Response& r) { annotations(*c, q, r); });
  router.add("/api/v1/export.csv", kGetHead,
             [c](const Request& q, Response& r) { export_csv_handler(*c, q, r); });
  router.add("/api/v1/map", kGetHead,
             [c](const Request& q, Response& r) { map_handler(*c, q, r); });
  router.add("/api/v1", kGetHead, [](const Request& q, Response& r) { api_index(q, r); });
  router.add("/data/index.json", kGetHead, [](const Request& q, Response& r) { data_index(q, r); });
  router.add("/healthz", kGetHead, [c](const Request& q, Response& r) { healthz(*c, q, r); });
  router.add("/metrics", kGetHead,
             [c, m](const Request& q, Response& r) { metrics_handler(*c, *m, q, r); });
}

}  // namespace covid::serve
