// The dashboard's files (web/, with uPlot from npm), embedded in the binary at build time by
// cmake/embed_assets.cmake from web/assets.manifest. They are the only files the server sends:
// each is a route of its own, so no part of a request ever becomes a file-system path.
// Constant data, initialised at compile time.
#pragma once

#include <cstddef>

#include "serve/router.h"

namespace covid::serve {

struct EmbeddedAsset {
  const char* path;  // the URL path: "/", "/app.js"
  const char* content_type;
  const unsigned char* data;
  size_t size;
};

extern const EmbeddedAsset kEmbeddedAssets[];
extern const size_t kEmbeddedAssetCount;

// Adds a GET/HEAD route per asset (and /index.html for /), with its ETag and gzip made once here.
void add_asset_routes(Router& router);

}  // namespace covid::serve
