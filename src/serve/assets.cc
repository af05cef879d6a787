#include "serve/assets.h"

#include <string>

#include "serve/representation.h"
#include "serve/router.h"

namespace covid::serve {

void add_asset_routes(Router& router) {
  for (size_t i = 0; i < kEmbeddedAssetCount; ++i) {
    const EmbeddedAsset& a = kEmbeddedAssets[i];
    std::string type = a.content_type;
    bool compressible = type.starts_with("text/") || type.starts_with("image/svg") ||
                        type.starts_with("application/json");
    // no-cache: browsers keep the file and ask again (a 304 when the binary has not changed).
    auto rep =
        Representation::make(type, std::string(reinterpret_cast<const char*>(a.data), a.size),
                             "no-cache", compressible ? 9 : 0);
    // A file under /api/ (the OpenAPI document) is an endpoint like the others: it takes no
    // parameters, and a request that gives some is answered 400 as theirs are.
    bool api = std::string_view(a.path).starts_with("/api/");
    auto handler = [rep, api](const Request& req, Response& resp) {
      if (api && !req.query.empty()) {
        error_response(resp, 400, "this endpoint takes no parameters");
        return;
      }
      respond(req, rep, resp);
    };
    router.add(a.path, kGetHead, handler);
    if (std::string_view(a.path) == "/") router.add("/index.html", kGetHead, handler);
  }
}

}  // namespace covid::serve
