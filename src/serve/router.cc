#include "serve/router.h"

#include <nlohmann/json.hpp>

namespace covid::serve {
namespace {

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> out;
  if (path.empty() || path[0] != '/') return out;
  path.remove_prefix(1);
  while (true) {
    size_t slash = path.find('/');
    out.emplace_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

bool param_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.';
}

std::string allow_header(MethodSet m) {
  static constexpr std::pair<Method, const char*> kNames[] = {
      {Method::kGet, "GET"},        {Method::kHead, "HEAD"},     {Method::kPost, "POST"},
      {Method::kPut, "PUT"},        {Method::kDelete, "DELETE"}, {Method::kPatch, "PATCH"},
      {Method::kOptions, "OPTIONS"}};
  std::string out;
  for (const auto& [method, name] : kNames) {
    if (m & method_bit(method)) {
      if (!out.empty()) out += ", ";
      out += name;
    }
  }
  return out;
}

}  // namespace

void Router::add(std::string path, MethodSet methods, Handler handler) {
  if (methods & method_bit(Method::kGet)) methods |= method_bit(Method::kHead);
  Route r;
  r.segments = split_path(path);
  r.methods = methods;
  r.handler = std::move(handler);
  r.metrics_id = metrics_.add_route(std::move(path));
  routes_.push_back(std::move(r));
}

bool Router::match(const Route& r, std::string_view path, Request* req) const {
  if (path.empty() || path[0] != '/') return false;
  std::string_view rest = path.substr(1);
  req->path_params.clear();
  for (size_t i = 0; i < r.segments.size(); ++i) {
    size_t slash = rest.find('/');
    bool last = i + 1 == r.segments.size();
    if (last != (slash == std::string_view::npos)) return false;
    std::string_view seg = rest.substr(0, slash);
    const std::string& want = r.segments[i];
    if (want.size() > 2 && want.front() == '{' && want.back() == '}') {
      // A dot-segment names no resource (RFC 3986 3.3): "/api/v1/runs/.." is an unknown path.
      if (seg.empty() || seg == "." || seg == "..") return false;
      for (char c : seg) {
        if (!param_char(c)) return false;
      }
      req->path_params.emplace_back(std::string_view(want).substr(1, want.size() - 2), seg);
    } else if (seg != want) {
      return false;
    }
    if (!last) rest.remove_prefix(slash + 1);
  }
  return true;
}

void Router::dispatch(Request& req, Response& resp) const {
  MethodSet allowed = 0;
  for (const Route& r : routes_) {
    if (!match(r, req.path, &req)) continue;
    if (r.methods & method_bit(req.method)) {
      resp.route = r.metrics_id;
      r.handler(req, resp);
      // Cross-origin reads of the API (CORS): any origin may read what a GET answers; the run
      // trigger (POST) and the other methods never say so.
      if ((req.method == Method::kGet || req.method == Method::kHead) &&
          (req.path == "/api/v1" || req.path.starts_with("/api/v1/"))) {
        resp.headers.emplace_back("Access-Control-Allow-Origin", "*");
      }
      return;
    }
    allowed |= r.methods;
    resp.route = r.metrics_id;
  }
  if (allowed != 0) {
    error_response(
        resp, 405,
        std::string(req.method_text) + " is not allowed here; use " + allow_header(allowed));
    resp.headers.emplace_back("Allow", allow_header(allowed));
    return;
  }
  resp.route = ServerMetrics::kUnmatched;
  error_response(resp, 404, "no such path");
}

void error_response(Response& resp, int status, std::string_view message) {
  std::string code;
  switch (status) {
    case 400:
      code = "bad_request";
      break;
    case 401:
      code = "unauthorized";
      break;
    case 404:
      code = "not_found";
      break;
    case 405:
      code = "method_not_allowed";
      break;
    case 409:
      code = "conflict";
      break;
    case 413:
      code = "content_too_large";
      break;
    case 414:
      code = "uri_too_long";
      break;
    case 429:
      code = "too_many_requests";
      break;
    case 431:
      code = "header_fields_too_large";
      break;
    case 503:
      code = "unavailable";
      break;
    default:
      code = status >= 500 ? "internal_error" : "error";
      break;
  }
  nlohmann::json j = {{"status", status}, {"error", code}, {"message", std::string(message)}};
  resp.status = status;
  resp.etag = {};
  resp.content_encoding = {};
  resp.vary_accept_encoding = false;
  resp.keep.reset();
  resp.set_body(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n",
                "application/json");
  resp.cache_control = "no-store";
}

}  // namespace covid::serve
