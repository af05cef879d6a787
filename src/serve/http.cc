#include "serve/http.h"

#include <cctype>

#include "common/percent.h"

namespace covid::serve {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Calls f(item) for each comma-separated, trimmed, non-empty item.
template <typename F>
void for_each_item(std::string_view list, F f) {
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view item = trim(list.substr(0, comma));
    if (!item.empty()) f(item);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
}

}  // namespace

std::string_view Request::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (iequals(k, name)) return v;
  }
  return {};
}

void Response::set_body(std::string text, std::string_view type) {
  owned = std::move(text);
  body = owned;
  content_type = type;
}

void split_target(std::string_view target, std::string_view* path, std::string_view* query) {
  size_t q = target.find('?');
  *path = target.substr(0, q);
  *query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
}

Result<QueryParams> parse_query(std::string_view query) {
  return parse_query_string(query, /*plus_is_space=*/true);
}

const std::string* first_param(const QueryParams& params, std::string_view name) {
  for (const auto& [k, v] : params)
    if (k == name) return &v;
  return nullptr;
}

std::string_view reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 301:
      return "Moved Permanently";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
  }
  return "Unknown";
}

bool accepts_gzip(std::string_view accept_encoding) {
  // gzip;q=0 refuses gzip even when * allows everything else.
  int gzip = -1, star = -1;  // -1: not named; 0: refused; 1: accepted
  for_each_item(accept_encoding, [&](std::string_view item) {
    size_t semi = item.find(';');
    std::string_view coding = trim(item.substr(0, semi));
    bool allowed = true;
    if (semi != std::string_view::npos) {
      std::string_view params = item.substr(semi + 1);
      while (!params.empty()) {
        size_t next = params.find(';');
        std::string_view p = trim(params.substr(0, next));
        if (p.size() >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
          std::string_view q = trim(p.substr(2));
          // q=0, q=0.0, q=0.00, q=0.000: refused.
          bool zero = !q.empty() && q[0] == '0';
          for (size_t i = 1; zero && i < q.size(); ++i) zero = (i == 1 ? q[i] == '.' : q[i] == '0');
          allowed = !zero;
        }
        if (next == std::string_view::npos) break;
        params.remove_prefix(next + 1);
      }
    }
    if (iequals(coding, "gzip") || iequals(coding, "x-gzip"))
      gzip = allowed ? 1 : 0;
    else if (coding == "*")
      star = allowed ? 1 : 0;
  });
  if (gzip >= 0) return gzip == 1;
  return star == 1;
}

bool etag_matches(std::string_view if_none_match, std::string_view etag, std::string_view etag2) {
  if (if_none_match.empty() || etag.empty()) return false;
  bool match = false;
  for_each_item(if_none_match, [&](std::string_view tag) {
    if (tag == "*") match = true;
    if (tag.size() > 2 && tag[0] == 'W' && tag[1] == '/') tag.remove_prefix(2);
    if (tag == etag || (!etag2.empty() && tag == etag2)) match = true;
  });
  return match;
}

}  // namespace covid::serve
