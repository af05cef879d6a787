// libFuzzer target: the server's reading of a request target, from the raw bytes of the request
// line to a handler. The input is the target; it goes through split_target (path and query),
// parse_query, and the router with the routes of `covid-etl daemon` (the trigger's paths, the
// JSON API over a small SQLite database loaded at start, the embedded files), asked with GET and
// with POST. Checked, besides memory errors and undefined behaviour (ASan, UBSan):
//  - the path and the query put together give the target back; the path has no '?';
//  - parse_query either fails with a usage error, or its parameters, percent-encoded again and
//    parsed, are the same parameters (a round trip), and without '%' or '+' they appear as given;
//  - whatever the router hands to a handler has a path of non-empty segments, none of them "."
//    or "..", none with a '%' or a '\': so no decoding of it (the file system, a proxy) can take
//    it anywhere but the route that matched; a {id} value is letters, digits, '-', '_', '.';
//  - no route matched: 404; every answer is 200, 400, 404 or 405, every error body is JSON with
//    the same status; a 200 from the API means a query that parses with no name twice.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "config/config.h"
#include "extract/http_client.h"
#include "load/store.h"
#include "pipeline/etl_run.h"
#include "serve/api.h"
#include "serve/assets.h"
#include "serve/http.h"
#include "serve/router.h"
#include "serve/snapshot.h"

namespace {

using namespace covid;
using namespace covid::serve;

[[noreturn]] void fail(const char* what, std::string_view target) {
  std::fprintf(stderr, "http_target_fuzz: %s (target %zu bytes)\n", what, target.size());
  std::abort();
}

// A database with a few dates of national data and two runs, made once.
std::string make_database() {
  static const auto dir =
      std::filesystem::temp_directory_path() / ("covid-etl-http-fuzz-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::atexit([] {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  });
  std::ofstream(dir / "us.csv")
      << "date,cases,deaths\n2020-01-21,1,0\n2020-01-22,1,0\n2020-01-24,3,0\n"
         "2020-01-25,2,1\n";
  std::ofstream(dir / "jhu.csv")
      << "Date,Country/Region,Province/State,Confirmed,Recovered,Deaths\n"
         "2020-01-22,US,,1,0,0\n2020-01-24,US,,3,1,0\n";
  Config config;
  config.db = (dir / "covid.db").string();
  std::filesystem::remove(config.db);
  config.nyt_url = (dir / "us.csv").string();
  config.jhu_url = (dir / "jhu.csv").string();
  config.states = false;
  CurlHttpClient http;
  SystemClock clock;
  for (int i = 0; i < 2; ++i) {
    auto store = open_store(config.db, run_store_options(config, false));
    RunSummary s = store.ok() ? run_etl(config, **store, http, clock, RunOptions{})
                              : run_etl_unopened(config, store.status(), http, clock, RunOptions{});
    if (s.status == RunStatus::kFailed) {
      std::fprintf(stderr, "http_target_fuzz: the setup run failed: %s\n",
                   s.failure.message().c_str());
      std::abort();
    }
  }
  return config.db;
}

struct Server {
  ServerMetrics metrics;
  Router router{metrics};
  std::unique_ptr<SnapshotCache> cache;
  std::string seen_id;  // what the {id} handler was given

  Server() {
    std::string db = make_database();
    cache = std::make_unique<SnapshotCache>(
        [db] {
          StoreOptions o;
          o.read_only = true;
          return open_store(db, o);
        },
        SnapshotCache::Options{});
    if (!cache->load().ok() || !cache->current()->available) {
      std::fprintf(stderr, "http_target_fuzz: the snapshot cannot be read\n");
      std::abort();
    }
    // The daemon's routes (src/schedule/daemon.cc), with the trigger's handlers stubbed.
    router.add("/api/v1/runs", method_bit(Method::kPost),
               [](const Request&, Response& r) { r.set_body("{}\n", "application/json"); });
    router.add("/api/v1/runs/{id}", kGetHead, [this](const Request& q, Response& r) {
      if (q.path_params.size() != 1 || q.path_params[0].first != "id") std::abort();
      seen_id = std::string(q.path_params[0].second);
      r.set_body("{}\n", "application/json");
    });
    add_api_routes(router, *cache, metrics);
    add_asset_routes(router);
  }
};

bool unreserved(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

std::string encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (unreserved(c)) {
      out.push_back(char(c));
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

void check_query(std::string_view query, std::string_view target) {
  auto parsed = parse_query(query);
  if (!parsed.ok()) {
    if (parsed.status().kind() != ErrorKind::kUsage || parsed.status().message().empty()) {
      fail("parse_query failed without a usage error", target);
    }
    return;
  }
  size_t pieces = 1;
  for (char c : query) pieces += c == '&';
  if (parsed->size() > pieces) fail("more parameters than pieces", target);
  std::string again;
  for (const auto& [k, v] : *parsed) {
    if (!again.empty()) again += '&';
    again += encode(k) + "=" + encode(v);
  }
  auto reparsed = parse_query(again);
  if (!reparsed.ok() || *reparsed != *parsed)
    fail("the parameters do not survive a round trip", target);
  if (query.find_first_of("%+") == std::string_view::npos) {
    for (const auto& [k, v] : *parsed) {
      if (query.find(k) == std::string_view::npos || query.find(v) == std::string_view::npos) {
        fail("a parameter without escapes is not in the query as given", target);
      }
    }
  }
}

// The path a handler was given: non-empty segments, no dot segment, nothing encoded.
void check_routed_path(std::string_view path, std::string_view target) {
  if (path.empty() || path[0] != '/')
    fail("a path not starting with '/' reached a handler", target);
  if (path == "/") return;
  std::string_view rest = path.substr(1);
  while (true) {
    size_t slash = rest.find('/');
    std::string_view seg = rest.substr(0, slash);
    if (seg.empty()) fail("an empty segment reached a handler", target);
    if (seg == "." || seg == "..") fail("a dot segment reached a handler", target);
    if (seg.find_first_of("%\\") != std::string_view::npos)
      fail("an encoded segment reached a handler", target);
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
}

void dispatch(Server& server, Method method, std::string_view method_text,
              std::string_view target) {
  Request req;
  req.method = method;
  req.method_text = method_text;
  req.target = target;
  split_target(target, &req.path, &req.query);
  Response resp;
  server.seen_id.clear();
  server.router.dispatch(req, resp);

  // A route matched (its handler ran, or 405 for another method): the path is that route's.
  if (resp.route != ServerMetrics::kUnmatched)
    check_routed_path(req.path, target);
  else if (resp.status != 404)
    fail("no route, yet not 404", target);
  if (resp.status != 200 && resp.status != 400 && resp.status != 404 && resp.status != 405) {
    fail("an unexpected status", target);
  }
  if (!server.seen_id.empty()) {
    if (server.seen_id.find_first_not_of(
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") !=
        std::string::npos) {
      fail("a run id with other characters reached the handler", target);
    }
    if (req.path != "/api/v1/runs/" + server.seen_id)
      fail("the run id is not the last segment", target);
  }
  if (resp.status >= 400) {
    auto j = nlohmann::json::parse(resp.body, nullptr, false);
    if (j.is_discarded() || !j.is_object() || j.value("status", 0) != resp.status) {
      fail("an error body that is not JSON with its status", target);
    }
  }
  bool api = req.path.starts_with("/api/") || req.path == "/healthz" || req.path == "/metrics";
  if (resp.status == 200 && method == Method::kGet && api && server.seen_id.empty()) {
    auto parsed = parse_query(req.query);
    if (!parsed.ok()) fail("a malformed query was answered 200", target);
    std::set<std::string> names;
    for (const auto& [k, v] : *parsed) {
      if (!names.insert(k).second) fail("a parameter given twice was answered 200", target);
    }
    if (resp.content_type == "application/json") {
      if (nlohmann::json::parse(resp.body, nullptr, false).is_discarded())
        fail("a 200 body that is not JSON", target);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  static Server* server = new Server();  // kept for the whole run
  std::string_view target(reinterpret_cast<const char*>(bytes), size);

  std::string_view path, query;
  split_target(target, &path, &query);
  if (path.find('?') != std::string_view::npos) fail("a '?' in the path", target);
  if (target.find('?') == std::string_view::npos) {
    if (path != target || !query.empty()) fail("a target without '?' is not all path", target);
  } else if (std::string(path) + "?" + std::string(query) != target) {
    fail("path and query do not give the target back", target);
  }
  check_query(query, target);
  dispatch(*server, Method::kGet, "GET", target);
  dispatch(*server, Method::kPost, "POST", target);
  return 0;
}
