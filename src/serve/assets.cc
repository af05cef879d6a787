#include "serve/assets.h"

#include <cctype>
#include <string>

#include "serve/http.h"
#include "serve/representation.h"
#include "serve/router.h"

namespace covid::serve {

namespace {

// JavaScript's encodeURIComponent of ASCII text.
std::string encode_uri_component(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) != 0 ||
        std::string_view("-_.!~*'()").find(static_cast<char>(c)) != std::string_view::npos) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace

std::string page_preload_link(std::string_view query) {
  auto params = parse_query(query);
  if (!params.ok()) return {};
  const std::string* loc = nullptr;
  bool embed = false, map_view = false;
  for (const auto& [k, v] : *params) {
    if (k == "loc" && loc == nullptr) loc = &v;
    if (k == "embed" && !embed) embed = v == "1";
    if (k == "view" && !map_view) map_view = v == "map";
  }
  // URLSearchParams.get() answers the first of a repeated name, as taken here.
  if (embed && map_view) {
    // The map alone: map.js, its styles, scripts and shapes, and the level's latest date, by the
    // URLs map.js asks (its LEVELS, loadAtlas() and mapUrl()).
    auto get = [&](std::string_view name) -> std::string_view {
      for (const auto& [k, v] : *params)
        if (k == name) return v;
      return {};
    };
    std::string_view level = get("map");
    if (level != "county" && level != "country") level = "state";
    std::string link =
        "<map.js>; rel=preload; as=script, <map.css>; rel=preload; as=style, "
        "<topojson-client.min.js>; rel=preload; as=script, ";
    if (level == "country")
      link +=
          "<d3-array.min.js>; rel=preload; as=script, <d3-geo.min.js>; rel=preload; as=script, ";
    const char* atlas = level == "state"    ? "us-states-albers-10m.json"
                        : level == "county" ? "us-counties-albers-10m.json"
                                            : "world-countries-110m.json";
    link += "<" + std::string(atlas) + ">; rel=preload; as=fetch; crossorigin=anonymous, ";
    link += "<api/v1/map?level=" + std::string(level) +
            "&metric=" + (get("map_metric") == "deaths" ? "deaths" : "cases") +
            "&per_100k=" + (get("map_rate") == "absolute" ? "false" : "true") +
            ">; rel=preload; as=fetch; crossorigin=anonymous";
    return link;
  }
  std::string_view first = "US";
  if (loc != nullptr) {
    std::string_view rest = *loc;
    for (;;) {
      size_t comma = rest.find(',');
      std::string_view piece = rest.substr(0, comma);
      for (char c : piece)
        if (c < 0x20 || c > 0x7e) return {};  // JavaScript's trim() would differ: leave it
      size_t b = piece.find_first_not_of(' ');
      size_t e = piece.find_last_not_of(' ');
      piece = b == std::string_view::npos ? std::string_view{} : piece.substr(b, e - b + 1);
      if (piece.size() > 200) return {};
      if (!piece.empty()) {
        first = piece;
        break;
      }
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  return "<api/v1/series?location=" + encode_uri_component(first) +
         ">; rel=preload; as=fetch; crossorigin=anonymous";
}

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
    if (std::string_view(a.path) == "/") {
      auto page = [rep](const Request& req, Response& resp) {
        respond(req, rep, resp);
        if (std::string link = page_preload_link(req.query); !link.empty())
          resp.headers.emplace_back("Link", std::move(link));
      };
      router.add("/", kGetHead, page);
      router.add("/index.html", kGetHead, page);
      continue;
    }
    router.add(a.path, kGetHead, handler);
  }
}

}  // namespace covid::serve
