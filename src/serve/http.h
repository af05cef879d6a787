// Request and Response: the server's view of one HTTP exchange, independent of Boost.Beast, so
// the router and the API handlers compile without it.
//
// A Request holds views into the server's buffers: valid only during the handler call. A Response
// owns (through `keep`) whatever its body and ETag views point into, so precomputed bodies are
// sent without a copy. Query parsing is strict: a malformed percent-escape is an error.
// Plain values; not thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace covid::serve {

enum class Method { kGet, kHead, kPost, kPut, kDelete, kPatch, kOptions, kOther };

struct Request {
  Method method = Method::kOther;
  std::string_view method_text;
  std::string_view target;  // as received: path and query
  std::string_view path;    // the target up to '?', not decoded
  std::string_view query;   // after '?', not decoded
  std::vector<std::pair<std::string_view, std::string_view>> headers;
  std::string_view body;
  // The client, as the server counts connections per client: its IPv4 address ("192.0.2.7"), or
  // the /64 prefix of its IPv6 address ("2001:db8:1:2::/64"). Empty when not known.
  std::string_view client;
  // Values of {name} segments of the route that matched, in order.
  std::vector<std::pair<std::string_view, std::string_view>> path_params;

  // The first header of that name (case-insensitive), or empty.
  std::string_view header(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string_view content_type;
  std::string_view body;
  std::string_view etag;              // quoted, or empty
  std::string_view cache_control;     // empty: none
  std::string_view content_encoding;  // "gzip" or empty
  bool vary_accept_encoding = false;
  std::vector<std::pair<std::string, std::string>>
      headers;                       // more fields: Allow, Content-Disposition
  std::shared_ptr<const void> keep;  // owns what body and etag point into
  std::string owned;                 // or the body is here (set body with set_body())
  size_t route = 0;                  // the metrics route id (set by the router)

  void set_body(std::string text, std::string_view type);
};

// Splits a request target at its first '?' into the path and the query (both as received, not
// decoded; the query is empty when there is no '?'). path + "?" + query is the target again.
void split_target(std::string_view target, std::string_view* path, std::string_view* query);

// Decoded query parameters in order of appearance; duplicates kept.
using QueryParams = std::vector<std::pair<std::string, std::string>>;

// Splits a query string on '&' and '=' and decodes %XX and '+'. Empty pieces are skipped.
// A bad escape (%G1, a lone %) is an error naming the parameter.
Result<QueryParams> parse_query(std::string_view query);
// The value of the first parameter called `name` (URLSearchParams.get()); nullptr without one.
const std::string* first_param(const QueryParams& params, std::string_view name);

// The reason phrase of a status code ("OK", "Not Found"); "Unknown" for others.
std::string_view reason_phrase(int status);

// Whether the Accept-Encoding value allows gzip (gzip or * with a q above 0).
bool accepts_gzip(std::string_view accept_encoding);

// Whether an If-None-Match value matches one of the given quoted ETags (weak comparison; "*"
// matches anything).
bool etag_matches(std::string_view if_none_match, std::string_view etag,
                  std::string_view etag2 = {});

}  // namespace covid::serve
