// The publisher of `covid-etl publish` (issue 19): the whole dashboard as static objects in a
// Destination (destination.h), so that the page works from a plain folder or bucket with no
// covid-etl behind it.
//
// build_site() makes every object the page needs, each by the code `serve` answers with (the
// router of serve/api.h and serve/assets.h, called in the process, no HTTP): the page and its
// files under their own names ("index.html", "app.js", ...); every API response the page asks
// for (web/src/app.js, web/src/map.js: every location's series (split in two, below), the notes
// of every location that has some, the summary, the rankings of states, countries and each state's
// counties, the table of states, the map of each level, metric and rate for the last date and for
// each month, a month without the level's first_date and last_date, which change every day and
// which the page reads from the last date's response) under a content-addressed name "data/<XXH3-64
// of the response>.json"; the list of every location (the page searches it itself); and last the
// data index "data/index.json", which maps each request (its canonical key, below) to its object.
// The page asks data/index.json first (serve answers it with {"api": "api/v1/"}: ask the API), so
// one build of the page works in both places.
//
// A location's series is published as two objects, so that a new day does not rewrite every
// location's whole series: its history, the response of /api/v1/series for its rows before the
// first day of the month of its level's last date (nation, state, county, country: the last
// date any series of the level has), which changes only when a past value is revised or a month
// ends; and its recent rows (from that day on) as the same response for them, in an object
// shared by every location of its level ({"ID": {...}, ...}: one for the nation, the states, the
// countries, and one per state for its counties, by the first two characters of the county's
// id), which changes every day. The response is made over the whole series (7-day averages,
// rates, omitted days) and then split, so the page (app.js publishedSeries) joins the two into
// the very response serve gives: the history's arrays then the recent ones, from/to/count of both.
// data/index.json maps "series?location=ID" to [history, recent].
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
// manifest, "publish-manifest.json": {"version":2, "objects": {key: hash}, "previous": {key:
// hash}, "pending": [keys], "deleting": [keys]}: the objects of the version in place, those of
// the version before it that this one does not use, the keys a publish may have left half-done,
// and the keys it is deleting. Hashes are XXH3-64 of the uncompressed bytes, compared before
// anything is compressed. A publish writes only the objects the destination does not hold with
// that hash (in either version, and not pending), in phases, each ended before the next starts
// and the first failure stopping the publish: the manifest with those keys pending; the objects
// (the page's files and the data objects; up to Destination::parallelism() at once); then
// data/index.json; then index.html; then the manifest of the new version, whose "previous" is
// what the version before it used and this one does not (and any key a stopped publish may have
// written), and whose "deleting" is what only the version before that used; then deletes those
// (in parallel too), then the manifest without them. So an object is deleted only when neither
// the new index nor the one before it names it: a page left open across two publishes still
// finds the objects of the index it loaded. A viewer sees the old index and its objects until
// the new index is in place (data objects are never overwritten with another content), and a
// publish that stops anywhere (killed, a failed put) leaves the previous version whole; the next
// publish writes what it needs and deletes what the stopped one left. A publish with nothing
// changed writes nothing at all (and keeps the version before). A version 1 manifest is read as
// one with no previous version; a manifest this version cannot read makes a first publish.
//
// publish() does both from a database: it reads one version of the data (a run that commits
// meanwhile makes it read the new version again, at most 3 times).
// Not thread-safe: one publish at a time per destination.
#pragma once

#include <cstdint>
#include <map>
#include <set>
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
  // Above 0: object.body is uncompressed, and is gzip-compressed at this level (when that is
  // smaller) only if publish_site() writes it to a destination that stores encodings.
  int gzip_level = 0;
  // The destination holds it already (build_site's `known`): object.body is empty.
  bool kept = false;
};

// The destination's record of what it holds, "publish-manifest.json" (above).
struct PublishManifest {
  std::map<std::string, std::string> objects;   // key -> hash: the version in place
  std::map<std::string, std::string> previous;  // key -> hash ("" unknown): kept one more publish
  std::set<std::string> pending;                // keys a stopped publish may have written
  std::set<std::string> deleting;               // keys no version uses, not deleted yet
  // The destination holds `key` with this content (in either version, not pending).
  bool holds(const std::string& key, const std::string& hash) const;
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

// Every object of the site for the data `cache` holds now (one snapshot). With `known`, an
// object that manifest says the destination holds is made (its hash) but not kept (kept: true,
// no body): it is neither compressed nor held in memory.
Result<Site> build_site(serve::SnapshotCache& cache, const PublishManifest* known = nullptr);

// The manifest `dest` holds (empty when it has none, or one this version cannot read).
Result<PublishManifest> read_manifest(Destination& dest);

// Writes `site` to `dest` (see above), whose manifest is `known` (read_manifest()), or read here.
// On a failure the destination still serves the previous version (or this one, when the failure
// came after data/index.json).
Result<PublishReport> publish_site(const Site& site, Destination& dest);
Result<PublishReport> publish_site(const Site& site, const PublishManifest& known,
                                   Destination& dest);

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
