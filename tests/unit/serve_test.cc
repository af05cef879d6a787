// Unit tests of the dashboard server's parts that need no network: query parsing, content
// negotiation, the router, the derived series and their JSON/CSV, and the snapshot cache over a
// real SQLite file.
#include <gtest/gtest.h>
#include <zlib.h>

#include <cmath>
#include <filesystem>

#include "config/config.h"
#include "load/store.h"
#include "serve/http.h"
#include "serve/representation.h"
#include "serve/router.h"
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
  QueryParams want = {{"from", "2021-01-01"}, {"to", "2021-02-03"}, {"x", "a b"}, {"flag", ""}, {"empty", ""}};
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
  for (int i = 0; i < 200; ++i) body += "{\"date\":\"2021-01-01\",\"cases\":" + std::to_string(i) + "}\n";
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
             [&](const Request&, Response& r) { seen = "runs"; r.status = 200; });
  router.add("/api/v1/runs/{id}", kGetHead, [&](const Request& q, Response& r) {
    seen = "run " + std::string(q.path_params.at(0).second);
    r.status = 200;
  });
  router.add("/", kGetHead, [&](const Request&, Response& r) { seen = "page"; r.status = 200; });

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
  EXPECT_EQ(call(Method::kGet, "GET", "/").second, "page");
  for (const char* path : {"/api/v1/runs/", "/api/v1/runs/4/2", "/api/v1/runs/%34", "/api/v1/runs/..",
                           "/api/v1/run", "/API/v1/runs", "", "api/v1/runs", "//"}) {
    auto [r, s] = call(Method::kGet, "GET", path);
    if (std::string_view(path) == "/api/v1/runs/..") {
      EXPECT_EQ(r.status, 200) << path;  // ".." is a plain parameter value to the router
      continue;
    }
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
  EXPECT_NE(text.find("covid_etl_http_requests_total{route=\"/api/v1/runs\",code=\"200\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("covid_etl_http_requests_total{route=\"/api/v1/runs\",code=\"202\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("covid_etl_http_requests_total{route=\"/api/v1/runs\",code=\"other\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("covid_etl_http_request_duration_seconds_bucket{route=\"/api/v1/runs\",le=\"0.0005\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("covid_etl_http_request_duration_seconds_bucket{route=\"/api/v1/runs\",le=\"0.005\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("covid_etl_http_request_duration_seconds_bucket{route=\"/api/v1/runs\",le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("covid_etl_http_request_duration_seconds_count{route=\"/api/v1/runs\"} 3\n"), std::string::npos);
  // Each series once.
  EXPECT_EQ(text.find("route=\"/api/v1/runs\",code=\"200\""), text.rfind("route=\"/api/v1/runs\",code=\"200\""));
}

TEST(ServeSeries, DailyValuesAndAverages) {
  std::vector<Observation> rows;
  const char* dates[] = {"2021-03-01", "2021-03-02", "2021-03-03", "2021-03-04", "2021-03-05",
                         "2021-03-06", "2021-03-07", "2021-03-08", "2021-03-09"};
  int64_t cases[] = {10, 12, 15, 15, 14, 20, 27, 35, 44};
  for (int i = 0; i < 9; ++i) rows.push_back(obs(dates[i], cases[i], i == 4 ? kUnknown : i, i == 2 ? 7 : kUnknown));
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
  EXPECT_EQ(s.range(day("2020-01-01"), day("2020-02-01")).second - s.range(day("2020-01-01"), day("2020-02-01")).first, 0u);
}

TEST(ServeSeries, AGapInTheDatesBreaksTheDailyValues) {
  SeriesColumns s = SeriesColumns::build(
      "US", {obs("2021-03-01", 1, 0), obs("2021-03-02", 3, 0), obs("2021-03-04", 9, 0), obs("2021-03-05", 10, 0)});
  std::vector<int64_t> want = {kNoValue, 2, kNoValue, 1};
  EXPECT_EQ(s.new_cases, want);
}

TEST(ServeSeries, JsonAndCsv) {
  SeriesColumns s = SeriesColumns::build(
      "US", {obs("2021-03-01", 1, 0, 0), obs("2021-03-02", 3, 1), obs("2021-03-03", 2, 1, 5)});
  EXPECT_EQ(series_json(s, 0, 3),
            "{\"location\":\"US\",\"from\":\"2021-03-01\",\"to\":\"2021-03-03\",\"count\":3,"
            "\"date\":[\"2021-03-01\",\"2021-03-02\",\"2021-03-03\"],\"cases\":[1,3,2],\"deaths\":[0,1,1],"
            "\"recovered\":[0,null,5],\"new_cases\":[null,2,-1],\"new_deaths\":[null,1,0],"
            "\"new_cases_avg7\":[null,null,null],\"new_deaths_avg7\":[null,null,null]}\n");
  EXPECT_EQ(series_json(s, 1, 1, kFieldDate | kFieldCases),
            "{\"location\":\"US\",\"from\":null,\"to\":null,\"count\":0,\"date\":[],\"cases\":[]}\n");
  EXPECT_EQ(export_csv(s, 0, 3), "date,cases,deaths,recovered\n2021-03-01,1,0,0\n2021-03-02,3,1,\n2021-03-03,2,1,5\n");
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
  for (const char* bad : {"", "8080", ":8080", "host:", "host:65536", "host:8o80", "::1:8080", "[::1]8080",
                          "[]:80", "a b:80", "host:123456"}) {
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
      if (found) changes.updated.push_back(Revision{o, o});
      else changes.inserted.push_back(o);
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
  SnapshotCache cache([] { return open_store("bogus://table", StoreOptions{}); }, SnapshotCache::Options{});
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

}  // namespace
}  // namespace covid::serve
