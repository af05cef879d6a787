// Representation: one response body computed once and served many times from memory: the
// identity bytes, their gzip form when it is smaller, strong ETags for both, and the fields
// that go with them. respond() picks the encoding from Accept-Encoding and answers 304 when
// If-None-Match matches.
//
// Immutable once made; shared between threads through shared_ptr<const Representation>.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "serve/http.h"

namespace covid::serve {

// gzip (RFC 1952) of data at the given zlib level; empty on a zlib failure.
std::string gzip_compress(std::string_view data, int level);

struct Representation {
  std::string content_type;
  std::string cache_control;
  std::string identity;
  std::string gzip;             // empty: not worth compressing
  std::string etag, etag_gzip;  // quoted; the ETag is a hash of the identity bytes
  std::vector<std::pair<std::string, std::string>> headers;  // e.g. Content-Disposition

  // Computes the ETags and, for compressible bodies of some size, the gzip form (level 9 when
  // precomputing per data version, lower for responses made on demand).
  static std::shared_ptr<const Representation> make(
      std::string content_type, std::string body, std::string cache_control, int gzip_level = 9,
      std::vector<std::pair<std::string, std::string>> headers = {});
};

// Fills resp from rep for req: 304 with no body when If-None-Match matches, gzip when the client
// accepts it, with ETag, Cache-Control and Vary.
void respond(const Request& req, const std::shared_ptr<const Representation>& rep, Response& resp);

}  // namespace covid::serve
