#include "serve/assets.h"

#include <cctype>
#include <string>

#include "serve/first_chart.h"
#include "serve/http.h"
#include "serve/locations.h"
#include "serve/representation.h"
#include "serve/router.h"
#include "serve/snapshot.h"

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

// The page with its first chart drawn (first_chart.h) for the view of `query`, made once per
// version of the data and view; `plain` (the page as it is) where it is not drawn: a view the
// server does not draw, a location the store does not know, a database that cannot be read.
std::shared_ptr<const Representation> page_with_first_chart(
    SnapshotCache& cache, const std::shared_ptr<const Representation>& plain, size_t insert_at,
    std::string_view query) {
  auto params = parse_query(query);
  if (!params.ok()) return plain;
  auto view = first_chart_view(*params);
  if (!view) return plain;
  auto snap = cache.current();
  if (!snap->available) return plain;
  std::shared_ptr<const LocationSeries> held;  // keeps `columns` alive
  const SeriesColumns* columns = nullptr;
  if (auto it = snap->series.find(view->location); it != snap->series.end()) {
    columns = &it->second;
  } else {
    auto found = cache.series(*snap, view->location);
    if (!found.ok() || *found == nullptr) return plain;
    held = *found;
    columns = &held->columns;
  }
  return snap->derived("page|" + view->key(), [&]() -> std::shared_ptr<const Representation> {
    std::string chart = first_chart_html(*columns, *view);
    if (chart.empty()) return plain;
    std::string body = plain->identity;
    body.insert(insert_at, chart);
    if (auto dates = shown_dates(*columns, *view)) write_page_controls(body, *view, *dates);
    write_page_cards(body, *columns);
    // The page is the location's (it is the nation's as it is).
    if (view->location != kNation) {
      auto index = cache.locations(*snap);
      const Location* l = index.ok() ? (*index)->find(view->location) : nullptr;
      if (l != nullptr) write_page_location(body, (*index)->label(*l), location_source(*l));
    }
    return Representation::make(plain->content_type, std::move(body), "no-cache", 6);
  });
}

struct InlinedPage {
  std::string html;
  std::string style_sources;
};

const EmbeddedAsset* find_asset(std::string_view path) {
  for (size_t i = 0; i < kEmbeddedAssetCount; ++i) {
    if (path == kEmbeddedAssets[i].path) return &kEmbeddedAssets[i];
  }
  return nullptr;
}

std::string_view bytes_of(const EmbeddedAsset& a) {
  return {reinterpret_cast<const char*>(a.data), a.size};
}

// The page with its embedded stylesheets written into it, made once.
const InlinedPage& inlined_page() {
  static const InlinedPage page = [] {
    InlinedPage out;
    const EmbeddedAsset* index = find_asset("/");
    if (index == nullptr) return out;
    std::string_view html = bytes_of(*index);
    constexpr std::string_view kOpen = "<link rel=\"stylesheet\" href=\"";
    constexpr std::string_view kClose = "\">";
    size_t done = 0;
    for (size_t at = html.find(kOpen); at != std::string_view::npos; at = html.find(kOpen, at)) {
      size_t name = at + kOpen.size();
      size_t end = html.find(kClose, name);
      if (end == std::string_view::npos) break;
      const EmbeddedAsset* css = find_asset("/" + std::string(html.substr(name, end - name)));
      at = end + kClose.size();
      if (css == nullptr || std::string_view(css->content_type).substr(0, 8) != "text/css" ||
          bytes_of(*css).find("</") != std::string_view::npos)
        continue;  // not ours, or text that would end the element early: left as a link
      out.html.append(html.substr(done, name - kOpen.size() - done));
      out.html += "<style>";
      out.html.append(bytes_of(*css));
      out.html += "</style>";
      done = at;
      if (!out.style_sources.empty()) out.style_sources += ' ';
      out.style_sources += "'sha256-" + std::string(css->sha256) + "'";
    }
    out.html.append(html.substr(done));
    return out;
  }();
  return page;
}

}  // namespace

const std::string& page_html() { return inlined_page().html; }

const std::string& page_style_sources() { return inlined_page().style_sources; }

std::string page_preload_link(std::string_view query) {
  auto params = parse_query(query);
  if (!params.ok()) return {};
  auto get = [&](std::string_view name) -> std::string_view {
    const std::string* v = first_param(*params, name);  // as URLSearchParams.get(): the first
    return v != nullptr ? std::string_view(*v) : std::string_view();
  };
  if (get("embed") == "1" && get("view") == "map") {
    // The map alone: map.js, its styles, scripts and shapes, and the level's latest date, by the
    // URLs map.js asks (its LEVELS, loadAtlas() and mapUrl()).
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
  auto first = first_page_location(*params);
  if (!first) return {};
  return "<api/v1/series?location=" + encode_uri_component(*first) +
         ">; rel=preload; as=fetch; crossorigin=anonymous";
}

void add_asset_routes(Router& router, SnapshotCache* cache) {
  for (size_t i = 0; i < kEmbeddedAssetCount; ++i) {
    const EmbeddedAsset& a = kEmbeddedAssets[i];
    std::string type = a.content_type;
    bool compressible = type.starts_with("text/") || type.starts_with("image/svg") ||
                        type.starts_with("application/json");
    bool page = std::string_view(a.path) == "/";
    // no-cache: browsers keep the file and ask again (a 304 when the binary has not changed).
    auto rep = Representation::make(type, page ? page_html() : std::string(bytes_of(a)), "no-cache",
                                    compressible ? 9 : 0);
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
    if (page) {
      // Inside the first chart's box: <div id="chart-total" ...>HERE</div>.
      size_t box = rep->identity.find("<div id=\"chart-total\"");
      size_t insert_at = box == std::string::npos ? box : rep->identity.find('>', box);
      if (insert_at != std::string::npos) ++insert_at;
      auto page_handler = [rep, cache, insert_at](const Request& req, Response& resp) {
        respond(req,
                cache != nullptr && insert_at != std::string::npos
                    ? page_with_first_chart(*cache, rep, insert_at, req.query)
                    : rep,
                resp);
        if (std::string link = page_preload_link(req.query); !link.empty())
          resp.headers.emplace_back("Link", std::move(link));
      };
      router.add("/", kGetHead, page_handler);
      router.add("/index.html", kGetHead, page_handler);
      continue;
    }
    router.add(a.path, kGetHead, handler);
  }
}

}  // namespace covid::serve
