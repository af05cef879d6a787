// HttpClient: one GET of a URL, with the body streamed to a BodySink as it arrives.
//
// The interface exists so the fetcher's retry logic can be tested with injected faults; the real
// implementation, CurlHttpClient, speaks http://, https:// and file:// through libcurl (loaded on
// first use, see common/libcurl.h), verifies
// TLS, accepts gzip/deflate and aborts a body larger than the request's max_bytes.
//
// Redirects (at most 5) are followed only to https, or to http when the URL given was http; never
// to another scheme (file://, ftp://, ...). A redirect to a loopback, link-local, private or
// otherwise non-public address (is_private_address) is refused, before its request is sent,
// unless the request allows private targets; the address checked is the one connected to, on
// every hop, so a name that resolves differently the second time gets nowhere. The URL itself may
// be anywhere (it is what the user configured: a server on 127.0.0.1 works). Plain paths
// (no scheme) are read straight from the file system. A CurlHttpClient is not thread-safe; use
// one per thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/redact_url.h"  // redact_url, has_scheme: here before they moved down
#include "common/status.h"

namespace covid {

struct LibCurl;

class BodySink {
 public:
  virtual ~BodySink() = default;
  virtual void write(std::string_view bytes) = 0;
  // The body's size, when the client knows it (a file's size, a Content-Length), before its
  // first byte; for progress only (a compressed body's Content-Length is smaller than what
  // write() gets). By default ignored.
  virtual void expect(uint64_t total) { (void)total; }
};

struct HttpRequest {
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds timeout{300'000};  // the whole transfer
  uint64_t max_bytes = uint64_t{1} << 30;
  bool allow_private_targets = false;  // follow redirects to non-public addresses
};

struct HttpResponse {
  long status = 0;  // HTTP status; 200 for a file that was read
  std::string etag, last_modified, content_type;
  std::vector<std::pair<std::string, std::string>> headers;  // all of them, names in lower case
  uint64_t body_bytes = 0;  // bytes handed to the sink (only a 200 body reaches the sink)
  std::string
      body_excerpt;  // the start of a non-200 body: for a local debug log only, never for messages
  uint64_t error_body_bytes = 0;  // the size of a non-200 body
};

// The outcome of one attempt. status is ok when a whole response arrived, whatever its HTTP
// status; otherwise `transient` says whether trying again may succeed (common/retry.h's list of
// retriable libcurl failures).
struct HttpResult {
  Status status;
  bool transient = false;
  HttpResponse response;
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  virtual HttpResult get(const HttpRequest& request, BodySink& sink) = 0;
};

class CurlHttpClient final : public HttpClient {
 public:
  CurlHttpClient();
  ~CurlHttpClient() override;
  CurlHttpClient(const CurlHttpClient&) = delete;
  CurlHttpClient& operator=(const CurlHttpClient&) = delete;

  HttpResult get(const HttpRequest& request, BodySink& sink) override;

 private:
  HttpResult read_file(const HttpRequest& request, BodySink& sink);
  const LibCurl* lib_ = nullptr;  // loaded on the first URL with a scheme
  void* curl_ = nullptr;          // CURL*, reused across requests for connection reuse
};

// True for an address (IPv4 or IPv6 text, as libcurl reports the one connected to) that is not a
// public one: loopback (127/8, ::1), private (10/8, 172.16/12, 192.168/16, fc00::/7), link-local
// (169.254/16, fe80::/10), shared CGNAT (100.64/10), 0/8 and ::, multicast and reserved ranges,
// and the IPv4-mapped (::ffff:a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) forms of those. Text that is
// not an address counts as private.
bool is_private_address(std::string_view address);

}  // namespace covid
