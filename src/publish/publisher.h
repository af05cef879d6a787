// The publisher of `covid-etl publish` (issue 19): the whole dashboard as static objects in a
// Destination (destination.h), so that the page works from a plain folder or bucket with no
// covid-etl behind it.
//
// build_site() makes every object the page needs, each by the code `serve` answers with (the
// router of serve/api.h and serve/assets.h, called in the process, no HTTP): the page and its
// files under their own names ("index.html", "app.js", ...); every API response the page asks
// for (web/src/app.js, web/src/map.js: every location's series, the notes of every location that
// has some, the summary, the rankings of states, countries and each state's counties, the table
// of states, the map of each level, metric and rate for the last date and for each month) under a
// content-addressed name "data/<XXH3-64 of the response>.json"; the list of every location (the
// page searches it itself); and last the data index "data/index.json", which maps each request
// (its canonical key, below) to its object. The page asks data/index.json first (serve answers
// it with {"api": "api/v1/"}: ask the API), so one build of the page works in both places.
//
// The canonical key of a request: its path after api/v1/, then, when it has parameters, "?" and
// its parameters sorted by name as name=value, decoded, joined by '&' ("map?from=2021-01-01&
// level=state&metric=cases&per_100k=true&to=2021-01-31"). web/src/app.js (requestKey) makes the
// same.
//
// Cache-Control: data objects "public, max-age=31536000, immutable" (a new content is a new
// name); data/index.json and index.html "public, max-age=60"; the page's other files (they change
// only with covid-etl's version) "public, max-age=300". Compressible types are stored gzipped with
// Content-Encoding gzip (when that is smaller, as serve sends them).
//
// publish_site() writes a site incrementally and atomically for viewers. The destination keeps a
// manifest, "publish-manifest.json": {"version":1, "objects": {key: hash}, "pending": [keys]}, the
// objects it holds and the keys a publish may have left behind. A publish writes only the objects
// whose hash differs from the manifest's (or that are pending): first the manifest with those
// keys pending, then the objects (the page's files and the data objects), then data/index.json,
// then index.html; then the manifest of the new site with every key no longer used pending, then
// deletes those, then the manifest without them. A viewer sees the old index and its objects
// until the new index is in place (data objects are never overwritten with another content),
// and a publish that stops anywhere (killed, a failed put) leaves the previous version whole; the
// next publish writes what it needs and deletes what the stopped one left. A publish with nothing
// changed writes nothing at all.
//
// publish() does both from a database: it reads one version of the data (a run that commits
// meanwhile makes it read the new version again, at most 3 times).
// Not thread-safe: one publish at a time per destination.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config/config.h"
#include "pipeline/freshness.h"
#include "publish/destination.h"
#include "serve/snapshot.h"

namespace covid {

inline constexpr const char* kPublishManifestKey = "publish-manifest.json";
inline constexpr const char* kPublishIndexKey = "data/index.json";
inline constexpr const char* kImmutableCache = "public, max-age=31536000, immutable";
inline constexpr const char* kIndexCache = "public, max-age=60";
inline constexpr const char* kAssetCache = "public, max-age=300";

struct SiteObject {
  PublishedObject object;
  std::string hash;  // XXH3-64 of the uncompressed bytes, 16 hex digits
};

struct Site {
  // In the order they are written: the page's files, the data objects, data/index.json, and
  // index.html last. Keys are unique.
  std::vector<SiteObject> objects;
  size_t requests = 0;  // API requests data/index.json maps
};

struct PublishReport {
  size_t objects = 0;          // in the site
  size_t written = 0;          // objects put (the manifest not counted)
  size_t unchanged = 0;        // objects the destination held already
  size_t deleted = 0;          // objects of an earlier version removed
  uint64_t bytes_written = 0;  // as stored (compressed)
  double seconds = 0;
  std::string text() const;  // "published N objects to DEST: ..." without DEST
};

// Every object of the site for the data `cache` holds now (one snapshot).
Result<Site> build_site(serve::SnapshotCache& cache);

// Writes `site` to `dest` (see above). On a failure the destination still serves the previous
// version (or this one, when the failure came after data/index.json).
Result<PublishReport> publish_site(const Site& site, Destination& dest);

struct PublishOptions {
  std::string db;
  std::chrono::milliseconds lock_timeout{30'000};
  FreshnessOptions freshness;
};

// Reads the database and publishes it to `dest`.
Result<PublishReport> publish(const PublishOptions& options, Destination& dest);

// Opens `dest` (open_destination) and publishes config.db there with the configuration's lock
// timeout and freshness allowances. Messages name the destination as display() shows it.
Result<PublishReport> publish_to(const Config& config, std::string_view dest);

// The canonical key of an API request (see above) from its endpoint and parameters.
std::string canonical_request(std::string_view endpoint,
                              std::vector<std::pair<std::string, std::string>> params);

}  // namespace covid
