#include "serve/assets.h"

#include <string>

#include "serve/representation.h"

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
    auto handler = [rep](const Request& req, Response& resp) { respond(req, rep, resp); };
    router.add(a.path, kGetHead, handler);
    if (std::string_view(a.path) == "/") router.add("/index.html", kGetHead, handler);
  }
}

}  // namespace covid::serve
