#include "serve/representation.h"

#include <xxhash.h>
#include <zlib.h>

#include <cstdio>

namespace covid::serve {
namespace {

constexpr size_t kMinGzipBytes = 256;  // below this, gzip saves nothing worth a header

std::string quoted_hash(std::string_view data, const char* suffix) {
  char buf[40];
  int n = std::snprintf(buf, sizeof buf, "\"%016llx%s\"",
                        (unsigned long long)XXH3_64bits(data.data(), data.size()), suffix);
  return std::string(buf, size_t(n));
}

}  // namespace

std::string gzip_compress(std::string_view data, int level) {
  z_stream z{};
  // windowBits 15 + 16: a gzip header and trailer instead of zlib's.
  if (deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return {};
  std::string out;
  out.resize(deflateBound(&z, uLong(data.size())) + 32);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = uInt(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = uInt(out.size());
  int rc = deflate(&z, Z_FINISH);
  size_t written = out.size() - z.avail_out;
  deflateEnd(&z);
  if (rc != Z_STREAM_END) return {};
  out.resize(written);
  return out;
}

std::shared_ptr<const Representation> Representation::make(
    std::string content_type, std::string body, std::string cache_control, int gzip_level,
    std::vector<std::pair<std::string, std::string>> headers) {
  auto rep = std::make_shared<Representation>();
  rep->content_type = std::move(content_type);
  rep->cache_control = std::move(cache_control);
  rep->identity = std::move(body);
  rep->headers = std::move(headers);
  rep->etag = quoted_hash(rep->identity, "");
  if (gzip_level > 0 && rep->identity.size() >= kMinGzipBytes) {
    std::string z = gzip_compress(rep->identity, gzip_level);
    if (!z.empty() && z.size() < rep->identity.size()) {
      rep->gzip = std::move(z);
      rep->etag_gzip = quoted_hash(rep->identity, "-gz");
    }
  }
  return rep;
}

void respond(const Request& req, const std::shared_ptr<const Representation>& rep, Response& resp) {
  bool gz = !rep->gzip.empty() && accepts_gzip(req.header("accept-encoding"));
  resp.keep = rep;
  resp.content_type = rep->content_type;
  resp.cache_control = rep->cache_control;
  resp.vary_accept_encoding = !rep->gzip.empty();
  resp.etag = gz ? rep->etag_gzip : rep->etag;
  for (const auto& h : rep->headers) resp.headers.push_back(h);
  if (etag_matches(req.header("if-none-match"), rep->etag, rep->etag_gzip)) {
    resp.status = 304;
    resp.body = {};
    return;
  }
  resp.status = 200;
  resp.body = gz ? std::string_view(rep->gzip) : std::string_view(rep->identity);
  resp.content_encoding = gz ? "gzip" : "";
}

}  // namespace covid::serve
