#include "publish/publisher.h"

#include <xxhash.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "load/store.h"
#include "serve/api.h"
#include "serve/assets.h"
#include "serve/http.h"
#include "serve/locations.h"
#include "serve/map_data.h"
#include "serve/metrics.h"
#include "serve/representation.h"
#include "serve/router.h"

namespace covid {
namespace {

using serve::Representation;

constexpr const char* kJson = "application/json";
constexpr int kReadAttempts = 3;
constexpr int kDataGzipLevel = 6;  // as serve compresses what it makes on demand  // a run that
                                   // commits during a publish: read it again

std::string hex64(uint64_t h) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", (unsigned long long)h);
  return buf;
}

// The content hash of a response: serve's ETag is the XXH3-64 of the identity bytes ("\"HEX\""
// or "\"HEX-gz\"" for the gzip form: representation.h); without one, the hash of the bytes.
std::string content_hash(std::string_view etag, std::string_view body) {
  if (etag.size() >= 18 && etag.front() == '"') {
    std::string_view hex = etag.substr(1, 16);
    if (std::all_of(hex.begin(), hex.end(),
                    [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }))
      return std::string(hex);
  }
  return hex64(XXH3_64bits(body.data(), body.size()));
}

std::string percent_encode(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (char c : s) {
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '_' || c == '.' || c == '~';
    if (plain) {
      out += c;
    } else {
      out += '%';
      out += kHex[(unsigned char)c >> 4];
      out += kHex[(unsigned char)c & 15];
    }
  }
  return out;
}

struct Fetched {
  std::string body, content_type, content_encoding, hash;
};

// GET `target` through serve's router, as a browser that takes gzip asks it.
Result<Fetched> fetch(const serve::Router& router, const std::string& target) {
  serve::Request req;
  req.method = serve::Method::kGet;
  req.method_text = "GET";
  req.target = target;
  serve::split_target(target, &req.path, &req.query);
  req.headers.emplace_back("accept-encoding", "gzip");
  serve::Response resp;
  router.dispatch(req, resp);
  if (resp.status != 200) {
    std::string message = std::string(resp.body);
    try {
      message = nlohmann::json::parse(resp.body).value("message", message);
    } catch (const nlohmann::json::exception&) {
    }
    std::string text = "publish: " + target + ": " + message;
    return resp.status == 503 ? Status::Load(text) : Status::Internal(text);
  }
  Fetched f;
  f.body = std::string(resp.body);
  f.content_type = std::string(resp.content_type);
  f.content_encoding = std::string(resp.content_encoding);
  f.hash = content_hash(resp.etag, resp.body);
  return f;
}

SiteObject from_representation(std::string key, const Representation& rep,
                               std::string cache_control) {
  SiteObject o;
  o.object.key = std::move(key);
  o.object.content_type = rep.content_type;
  o.object.cache_control = std::move(cache_control);
  o.object.body = rep.gzip.empty() ? rep.identity : rep.gzip;
  o.object.content_encoding = rep.gzip.empty() ? "" : "gzip";
  o.hash = content_hash(rep.etag, rep.identity);
  return o;
}

std::string data_key(const std::string& hash) { return "data/" + hash + ".json"; }

// A month of a map as /api/v1/map answers it (serve/map_data.h map_json) without the level's
// "first_date" and "last_date", which change with every new day: a month's object then changes
// only when its own values do. The page reads them from the last date's response only.
std::string month_map_json(const serve::MapLevel& level, const serve::MapQuery& q) {
  std::string body = serve::map_json(level, q);
  size_t at = body.find(",\"first_date\":");
  size_t end = body.find(",\"from\":");
  if (at != std::string::npos && end != std::string::npos && at < end) body.erase(at, end - at);
  return body;
}

// The requests of web/src/app.js and web/src/map.js, and the objects that answer them.
class SiteBuilder {
 public:
  SiteBuilder(serve::SnapshotCache& cache, const PublishManifest* known)
      : cache_(cache), known_(known), router_(metrics_) {
    serve::add_api_routes(router_, cache_, metrics_);
    serve::add_asset_routes(router_);
  }

  Result<Site> build() {
    auto snap = cache_.current();
    if (!snap->available)
      return Status::Load("publish: the database cannot be read: " + snap->error);
    auto index = cache_.locations(*snap);
    if (!index.ok()) return index.status();
    const std::vector<Location>& all = (*index)->all();

    COVID_RETURN_IF_ERROR(request("summary", {}));
    COVID_RETURN_IF_ERROR(request("states", {}));
    // Rankings: states, countries, and the counties of every state the page can be on (a
    // state's id, or the first two digits of a county's: app.js rankState()).
    std::set<std::string> states;
    auto two_digits = [](const std::string& id) {
      return id.size() >= 2 && id[0] >= '0' && id[0] <= '9' && id[1] >= '0' && id[1] <= '9';
    };
    for (const Location& l : all) {
      if (l.type == "state" && l.id.size() == 2 && two_digits(l.id)) states.insert(l.id);
      if (l.type == "county" && two_digits(l.id)) states.insert(l.id.substr(0, 2));
    }
    COVID_RETURN_IF_ERROR(request("rankings", {{"level", "state"}}));
    COVID_RETURN_IF_ERROR(request("rankings", {{"level", "country"}}));
    for (const std::string& st : states) {
      COVID_RETURN_IF_ERROR(request("rankings", {{"level", "county"}, {"state", st}}));
    }
    // Every location's series, and the notes of those that have some (the page shows none for
    // the others: a request the index does not map is answered "not published").
    COVID_RETURN_IF_ERROR(add_series(*snap, all));
    std::set<std::string> noted;
    for (const Annotation& a : snap->annotations) noted.insert(a.location);
    for (const std::string& id : noted) {
      COVID_RETURN_IF_ERROR(request("annotations", {{"location", id}}));
    }
    // The maps: each level, metric and rate; the last date, then every month (map.js mapUrl).
    for (const char* level : {"state", "county", "country"}) {
      auto m = cache_.map_level(*snap, level);
      if (!m.ok()) return m.status();
      for (const char* metric : {"cases", "deaths"}) {
        for (const char* per : {"true", "false"}) {
          std::vector<std::pair<std::string, std::string>> p = {
              {"level", level}, {"metric", metric}, {"per_100k", per}};
          COVID_RETURN_IF_ERROR(request("map", p));
          if ((*m)->dates.empty()) continue;
          const Date last = (*m)->dates.back();
          Ymd first = ymd_of((*m)->dates.front());
          int y = first.year, mo = int(first.month);
          while (true) {
            Date from = date_from_ymd(y, unsigned(mo), 1);
            int ny = mo == 12 ? y + 1 : y, nm = mo == 12 ? 1 : mo + 1;
            Date to{date_from_ymd(ny, unsigned(nm), 1).days - 1};
            if (from > last) break;
            auto params = p;
            params.emplace_back("from", format_date(from));
            params.emplace_back("to", format_date(to));
            serve::MapQuery q;
            q.metric = metric;
            q.per_100k = std::string_view(per) == "true";
            q.from = from;
            q.to = to;
            add("map", std::move(params), month_map_json(**m, q));
            y = ny;
            mo = nm;
          }
        }
      }
    }
    // Every location, for the page's own search (locations.h, as /api/v1/locations answers).
    serve::LocationSearch everything;
    everything.limit = std::max<size_t>(1, all.size());
    auto list = Representation::make(kJson, serve::locations_json(**index, everything), "");
    SiteObject locations = from_representation("", *list, kImmutableCache);
    locations.object.key = data_key(locations.hash);
    settle(locations);
    std::string locations_key = locations.object.key;
    data_.emplace(locations.object.key, std::move(locations));

    Site site;
    site.requests = requests_.size() + split_requests_.size();
    SiteObject page;
    for (size_t i = 0; i < serve::kEmbeddedAssetCount; ++i) {
      const serve::EmbeddedAsset& a = serve::kEmbeddedAssets[i];
      std::string path = a.path;
      auto f = fetch(router_, path);
      if (!f.ok()) return f.status();
      SiteObject o;
      bool is_page = path == "/";
      o.object.key = is_page ? "index.html" : path.substr(1);
      o.object.body = std::move(f->body);
      o.object.content_type = std::move(f->content_type);
      o.object.content_encoding = std::move(f->content_encoding);
      o.object.cache_control = is_page ? kIndexCache : kAssetCache;
      o.hash = std::move(f->hash);
      settle(o);
      if (is_page) {
        page = std::move(o);
      } else {
        site.objects.push_back(std::move(o));
      }
    }
    for (auto& [key, o] : data_) site.objects.push_back(std::move(o));
    nlohmann::ordered_json objects = nlohmann::ordered_json::object();
    for (const auto& [request, key] : requests_) objects[request] = key;
    for (const auto& [request, keys] : split_requests_) {
      objects[request] = nlohmann::ordered_json::array({keys.first, keys.second});
    }
    nlohmann::ordered_json body = {{"version", 2},
                                   {"api", nullptr},
                                   {"locations", locations_key},
                                   {"objects", std::move(objects)}};
    auto index_rep = Representation::make(
        kJson, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n", "");
    site.objects.push_back(from_representation(kPublishIndexKey, *index_rep, kIndexCache));
    settle(site.objects.back());
    if (!page.object.key.empty()) site.objects.push_back(std::move(page));
    return site;
  }

 private:
  Status request(const std::string& endpoint,
                 std::vector<std::pair<std::string, std::string>> params) {
    std::string target = "/api/v1/" + endpoint;
    for (size_t i = 0; i < params.size(); ++i) {
      target += (i == 0 ? "?" : "&") + params[i].first + "=" + percent_encode(params[i].second);
    }
    auto f = fetch(router_, target);
    if (!f.ok()) return f.status();
    std::string key = data_key(f->hash);
    requests_[canonical_request(endpoint, std::move(params))] = key;
    if (data_.count(key) == 0) {
      SiteObject o;
      o.object.key = key;
      o.object.body = std::move(f->body);
      o.object.content_type = std::move(f->content_type);
      o.object.content_encoding = std::move(f->content_encoding);
      o.object.cache_control = kImmutableCache;
      o.hash = std::move(f->hash);
      settle(o);
      data_.emplace(key, std::move(o));
    }
    return Status::Ok();
  }

  // A response made here (by the code serve answers it with), not through the router.
  void add(const std::string& endpoint, std::vector<std::pair<std::string, std::string>> params,
           std::string body) {
    // Compressed only if it is written (publish_site): most months are unchanged.
    requests_[canonical_request(endpoint, std::move(params))] = add_object(std::move(body));
  }

  // Every location's series, split at the first day of the month of its level's last date
  // (publisher.h): a history object per location, and the recent rows of a level's locations
  // (a state's counties) in one object keyed by location id.
  Status add_series(const serve::Snapshot& snap, const std::vector<Location>& all) {
    std::map<std::string, std::optional<Date>> split_of;  // level -> its split date
    auto split_date = [&](const std::string& level) -> Result<std::optional<Date>> {
      if (auto it = split_of.find(level); it != split_of.end()) return it->second;
      std::optional<Date> last;
      if (level == "nation") {
        if (auto it = snap.series.find(kNation); it != snap.series.end() && it->second.size())
          last = it->second.date.back();
      } else if (level == "state" || level == "county" || level == "country") {
        auto m = cache_.map_level(snap, level);
        if (!m.ok()) return m.status();
        if (!(*m)->dates.empty()) last = (*m)->dates.back();
      }
      std::optional<Date> split;
      if (last) {
        Ymd d = ymd_of(*last);
        split = date_from_ymd(d.year, d.month, 1);
      }
      split_of[level] = split;
      return split;
    };
    std::map<std::string, std::string> recent;  // group -> {"ID":{...},...} without its '}'
    std::vector<std::pair<std::string, std::string>> members;  // location id -> group
    for (const Location& l : all) {
      const serve::SeriesColumns* s = nullptr;
      std::optional<serve::SeriesColumns> read;
      if (auto it = snap.series.find(l.id); it != snap.series.end()) {
        s = &it->second;
      } else {
        auto r = cache_.read_columns(snap, l.id);
        if (!r.ok()) return r.status();
        if (!*r) continue;  // gone since the list was read: not published
        read = std::move(*r);
        s = &*read;
      }
      auto split = split_date(l.type);
      if (!split.ok()) return split.status();
      // A level without a last date (none of its series has a date) splits at the series' own
      // end: everything is history.
      size_t at = *split ? s->range(std::nullopt, Date{(*split)->days - 1}).second : s->size();
      std::string group = l.type == "county" ? "county-" + l.id.substr(0, 2) : l.type;
      std::string history_key = add_object(serve::series_json(*s, 0, at));
      std::string& r = recent[group];
      r += r.empty() ? "{" : ",";
      r += nlohmann::json(l.id).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      r += ':';
      std::string part = serve::series_json(*s, at, s->size());
      if (!part.empty() && part.back() == '\n') part.pop_back();
      r += part;
      members.emplace_back(l.id, group);
      split_requests_[canonical_request("series", {{"location", l.id}})] = {history_key, ""};
    }
    std::map<std::string, std::string> recent_key;
    for (auto& [group, body] : recent) recent_key[group] = add_object(std::move(body) + "}\n");
    for (const auto& [id, group] : members) {
      split_requests_[canonical_request("series", {{"location", id}})].second = recent_key[group];
    }
    return Status::Ok();
  }

  // A data object made here, compressed only if it is written; its key.
  std::string add_object(std::string body) {
    SiteObject o;
    o.hash = hex64(XXH3_64bits(body.data(), body.size()));
    o.object.key = data_key(o.hash);
    o.object.body = std::move(body);
    o.object.content_type = kJson;
    o.object.cache_control = kImmutableCache;
    o.gzip_level = kDataGzipLevel;
    settle(o);
    std::string key = o.object.key;
    data_.emplace(key, std::move(o));
    return key;
  }

  // An object the destination holds already keeps no body (publish_site does not write it).
  void settle(SiteObject& o) const {
    if (known_ == nullptr || !known_->holds(o.object.key, o.hash)) return;
    o.object.body = std::string();
    o.kept = true;
  }

  serve::SnapshotCache& cache_;
  const PublishManifest* known_;
  serve::ServerMetrics metrics_;
  serve::Router router_;
  std::map<std::string, std::string> requests_;  // canonical request -> key
  // A location's series: canonical request -> its history and recent objects' keys.
  std::map<std::string, std::pair<std::string, std::string>> split_requests_;
  std::map<std::string, SiteObject> data_;  // by key
};

PublishManifest parse_manifest(const std::string& text) {
  PublishManifest m;
  try {
    auto j = nlohmann::json::parse(text);
    // Version 1 had no "previous": read the same way, with none.
    for (const auto& [k, v] : j.at("objects").items()) m.objects[k] = v.get<std::string>();
    const nlohmann::json previous = j.value("previous", nlohmann::json::object());
    for (const auto& [k, v] : previous.items()) m.previous[k] = v.get<std::string>();
    for (const auto& k : j.value("pending", nlohmann::json::array())) {
      m.pending.insert(k.get<std::string>());
    }
    for (const auto& k : j.value("deleting", nlohmann::json::array())) {
      m.deleting.insert(k.get<std::string>());
    }
  } catch (const nlohmann::json::exception&) {
    // Not a manifest this version wrote: every object is written again, nothing is deleted.
    return PublishManifest{};
  }
  return m;
}

Status put_manifest(Destination& dest, const PublishManifest& m) {
  nlohmann::ordered_json j = {{"version", 2},
                              {"objects", nlohmann::ordered_json::object()},
                              {"previous", nlohmann::ordered_json::object()},
                              {"pending", nlohmann::ordered_json::array()},
                              {"deleting", nlohmann::ordered_json::array()}};
  for (const auto& [k, v] : m.objects) j["objects"][k] = v;
  for (const auto& [k, v] : m.previous) j["previous"][k] = v;
  for (const auto& k : m.pending) j["pending"].push_back(k);
  for (const auto& k : m.deleting) j["deleting"].push_back(k);
  PublishedObject o;
  o.key = kPublishManifestKey;
  o.body = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  o.content_type = kJson;
  o.cache_control = "no-cache";
  return dest.put(o);
}

// Runs op(0) .. op(n-1) on up to `threads` threads. After a failure no new op starts; the
// failure of the lowest index is returned once every started op has ended.
Status run_parallel(size_t n, size_t threads, const std::function<Status(size_t)>& op) {
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mu;
  size_t failed_at = n;
  Status failure = Status::Ok();
  auto work = [&] {
    for (;;) {
      if (failed.load()) return;
      size_t i = next.fetch_add(1);
      if (i >= n) return;
      Status s = op(i);
      if (!s.ok()) {
        std::lock_guard lock(mu);
        if (i < failed_at) {
          failed_at = i;
          failure = std::move(s);
        }
        failed.store(true);
      }
    }
  };
  std::vector<std::thread> pool;
  for (size_t t = 1; t < std::min(threads, n); ++t) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();
  return failure;
}

}  // namespace

std::string canonical_request(std::string_view endpoint,
                              std::vector<std::pair<std::string, std::string>> params) {
  std::stable_sort(params.begin(), params.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string out(endpoint);
  for (size_t i = 0; i < params.size(); ++i) {
    out += (i == 0 ? "?" : "&") + params[i].first + "=" + params[i].second;
  }
  return out;
}

std::string PublishReport::text() const {
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "%zu objects: %zu written (%llu bytes), %zu unchanged, %zu deleted, in %.2f s",
                objects, written, (unsigned long long)bytes_written, unchanged, deleted, seconds);
  return buf;
}

Result<Site> build_site(serve::SnapshotCache& cache, const PublishManifest* known) {
  return SiteBuilder(cache, known).build();
}

Result<PublishManifest> read_manifest(Destination& dest) {
  auto got = dest.get(kPublishManifestKey);
  if (!got.ok()) return got.status();
  return *got ? parse_manifest(**got) : PublishManifest{};
}

bool PublishManifest::holds(const std::string& key, const std::string& hash) const {
  if (pending.count(key) != 0) return false;
  auto it = objects.find(key);
  if (it != objects.end()) return it->second == hash;
  it = previous.find(key);
  return it != previous.end() && it->second == hash;
}

Result<PublishReport> publish_site(const Site& site, Destination& dest) {
  auto old = read_manifest(dest);
  if (!old.ok()) return old.status();
  return publish_site(site, *old, dest);
}

Result<PublishReport> publish_site(const Site& site, const PublishManifest& old,
                                   Destination& dest) {
  auto start = std::chrono::steady_clock::now();
  PublishReport report;
  report.objects = site.objects.size();
  auto finish = [&] {
    report.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return report;
  };

  PublishManifest now;
  // The phases, in order: the objects the index names (and the page's files), the index, the page.
  std::vector<const SiteObject*> phases[3];
  for (const SiteObject& o : site.objects) {
    now.objects[o.object.key] = o.hash;
    if (old.holds(o.object.key, o.hash)) continue;
    if (o.kept) {
      return Status::Internal("publish: " + o.object.key +
                              " is not in the destination any more (was another publish running?)");
    }
    int phase = o.object.key == kPublishIndexKey ? 1 : o.object.key == "index.html" ? 2 : 0;
    phases[phase].push_back(&o);
  }
  report.written = phases[0].size() + phases[1].size() + phases[2].size();
  report.unchanged = site.objects.size() - report.written;
  // What the version before this one used stays one more publish (so do the keys a stopped
  // publish may have written: it may have put its index in place); what only the version
  // before that used goes, after the new index is in place.
  const bool same_version = now.objects == old.objects;
  if (same_version) {
    now.previous = old.previous;
  } else {
    for (const auto& [k, h] : old.objects) {
      if (now.objects.count(k) == 0) now.previous[k] = h;
    }
  }
  for (const auto& k : old.pending) {
    if (now.objects.count(k) == 0 && now.previous.count(k) == 0) now.previous[k] = "";
  }
  std::vector<std::string> garbage;
  auto unused = [&](const std::string& k) {
    return now.objects.count(k) == 0 && now.previous.count(k) == 0;
  };
  for (const auto& [k, h] : old.previous) {
    if (unused(k)) garbage.push_back(k);
  }
  for (const auto& k : old.deleting) {
    if (unused(k) && old.previous.count(k) == 0) garbage.push_back(k);
  }
  // The version the destination holds, whole: nothing to write or delete.
  if (report.written == 0 && same_version && old.pending.empty() && garbage.empty()) {
    return finish();
  }

  if (report.written > 0) {
    // What this publish may leave behind if it stops: pending until the manifest says otherwise.
    PublishManifest marked = old;
    for (const auto& phase : phases) {
      for (const SiteObject* o : phase) marked.pending.insert(o->object.key);
    }
    COVID_RETURN_IF_ERROR(put_manifest(dest, marked));
  }
  const bool encode = dest.stores_encoding();
  std::atomic<uint64_t> bytes{0};
  for (const auto& phase : phases) {
    COVID_RETURN_IF_ERROR(run_parallel(phase.size(), dest.parallelism(), [&](size_t i) {
      const SiteObject& o = *phase[i];
      if (o.gzip_level > 0 && encode) {
        PublishedObject compressed = o.object;
        std::string z = serve::gzip_compress(o.object.body, o.gzip_level);
        if (!z.empty() && z.size() < compressed.body.size()) {
          compressed.body = std::move(z);
          compressed.content_encoding = "gzip";
        }
        bytes += compressed.body.size();
        return dest.put(compressed);
      }
      bytes += o.object.body.size();
      return dest.put(o.object);
    }));
  }
  report.bytes_written = bytes.load();
  // The new version is in place. Until they are deleted, the objects to go are listed.
  PublishManifest placed = now;
  placed.deleting.insert(garbage.begin(), garbage.end());
  COVID_RETURN_IF_ERROR(put_manifest(dest, placed));
  if (!garbage.empty()) {
    COVID_RETURN_IF_ERROR(run_parallel(garbage.size(), dest.parallelism(),
                                       [&](size_t i) { return dest.remove(garbage[i]); }));
    report.deleted = garbage.size();
    COVID_RETURN_IF_ERROR(put_manifest(dest, now));
  }
  return finish();
}

Result<PublishReport> publish(const PublishOptions& options, Destination& dest) {
  auto start = std::chrono::steady_clock::now();
  StoreOptions so;
  so.read_only = true;
  so.lock_timeout = options.lock_timeout;
  serve::SnapshotCache::Options co;
  // One version of the data for the whole publish: checked again only at its end (below).
  co.check_interval = std::chrono::hours(24);
  co.freshness = options.freshness;
  co.log_prefix = "";  // a database that cannot be read is this command's error, said once
  std::string db = options.db;
  serve::SnapshotCache cache([db, so] { return open_store(db, so); }, co);
  COVID_RETURN_IF_ERROR(cache.load());
  std::optional<PublishManifest> known;
  for (int attempt = 1;; ++attempt) {
    auto snap = cache.current();
    if (!snap->available) {
      return Status::Load("publish: the database cannot be read: " + snap->error);
    }
    if (!known) {
      auto m = read_manifest(dest);
      if (!m.ok()) return m.status();
      known = std::move(*m);
    }
    auto site = build_site(cache, &*known);
    if (!site.ok()) return site.status();
    cache.invalidate();
    if (cache.current() != snap && attempt < kReadAttempts) continue;  // a run committed
    auto report = publish_site(*site, *known, dest);
    if (report.ok()) {
      report->seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
    return report;
  }
}

}  // namespace covid

namespace covid {

Result<PublishReport> publish_to(const Config& config, std::string_view dest) {
  auto d = open_destination(dest);
  if (!d.ok()) return d.status();
  PublishOptions options;
  options.db = config.db;
  options.lock_timeout = config.lock_timeout;
  options.freshness = {config.daily_stale_after_days, config.weekly_stale_after_days};
  auto report = publish(options, **d);
  if (!report.ok()) {
    std::string m = report.status().message();
    if (!m.starts_with("publish: ")) m = "publish: " + m;
    return Status(report.status().kind(), m + " (to " + (*d)->display() + ")");
  }
  return report;
}

}  // namespace covid
