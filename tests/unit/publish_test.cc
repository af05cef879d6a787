// covid-etl publish (publish/publisher.h) over a real SQLite file and a real folder: the folder
// destination's rules, the full publish, the incremental one (nothing changed: nothing written;
// one series changed: its objects and the index), deletions after the index, and a publish that
// stops midway (a destination that fails after N writes) leaving the previous version whole.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "load/classify.h"
#include "load/store.h"
#include "publish/destination.h"
#include "publish/publisher.h"
#include "serve/api.h"
#include "serve/http.h"
#include "serve/metrics.h"
#include "serve/representation.h"
#include "serve/router.h"
#include "serve/snapshot.h"

namespace covid {
namespace {

namespace fs = std::filesystem;

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Every regular file under `root`, relative, with its bytes.
std::map<std::string, std::string> files_under(const fs::path& root) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (e.is_regular_file()) out[fs::relative(e.path(), root).string()] = read_file(e.path());
  }
  return out;
}

class TempDir : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("covid-etl-publish-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

// --- the folder destination -----------------------------------------------------------------

using PublishFolder = TempDir;

TEST_F(PublishFolder, KeysThatLeaveTheFolderAreRefused) {
  auto d = open_folder_destination((dir_ / "site").string());
  ASSERT_TRUE(d.ok()) << d.status().message();
  for (const char* key : {"../outside", "/etc/x", "a/../../b", "a//b", "./a", "a/.", "", "a\\b"}) {
    PublishedObject o{key, "x", "text/plain", "no-cache", ""};
    Status s = (*d)->put(o);
    EXPECT_EQ(s.kind(), ErrorKind::kUsage) << key;
    EXPECT_EQ((*d)->remove(key).kind(), ErrorKind::kUsage) << key;
    EXPECT_FALSE((*d)->get(key).ok()) << key;
  }
  EXPECT_FALSE(fs::exists(dir_ / "outside"));
  EXPECT_FALSE(fs::exists(dir_ / "b"));
}

TEST_F(PublishFolder, PutWritesWholeFilesAndStoresGzipDecompressed) {
  auto d = open_folder_destination("file://" + (dir_ / "site").string());
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ((*d)->display(), (dir_ / "site").string());
  auto none = (*d)->get("data/a.json");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  std::string text(2000, 'a');
  PublishedObject o{"data/a.json", serve::gzip_compress(text, 6), "application/json",
                    kImmutableCache, "gzip"};
  ASSERT_TRUE((*d)->put(o).ok());
  // A plain static server serves the file as it is: the JSON, not its gzip.
  EXPECT_EQ(read_file(dir_ / "site" / "data" / "a.json"), text);
  auto got = (*d)->get("data/a.json");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ(**got, text);
  o.body = "replaced";
  o.content_encoding = "";
  ASSERT_TRUE((*d)->put(o).ok());
  EXPECT_EQ(read_file(dir_ / "site" / "data" / "a.json"), "replaced");
  // No temporary file is left beside it.
  EXPECT_EQ(files_under(dir_ / "site").size(), 1u);
  ASSERT_TRUE((*d)->remove("data/a.json").ok());
  ASSERT_TRUE((*d)->remove("data/a.json").ok());  // gone already: not an error
  EXPECT_FALSE(fs::exists(dir_ / "site" / "data" / "a.json"));
  o.content_encoding = "gzip";
  o.body = "not gzip";
  EXPECT_FALSE((*d)->put(o).ok());
}

TEST_F(PublishFolder, DestinationForms) {
  EXPECT_TRUE(open_destination((dir_ / "a").string()).ok());
  EXPECT_TRUE(open_destination("file://" + (dir_ / "b").string()).ok());
  EXPECT_TRUE(open_destination("file://localhost" + (dir_ / "c").string()).ok());
  EXPECT_EQ(open_destination("file://relative/path").status().kind(), ErrorKind::kUsage);
  EXPECT_EQ(open_destination("").status().kind(), ErrorKind::kUsage);
  EXPECT_EQ(open_destination("ftp://host/x").status().kind(), ErrorKind::kUsage);
  std::ofstream(dir_ / "file") << "x";
  EXPECT_EQ(open_destination((dir_ / "file").string()).status().kind(), ErrorKind::kUsage);
}

TEST(PublishRequests, CanonicalKeySortsParametersByName) {
  EXPECT_EQ(canonical_request("summary", {}), "summary");
  EXPECT_EQ(canonical_request("map", {{"to", "2021-01-31"},
                                      {"level", "state"},
                                      {"per_100k", "true"},
                                      {"from", "2021-01-01"},
                                      {"metric", "cases"}}),
            "map?from=2021-01-01&level=state&metric=cases&per_100k=true&to=2021-01-31");
  // Values as they are, decoded (the page decodes them with URLSearchParams).
  EXPECT_EQ(canonical_request("series", {{"location", "36:New York City"}}),
            "series?location=36:New York City");
}

// --- publishing a database ------------------------------------------------------------------

// A destination over a folder that fails every call after `puts_left` puts (or every remove).
class FailingDestination : public Destination {
 public:
  FailingDestination(Destination& inner, int puts_left, bool fail_removes = false)
      : inner_(inner), puts_left_(puts_left), fail_removes_(fail_removes) {}
  Result<std::optional<std::string>> get(std::string_view key) override { return inner_.get(key); }
  Status put(const PublishedObject& o) override {
    if (puts_left_-- <= 0) return Status::Extract("injected: the destination went away");
    ++puts_;
    return inner_.put(o);
  }
  Status remove(std::string_view key) override {
    if (fail_removes_) return Status::Extract("injected: cannot delete");
    return inner_.remove(key);
  }
  std::string display() const override { return inner_.display(); }
  int puts_ = 0;

 private:
  Destination& inner_;
  int puts_left_;
  bool fail_removes_;
};

class Publish : public TempDir {
 protected:
  void SetUp() override {
    TempDir::SetUp();
    db_ = (dir_ / "covid.db").string();
    site_ = dir_ / "site";
    auto d = open_destination(site_.string());
    ASSERT_TRUE(d.ok());
    dest_ = std::move(*d);
  }

  static std::vector<Observation> cumulative(const std::string& location, int days, int64_t base) {
    std::vector<Observation> rows;
    int64_t total = 0;
    for (int d = 0; d < days; ++d) {
      total += base + d;
      Observation o;
      o.location = location;
      o.date = Date{date_from_ymd(2021, 3, 1).days + d};
      o.cases = total;
      o.deaths = total / 100;
      rows.push_back(o);
    }
    return rows;
  }

  // One run that loads `rows`, as the pipeline does.
  void load(std::vector<Observation> rows) {
    std::sort(rows.begin(), rows.end(), by_location_date);
    std::vector<std::string> ids;
    for (const Observation& o : rows) {
      if (ids.empty() || ids.back() != o.location) ids.push_back(o.location);
    }
    auto store = open_store(db_, StoreOptions{});
    ASSERT_TRUE(store.ok()) << store.status().message();
    auto id = (*store)->begin_run("2021-03-31T12:00:00.000Z");
    ASSERT_TRUE(id.ok());
    auto tx = (*store)->begin_load();
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE((*tx)
                    ->save_locations({{"06", "state", "California", "", "06"},
                                      {"06037", "county", "Los Angeles", "California", "06037"},
                                      {"48", "state", "Texas", "", "48"}})
                    .ok());
    auto existing = (*tx)->existing_many(ids);
    ASSERT_TRUE(existing.ok());
    ASSERT_TRUE((*tx)->write(*id, classify(*existing, rows)).ok());
    RunRecord r;
    r.id = *id;
    r.started_at = "2021-03-31T12:00:00.000Z";
    r.finished_at = "2021-03-31T12:00:01.000Z";
    r.status = RunStatus::kOk;
    ASSERT_TRUE((*tx)->finish_run(r, {}).ok());
    ASSERT_TRUE((*tx)->commit().ok());
  }

  std::vector<Observation> data(int64_t ca_last_day_cases = 0) {
    std::vector<Observation> rows = cumulative("US", 40, 1000);
    for (auto [id, base] : {std::pair{"06", 100}, {"06037", 30}, {"48", 80}}) {
      auto more = cumulative(id, 40, base);
      rows.insert(rows.end(), more.begin(), more.end());
    }
    if (ca_last_day_cases != 0) {
      for (Observation& o : rows) {
        if (o.location == "06" && o.date == Date{date_from_ymd(2021, 3, 1).days + 39})
          o.cases = ca_last_day_cases;
      }
    }
    return rows;
  }

  Result<Site> site() {
    StoreOptions so;
    so.read_only = true;
    std::string db = db_;
    serve::SnapshotCache cache([db, so] { return open_store(db, so); }, {});
    COVID_RETURN_IF_ERROR(cache.load());
    return build_site(cache);
  }

  Result<PublishReport> publish_db() {
    PublishOptions o;
    o.db = db_;
    return publish(o, *dest_);
  }

  nlohmann::json index() { return nlohmann::json::parse(read_file(site_ / kPublishIndexKey)); }
  nlohmann::json manifest() {
    return nlohmann::json::parse(read_file(site_ / kPublishManifestKey));
  }

  // Every object the folder's data index names is there, with the bytes the manifest's hash
  // says; returns the set of data objects it names.
  std::set<std::string> check_consistent() {
    std::set<std::string> keys;
    nlohmann::json ix = index();
    for (const auto& [request, key] : ix["objects"].items()) {
      if (key.is_array()) {
        for (const auto& k : key) keys.insert(k.get<std::string>());  // a series: two objects
      } else {
        keys.insert(key.get<std::string>());
      }
    }
    keys.insert(ix["locations"].get<std::string>());
    for (const std::string& k : keys) {
      EXPECT_TRUE(fs::exists(site_ / k)) << k;
      std::string body = read_file(site_ / k);
      // A data object's name is the XXH3-64 of its bytes (serve's ETag).
      auto rep = serve::Representation::make("application/json", body, "");
      EXPECT_EQ("data/" + rep->etag.substr(1, 16) + ".json", k);
    }
    return keys;
  }

  std::string db_;
  fs::path site_;
  std::unique_ptr<Destination> dest_;
};

TEST_F(Publish, FullThenNothingThenOneChangedSeriesThenDeletions) {
  load(data());
  auto first = publish_db();
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_EQ(first->written, first->objects);
  EXPECT_EQ(first->unchanged, 0u);
  EXPECT_EQ(first->deleted, 0u);
  auto files = files_under(site_);
  EXPECT_TRUE(files.count("index.html") && files.count("app.js") && files.count("map.js"));
  nlohmann::json ix = index();
  for (const char* request :
       {"series?location=US", "series?location=06", "series?location=06037", "summary",
        "rankings?level=state", "rankings?level=county&state=06", "rankings?level=country",
        "map?level=state&metric=cases&per_100k=true",
        "map?from=2021-03-01&level=county&metric=deaths&per_100k=false&to=2021-03-31",
        "map?from=2021-04-01&level=state&metric=cases&per_100k=true&to=2021-04-30"}) {
    EXPECT_TRUE(ix["objects"].contains(request)) << request;
  }
  EXPECT_FALSE(
      ix["objects"].contains("map?from=2021-05-01&level=state&metric=cases&per_100k=true&"
                             "to=2021-05-31"));
  std::set<std::string> v1 = check_consistent();
  // The site is the data objects, the page's files, the index and the manifest: nothing else.
  size_t data_files = 0;
  for (const auto& [name, body] : files) data_files += name.starts_with("data/") ? 1 : 0;
  EXPECT_EQ(data_files, v1.size() + 1);  // + data/index.json

  // Nothing changed: nothing is written, not even the manifest.
  auto before = files_under(site_);
  auto second = publish_db();
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->written, 0u);
  EXPECT_EQ(second->deleted, 0u);
  EXPECT_EQ(second->unchanged, second->objects);
  EXPECT_EQ(files_under(site_), before);

  // California's last day revised: its objects (series, rankings, maps, ...) and the index are
  // written; the objects only the old version used are deleted after the index.
  load(data(999'999));
  nlohmann::json old_index = index();
  auto third = publish_db();
  ASSERT_TRUE(third.ok()) << third.status().message();
  nlohmann::json new_index = index();
  std::set<std::string> v2 = check_consistent();
  std::set<std::string> added, gone;
  for (const std::string& k : v2) {
    if (!v1.count(k)) added.insert(k);
  }
  for (const std::string& k : v1) {
    if (!v2.count(k)) gone.insert(k);
  }
  EXPECT_EQ(third->written, added.size() + 1);  // + data/index.json
  // The objects of the version before are kept one more publish (a page left open).
  EXPECT_EQ(third->deleted, 0u);
  ASSERT_FALSE(gone.empty());
  for (const std::string& k : gone) EXPECT_TRUE(fs::exists(site_ / k)) << k;
  // A series is its history and its level's recent rows: California's last day is recent, so
  // its history object stays, and the states' recent object changes (Texas's too); the
  // counties' recent object is another.
  auto series = [](const nlohmann::json& ix, const char* id) {
    return ix["objects"]["series?location=" + std::string(id)];
  };
  EXPECT_EQ(series(old_index, "06")[0], series(new_index, "06")[0]);
  EXPECT_NE(series(old_index, "06")[1], series(new_index, "06")[1]);
  EXPECT_EQ(series(new_index, "06")[1], series(new_index, "48")[1]);
  EXPECT_EQ(series(old_index, "48")[0], series(new_index, "48")[0]);
  EXPECT_EQ(series(old_index, "06037"), series(new_index, "06037"));
  EXPECT_LT(third->written, third->objects / 2);
  nlohmann::json m = manifest();
  EXPECT_TRUE(m["pending"].empty());
  EXPECT_EQ(m["previous"].size(), gone.size());

  // Another version: what only the first one used goes now, the second's stays.
  load(data(888'888));
  auto fourth = publish_db();
  ASSERT_TRUE(fourth.ok()) << fourth.status().message();
  std::set<std::string> v3 = check_consistent();
  size_t only_v1 = 0;
  for (const std::string& k : gone) {
    if (v3.count(k)) continue;
    ++only_v1;
    EXPECT_FALSE(fs::exists(site_ / k)) << k;
  }
  EXPECT_EQ(fourth->deleted, only_v1);
  for (const std::string& k : v2) EXPECT_TRUE(fs::exists(site_ / k)) << k;
  // The manifest lists what the folder holds, nothing pending.
  m = manifest();
  EXPECT_TRUE(m["pending"].empty());
  EXPECT_TRUE(m["deleting"].empty());
  for (const auto& [name, body] : files_under(site_)) {
    if (name != kPublishManifestKey) {
      EXPECT_TRUE(m["objects"].contains(name) || m["previous"].contains(name)) << name;
    }
  }
  EXPECT_EQ(m["objects"].size() + m["previous"].size() + 1, files_under(site_).size());
}

// The split series joined (as app.js publishedSeries joins them) are serve's response.
TEST_F(Publish, TheTwoObjectsOfASeriesJoinIntoServesResponse) {
  load(data());
  ASSERT_TRUE(publish_db().ok());
  nlohmann::json ix = index();
  StoreOptions so;
  so.read_only = true;
  std::string db = db_;
  serve::SnapshotCache cache([db, so] { return open_store(db, so); }, {});
  ASSERT_TRUE(cache.load().ok());
  serve::ServerMetrics metrics;
  serve::Router router(metrics);
  serve::add_api_routes(router, cache, metrics);
  for (const char* id : {"US", "06", "06037"}) {
    auto keys = ix["objects"]["series?location=" + std::string(id)];
    ASSERT_TRUE(keys.is_array()) << id;
    auto h = nlohmann::ordered_json::parse(read_file(site_ / keys[0].get<std::string>()));
    auto all = nlohmann::ordered_json::parse(read_file(site_ / keys[1].get<std::string>()));
    auto r = all[id];
    EXPECT_GT(h["count"].get<int>(), 0) << id;
    EXPECT_GT(r["count"].get<int>(), 0) << id;
    EXPECT_EQ(r["from"], "2021-04-01") << id;
    nlohmann::ordered_json joined = h;
    for (auto& [k, v] : joined.items()) {
      if (v.is_array()) v.insert(v.end(), r[k].begin(), r[k].end());
    }
    joined["to"] = r["to"];
    joined["count"] = h["count"].get<int>() + r["count"].get<int>();
    std::string target = "/api/v1/series?location=" + std::string(id);
    serve::Request req;
    req.method = serve::Method::kGet;
    req.method_text = "GET";
    req.target = target;
    serve::split_target(req.target, &req.path, &req.query);
    serve::Response resp;
    router.dispatch(req, resp);
    ASSERT_EQ(resp.status, 200) << id;
    EXPECT_EQ(joined.dump(), nlohmann::ordered_json::parse(resp.body).dump()) << id;
  }
}

TEST_F(Publish, AStoppedPublishLeavesThePreviousVersionWhole) {
  load(data());
  auto v1_site = site();
  ASSERT_TRUE(v1_site.ok()) << v1_site.status().message();
  auto first = publish_site(*v1_site, *dest_);
  ASSERT_TRUE(first.ok()) << first.status().message();
  auto v1_files = files_under(site_);
  std::set<std::string> v1 = check_consistent();

  load(data(999'999));
  auto v2_site = site();
  ASSERT_TRUE(v2_site.ok());
  // The objects this publish writes: the new data objects and the index (after the manifest).
  size_t changed = 1;
  for (const SiteObject& o : v2_site->objects) changed += v1_files.count(o.object.key) ? 0 : 1;
  ASSERT_GT(changed, 2u);
  // Stopped at the manifest, at the first object, the second, halfway, at the index: every file the
  // old index names is there with its old bytes, and the old index is the one in place.
  for (int n : {0, 1, 2, int(changed / 2), int(changed)}) {
    FailingDestination failing(*dest_, n);
    auto r = publish_site(*v2_site, failing);
    ASSERT_FALSE(r.ok()) << "after " << n << " puts";
    EXPECT_EQ(r.status().kind(), ErrorKind::kExtract);
    auto now = files_under(site_);
    for (const auto& [name, body] : v1_files) {
      if (name == kPublishManifestKey) continue;
      ASSERT_TRUE(now.count(name)) << name << " after " << n << " puts";
      EXPECT_EQ(now[name], body) << name << " after " << n << " puts";
    }
    EXPECT_EQ(check_consistent(), v1);
  }
  // The next publish completes; the old version is kept one more publish, nothing else.
  auto done = publish_site(*v2_site, *dest_);
  ASSERT_TRUE(done.ok()) << done.status().message();
  std::set<std::string> v2 = check_consistent();
  EXPECT_NE(v2, v1);
  size_t data_files = 0;
  for (const auto& [name, body] : files_under(site_)) {
    if (name.starts_with("data/") && name != kPublishIndexKey) {
      ++data_files;
      EXPECT_TRUE(v2.count(name) || v1.count(name)) << name << " left behind";
    }
  }
  std::set<std::string> both = v1;
  both.insert(v2.begin(), v2.end());
  EXPECT_EQ(data_files, both.size());
  EXPECT_TRUE(manifest()["pending"].empty());
}

TEST_F(Publish, DeletionsThatFailAreDoneByTheNextPublish) {
  load(data());
  ASSERT_TRUE(publish_db().ok());
  std::set<std::string> v1 = check_consistent();
  load(data(999'999));
  ASSERT_TRUE(publish_db().ok());
  std::set<std::string> v2 = check_consistent();
  load(data(888'888));
  auto v3_site = site();
  ASSERT_TRUE(v3_site.ok());
  FailingDestination no_deletes(*dest_, 1'000'000, /*fail_removes=*/true);
  auto r = publish_site(*v3_site, no_deletes);
  ASSERT_FALSE(r.ok());
  // The new version is in place; the objects only the first one used are still there, listed
  // as being deleted in the manifest.
  std::set<std::string> v3 = check_consistent();
  std::set<std::string> gone;
  for (const std::string& k : v1) {
    if (!v2.count(k) && !v3.count(k)) gone.insert(k);
  }
  ASSERT_FALSE(gone.empty());
  for (const std::string& k : gone) EXPECT_TRUE(fs::exists(site_ / k)) << k;
  EXPECT_EQ(manifest()["deleting"].size(), gone.size());
  // Nothing else changed: the next publish writes nothing but deletes them, and keeps v2's.
  auto next = publish_site(*v3_site, *dest_);
  ASSERT_TRUE(next.ok()) << next.status().message();
  EXPECT_EQ(next->written, 0u);
  EXPECT_EQ(next->deleted, gone.size());
  for (const std::string& k : gone) EXPECT_FALSE(fs::exists(site_ / k)) << k;
  for (const std::string& k : v2) EXPECT_TRUE(fs::exists(site_ / k)) << k;
  EXPECT_TRUE(manifest()["pending"].empty());
  EXPECT_TRUE(manifest()["deleting"].empty());
}

TEST_F(Publish, NoDatabaseIsALoadError) {
  auto r = publish_db();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().kind(), ErrorKind::kLoad) << r.status().message();
  EXPECT_FALSE(fs::exists(site_ / kPublishIndexKey));
}

}  // namespace
}  // namespace covid
