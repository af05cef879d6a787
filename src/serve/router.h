// Router: maps a request's method and path to a handler, and answers what no handler takes:
// 404 for an unknown path, 405 (with Allow) for a known path asked with another method. HEAD is
// answered by the GET handler (the server sends no body).
//
// A route's path is literal segments and {name} segments that match one non-empty segment of
// letters, digits, '-', '_' or '.', other than "." and ".." (e.g. /api/v1/runs/{id}); the values
// reach the handler in Request::path_params. Paths are compared as received, without decoding,
// so an encoded path ("/%61pi", "/..%2f") never matches a route: nothing from a request reaches
// the file system.
//
// Routes are added before serving (add() is not thread-safe); dispatch() is const and may be
// called from any number of threads at once.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "serve/http.h"
#include "serve/metrics.h"

namespace covid::serve {

// A set of methods, as bits of Method.
using MethodSet = unsigned;
constexpr MethodSet method_bit(Method m) { return 1u << unsigned(m); }
inline constexpr MethodSet kGetHead = method_bit(Method::kGet) | method_bit(Method::kHead);

class Router {
 public:
  using Handler = std::function<void(const Request&, Response&)>;

  explicit Router(ServerMetrics& metrics) : metrics_(metrics) {}

  // Registers handler for these methods on path. The path also names the route in /metrics.
  void add(std::string path, MethodSet methods, Handler handler);

  // Fills resp for req (the router sets resp.route for the metrics).
  void dispatch(Request& req, Response& resp) const;

 private:
  struct Route {
    std::vector<std::string> segments;  // "{name}" for a parameter
    MethodSet methods = 0;
    Handler handler;
    size_t metrics_id = 0;
  };
  bool match(const Route& r, std::string_view path, Request* req) const;

  ServerMetrics& metrics_;
  std::vector<Route> routes_;
};

// Writes a JSON error body {"status":..,"error":"..","message":".."} into resp, uncached.
void error_response(Response& resp, int status, std::string_view message);

}  // namespace covid::serve
