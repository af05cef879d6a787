// HttpClient: one GET of a URL, with the body streamed to a BodySink as it arrives.
//
// The interface exists so the fetcher's retry logic can be tested with injected faults; the real
// implementation, CurlHttpClient, speaks http://, https:// and file:// through libcurl (loaded on
// first use, see common/libcurl.h), verifies
// TLS, accepts gzip/deflate and aborts a body larger than the request's max_bytes. Plain paths
// (no scheme) are read straight from the file system. A CurlHttpClient is not thread-safe; use
// one per thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace covid {

struct LibCurl;

class BodySink {
 public:
  virtual ~BodySink() = default;
  virtual void write(std::string_view bytes) = 0;
};

struct HttpRequest {
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds timeout{300'000};  // the whole transfer
  uint64_t max_bytes = uint64_t{1} << 30;
};

struct HttpResponse {
  long status = 0;  // HTTP status; 200 for a file that was read
  std::string etag, last_modified, content_type;
  std::vector<std::pair<std::string, std::string>> headers;  // all of them, names in lower case
  uint64_t body_bytes = 0;  // bytes handed to the sink (only a 200 body reaches the sink)
  std::string body_excerpt;  // the start of a non-200 body, for error messages
};

// The outcome of one attempt. status is ok when a whole response arrived, whatever its HTTP
// status; otherwise `transient` says whether trying again may succeed.
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
  const LibCurl* lib_ = nullptr;       // loaded on the first URL with a scheme
  void* curl_ = nullptr;                 // CURL*, reused across requests for connection reuse
};

// The URL with any user:password@ replaced by ***@, for messages and records.
std::string redact_url(std::string_view url);

// True for URLs with a scheme (http://, https://, file://); false for plain paths.
bool has_scheme(std::string_view url);

}  // namespace covid
