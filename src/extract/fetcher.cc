#include "extract/fetcher.h"

#include <openssl/evp.h>

#include <algorithm>
#include <memory>
#include <random>

namespace covid {
namespace {

// Passes the body on to the sink while hashing it.
class HashingSink final : public BodySink {
 public:
  explicit HashingSink(SourceSink& next) : next_(next), ctx_(EVP_MD_CTX_new(), EVP_MD_CTX_free) {
    EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr);
  }
  void write(std::string_view bytes) override {
    EVP_DigestUpdate(ctx_.get(), bytes.data(), bytes.size());
    next_.write(bytes);
  }
  std::string hex_digest() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_DigestFinal_ex(ctx_.get(), md, &n);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string s;
    for (unsigned i = 0; i < n; ++i) {
      s += kHex[md[i] >> 4];
      s += kHex[md[i] & 15];
    }
    return s;
  }

 private:
  SourceSink& next_;
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx_;
};

bool transient_status(long status) { return status == 429 || (status >= 500 && status <= 599); }

std::string excerpt(const std::string& body) {
  std::string s;
  for (char c : body) s += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
  if (s.size() > 120) s = s.substr(0, 120) + "...";
  return s;
}

}  // namespace

Fetcher::Fetcher(HttpClient& http, const Clock& clock, FetchOptions options,
                 std::function<double()> jitter)
    : http_(http), clock_(clock), options_(options), jitter_(std::move(jitter)) {
  if (!jitter_) {
    jitter_ = [rng = std::mt19937_64(std::random_device{}()),
               dist = std::uniform_real_distribution<double>(0.5, 1.5)]() mutable { return dist(rng); };
  }
}

std::chrono::milliseconds Fetcher::backoff(int attempt) const {
  auto wait = options_.backoff_base * (int64_t{1} << std::min(attempt - 1, 20));
  return std::min(wait, options_.backoff_max);
}

Result<FetchResult> Fetcher::fetch(const std::string& url, const SourceValidators& validators,
                                   SourceSink& sink) {
  HttpRequest request;
  request.url = url;
  request.connect_timeout = options_.connect_timeout;
  request.timeout = options_.timeout;
  request.max_bytes = options_.max_bytes;
  if (has_scheme(url) && !url.starts_with("file:")) {
    if (!validators.etag.empty()) request.headers.push_back("If-None-Match: " + validators.etag);
    if (!validators.last_modified.empty()) {
      request.headers.push_back("If-Modified-Since: " + validators.last_modified);
    }
  }

  const std::string shown = redact_url(url);
  Status last;
  for (int attempt = 1;; ++attempt) {
    if (attempt > 1) {
      auto wait = std::chrono::milliseconds(int64_t(double(backoff(attempt - 1).count()) * jitter_()));
      clock_.sleep_for(wait);
    }
    sink.restart();
    HashingSink hashing(sink);
    HttpResult r = http_.get(request, hashing);
    bool transient = false;
    if (!r.status.ok()) {
      last = r.status;
      transient = r.transient;
    } else if (r.response.status == 200) {
      FetchResult out;
      out.http_status = 200;
      out.etag = r.response.etag;
      out.last_modified = r.response.last_modified;
      out.bytes = r.response.body_bytes;
      out.sha256 = hashing.hex_digest();
      out.attempts = attempt;
      return out;
    } else if (r.response.status == 304) {
      FetchResult out;
      out.not_modified = true;
      out.http_status = 304;
      out.etag = r.response.etag.empty() ? validators.etag : r.response.etag;
      out.last_modified =
          r.response.last_modified.empty() ? validators.last_modified : r.response.last_modified;
      out.attempts = attempt;
      return out;
    } else {
      std::string msg = shown + ": HTTP " + std::to_string(r.response.status);
      if (!r.response.body_excerpt.empty()) msg += " (" + excerpt(r.response.body_excerpt) + ")";
      last = Status::Extract(msg);
      transient = transient_status(r.response.status);
    }
    if (!transient || attempt > options_.retries) {
      std::string msg = last.message();
      if (attempt > 1) msg += " (after " + std::to_string(attempt) + " attempts)";
      return Status::Extract(msg);
    }
  }
}

}  // namespace covid
