#include "common/curl_call.h"

#include <algorithm>
#include <cstring>

#include "common/libcurl.h"
#include "common/retry.h"
#include "common/secrets.h"

namespace covid {
namespace {

struct Upload {
  const std::string* data;
  size_t at = 0;
};

size_t read_body(char* buffer, size_t size, size_t count, void* user) {
  auto* u = static_cast<Upload*>(user);
  size_t n = std::min(size * count, u->data->size() - u->at);
  std::memcpy(buffer, u->data->data() + u->at, n);
  u->at += n;
  return n;
}

struct Response {
  std::string* text;
  size_t limit;
};

size_t keep_response(char* data, size_t size, size_t count, void* user) {
  auto* r = static_cast<Response*>(user);
  size_t n = size * count;
  if (r->text->size() < r->limit) r->text->append(data, std::min(n, r->limit - r->text->size()));
  return n;
}

size_t keep_header(char* data, size_t size, size_t count, void* user) {
  auto* lines = static_cast<std::vector<std::string>*>(user);
  std::string line(data, size * count);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  // A new status line (a redirect or a 100 Continue before the answer) starts the list again.
  if (line.starts_with("HTTP/")) lines->clear();
  if (!line.empty() && lines->size() < 200) lines->push_back(std::move(line));
  return size * count;
}

// One call on a handle that has just been created or reset.
CurlOutcome perform_on(const LibCurl* lib, CURL* curl, const CurlCall& call) {
  CurlOutcome out;
  curl_slist* headers = nullptr;
  for (const std::string& h : call.headers) headers = lib->slist_append(headers, h.c_str());
  curl_slist* rcpt = nullptr;
  for (const std::string& r : call.mail_rcpt) rcpt = lib->slist_append(rcpt, r.c_str());
  Upload upload{&call.body};

  lib->easy_setopt(curl, CURLOPT_URL, call.url.c_str());
  lib->easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  lib->easy_setopt(curl, CURLOPT_TIMEOUT_MS, long(call.timeout.count()));
  lib->easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   long(std::min<int64_t>(call.timeout.count(), 10'000)));
  lib->easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  lib->easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!call.ca_file.empty()) lib->easy_setopt(curl, CURLOPT_CAINFO, call.ca_file.c_str());
  Response response{&out.response, call.response_limit};
  lib->easy_setopt(curl, CURLOPT_WRITEFUNCTION, keep_response);
  lib->easy_setopt(curl, CURLOPT_WRITEDATA, &response);
  if (!call.username.empty()) lib->easy_setopt(curl, CURLOPT_USERNAME, call.username.c_str());
  if (!call.password.empty()) lib->easy_setopt(curl, CURLOPT_PASSWORD, call.password.c_str());
  if (call.smtp) {
    lib->easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    lib->easy_setopt(curl, CURLOPT_MAIL_FROM, call.mail_from.c_str());
    lib->easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
    lib->easy_setopt(curl, CURLOPT_USE_SSL,
                     long(call.require_tls ? CURLUSESSL_ALL : CURLUSESSL_NONE));
    lib->easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    lib->easy_setopt(curl, CURLOPT_READFUNCTION, read_body);
    lib->easy_setopt(curl, CURLOPT_READDATA, &upload);
    lib->easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, curl_off_t(call.body.size()));
  } else {
    lib->easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    lib->easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    if (call.method == "GET") {
      lib->easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    } else if (call.method == "DELETE") {
      lib->easy_setopt(curl, CURLOPT_CUSTOMREQUEST, "DELETE");
    } else {
      // POST, or PUT: the body as POST fields (which libcurl's SigV4 signing hashes), sent with
      // the method's name.
      lib->easy_setopt(curl, CURLOPT_POSTFIELDS, call.body.c_str());
      lib->easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(call.body.size()));
      if (!call.method.empty() && call.method != "POST")
        lib->easy_setopt(curl, CURLOPT_CUSTOMREQUEST, call.method.c_str());
    }
    if (call.keep_headers) {
      lib->easy_setopt(curl, CURLOPT_HEADERFUNCTION, keep_header);
      lib->easy_setopt(curl, CURLOPT_HEADERDATA, &out.headers);
    }
    if (!call.aws_sigv4.empty()) lib->easy_setopt(curl, CURLOPT_AWS_SIGV4, call.aws_sigv4.c_str());
  }
  CURLcode code = lib->easy_perform(curl);
  lib->easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out.code);
  if (code != CURLE_OK) {
    out.status = Status::Extract(scrub(lib->easy_strerror(code)));
    out.transient = is_retriable_curl_code(code);
  }
  lib->slist_free_all(headers);
  lib->slist_free_all(rcpt);
  return out;
}

const LibCurl* load(CurlOutcome* out) {
  std::string error;
  const LibCurl* lib = LibCurl::get(&error);
  if (lib == nullptr) out->status = Status::Extract(error);
  return lib;
}

}  // namespace

CurlOutcome perform(const CurlCall& call) {
  CurlSession session;
  return session.perform(call);
}

CurlSession::~CurlSession() {
  if (curl_ == nullptr) return;
  std::string error;
  if (const LibCurl* lib = LibCurl::get(&error)) lib->easy_cleanup(curl_);
}

CurlOutcome CurlSession::perform(const CurlCall& call) {
  CurlOutcome out;
  const LibCurl* lib = load(&out);
  if (lib == nullptr) return out;
  if (curl_ == nullptr) {
    curl_ = lib->easy_init();
    if (curl_ == nullptr) {
      out.status = Status::Internal("libcurl could not create a handle");
      return out;
    }
  } else {
    lib->easy_reset(curl_);  // the options go; the connection cache stays
  }
  return perform_on(lib, curl_, call);
}

}  // namespace covid
