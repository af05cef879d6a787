// The dashboard's files (web/, with uPlot from npm), embedded in the binary at build time by
// cmake/embed_assets.cmake from web/assets.manifest. They are the only files the server sends:
// each is a route of its own, so no part of a request ever becomes a file-system path.
// Constant data, initialised at compile time.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "serve/router.h"

namespace covid::serve {
class SnapshotCache;
}

namespace covid::serve {

struct EmbeddedAsset {
  const char* path;  // the URL path: "/", "/app.js"
  const char* content_type;
  const unsigned char* data;
  size_t size;
  const char* sha256;  // base64 of the SHA-256 of the bytes (a CSP hash source), from the build
};

extern const EmbeddedAsset kEmbeddedAssets[];
extern const size_t kEmbeddedAssetCount;

// The page (/) as it is sent: each of its `<link rel="stylesheet" href="NAME">` of an embedded
// text/css file is replaced by `<style>` with that file's bytes, so that the browser draws the
// page's first frame without waiting for another request (the files stay served too).
const std::string& page_html();

// The Content-Security-Policy sources that allow exactly the page's inline styles, by their
// SHA-256: "'sha256-BASE64' ..." (empty when the page inlines none). No other inline style, and
// no inline script, is allowed.
const std::string& page_style_sources();

// Adds a GET/HEAD route per asset (and /index.html for /), with its ETag and gzip made once here.
// The page (/ and /index.html) also names the first chart's data in a Link header
// (page_preload_link), so that the browser asks it while it loads the page's scripts; with a
// snapshot cache (serve, the daemon), the page is answered with its first chart drawn in it
// (first_chart.h) for the view its query asks, made once per version of the data and view.
void add_asset_routes(Router& router, SnapshotCache* cache = nullptr);

// The Link header of the page for the query it was asked with: a preload of the series of the
// page's location as app.js's readUrl() reads it (the first of ?loc=, trimmed; US without one), by
// the same relative URL app.js fetches (`api/v1/series?location=` + encodeURIComponent(id)), so
// that the page's fetch takes the preloaded answer. For the map alone (?embed=1&view=map): the
// files map.js loads for its level (?map=) and its first data (?map_metric=, ?map_rate=), by the
// URLs map.js asks. Empty (no header) for a query that does not parse, or a first location app.js
// might read otherwise (not printable ASCII, longer than 200 characters).
std::string page_preload_link(std::string_view query);

}  // namespace covid::serve
