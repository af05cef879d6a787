#include "extract/http_client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>

#include "common/libcurl.h"
#include "common/retry.h"
#include "common/secrets.h"

namespace covid {
namespace {

constexpr size_t kExcerpt = 200;

// The redirect policy's address check, called by libcurl before each request is sent
// (CURLOPT_PREREQFUNCTION, also on a reused connection) with the address connected to: the first
// request is the URL's own, each further one a redirect's.
struct AddressGuard {
  bool allow_private = false;
  int requests = 0;
  bool refused = false;
};

int on_prereq(void* user, char* primary_ip, char* /*local_ip*/, int /*primary_port*/,
              int /*local_port*/) {
  auto* g = static_cast<AddressGuard*>(user);
  if (g->requests++ == 0 || g->allow_private) return CURL_PREREQFUNC_OK;
  if (!is_private_address(primary_ip != nullptr ? primary_ip : "")) return CURL_PREREQFUNC_OK;
  g->refused = true;
  return CURL_PREREQFUNC_ABORT;
}

struct Transfer {
  const LibCurl* lib;
  CURL* curl;
  BodySink* sink;
  HttpResponse* response;
  uint64_t max_bytes;
  bool too_large = false;
};

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t n = size * count;
  long status = 0;
  t->lib->easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
  if (status != 200) {
    // Not the data: keep the start for the error message, ignore the rest.
    t->response->error_body_bytes += n;
    std::string& ex = t->response->body_excerpt;
    if (ex.size() < kExcerpt) ex.append(data, std::min(n, kExcerpt - ex.size()));
    return n;
  }
  if (t->response->body_bytes + n > t->max_bytes) {
    t->too_large = true;
    return 0;  // aborts the transfer with CURLE_WRITE_ERROR
  }
  if (t->response->body_bytes == 0) {
    curl_off_t total = -1;
    if (t->lib->easy_getinfo(t->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &total) == CURLE_OK &&
        total > 0)
      t->sink->expect(uint64_t(total));
  }
  t->response->body_bytes += n;
  t->sink->write(std::string_view(data, n));
  return n;
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.back() == '\r' || s.back() == '\n' || s.back() == ' '))
    s.remove_suffix(1);
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  return std::string(s);
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* r = static_cast<HttpResponse*>(user);
  size_t n = size * count;
  std::string_view line(data, n);
  if (line.starts_with("HTTP/")) {  // a new response (after a redirect or 100): start over
    r->etag.clear();
    r->last_modified.clear();
    r->content_type.clear();
    r->headers.clear();
    return n;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return n;
  std::string name(line.substr(0, colon));
  for (char& c : name) c = char(std::tolower(static_cast<unsigned char>(c)));
  std::string value = trim(line.substr(colon + 1));
  r->headers.emplace_back(name, value);
  // The validators and the type go into the run summary (JSON), the database and the next
  // request: a value that is not printable ASCII (obs-text, a broken server) is not kept. Without
  // validators the source is simply fetched in full the next time.
  bool text =
      std::all_of(value.begin(), value.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
  if (!text) return n;
  if (name == "etag")
    r->etag = value;
  else if (name == "last-modified")
    r->last_modified = value;
  else if (name == "content-type")
    r->content_type = value;
  return n;
}

}  // namespace

bool is_private_address(std::string_view address) {
  std::string text(address);
  if (text.size() > 2 && text.front() == '[' && text.back() == ']')
    text = text.substr(1, text.size() - 2);
  if (size_t zone = text.find('%'); zone != std::string::npos) text.resize(zone);  // fe80::1%eth0
  auto v4_private = [](const unsigned char* a) {
    return a[0] == 0 || a[0] == 10 || a[0] == 127 || (a[0] == 100 && (a[1] & 0xc0) == 64) ||
           (a[0] == 169 && a[1] == 254) || (a[0] == 172 && (a[1] & 0xf0) == 16) ||
           (a[0] == 192 && a[1] == 168) || (a[0] == 192 && a[1] == 0 && a[2] == 0) ||  // 192.0.0/24
           (a[0] == 198 && (a[1] & 0xfe) == 18) ||  // 198.18/15, benchmarking
           a[0] >= 224;                             // multicast, reserved, broadcast
  };
  unsigned char a[16];
  if (inet_pton(AF_INET, text.c_str(), a) == 1) return v4_private(a);
  if (inet_pton(AF_INET6, text.c_str(), a) != 1) return true;
  static constexpr unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  static constexpr unsigned char kNat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
  static constexpr unsigned char kZero[12] = {};
  if (std::memcmp(a, kMapped, 12) == 0 || std::memcmp(a, kNat64, 12) == 0)
    return v4_private(a + 12);
  if (std::memcmp(a, kZero, 12) == 0) return true;  // ::, ::1 and the old IPv4-compatible forms
  if ((a[0] & 0xfe) == 0xfc) return true;           // fc00::/7, unique local
  if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) return true;  // fe80::/10, link-local
  if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0) return true;  // fec0::/10, old site-local
  if (a[0] == 0xff) return true;                           // multicast
  if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8) return true;  // 2001:db8::/32
  return false;
}

CurlHttpClient::CurlHttpClient() = default;

CurlHttpClient::~CurlHttpClient() {
  if (curl_ != nullptr) lib_->easy_cleanup(static_cast<CURL*>(curl_));
}

HttpResult CurlHttpClient::read_file(const HttpRequest& request, BodySink& sink) {
  HttpResult result;
  int fd = ::open(request.url.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    result.status = Status::Extract("cannot open " + request.url + ": " + std::strerror(errno));
    return result;
  }
  if (struct stat st; ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
    sink.expect(uint64_t(st.st_size));
  constexpr size_t kBuffer = size_t{1} << 20;
  auto buffer = std::make_unique_for_overwrite<char[]>(kBuffer);
  for (;;) {
    ssize_t n = ::read(fd, buffer.get(), kBuffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      result.status = Status::Extract("cannot read " + request.url + ": " + std::strerror(errno));
      break;
    }
    if (n == 0) break;
    if (result.response.body_bytes + uint64_t(n) > request.max_bytes) {
      result.status = Status::Extract(request.url + " is larger than the size limit of " +
                                      std::to_string(request.max_bytes) + " bytes");
      break;
    }
    result.response.body_bytes += uint64_t(n);
    sink.write(std::string_view(buffer.get(), size_t(n)));
  }
  ::close(fd);
  result.response.status = 200;
  return result;
}

HttpResult CurlHttpClient::get(const HttpRequest& request, BodySink& sink) {
  if (!has_scheme(request.url)) return read_file(request, sink);
  HttpResult result;
  if (lib_ == nullptr) {
    std::string error;
    lib_ = LibCurl::get(&error);
    if (lib_ == nullptr) {
      result.status = Status::Extract(error);
      return result;
    }
    curl_ = lib_->easy_init();
  }
  CURL* curl = static_cast<CURL*>(curl_);
  if (curl == nullptr) {
    result.status = Status::Extract("libcurl could not create a handle");
    return result;
  }
  const LibCurl& lib = *lib_;
  lib.easy_reset(curl);
  Transfer transfer{lib_, curl, &sink, &result.response, request.max_bytes};
  curl_slist* headers = nullptr;
  for (const std::string& h : request.headers) headers = lib.slist_append(headers, h.c_str());

  lib.easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  lib.easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https,file");
  // The redirect policy (see the header): https only, or http too when the URL was http; at most
  // 5; each hop's address checked.
  std::string scheme = request.url.substr(0, request.url.find(':'));
  for (char& c : scheme) c = char(std::tolower(static_cast<unsigned char>(c)));
  bool https = scheme == "https";
  lib.easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, https ? "https" : "http,https");
  AddressGuard guard;
  guard.allow_private = request.allow_private_targets;
  bool guarded = lib.easy_setopt(curl, CURLOPT_PREREQFUNCTION, on_prereq) == CURLE_OK &&
                 lib.easy_setopt(curl, CURLOPT_PREREQDATA, &guard) == CURLE_OK;
  // A libcurl older than 7.80 cannot check each hop's address: then no redirect is followed
  // unless private targets are allowed anyway.
  if (!guarded && !request.allow_private_targets) lib.easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  lib.easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
  lib.easy_setopt(curl, CURLOPT_MAXREDIRS, 5L);
  lib.easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  lib.easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  lib.easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");  // every encoding curl was built with
  lib.easy_setopt(curl, CURLOPT_USERAGENT, "covid-etl/0.1 (+https://github.com/covid-etl)");
  lib.easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  lib.easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, long(request.connect_timeout.count()));
  lib.easy_setopt(curl, CURLOPT_TIMEOUT_MS, long(request.timeout.count()));
  lib.easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(request.max_bytes));
  lib.easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  lib.easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  lib.easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
  lib.easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  lib.easy_setopt(curl, CURLOPT_HEADERDATA, &result.response);
  // curl's own account of a failure ("Operation timed out after 1000 milliseconds with 5 out of
  // 9000 bytes received", "Recv failure: Connection reset by peer"): what easy_strerror says
  // only in general terms.
  char detail[CURL_ERROR_SIZE] = "";
  lib.easy_setopt(curl, CURLOPT_ERRORBUFFER, detail);

  CURLcode code = lib.easy_perform(curl);
  lib.easy_setopt(curl, CURLOPT_ERRORBUFFER, static_cast<char*>(nullptr));
  lib.easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &result.response.status);
  lib.slist_free_all(headers);
  if (request.url.starts_with("file://") && code == CURLE_OK) result.response.status = 200;

  if (guard.refused) {
    result.status =
        Status::Extract(redact_url(request.url) +
                        ": redirected to a loopback, link-local or private address; not followed "
                        "([extract] allow_private_targets = true allows it)");
  } else if (transfer.too_large || code == CURLE_FILESIZE_EXCEEDED) {
    result.status =
        Status::Extract(redact_url(request.url) + ": the body is larger than the size limit of " +
                        std::to_string(request.max_bytes) + " bytes");
  } else if (code != CURLE_OK) {
    std::string message = redact_url(request.url) + ": " + lib.easy_strerror(code);
    std::string_view more(detail);
    while (!more.empty() && (more.back() == '\n' || more.back() == ' ')) more.remove_suffix(1);
    if (!more.empty() && more != lib.easy_strerror(code)) message += " (" + std::string(more) + ")";
    result.status = Status::Extract(scrub(message));  // curl's text may quote a redirect's URL
    result.transient = is_retriable_curl_code(code);
  }
  return result;
}

}  // namespace covid
