// Unit tests of the dashboard server's parts that need no network: query parsing, content
// negotiation, the router, the derived series and their JSON/CSV, and the snapshot cache over a
// real SQLite file.
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/secrets.h"
#include "config/config.h"
#include "load/classify.h"
#include "load/store.h"
#include "serve/api.h"
#include "serve/assets.h"
#include "serve/http.h"
#include "serve/locations.h"
#include "serve/lru.h"
#include "serve/representation.h"
#include "serve/router.h"
#include "serve/run_json.h"
#include "serve/run_trigger.h"
#include "serve/series.h"
#include "serve/snapshot.h"
#include "serve/views.h"

namespace covid::serve {
namespace {

Observation obs(const char* date, int64_t cases, int64_t deaths, int64_t recovered = kUnknown) {
  Observation o;
  EXPECT_EQ(parse_date(date, &o.date), DateError::kNone);
  o.cases = cases;
  o.deaths = deaths;
  o.recovered = recovered;
  return o;
}

Date day(const char* text) {
  Date d;
  EXPECT_EQ(parse_date(text, &d), DateError::kNone);
  return d;
}

std::string gunzip(const std::string& z) {
  z_stream s{};
  EXPECT_EQ(inflateInit2(&s, 15 + 16), Z_OK);
  std::string out(1 << 20, '\0');
  s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(z.data()));
  s.avail_in = uInt(z.size());
  s.next_out = reinterpret_cast<Bytef*>(out.data());
  s.avail_out = uInt(out.size());
  EXPECT_EQ(inflate(&s, Z_FINISH), Z_STREAM_END);
  out.resize(out.size() - s.avail_out);
  inflateEnd(&s);
  return out;
}

TEST(ServeQuery, DecodesAndKeepsOrderAndDuplicates) {
  auto q = parse_query("from=2021-01-01&to=2021%2D02%2d03&&x=a+b&flag&empty=");
  ASSERT_TRUE(q.ok());
  QueryParams want = {
      {"from", "2021-01-01"}, {"to", "2021-02-03"}, {"x", "a b"}, {"flag", ""}, {"empty", ""}};
  EXPECT_EQ(*q, want);
  EXPECT_TRUE(parse_query("").ok());
  EXPECT_EQ(parse_query("a=1&a=2")->size(), 2u);
}

TEST(ServeQuery, RejectsBadEscapes) {
  for (const char* bad : {"a=%", "a=%2", "a=%G1", "%zz=1", "a=1&b=%%"}) {
    EXPECT_FALSE(parse_query(bad).ok()) << bad;
  }
}

TEST(ServeNegotiation, AcceptEncoding) {
  EXPECT_TRUE(accepts_gzip("gzip"));
  EXPECT_TRUE(accepts_gzip("deflate, gzip;q=0.5, br"));
  EXPECT_TRUE(accepts_gzip("GZip"));
  EXPECT_TRUE(accepts_gzip("*"));
  EXPECT_TRUE(accepts_gzip("x-gzip"));
  EXPECT_TRUE(accepts_gzip("gzip; q=1.0"));
  EXPECT_FALSE(accepts_gzip(""));
  EXPECT_FALSE(accepts_gzip("identity"));
  EXPECT_FALSE(accepts_gzip("br, deflate"));
  EXPECT_FALSE(accepts_gzip("gzip;q=0"));
  EXPECT_FALSE(accepts_gzip("gzip;q=0.000"));
  EXPECT_FALSE(accepts_gzip("*;q=0"));
  EXPECT_FALSE(accepts_gzip("gzip;q=0, *"));
  EXPECT_FALSE(accepts_gzip("gzipx"));
}

TEST(ServeNegotiation, IfNoneMatch) {
  EXPECT_TRUE(etag_matches("\"abc\"", "\"abc\""));
  EXPECT_TRUE(etag_matches("W/\"abc\"", "\"abc\""));
  EXPECT_TRUE(etag_matches("\"x\", \"abc\"", "\"abc\""));
  EXPECT_TRUE(etag_matches("*", "\"abc\""));
  EXPECT_TRUE(etag_matches("\"abc-gz\"", "\"abc\"", "\"abc-gz\""));
  EXPECT_FALSE(etag_matches("\"abd\"", "\"abc\""));
  EXPECT_FALSE(etag_matches("abc", "\"abc\""));
  EXPECT_FALSE(etag_matches("", "\"abc\""));
}

TEST(ServeRepresentation, GzipRoundTripsAndETagsDiffer) {
  std::string body;
  for (int i = 0; i < 200; ++i)
    body += "{\"date\":\"2021-01-01\",\"cases\":" + std::to_string(i) + "}\n";
  auto rep = Representation::make("application/json", body, "no-cache");
  ASSERT_FALSE(rep->gzip.empty());
  EXPECT_LT(rep->gzip.size(), body.size() / 4);
  EXPECT_EQ(gunzip(rep->gzip), body);
  EXPECT_NE(rep->etag, rep->etag_gzip);
  EXPECT_EQ(rep->etag, Representation::make("application/json", body, "no-cache")->etag);
  EXPECT_NE(rep->etag, Representation::make("application/json", body + " ", "no-cache")->etag);
  EXPECT_TRUE(Representation::make("text/plain", "short", "no-cache")->gzip.empty());

  Request req;
  std::string enc = "gzip", inm;
  req.headers = {{"Accept-Encoding", enc}};
  Response resp;
  respond(req, rep, resp);
  EXPECT_EQ(resp.status, 200);
  EXPECT_EQ(resp.content_encoding, "gzip");
  EXPECT_EQ(resp.body, rep->gzip);
  EXPECT_TRUE(resp.vary_accept_encoding);
  inm = rep->etag;
  req.headers = {{"if-none-match", inm}};
  Response not_modified;
  respond(req, rep, not_modified);
  EXPECT_EQ(not_modified.status, 304);
  EXPECT_TRUE(not_modified.body.empty());
}

TEST(ServeRouter, MatchesExactPathsAndParameters) {
  ServerMetrics metrics;
  Router router(metrics);
  std::string seen;
  router.add("/api/v1/runs", method_bit(Method::kGet) | method_bit(Method::kPost),
             [&](const Request&, Response& r) {
               seen = "runs";
               r.status = 200;
             });
  router.add("/api/v1/runs/{id}", kGetHead, [&](const Request& q, Response& r) {
    seen = "run " + std::string(q.path_params.at(0).second);
    r.status = 200;
  });
  router.add("/", kGetHead, [&](const Request&, Response& r) {
    seen = "page";
    r.status = 200;
  });

  auto call = [&](Method m, const char* method_text, const char* path) {
    Request q;
    q.method = m;
    q.method_text = method_text;
    q.path = path;
    Response r;
    seen.clear();
    router.dispatch(q, r);
    return std::make_pair(r, seen);
  };
  EXPECT_EQ(call(Method::kGet, "GET", "/api/v1/runs").second, "runs");
  EXPECT_EQ(call(Method::kPost, "POST", "/api/v1/runs").second, "runs");
  EXPECT_EQ(call(Method::kHead, "HEAD", "/api/v1/runs").second, "runs");  // HEAD goes with GET
  EXPECT_EQ(call(Method::kGet, "GET", "/api/v1/runs/42").second, "run 42");
  EXPECT_EQ(call(Method::kGet, "GET", "/api/v1/runs/...").second,
            "run ...");  // a name, not a dot-segment
  EXPECT_EQ(call(Method::kGet, "GET", "/").second, "page");
  // A dot-segment is no parameter value: "/api/v1/runs/.." is an unknown path, as "/..%2f" is.
  for (const char* path :
       {"/api/v1/runs/", "/api/v1/runs/4/2", "/api/v1/runs/%34", "/api/v1/runs/..",
        "/api/v1/runs/.", "/api/v1/run", "/API/v1/runs", "", "api/v1/runs", "//"}) {
    auto [r, s] = call(Method::kGet, "GET", path);
    EXPECT_EQ(r.status, 404) << path;
    EXPECT_EQ(s, "") << path;
  }
  auto [r405, s405] = call(Method::kDelete, "DELETE", "/api/v1/runs/7");
  EXPECT_EQ(r405.status, 405);
  ASSERT_EQ(r405.headers.size(), 1u);
  EXPECT_EQ(r405.headers[0].second, "GET, HEAD");
  EXPECT_EQ(call(Method::kPut, "PUT", "/api/v1/runs").first.headers[0].second, "GET, HEAD, POST");
}

TEST(ServeMetrics, OnePathIsOneRouteWhateverTheMethods) {
  ServerMetrics metrics;
  size_t get = metrics.add_route("/api/v1/runs");
  size_t post = metrics.add_route("/api/v1/runs");
  EXPECT_EQ(get, post);
  EXPECT_NE(metrics.add_route("/api/v1/runs/{id}"), get);
  metrics.record(get, 200, std::chrono::microseconds(300));
  metrics.record(post, 202, std::chrono::milliseconds(3));
  metrics.record(get, 599, std::chrono::seconds(9));
  std::string text;
  metrics.render(&text);
  EXPECT_NE(text.find("covid_etl_http_requests_total{route=\"/api/v1/runs\",code=\"200\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("covid_etl_http_requests_total{route=\"/api/v1/runs\",code=\"202\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("covid_etl_http_requests_total{route=\"/api/v1/runs\",code=\"other\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("covid_etl_http_request_duration_seconds_bucket{route=\"/api/v1/"
                      "runs\",le=\"0.0005\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("covid_etl_http_request_duration_seconds_bucket{route=\"/api/v1/"
                      "runs\",le=\"0.005\"} 2\n"),
            std::string::npos);
  EXPECT_NE(
      text.find(
          "covid_etl_http_request_duration_seconds_bucket{route=\"/api/v1/runs\",le=\"+Inf\"} 3\n"),
      std::string::npos);
  EXPECT_NE(text.find("covid_etl_http_request_duration_seconds_count{route=\"/api/v1/runs\"} 3\n"),
            std::string::npos);
  // Each series once.
  EXPECT_EQ(text.find("route=\"/api/v1/runs\",code=\"200\""),
            text.rfind("route=\"/api/v1/runs\",code=\"200\""));
}

TEST(ServeSeries, DailyValuesAndAverages) {
  std::vector<Observation> rows;
  const char* dates[] = {"2021-03-01", "2021-03-02", "2021-03-03", "2021-03-04", "2021-03-05",
                         "2021-03-06", "2021-03-07", "2021-03-08", "2021-03-09"};
  int64_t cases[] = {10, 12, 15, 15, 14, 20, 27, 35, 44};
  for (int i = 0; i < 9; ++i)
    rows.push_back(obs(dates[i], cases[i], i == 4 ? kUnknown : i, i == 2 ? 7 : kUnknown));
  SeriesColumns s = SeriesColumns::build("US", rows);
  ASSERT_EQ(s.size(), 9u);
  std::vector<int64_t> want = {kNoValue, 2, 3, 0, -1, 6, 7, 8, 9};
  EXPECT_EQ(s.new_cases, want);
  // Deaths unknown on 03-05: no daily value that day or the next.
  EXPECT_EQ(s.new_deaths[4], kNoValue);
  EXPECT_EQ(s.new_deaths[5], kNoValue);
  EXPECT_EQ(s.new_deaths[3], 1);
  EXPECT_TRUE(std::isnan(s.new_cases_avg7[6]));  // needs 7 known daily values
  EXPECT_DOUBLE_EQ(s.new_cases_avg7[7], (2 + 3 + 0 - 1 + 6 + 7 + 8) / 7.0);
  EXPECT_DOUBLE_EQ(s.new_cases_avg7[8], (3 + 0 - 1 + 6 + 7 + 8 + 9) / 7.0);
  EXPECT_TRUE(std::isnan(s.new_deaths_avg7[8]));  // the unknown day is in the window

  auto [b, e] = s.range(day("2021-03-03"), day("2021-03-05"));
  EXPECT_EQ(std::make_pair(b, e), std::make_pair(size_t(2), size_t(5)));
  EXPECT_EQ(s.range(std::nullopt, std::nullopt), std::make_pair(size_t(0), size_t(9)));
  EXPECT_EQ(s.range(day("2022-01-01"), std::nullopt), std::make_pair(size_t(9), size_t(9)));
  EXPECT_EQ(s.range(day("2020-01-01"), day("2020-02-01")).second -
                s.range(day("2020-01-01"), day("2020-02-01")).first,
            0u);
}

TEST(ServeSeries, AGapInTheDatesBreaksTheDailyValues) {
  SeriesColumns s = SeriesColumns::build("US", {obs("2021-03-01", 1, 0), obs("2021-03-02", 3, 0),
                                                obs("2021-03-04", 9, 0), obs("2021-03-05", 10, 0)});
  std::vector<int64_t> want = {kNoValue, 2, kNoValue, 1};
  EXPECT_EQ(s.new_cases, want);
}

TEST(ServeSeries, JsonAndCsv) {
  SeriesColumns s = SeriesColumns::build(
      "US", {obs("2021-03-01", 1, 0, 0), obs("2021-03-02", 3, 1), obs("2021-03-03", 2, 1, 5)});
  EXPECT_EQ(series_json(s, 0, 3),
            "{\"location\":\"US\",\"from\":\"2021-03-01\",\"to\":\"2021-03-03\",\"count\":3,"
            "\"date\":[\"2021-03-01\",\"2021-03-02\",\"2021-03-03\"],\"cases\":[1,3,2],\"deaths\":["
            "0,1,1],"
            "\"recovered\":[0,null,5],\"new_cases\":[null,2,-1],\"new_deaths\":[null,1,0],"
            "\"new_cases_avg7\":[null,null,null],\"new_deaths_avg7\":[null,null,null],"
            "\"cases_per_100k\":[null,null,null],\"deaths_per_100k\":[null,null,null],"
            "\"new_cases_avg7_per_100k\":[null,null,null],"
            "\"new_deaths_avg7_per_100k\":[null,null,null],"
            "\"new_cases_avg7_raw\":[null,null,null],\"new_deaths_avg7_raw\":[null,null,null],"
            "\"omitted\":[null,null,null]}\n");
  EXPECT_EQ(
      series_json(s, 1, 1, kFieldDate | kFieldCases),
      "{\"location\":\"US\",\"from\":null,\"to\":null,\"count\":0,\"date\":[],\"cases\":[]}\n");
  EXPECT_EQ(export_csv(s, 0, 3),
            "date,cases,deaths,recovered\n2021-03-01,1,0,0\n2021-03-02,3,1,\n2021-03-03,2,1,5\n");
  EXPECT_EQ(export_csv(s, 3, 3), "date,cases,deaths,recovered\n");
  auto fields = parse_fields("cases,new_deaths_avg7");
  ASSERT_TRUE(fields.ok());
  EXPECT_EQ(*fields, unsigned(kFieldDate | kFieldCases | kFieldNewDeathsAvg7));
  EXPECT_FALSE(parse_fields("cases,").ok());
  EXPECT_FALSE(parse_fields("Cases").ok());
}

TEST(ServeSeries, AveragesHaveTwoDecimalsAtMost) {
  std::vector<Observation> rows;
  int64_t c = 0;
  for (int d = 1; d <= 9; ++d) {
    c += d == 9 ? 1 : 0;
    rows.push_back(obs(("2021-03-0" + std::to_string(d)).c_str(), c, 0));
  }
  SeriesColumns s = SeriesColumns::build("US", rows);
  std::string json = series_json(s, 8, 9, kFieldNewCasesAvg7 | kFieldNewDeathsAvg7);
  EXPECT_NE(json.find("\"new_cases_avg7\":[0.14]"), std::string::npos) << json;
  EXPECT_NE(json.find("\"new_deaths_avg7\":[0]"), std::string::npos) << json;
}

TEST(ServeViews, EpochSeconds) {
  EXPECT_EQ(epoch_seconds("1970-01-02T00:00:01Z"), 86401.0);
  EXPECT_NEAR(*epoch_seconds("2021-03-17T12:15:00.123Z"), 1615983300.123, 1e-6);
  EXPECT_FALSE(epoch_seconds("2021-03-17 12:15:00Z"));
  EXPECT_FALSE(epoch_seconds(""));
  EXPECT_FALSE(epoch_seconds("2021-03-17T12:15:00"));
}

TEST(ServeConfig, ParseListen) {
  std::string host;
  uint16_t port = 1;
  EXPECT_TRUE(parse_listen("127.0.0.1:8080", &host, &port));
  EXPECT_EQ(std::make_pair(host, port), std::make_pair(std::string("127.0.0.1"), uint16_t(8080)));
  EXPECT_TRUE(parse_listen("[::1]:0", &host, &port));
  EXPECT_EQ(std::make_pair(host, port), std::make_pair(std::string("::1"), uint16_t(0)));
  EXPECT_TRUE(parse_listen("localhost:65535", &host, &port));
  for (const char* bad : {"", "8080", ":8080", "host:", "host:65536", "host:8o80", "::1:8080",
                          "[::1]8080", "[]:80", "a b:80", "host:123456"}) {
    EXPECT_FALSE(parse_listen(bad, &host, &port)) << bad;
  }
}

class ServeSnapshot : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("covid-etl-serve-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "covid.db").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // One run loading rows, as the pipeline would.
  void load(const std::vector<Observation>& rows) {
    auto store = open_store(path_, StoreOptions{});
    ASSERT_TRUE(store.ok()) << store.status().message();
    auto id = (*store)->begin_run("2021-03-17T12:00:00.000Z");
    ASSERT_TRUE(id.ok());
    auto tx = (*store)->begin_load();
    ASSERT_TRUE(tx.ok()) << tx.status().message();
    auto existing = (*tx)->existing(kNation);
    ASSERT_TRUE(existing.ok());
    ChangeSet changes;
    for (const Observation& o : rows) {
      bool found = false;
      for (const Observation& e : *existing) found = found || e.date == o.date;
      if (found)
        changes.updated.push_back(Revision{o, o});
      else
        changes.inserted.push_back(o);
    }
    ASSERT_TRUE((*tx)->write(*id, changes).ok());
    RunRecord r;
    r.id = *id;
    r.started_at = "2021-03-17T12:00:00.000Z";
    r.finished_at = "2021-03-17T12:00:01.000Z";
    r.status = RunStatus::kOk;
    r.counts.inserted = changes.inserted.size();
    ASSERT_TRUE((*tx)->finish_run(r, {}).ok());
    ASSERT_TRUE((*tx)->commit().ok());
  }

  SnapshotCache::Opener opener() {
    std::string path = path_;
    return [path] {
      StoreOptions so;
      so.read_only = true;
      return open_store(path, so);
    };
  }

  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(ServeSnapshot, ANewRunIsSeenByTheNextCall) {
  load({obs("2021-03-01", 1, 0), obs("2021-03-02", 3, 0)});
  SnapshotCache::Options options;
  options.check_interval = std::chrono::microseconds(0);
  SnapshotCache cache(opener(), options);
  ASSERT_TRUE(cache.load().ok());
  auto first = cache.current();
  ASSERT_TRUE(first->available) << first->error;
  EXPECT_EQ(first->series.at("US").size(), 2u);
  EXPECT_EQ(first->totals.inserted, 2u);
  EXPECT_EQ(cache.current(), first);  // nothing changed: the same snapshot, no rebuild
  EXPECT_EQ(cache.builds(), 1u);

  load({obs("2021-03-03", 6, 1)});
  auto second = cache.current();
  EXPECT_NE(second, first);
  EXPECT_EQ(second->series.at("US").size(), 3u);
  EXPECT_EQ(second->totals.by_status[size_t(RunStatus::kOk)], 2u);
  EXPECT_NE(second->series_full.at("US")->etag, first->series_full.at("US")->etag);
  EXPECT_EQ(first->series.at("US").size(), 2u);  // the old snapshot is untouched
}

TEST_F(ServeSnapshot, BetweenChecksTheSnapshotStaysUntilInvalidated) {
  load({obs("2021-03-01", 1, 0)});
  SnapshotCache::Options options;
  options.check_interval = std::chrono::hours(1);
  SnapshotCache cache(opener(), options);
  ASSERT_TRUE(cache.load().ok());
  auto first = cache.current();
  load({obs("2021-03-02", 2, 0)});
  EXPECT_EQ(cache.current(), first);  // not asked again within the interval
  cache.invalidate();                 // what a caller that has just committed a run does
  EXPECT_EQ(cache.current()->series.at("US").size(), 2u);
}

TEST_F(ServeSnapshot, NoDatabaseYetThenOne) {
  SnapshotCache::Options options;
  options.reopen_interval = std::chrono::milliseconds(0);
  options.check_interval = std::chrono::microseconds(0);
  SnapshotCache cache(opener(), options);
  ASSERT_TRUE(cache.load().ok());
  auto none = cache.current();
  EXPECT_FALSE(none->available);
  EXPECT_NE(none->error.find("no database"), std::string::npos) << none->error;
  load({obs("2021-03-01", 1, 0)});
  auto some = cache.current();
  ASSERT_TRUE(some->available) << some->error;
  EXPECT_EQ(some->series.at("US").size(), 1u);
}

TEST_F(ServeSnapshot, ADatabaseUrlNoStoreTakesIsAUsageError) {
  SnapshotCache cache([] { return open_store("bogus://table", StoreOptions{}); },
                      SnapshotCache::Options{});
  Status s = cache.load();
  EXPECT_EQ(s.kind(), ErrorKind::kUsage);
}

TEST_F(ServeSnapshot, DerivedResponsesAreKeptPerSnapshot) {
  load({obs("2021-03-01", 1, 0)});
  SnapshotCache cache(opener(), SnapshotCache::Options{});
  ASSERT_TRUE(cache.load().ok());
  auto snap = cache.current();
  int made = 0;
  auto make = [&] {
    ++made;
    return Representation::make("text/plain", "x", "no-cache");
  };
  auto a = snap->derived("k", make);
  auto b = snap->derived("k", make);
  EXPECT_EQ(a, b);
  EXPECT_EQ(made, 1);
}

// --- locations, their search, the table of states ----------------------------------------------

std::vector<Location> some_locations() {
  return {
      {"06", "state", "California", "", "06"},
      {"06037", "county", "Los Angeles", "California", "06037"},
      {"06:Unknown", "county", "Unknown", "California", ""},
      {"36", "state", "New York", "", "36"},
      {"36061", "county", "New York", "New York", "36061"},
      {"36:New York City", "county", "New York City", "New York", ""},
      {"48", "state", "Texas", "", "48"},
      {"48113", "county", "Dallas", "Texas", "48113"},
      {"US", "nation", "United States", "", ""},
  };
}

std::vector<std::string> ids(const std::vector<const Location*>& hits) {
  std::vector<std::string> out;
  for (const Location* l : hits) out.push_back(l->id);
  return out;
}

TEST(ServeLocations, SearchByNameOrCodeBestFirst) {
  LocationIndex index(some_locations());
  using V = std::vector<std::string>;
  struct Case {
    const char* type;
    const char* q;
    V want;
  };
  const Case cases[] = {
      // An exact name first (the state before the county), then names that begin with it.
      {"", "new york", {"36", "36061", "36:New York City"}},
      {"", "  NEW YORK ", {"36", "36061", "36:New York City"}},
      // An id or FIPS prefix: the state itself (exact id), then its counties by name.
      {"", "06", {"06", "06037", "06:Unknown"}},
      {"county", "06", {"06037", "06:Unknown"}},
      {"", "0603", {"06037"}},
      {"", "36:", {"36:New York City"}},
      // A word of the label that begins with the text, then the text anywhere.
      {"", "york", {"36", "36061", "36:New York City"}},
      {"", "ork", {"36", "36061", "36:New York City"}},
      {"", "angel", {"06037"}},
      // The county's state is in its label: "Dallas, Texas".
      {"county", "texas", {"48113"}},
      {"", "texas", {"48", "48113"}},
      {"", "united", {"US"}},
      {"state", "york", {"36"}},
      {"nation", "", {"US"}},
      // Everything of a type, by name.
      {"state", "", {"06", "36", "48"}},
      {"", "zzz", {}},
      {"county", "californiax", {}},
  };
  for (const Case& c : cases)
    EXPECT_EQ(ids(index.search(c.type, c.q)), c.want) << c.type << " " << c.q;
  EXPECT_EQ(ids(index.search("", "", {"48113", "nope", "06"})), (V{"06", "48113"}));
  EXPECT_EQ(ids(index.search("county", "", {"48113", "06"})), (V{"48113"}));
  ASSERT_NE(index.find("36:New York City"), nullptr);
  EXPECT_EQ(index.find("36:New York City")->state, "New York");
  EXPECT_EQ(index.find("36:new york city"), nullptr);  // ids are exact
  EXPECT_EQ(index.find(""), nullptr);
  EXPECT_EQ(location_label(*index.find("06037")), "Los Angeles, California");
  EXPECT_EQ(location_label(*index.find("06")), "California");
}

TEST(ServeLocations, UnsortedInputIsSortedAndJsonHasTheFields) {
  auto list = some_locations();
  std::reverse(list.begin(), list.end());
  LocationIndex index(std::move(list));
  EXPECT_EQ(index.all().front().id, "06");
  EXPECT_EQ(index.all().back().id, "US");
  LocationSearch search;
  search.text = "new";
  search.limit = 2;
  auto j = nlohmann::json::parse(locations_json(index, search));
  EXPECT_EQ(j["total"], 3);
  EXPECT_EQ(j["count"], 2);
  EXPECT_EQ(j["limit"], 2);
  EXPECT_EQ(j["q"], "new");
  EXPECT_TRUE(j["type"].is_null());
  ASSERT_EQ(j["locations"].size(), 2u);
  EXPECT_EQ(j["locations"][0], (nlohmann::json{{"id", "36"},
                                               {"type", "state"},
                                               {"name", "New York"},
                                               {"state", nullptr},
                                               {"fips", "36"},
                                               {"label", "New York"},
                                               {"source", "The New York Times"},
                                               {"population", nullptr}}));
  EXPECT_EQ(j["locations"][1]["label"], "New York, New York");
  search.text = "city";
  search.type = "county";
  j = nlohmann::json::parse(locations_json(index, search));
  EXPECT_EQ(j["type"], "county");
  EXPECT_EQ(j["locations"][0], (nlohmann::json{{"id", "36:New York City"},
                                               {"type", "county"},
                                               {"name", "New York City"},
                                               {"state", "New York"},
                                               {"fips", nullptr},
                                               {"label", "New York City, New York"},
                                               {"source", "The New York Times"},
                                               {"population", nullptr}}));
}

// A state's cumulative cases: day d (from 2021-03-01) has sum of daily(1..d).
std::vector<Observation> cumulative(const char* location, int days,
                                    const std::function<int64_t(int)>& daily) {
  std::vector<Observation> rows;
  int64_t total = 0;
  for (int d = 0; d < days; ++d) {
    total += daily(d);
    Observation o;
    o.location = location;
    o.date = Date{day("2021-03-01").days + d};
    o.cases = total;
    o.deaths = total / 100;
    rows.push_back(o);
  }
  return rows;
}

TEST(ServeLocations, StatesTableLatestAverageAndItsChangeOver14Days) {
  LocationIndex index(some_locations());
  std::vector<StateSeries> states;
  // California: 100 a day, then 150 a day from day 20: at day 29 the average is 150, 14 days
  // before (day 15) it was 100: +50, +50%.
  states.push_back({index.find("06"), SeriesColumns::build("06", cumulative("06", 30, [](int d) {
                                                             return d < 20 ? 100 : 150;
                                                           }))});
  // New York: too short for a value 14 days before the latest.
  states.push_back(
      {index.find("36"), SeriesColumns::build("36", cumulative("36", 15, [](int) { return 7; }))});
  // Texas: nothing.
  states.push_back({index.find("48"), SeriesColumns::build("48", {})});
  auto j = nlohmann::json::parse(states_json(states));
  EXPECT_EQ(j["date"], "2021-03-30");
  EXPECT_EQ(j["count"], 3);
  const auto& ca = j["states"][0];
  EXPECT_EQ(ca["id"], "06");
  EXPECT_EQ(ca["name"], "California");
  EXPECT_EQ(ca["date"], "2021-03-30");
  EXPECT_EQ(ca["cases"], 20 * 100 + 10 * 150);
  EXPECT_EQ(ca["new_cases_avg7"], 150);
  EXPECT_EQ(ca["new_cases_avg7_14d_ago"], 100);
  EXPECT_EQ(ca["change_14d"], 50);
  EXPECT_EQ(ca["change_14d_pct"], 50);
  const auto& ny = j["states"][1];
  EXPECT_EQ(ny["new_cases_avg7"], 7);
  EXPECT_TRUE(ny["new_cases_avg7_14d_ago"].is_null());
  EXPECT_TRUE(ny["change_14d"].is_null());
  EXPECT_TRUE(ny["change_14d_pct"].is_null());
  const auto& tx = j["states"][2];
  EXPECT_TRUE(tx["date"].is_null());
  EXPECT_TRUE(tx["new_cases_avg7"].is_null());
  // From 0 to something: no percentage, the difference only.
  states = {{index.find("06"), SeriesColumns::build("06", cumulative("06", 30, [](int d) {
                                                      return d < 16 ? 0 : 3;
                                                    }))}};
  j = nlohmann::json::parse(states_json(states));
  EXPECT_EQ(j["states"][0]["change_14d"], 3);
  EXPECT_TRUE(j["states"][0]["change_14d_pct"].is_null());
}

TEST(ServeLocations, RankingsGiveCasesAndDeathsAbsoluteAndPer100kWithTheir14DayChange) {
  LocationIndex index(some_locations());
  std::vector<StateSeries> rows;
  // California: 100 cases a day, then 150 from day 20 (deaths: a hundredth of the cumulative
  // cases, rounded down); population 1,000,000.
  auto ca =
      SeriesColumns::build("06", cumulative("06", 30, [](int d) { return d < 20 ? 100 : 150; }));
  ca.set_population(1000000);
  rows.push_back({index.find("06"), ca});
  // Texas: no population, so no rates.
  rows.push_back(
      {index.find("48"), SeriesColumns::build("48", cumulative("48", 30, [](int) { return 10; }))});
  auto j = nlohmann::json::parse(rankings_json("state", "", rows));
  EXPECT_EQ(j["level"], "state");
  EXPECT_TRUE(j["state"].is_null());
  EXPECT_EQ(j["date"], "2021-03-30");
  EXPECT_EQ(j["count"], 2);
  const auto& c = j["locations"][0];
  EXPECT_EQ(c["id"], "06");
  EXPECT_EQ(c["label"], "California");
  EXPECT_EQ(c["type"], "state");
  EXPECT_EQ(c["population"], 1000000);
  EXPECT_EQ(c["new_cases_avg7"], 150);
  EXPECT_EQ(c["new_cases_avg7_per_100k"], 15);
  EXPECT_EQ(c["new_cases_avg7_14d_ago"], 100);
  EXPECT_EQ(c["new_cases_avg7_14d_ago_per_100k"], 10);
  EXPECT_EQ(c["cases_change_14d_pct"], 50);
  // Deaths 35 on day 29, 24 on day 22: 11 / 7; 16 on day 15, 9 on day 8: 7 / 7.
  EXPECT_EQ(c["new_deaths_avg7"], 1.57);
  EXPECT_EQ(c["new_deaths_avg7_per_100k"], 0.16);
  EXPECT_EQ(c["new_deaths_avg7_14d_ago"], 1);
  EXPECT_EQ(c["deaths_change_14d_pct"], 57);
  const auto& t = j["locations"][1];
  EXPECT_TRUE(t["population"].is_null());
  EXPECT_EQ(t["new_cases_avg7"], 10);
  EXPECT_TRUE(t["new_cases_avg7_per_100k"].is_null());
  EXPECT_TRUE(t["new_deaths_avg7_14d_ago_per_100k"].is_null());
  EXPECT_EQ(t["cases_change_14d_pct"], 0);
  // The counties of a state say which.
  j = nlohmann::json::parse(rankings_json("county", "06", {}));
  EXPECT_EQ(j["state"], "06");
  EXPECT_EQ(j["count"], 0);
  EXPECT_TRUE(j["date"].is_null());
}

TEST(ServeLru, KeepsTheMostRecentlyUsedWithinCountAndBytes) {
  LruCache<std::string> lru(3, 100);
  auto v = [](const char* s) { return std::make_shared<const std::string>(s); };
  lru.put("a", v("A"), 10);
  lru.put("b", v("B"), 10);
  lru.put("c", v("C"), 10);
  EXPECT_EQ(*lru.get("a"), "A");  // a is now the most recent
  lru.put("d", v("D"), 10);       // over the count: b goes
  EXPECT_EQ(lru.get("b"), nullptr);
  EXPECT_NE(lru.get("a"), nullptr);
  EXPECT_EQ(lru.size(), 3u);
  EXPECT_EQ(*lru.put("a", v("other"), 10), "A");  // the first one made is kept
  lru.put("big", v("BIG"), 75);  // over the bytes: the least recent go until it fits
  EXPECT_EQ(lru.bytes(), 95u);
  EXPECT_EQ(lru.get("c"), nullptr);
  EXPECT_NE(lru.get("a"), nullptr);
  EXPECT_EQ(*lru.put("huge", v("HUGE"), 1000), "HUGE");  // handed back, not kept
  EXPECT_EQ(lru.get("huge"), nullptr);
  EXPECT_EQ(lru.size(), 0u);
}

// The API over a real SQLite file with the nation, states and counties, through the router.
class ServeApiTest : public ServeSnapshot {
 protected:
  // One run that loads `rows` (any locations) and names `locations`, as the pipeline does.
  void load_run(std::vector<Observation> rows, const std::vector<Location>& locations) {
    std::sort(rows.begin(), rows.end(), by_location_date);
    std::vector<std::string> ids;
    for (const Observation& o : rows) {
      if (ids.empty() || ids.back() != o.location) ids.push_back(o.location);
    }
    auto store = open_store(path_, StoreOptions{});
    ASSERT_TRUE(store.ok()) << store.status().message();
    auto id = (*store)->begin_run("2021-03-17T12:00:00.000Z");
    ASSERT_TRUE(id.ok());
    auto tx = (*store)->begin_load();
    ASSERT_TRUE(tx.ok()) << tx.status().message();
    ASSERT_TRUE((*tx)->save_locations(locations).ok());
    auto existing = (*tx)->existing_many(ids);
    ASSERT_TRUE(existing.ok());
    ChangeSet changes = classify(*existing, rows);
    ASSERT_TRUE((*tx)->write(*id, changes).ok());
    RunRecord r;
    r.id = *id;
    r.started_at = "2021-03-17T12:00:00.000Z";
    r.finished_at = "2021-03-17T12:00:01.000Z";
    r.status = RunStatus::kOk;
    ASSERT_TRUE((*tx)->finish_run(r, {}).ok());
    ASSERT_TRUE((*tx)->commit().ok());
  }

  void load_everything(int days = 30) {
    std::vector<Observation> rows = cumulative("US", days, [](int d) { return 1000 + d; });
    for (const Location& l : some_locations()) {
      if (l.id == "US") continue;
      auto more =
          cumulative(l.id.c_str(), days, [&](int d) { return int64_t(l.id.size()) * 10 + d; });
      rows.insert(rows.end(), more.begin(), more.end());
    }
    std::vector<Location> named;
    for (const Location& l : some_locations()) {
      if (l.id != "US") named.push_back(l);
    }
    load_run(rows, named);
  }

  void start(SnapshotCache::Options options = {}) {
    options.check_interval = std::chrono::microseconds(0);
    cache_ = std::make_unique<SnapshotCache>(opener(), options);
    ASSERT_TRUE(cache_->load().ok());
    router_ = std::make_unique<Router>(metrics_);
    add_api_routes(*router_, *cache_, metrics_);
  }

  struct Answer {
    int status = 0;
    std::string body;
    nlohmann::json json;
  };
  Answer get(const std::string& target) {
    Request req;
    req.method = Method::kGet;
    req.method_text = "GET";
    req.target = target;
    size_t q = target.find('?');
    req.path = req.target.substr(0, q);
    req.query = q == std::string::npos ? std::string_view() : req.target.substr(q + 1);
    Response resp;
    router_->dispatch(req, resp);
    Answer a;
    a.status = resp.status;
    a.body = std::string(resp.body);
    if (resp.content_type.starts_with("application/json")) a.json = nlohmann::json::parse(a.body);
    return a;
  }

  ServerMetrics metrics_;
  std::unique_ptr<SnapshotCache> cache_;
  std::unique_ptr<Router> router_;
};

TEST_F(ServeApiTest, LocationsSearchAndItsParameters) {
  load_everything();
  start();
  auto a = get("/api/v1/locations?type=state&q=CAL");
  ASSERT_EQ(a.status, 200) << a.body;
  ASSERT_EQ(a.json["locations"].size(), 1u);
  EXPECT_EQ(a.json["locations"][0]["id"], "06");
  EXPECT_EQ(a.json["locations"][0]["name"], "California");
  auto all = get("/api/v1/locations");
  EXPECT_EQ(all.json["total"], 9);  // the nation, 3 states, 5 counties
  EXPECT_EQ(all.json["locations"][0]["id"], "US");
  EXPECT_EQ(get("/api/v1/locations?type=county&limit=2").json["count"], 2);
  EXPECT_EQ(get("/api/v1/locations?type=county&limit=2").json["total"], 5);
  auto by_id = get("/api/v1/locations?id=36%3ANew%20York%20City,06037,bogus");
  ASSERT_EQ(by_id.status, 200);
  EXPECT_EQ(by_id.json["count"], 2);
  EXPECT_EQ(get("/api/v1/locations?q=06").json["locations"][0]["id"], "06");
  for (const char* bad :
       {"/api/v1/locations?type=city", "/api/v1/locations?limit=0", "/api/v1/locations?limit=1001",
        "/api/v1/locations?limit=x", "/api/v1/locations?q=a&q=b", "/api/v1/locations?name=x",
        "/api/v1/locations?id=", "/api/v1/locations?id=,,", "/api/v1/states?x=1"}) {
    auto r = get(bad);
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_EQ(r.json["error"], "bad_request") << bad;
  }
}

// Found by the fuzzer (http_target): the OpenAPI document, an embedded file under /api/, answered
// 200 to a query that names a parameter twice; it takes none, like /api/v1. The page's files
// still ignore a query (a cache-busting ?v=).
TEST_F(ServeApiTest, TheOpenApiDocumentTakesNoParameters) {
  load_everything();
  start();
  add_asset_routes(*router_);
  EXPECT_EQ(get("/api/v1/openapi.json").status, 200);
  for (const char* bad : {"/api/v1/openapi.json?from=1&from=2", "/api/v1/openapi.json?x=1"}) {
    auto r = get(bad);
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_EQ(r.json["error"], "bad_request") << bad;
  }
  EXPECT_EQ(get("/app.js?v=2").status, 200);
}

// The page names its location's series in a Link header (a preload the browser starts while it
// loads the page's scripts), by the URL app.js fetches: encodeURIComponent of the first of ?loc=.
TEST(ServeAssets, ThePageNamesItsFirstDataForPreload) {
  auto link = [](std::string_view id) {
    return "<api/v1/series?location=" + std::string(id) +
           ">; rel=preload; as=fetch; crossorigin=anonymous";
  };
  EXPECT_EQ(page_preload_link(""), link("US"));
  EXPECT_EQ(page_preload_link("range=90d&per100k=1"), link("US"));
  EXPECT_EQ(page_preload_link("loc=06037,US"), link("06037"));
  EXPECT_EQ(page_preload_link("loc=,%20FRA%20,06"), link("FRA"));  // trimmed, empties skipped
  EXPECT_EQ(page_preload_link("loc=,"), link("US"));
  EXPECT_EQ(page_preload_link("loc=36%3ANew%20York%20City"), link("36%3ANew%20York%20City"));
  EXPECT_EQ(page_preload_link("loc=36:New+York+City&loc=06"), link("36%3ANew%20York%20City"));
  EXPECT_EQ(page_preload_link("loc=a%26b%2Fc%3Fd"), link("a%26b%2Fc%3Fd"));
  // The map alone has no chart: its files and first data instead (map.js's URLs).
  EXPECT_EQ(page_preload_link("embed=1&view=map&map=county&map_metric=deaths"),
            "<map.js>; rel=preload; as=script, <map.css>; rel=preload; as=style, "
            "<topojson-client.min.js>; rel=preload; as=script, "
            "<us-counties-albers-10m.json>; rel=preload; as=fetch; crossorigin=anonymous, "
            "<api/v1/map?level=county&metric=deaths&per_100k=true>; rel=preload; as=fetch; "
            "crossorigin=anonymous");
  std::string world = page_preload_link("view=map&embed=1&map=country&map_rate=absolute");
  EXPECT_NE(world.find("<d3-geo.min.js>"), std::string::npos) << world;
  EXPECT_NE(world.find("<world-countries-110m.json>"), std::string::npos) << world;
  EXPECT_NE(world.find("<api/v1/map?level=country&metric=cases&per_100k=false>"), std::string::npos)
      << world;
  EXPECT_NE(page_preload_link("embed=1&view=map&map=nowhere").find("<us-states-albers-10m.json>"),
            std::string::npos);
  // A repeated name is read as URLSearchParams.get() reads it: its first value.
  EXPECT_EQ(page_preload_link("embed=0&embed=1&view=map"), link("US"));
  EXPECT_EQ(page_preload_link("embed=1&view=chart&view=map"), link("US"));
  EXPECT_EQ(page_preload_link("embed=1&embed=0&view=map&view=chart").substr(0, 8), "<map.js>");
  // What app.js might read otherwise is left to app.js.
  EXPECT_EQ(page_preload_link("embed=1&view=chart"), link("US"));
  EXPECT_EQ(page_preload_link("loc=%E6%9D%B1"), "");
  EXPECT_EQ(page_preload_link("loc=%09US"), "");
  EXPECT_EQ(page_preload_link("loc=" + std::string(201, 'x')), "");
  EXPECT_EQ(page_preload_link("loc=%zz"), "");
}

// With the snapshot cache, the page is answered with its first chart drawn in it for the view its
// query asks (serve/first_chart.h), made once per version; where the server does not draw (a log
// scale, a location the store does not know), the page as it is.
TEST_F(ServeApiTest, ThePageCarriesItsFirstChartDrawnForItsView) {
  load_everything();
  start();
  add_asset_routes(*router_, cache_.get());
  auto nation = get("/");
  ASSERT_EQ(nation.status, 200);
  EXPECT_NE(
      nation.body.find("<div id=\"chart-total\" class=\"chart\" tabindex=\"0\" role=\"img\" "),
      std::string::npos);
  EXPECT_NE(nation.body.find("\"><div class=\"ssr\" aria-hidden=\"true\" "
                             "data-view=\"US|2021-03-01|2021-03-30|0|\">"),
            std::string::npos)
      << nation.body.substr(0, 4000);
  EXPECT_EQ(get("/index.html").body, nation.body);
  auto county = get("/?loc=06037&range=30d&hide=deaths");
  EXPECT_NE(county.body.find("data-view=\"06037|2021-03-01|2021-03-30|0|deaths\""),
            std::string::npos);
  // (the page's inline styles name every class: the drawing is looked at alone)
  size_t drawing = county.body.find("<div class=\"ssr\"");
  ASSERT_NE(drawing, std::string::npos);
  EXPECT_NE(county.body.find("ssr-cases", drawing), std::string::npos);
  EXPECT_EQ(county.body.find("ssr-deaths", drawing), std::string::npos);
  // Its headings name the county, as app.js writes them (the API's label and source); the
  // nation's page keeps its own.
  auto locations = nlohmann::json::parse(get("/api/v1/locations?q=06037").body);
  ASSERT_FALSE(locations["locations"].empty());
  const auto& la = locations["locations"][0];
  ASSERT_EQ(la["id"], "06037");
  std::string label = la["label"];
  std::string source = la["source"].is_string() ? std::string(la["source"]) : "its source";
  EXPECT_NE(county.body.find("<title>COVID-19 in " + label + " \u00b7 covid-etl</title>"),
            std::string::npos)
      << county.body.substr(0, 1500);
  EXPECT_NE(county.body.find("<h1 id=\"title\">COVID-19 in " + label + "</h1>"), std::string::npos);
  EXPECT_NE(
      county.body.find("id=\"sub\">Cumulative and daily cases and deaths from " + source + ".</p>"),
      std::string::npos);
  EXPECT_NE(nation.body.find("<h1 id=\"title\">COVID-19 in the United States</h1>"),
            std::string::npos);
  for (const char* plain_page :
       {"/?scale=log", "/?loc=nowhere", "/?embed=1&view=map", "/?loc=%zz"}) {
    auto r = get(plain_page);
    EXPECT_EQ(r.status, 200) << plain_page;
    EXPECT_EQ(r.body.find("class=\"ssr\""), std::string::npos) << plain_page;
    EXPECT_NE(r.body.find("<div id=\"chart-total\""), std::string::npos) << plain_page;
  }
  // The same view again is the same response (made once).
  EXPECT_EQ(get("/?loc=06037&range=30d&hide=deaths").body, county.body);
}

TEST_F(ServeApiTest, SeriesOfAnyLocationIsReadOnceThenServedFromMemory) {
  load_everything();
  start();
  auto county = get("/api/v1/series?location=06037");
  ASSERT_EQ(county.status, 200) << county.body;
  EXPECT_EQ(county.json["location"], "06037");
  EXPECT_EQ(county.json["count"], 30);
  EXPECT_EQ(county.json["new_cases"][1], 51);  // 5 characters * 10 + day 1
  EXPECT_EQ(cache_->series_reads(), 1u);
  EXPECT_EQ(get("/api/v1/series?location=06037").body, county.body);
  EXPECT_EQ(get("/api/v1/series?location=06037&from=2021-03-29").json["count"], 2);
  EXPECT_EQ(cache_->series_reads(), 1u);  // from memory
  auto nyc = get("/api/v1/series?location=36%3ANew%20York%20City");
  ASSERT_EQ(nyc.status, 200) << nyc.body;
  EXPECT_EQ(nyc.json["location"], "36:New York City");
  EXPECT_EQ(get("/api/v1/series?location=US").json["count"], 30);
  EXPECT_EQ(cache_->series_reads(), 2u);  // the nation's comes with the snapshot
  EXPECT_EQ(cache_->current()->series_cached(), 2u);

  // Unknown locations are a 400, and never a read (an id in another case names its location:
  // issue 20, tested in the LocationsByName tests).
  for (const char* bad : {"99999", "", "06037x", "36:new york town"}) {
    auto r = get(std::string("/api/v1/series?location=") + bad);
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_NE(r.json["message"].get<std::string>().find("unknown location"), std::string::npos)
        << bad;
  }
  EXPECT_EQ(cache_->series_reads(), 2u);

  // Export and summary of a county, from the same read.
  auto csv = get("/api/v1/export.csv?location=06037&to=2021-03-02");
  EXPECT_EQ(csv.status, 200);
  EXPECT_EQ(csv.body, "date,cases,deaths,recovered\n2021-03-01,50,0,\n2021-03-02,101,1,\n");
  auto summary = get("/api/v1/summary?location=06037");
  EXPECT_EQ(summary.json["latest"]["date"], "2021-03-30");
  EXPECT_EQ(cache_->series_reads(), 2u);

  // A new run: a new snapshot, whose series are read again, with the new data.
  load_run(cumulative("06037", 31, [](int d) { return 50 + d; }), {});
  auto again = get("/api/v1/series?location=06037");
  EXPECT_EQ(again.json["count"], 31);
  EXPECT_EQ(cache_->series_reads(), 3u);
}

TEST_F(ServeApiTest, TheCacheOfSeriesIsBoundedInBytes) {
  load_everything();
  SnapshotCache::Options options;
  options.series_cache_bytes = 1;  // nothing fits: every request reads again
  start(options);
  for (int i = 1; i <= 3; ++i) {
    auto a = get("/api/v1/series?location=48113");
    ASSERT_EQ(a.status, 200);
    EXPECT_EQ(a.json["count"], 30);
    EXPECT_EQ(cache_->series_reads(), uint64_t(i));
  }
  EXPECT_EQ(cache_->current()->series_cached(), 0u);
}

TEST_F(ServeApiTest, StatesTableIsMadeOncePerVersion) {
  load_everything();
  start();
  auto a = get("/api/v1/states");
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.json["count"], 3);
  EXPECT_EQ(a.json["date"], "2021-03-30");
  EXPECT_EQ(a.json["states"][0]["id"], "06");
  EXPECT_EQ(a.json["states"][2]["name"], "Texas");
  // 20 + d new cases on day d: the average ending on day 29 is 20 + 26, 14 days before 20 + 12.
  EXPECT_EQ(a.json["states"][0]["new_cases_avg7"], 46);
  EXPECT_EQ(a.json["states"][0]["change_14d"], 14);
  EXPECT_EQ(a.json["states"][0]["change_14d_pct"], 43.75);
  EXPECT_EQ(cache_->series_reads(), 3u);
  EXPECT_EQ(get("/api/v1/states").body, a.body);
  EXPECT_EQ(cache_->series_reads(), 3u);
}

// Waits until the cache has built `n` map levels; false if it has not after two minutes (a
// ceiling for a build that never comes, not a measure of speed: it takes milliseconds).
bool wait_for_map_builds(const SnapshotCache& cache, uint64_t n) {
  auto give_up = std::chrono::steady_clock::now() + std::chrono::minutes(2);
  while (cache.map_builds() < n) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

// Requests for every map level from several threads at once: each gets the level, and every
// level was built once.
void ask_for_every_level(SnapshotCache& cache) {
  auto snap = cache.current();
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&cache, snap, t] {
      for (int k = 0; k < 3; ++k) {
        const char* level = std::array{"state", "county", "country"}[size_t(t + k) % 3];
        auto m = cache.map_level(*snap, level);
        ASSERT_TRUE(m.ok()) << m.status().message();
        EXPECT_EQ((*m)->level, level);
      }
    });
  }
  for (std::thread& t : threads) t.join();
}

// Options::prebuild_maps: the map levels (state, county, country) of each version of the data
// are built in the background as soon as it is read, once: requests that come later (from
// several threads at once) find them made, and a new version builds them again, once.
TEST_F(ServeApiTest, MapLevelsAreBuiltOncePerVersionAheadOfRequests) {
  load_everything();
  SnapshotCache::Options options;
  options.prebuild_maps = true;
  start(options);
  wait_for_map_builds(*cache_, 3);     // no request asked for them
  EXPECT_EQ(cache_->map_reads(), 8u);  // 3 states, 5 counties, no country
  ask_for_every_level(*cache_);
  auto county = get("/api/v1/map?level=county");
  ASSERT_EQ(county.status, 200) << county.body;
  EXPECT_EQ(county.json["count"], 1);
  EXPECT_EQ(county.json["ids"].size(), 5u);
  EXPECT_EQ(cache_->map_builds(), 3u);
  EXPECT_EQ(cache_->map_reads(), 8u);
  EXPECT_EQ(cache_->series_reads(), 0u);  // the maps' reads are counted apart

  load_run(cumulative("06037", 31, [](int d) { return 50 + d; }), {});
  EXPECT_EQ(get("/api/v1/map?level=county").status, 200);  // sees the new version
  ASSERT_TRUE(wait_for_map_builds(*cache_, 6));
  ask_for_every_level(*cache_);
  EXPECT_EQ(cache_->map_builds(), 6u);
  EXPECT_EQ(cache_->map_reads(), 16u);
  EXPECT_EQ(get("/api/v1/map?level=county").json["last_date"], "2021-03-31");
}

// Without prebuilding, requests for a level that come while it is being made wait for that one
// build instead of reading the level again.
TEST_F(ServeApiTest, AMapLevelAskedForByManyAtOnceIsBuiltOnce) {
  load_everything();
  start();
  ask_for_every_level(*cache_);
  EXPECT_EQ(cache_->map_builds(), 3u);
  EXPECT_EQ(cache_->map_reads(), 8u);
  ask_for_every_level(*cache_);
  EXPECT_EQ(cache_->map_builds(), 3u);
}

TEST_F(ServeApiTest, AnEmptyDatabaseKnowsTheNationOnly) {
  load({obs("2021-03-01", 1, 0)});
  start();
  EXPECT_EQ(get("/api/v1/locations").json["total"], 1);
  EXPECT_EQ(get("/api/v1/states").json,
            (nlohmann::json{{"date", nullptr}, {"count", 0}, {"states", nlohmann::json::array()}}));
  EXPECT_EQ(get("/api/v1/series?location=06").status, 400);
  EXPECT_EQ(get("/api/v1/series?location=US").status, 200);
}

// The one JSON of a run record in each shape (history --json, /api/v1/runs; run --json for a
// finished run, /api/v1/runs/{id}).
TEST(ServeRunJson, HistoryAndResultShapes) {
  remember_secret("run-json-test-secret");
  RunRecord r;
  r.id = 7;
  r.started_at = "2021-03-17T12:00:00.000Z";
  r.status = RunStatus::kFailed;
  r.stage = "extract";
  r.error = "fetching https://x/?token=run-json-test-secret failed";
  r.counts.rows_read = 5;
  r.counts.errors = 2;
  r.sources_json = "not json";
  r.duration_ms = 12;
  EXPECT_EQ(run_record_json(r).dump(),
            R"({"duration_ms":12,"error":"fetching https://x/?token=*** failed","error_count":2,)"
            R"("finished_at":null,"first_date":null,"id":7,"inserted":0,"last_date":null,)"
            R"("missing":0,"quality":null,"rows_read":5,"sources":[],"stage":"extract",)"
            R"("started_at":"2021-03-17T12:00:00.000Z","status":"failed","unchanged":0,)"
            R"("updated":0,"warnings":0})");
  r.sources_json = R"([{"name":"nyt","url":"https://u:run-json-test-secret@x/us.csv"}])";
  EXPECT_EQ(run_record_json(r)["sources"][0]["url"], "https://***@x/us.csv");
  r.status = RunStatus::kOk;
  r.stage = r.error = "";
  r.first_date = "2020-01-21";
  r.last_date = "2021-03-16";
  r.counts.inserted = 3;
  EXPECT_EQ(run_result_json(r).dump(),
            R"({"duration_ms":12,"error_count":2,"first_date":"2020-01-21","inserted":3,)"
            R"("last_date":"2021-03-16","message":null,"missing":0,"run_id":7,"stage":null,)"
            R"("status":"ok","unchanged":0,"updated":0,"warnings":0})");
}

// The export's two formats, for the CLI and the API alike.
TEST(ServeSeries, ExportCsvAndJson) {
  auto s = SeriesColumns::build(
      "US", {obs("2020-01-21", 1, 0), obs("2020-01-22", kUnknown, 0, 4), obs("2020-01-23", 3, 1)});
  EXPECT_EQ(export_csv(s, 0, s.size()),
            "date,cases,deaths,recovered\n2020-01-21,1,0,\n2020-01-22,,0,4\n2020-01-23,3,1,\n");
  EXPECT_EQ(export_csv(s, 1, 2), "date,cases,deaths,recovered\n2020-01-22,,0,4\n");
  EXPECT_EQ(export_json(s, 0, 2), R"([{"cases":1,"date":"2020-01-21","deaths":0,"recovered":null},)"
                                  R"({"cases":null,"date":"2020-01-22","deaths":0,"recovered":4}])"
                                  "\n");
  EXPECT_EQ(export_json(s, 0, 0), "[]\n");
}

// A trigger that counts its starts and knows one run of its own.
class TestTrigger : public RunTrigger {
 public:
  Started start() override {
    ++starts;
    return next;
  }
  std::optional<nlohmann::json> status(int64_t id) const override {
    if (id != 42) return std::nullopt;
    return nlohmann::json{{"status", "running"}, {"run_id", 42}};
  }
  int starts = 0;
  Started next{true, 42, ""};
};

class ServeRunRoutes : public ServeApiTest {
 protected:
  Answer call(Method method, const std::string& path, std::string_view authorization = {},
              std::string_view client = "192.0.2.7", Response* out = nullptr) {
    Request req;
    req.method = method;
    req.method_text = method == Method::kPost ? "POST" : "GET";
    req.target = req.path = path;
    req.client = client;
    if (!authorization.empty()) req.headers.emplace_back("Authorization", authorization);
    Response resp;
    router_->dispatch(req, resp);
    Answer a;
    a.status = resp.status;
    a.body = std::string(resp.body);
    if (resp.content_type.starts_with("application/json")) a.json = nlohmann::json::parse(a.body);
    if (out != nullptr) out->headers = resp.headers;
    return a;
  }
  void start_with(std::string token) {
    start();
    add_run_routes(*router_, *cache_, trigger_, std::move(token));
  }
  TestTrigger trigger_;
};

TEST_F(ServeRunRoutes, PostStartsARunWithTheRightTokenOnly) {
  load_everything(3);
  start_with("the-trigger-token");
  EXPECT_EQ(call(Method::kPost, "/api/v1/runs").status, 401);
  EXPECT_EQ(call(Method::kPost, "/api/v1/runs", "Bearer wrong-token").status, 401);
  EXPECT_EQ(trigger_.starts, 0);
  Response headers;
  Answer a =
      call(Method::kPost, "/api/v1/runs", "bearer   the-trigger-token", "192.0.2.7", &headers);
  EXPECT_EQ(a.status, 202);
  EXPECT_EQ(a.json, (nlohmann::json{{"id", 42}}));
  EXPECT_NE(std::find(headers.headers.begin(), headers.headers.end(),
                      std::make_pair(std::string("Location"), std::string("/api/v1/runs/42"))),
            headers.headers.end());
  trigger_.next = {false, 42, ""};
  a = call(Method::kPost, "/api/v1/runs", "Bearer the-trigger-token");
  EXPECT_EQ(a.status, 409);
  EXPECT_EQ(a.json["id"], 42);
  trigger_.next = {true, 0, "the database is locked"};
  a = call(Method::kPost, "/api/v1/runs", "Bearer the-trigger-token");
  EXPECT_EQ(a.status, 503);
  EXPECT_EQ(a.json["message"], "the database is locked");
  // Five wrong tokens from one address lock that address out, not another.
  for (int i = 0; i < 3; ++i) call(Method::kPost, "/api/v1/runs", "Bearer nope");
  EXPECT_EQ(call(Method::kPost, "/api/v1/runs", "Bearer the-trigger-token").status, 429);
  EXPECT_EQ(call(Method::kPost, "/api/v1/runs", "Bearer the-trigger-token", "192.0.2.8").status,
            503);
  // GET on the same path is still the history.
  EXPECT_EQ(call(Method::kGet, "/api/v1/runs").status, 200);
}

TEST_F(ServeRunRoutes, WithoutATokenThePostIsNoSuchPath) {
  load_everything(3);
  start_with("");
  EXPECT_EQ(call(Method::kPost, "/api/v1/runs", "Bearer anything").status, 404);
  EXPECT_EQ(trigger_.starts, 0);
}

TEST_F(ServeRunRoutes, GetARunFromTheTriggerOrByItsKeyInTheStore) {
  load_everything(3);
  start_with("");
  Answer a = call(Method::kGet, "/api/v1/runs/42");  // the trigger's own
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.json["status"], "running");
  a = call(Method::kGet, "/api/v1/runs/1");  // the store's, in the shape of run --json
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.json["run_id"], 1);
  EXPECT_EQ(a.json["status"], "ok");
  EXPECT_EQ(call(Method::kGet, "/api/v1/runs/99").status, 404);
  EXPECT_EQ(call(Method::kGet, "/api/v1/runs/abc").status, 400);
}

// Without a trigger (`covid-etl serve`) neither route exists.
TEST_F(ServeApiTest, WithoutATriggerNoRunRoutes) {
  load_everything(3);
  start();
  EXPECT_EQ(get("/api/v1/runs/1").status, 404);
}

}  // namespace
}  // namespace covid::serve
