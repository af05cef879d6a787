#include "extract/fetcher.h"

#include <xxhash.h>

#include <algorithm>
#include <cstdio>
#include <memory>

#include "common/secrets.h"

namespace covid {
namespace {

// Passes the body on to the sink while hashing it with XXH3-128 (change detection, not
// security: fast enough to cost nothing beside parsing).
class HashingSink final : public BodySink {
 public:
  // `next`: where the body goes on to; nullptr: nowhere (only its hash is wanted).
  explicit HashingSink(SourceSink* next) : next_(next), state_(XXH3_createState(), XXH3_freeState) {
    XXH3_128bits_reset(state_.get());
  }
  void write(std::string_view bytes) override {
    XXH3_128bits_update(state_.get(), bytes.data(), bytes.size());
    if (next_ != nullptr) next_->write(bytes);
  }
  void expect(uint64_t total) override {
    if (next_ != nullptr) next_->expect(total);
  }
  std::string hex_digest() const {
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, XXH3_128bits_digest(state_.get()));
    static constexpr char kHex[] = "0123456789abcdef";
    std::string s = "xxh3-128:";
    for (unsigned char b : c.digest) {
      s += kHex[b >> 4];
      s += kHex[b & 15];
    }
    return s;
  }

 private:
  SourceSink* next_;
  std::unique_ptr<XXH3_state_t, decltype(&XXH3_freeState)> state_;
};

// A header value for a message: printable ASCII only, at most 100 characters.
std::string printable(const std::string& value) {
  std::string s;
  for (char c : value) {
    if (c >= 0x20 && c <= 0x7e) s += c;
  }
  return s.size() > 100 ? s.substr(0, 100) + "..." : s;
}

std::string excerpt(const std::string& body) {
  std::string s;
  for (char c : body) s += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
  if (s.size() > 120) s = s.substr(0, 120) + "...";
  return s;
}

}  // namespace

Fetcher::Fetcher(HttpClient& http, const Clock& clock, FetchOptions options, Jitter jitter)
    : http_(http), clock_(clock), options_(options), jitter_(std::move(jitter)) {
  policy_.max_attempts = options_.retries + 1;
  policy_.base = options_.backoff_base;
  policy_.cap = options_.backoff_max;
  if (!jitter_) jitter_ = random_jitter();
}

std::chrono::milliseconds Fetcher::backoff(int attempt) const {
  return backoff_ceiling(policy_, attempt);
}

std::optional<FetchResult> Fetcher::unchanged_file(const HttpRequest& request,
                                                   const std::string& known_hash) {
  if (known_hash.empty() || has_scheme(request.url)) return std::nullopt;
  HashingSink hashing(nullptr);
  HttpResult r = http_.get(request, hashing);
  // A file that cannot be read is read again below, which reports why.
  if (!r.status.ok() || r.response.status != 200 || hashing.hex_digest() != known_hash)
    return std::nullopt;
  FetchResult out;
  out.not_modified = true;
  out.http_status = 200;
  out.bytes = r.response.body_bytes;
  out.content_hash = known_hash;
  out.attempts = 1;
  return out;
}

Result<FetchResult> Fetcher::fetch(const std::string& url, const SourceValidators& validators,
                                   SourceSink& sink, const std::string& known_hash) {
  HttpRequest request;
  request.url = url;
  request.connect_timeout = options_.connect_timeout;
  request.timeout = options_.timeout;
  request.max_bytes = options_.max_bytes;
  request.allow_private_targets = options_.allow_private_targets;
  if (has_scheme(url) && !url.starts_with("file:")) {
    if (!validators.etag.empty()) request.headers.push_back("If-None-Match: " + validators.etag);
    if (!validators.last_modified.empty()) {
      request.headers.push_back("If-Modified-Since: " + validators.last_modified);
    }
  }

  attempts_ = 0;
  if (std::optional<FetchResult> same = unchanged_file(request, known_hash)) {
    attempts_ = 1;
    return *same;
  }

  const std::string shown = redact_url(url);
  Status last;
  for (RetryLoop loop(policy_, clock_, jitter_);;) {
    const int attempt = loop.attempt();
    attempts_ = attempt;
    sink.restart();
    HashingSink hashing(&sink);
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
      out.content_hash = hashing.hex_digest();
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
      // The status, the type and the size: never the body, which may be an internal service's.
      std::string msg = shown + ": HTTP " + std::to_string(r.response.status);
      std::string about = printable(r.response.content_type);
      if (r.response.error_body_bytes > 0) {
        about +=
            (about.empty() ? "" : ", ") + std::to_string(r.response.error_body_bytes) + " bytes";
      }
      if (!about.empty()) msg += " (" + about + ")";
      if (options_.log_error_bodies && !r.response.body_excerpt.empty()) {
        std::fprintf(stderr, "covid-etl: debug: %s: HTTP %ld body begins: %s\n", shown.c_str(),
                     r.response.status, scrub(excerpt(r.response.body_excerpt)).c_str());
      }
      last = Status::Extract(msg);
      transient = is_retriable_http_status(r.response.status);
    }
    if (!loop.retry(transient)) {
      std::string msg = last.message();
      if (attempt > 1) msg += " (after " + std::to_string(attempt) + " attempts)";
      return Status::Extract(msg);
    }
  }
}

}  // namespace covid
