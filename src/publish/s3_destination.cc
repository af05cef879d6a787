#include "publish/s3_destination.h"

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <random>
#include <vector>

#include "common/clock.h"
#include "common/percent.h"
#include "common/redact_url.h"
#include "common/secrets.h"

namespace covid {
namespace {

constexpr std::chrono::milliseconds kRequestTimeout{60'000};
constexpr size_t kGetLimit = size_t{256} << 20;  // a published object is a few MB at most
constexpr size_t kErrorLimit = 4096;             // S3's error documents are small

// RFC 3986's unreserved characters stay; everything else (but '/') is %XX, as SigV4 wants it.
std::string encode_path(std::string_view path) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : path) {
    bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '_' || c == '.' || c == '~' || c == '/';
    if (keep) {
      out += char(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

bool valid_region(std::string_view r) {
  if (r.empty() || r.size() > 32) return false;
  for (char c : r) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

bool is_lower_or_digit(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

bool valid_bucket(std::string_view b) {
  if (b.size() < 3 || b.size() > 63) return false;
  if (!is_lower_or_digit(b.front()) || !is_lower_or_digit(b.back())) return false;
  for (char c : b) {
    if (!is_lower_or_digit(c) && c != '.' && c != '-') return false;
  }
  return b.find("..") == std::string_view::npos;
}

Status usage(std::string_view dest, const std::string& what) {
  return Status::Usage("bad S3 destination '" + redact_url(dest) + "': " + what +
                       " (expected s3://BUCKET[/PREFIX][?region=REGION][&endpoint=URL])");
}

std::string tag(std::string_view xml, std::string_view name) {
  std::string open = "<" + std::string(name) + ">", close = "</" + std::string(name) + ">";
  size_t a = xml.find(open);
  if (a == std::string_view::npos) return "";
  a += open.size();
  size_t b = xml.find(close, a);
  if (b == std::string_view::npos) return "";
  return std::string(xml.substr(a, b - a));
}

bool is_retriable_s3_code(std::string_view code) {
  return code == "SlowDown" || code == "InternalError" || code == "ServiceUnavailable" ||
         code == "RequestTimeout";
}

bool is_credentials_code(std::string_view code) {
  return code == "InvalidAccessKeyId" || code == "SignatureDoesNotMatch" ||
         code == "InvalidToken" || code == "ExpiredToken" || code == "TokenRefreshRequired" ||
         code == "InvalidSecurity" || code == "AuthorizationHeaderMalformed";
}

class S3Destination final : public Destination {
 public:
  S3Destination(S3Target target, std::string key_id, std::string secret, std::string token,
                S3Options options)
      : target_(std::move(target)),
        key_id_(std::move(key_id)),
        secret_(std::move(secret)),
        token_(std::move(token)),
        options_(std::move(options)) {
    for (const std::string* s : {&key_id_, &secret_, &token_}) remember_secret(*s);
  }

  Result<std::optional<std::string>> get(std::string_view key) override {
    COVID_RETURN_IF_ERROR(check_key(key));
    CurlCall call = request("GET", key);
    call.response_limit = kGetLimit;
    auto r = exchange("GET", key, call, /*absent_ok=*/true);
    if (!r.ok()) return r.status();
    if (r->code == 404) return std::optional<std::string>();
    if (r->response.size() >= kGetLimit) {
      return failure("GET", key,
                     "the object is larger than " + std::to_string(kGetLimit >> 20) + " MiB");
    }
    return std::optional<std::string>(std::move(r->response));
  }

  Status put(const PublishedObject& object) override {
    COVID_RETURN_IF_ERROR(check_key(object.key));
    CurlCall call = request("PUT", object.key);
    if (!object.content_type.empty())
      call.headers.push_back("Content-Type: " + object.content_type);
    if (!object.cache_control.empty())
      call.headers.push_back("Cache-Control: " + object.cache_control);
    if (!object.content_encoding.empty())
      call.headers.push_back("Content-Encoding: " + object.content_encoding);
    call.body = object.body;
    auto r = exchange("PUT", object.key, call, /*absent_ok=*/false);
    return r.ok() ? Status::Ok() : r.status();
  }

  Status remove(std::string_view key) override {
    COVID_RETURN_IF_ERROR(check_key(key));
    auto r = exchange("DELETE", key, request("DELETE", key), /*absent_ok=*/true);
    return r.ok() ? Status::Ok() : r.status();
  }

  std::string display() const override { return target_.display; }
  size_t parallelism() const override { return std::max<size_t>(1, options_.requests_in_flight); }

 private:
  Status check_key(std::string_view key) const {
    if (valid_object_key(key)) return Status::Ok();
    return Status::Internal(target_.display + ": bad object key '" + printable_ascii(key, 200) +
                            "'");
  }

  CurlCall request(const std::string& method, std::string_view key) const {
    CurlCall call;
    call.method = method;
    call.url = target_.object_url(key);
    call.timeout = kRequestTimeout;
    call.ca_file = options_.ca_file;
    call.headers.push_back("x-amz-content-sha256: UNSIGNED-PAYLOAD");
    if (!token_.empty()) call.headers.push_back("X-Amz-Security-Token: " + token_);
    call.username = key_id_;
    call.password = secret_;
    call.aws_sigv4 = "aws:amz:" + target_.region + ":s3";
    call.response_limit = kErrorLimit;
    return call;
  }

  // What the publisher's role needs (deploy/aws/template.yaml grants it): ListBucket only so that
  // S3 answers 404, not 403, for a missing object (the manifest, before the first publish).
  std::string permissions_needed() const {
    std::string list = "s3:ListBucket on arn:aws:s3:::" + target_.bucket;
    if (!target_.prefix.empty()) list += " (condition s3:prefix \"" + target_.prefix + "*\")";
    return "the key needs " + list +
           ", and s3:GetObject, s3:PutObject and s3:DeleteObject on arn:aws:s3:::" +
           target_.bucket + "/" + target_.prefix + "*";
  }

  // The last four characters of the key id: enough to tell which key, not the key.
  std::string key_hint() const {
    return key_id_.size() > 8 ? "..." + key_id_.substr(key_id_.size() - 4) : "(too short to show)";
  }

  Status failure(std::string_view method, std::string_view key, const std::string& what) const {
    return Status::Extract(scrub(target_.display + ": " + std::string(method) + " " +
                                 target_.prefix + std::string(key) + ": " + what));
  }

  // What one request in flight uses: its own connection and its own jitter's random state.
  struct Lane {
    CurlSession session;
    Jitter jitter = random_jitter(std::random_device{}());
  };

  // A free lane, or a new one (at most parallelism() are ever made: one per caller thread).
  std::unique_ptr<Lane> take_lane() {
    std::lock_guard lock(lanes_mu_);
    if (lanes_.empty()) return std::make_unique<Lane>();
    std::unique_ptr<Lane> lane = std::move(lanes_.back());
    lanes_.pop_back();
    return lane;
  }

  // One request, retried as the header says. Ok with the outcome for 2xx, and for 404 NoSuchKey
  // when `absent_ok`.
  Result<CurlOutcome> exchange(std::string_view method, std::string_view key, const CurlCall& call,
                               bool absent_ok) {
    std::unique_ptr<Lane> lane = take_lane();
    auto result = exchange_on(*lane, method, key, call, absent_ok);
    std::lock_guard lock(lanes_mu_);
    lanes_.push_back(std::move(lane));
    return result;
  }

  Result<CurlOutcome> exchange_on(Lane& lane, std::string_view method, std::string_view key,
                                  const CurlCall& call, bool absent_ok) {
    for (RetryLoop loop(options_.policy, options_.clock ? *options_.clock : system_clock_,
                        lane.jitter);
         ;) {
      CurlOutcome r = options_.transport ? options_.transport(call) : lane.session.perform(call);
      std::string what;
      bool retry = false;
      if (!r.status.ok()) {
        what = "cannot reach " + target_.host_display() + ": " + r.status.message();
        retry = r.transient;
      } else if (r.code >= 200 && r.code < 300) {
        return r;
      } else {
        S3Error e = parse_s3_error(r.response);
        if (r.code == 404 && absent_ok && e.code != "NoSuchBucket") return r;
        retry = is_retriable_http_status(r.code) || is_retriable_s3_code(e.code);
        if (e.code == "NoSuchBucket") {
          what = "no such bucket '" + target_.bucket + "' at " + target_.host_display();
        } else if (is_credentials_code(e.code)) {
          what = "the credentials were refused (access key id " + key_hint() +
                 ", from AWS_ACCESS_KEY_ID): " + e.code;
        } else if (e.code == "AccessDenied") {
          what = "access denied to the key id " + key_hint() + " (" +
                 (method == "GET" ? "S3 answers 403 AccessDenied, not 404, for an object that "
                                    "does not exist when s3:ListBucket is not granted, as for "
                                    "the manifest before the first publish; "
                                  : "") +
                 permissions_needed() + ")";
        } else {
          what = (e.code.empty() ? "" : e.code + " ") + "(HTTP " + std::to_string(r.code) + ")";
        }
        if (!e.message.empty())
          what += ": " + printable_ascii(e.message, 300);
        else if (e.code.empty() && !r.response.empty())
          what += ": " + printable_ascii(r.response, 200);
      }
      if (!loop.retry(retry)) {
        if (retry) what += " (gave up after " + std::to_string(loop.attempt()) + " attempts)";
        return failure(method, key, what);
      }
    }
  }

  S3Target target_;
  std::string key_id_, secret_, token_;
  S3Options options_;
  SystemClock system_clock_;
  std::mutex lanes_mu_;
  std::vector<std::unique_ptr<Lane>> lanes_;
};

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

}  // namespace

std::string S3Target::object_url(std::string_view key) const {
  std::string path = encode_path(prefix + std::string(key));
  if (!endpoint.empty()) return endpoint + bucket + "/" + path;
  if (bucket.find('.') != std::string::npos)
    return "https://s3." + region + ".amazonaws.com/" + bucket + "/" + path;
  return "https://" + bucket + ".s3." + region + ".amazonaws.com/" + path;
}

std::string S3Target::host_display() const {
  if (!endpoint.empty()) return redact_url(endpoint);
  if (bucket.find('.') != std::string::npos) return "https://s3." + region + ".amazonaws.com/";
  return "https://" + bucket + ".s3." + region + ".amazonaws.com/";
}

bool valid_object_key(std::string_view key) {
  if (key.empty() || key.size() > 900 || key.front() == '/') return false;
  for (char c : key) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  }
  size_t start = 0;
  for (;;) {
    size_t slash = key.find('/', start);
    std::string_view seg = key.substr(start, slash - start);
    if (seg.empty() || seg == "." || seg == "..") return false;
    if (slash == std::string_view::npos) return true;
    start = slash + 1;
  }
}

S3Error parse_s3_error(std::string_view xml) {
  std::string_view error = xml;
  if (size_t at = xml.find("<Error>"); at != std::string_view::npos) error = xml.substr(at);
  return {tag(error, "Code"), tag(error, "Message")};
}

Result<S3Target> parse_s3_url(std::string_view dest, std::string_view fallback_region) {
  if (!dest.starts_with("s3://")) return usage(dest, "not an s3:// URL");
  std::string_view rest = dest.substr(5);
  size_t q = rest.find('?');
  std::string_view path = rest.substr(0, q);
  std::string_view query = q == std::string_view::npos ? std::string_view() : rest.substr(q + 1);
  size_t slash = path.find('/');
  std::string_view bucket = path.substr(0, slash);
  std::string_view prefix = slash == std::string_view::npos ? "" : path.substr(slash + 1);
  if (bucket.empty()) return usage(dest, "no bucket name");
  if (!valid_bucket(bucket)) {
    return usage(dest, "the bucket name '" + printable_ascii(bucket, 80) +
                           "' must be 3 to 63 lowercase letters, digits, '.' or '-', starting and "
                           "ending with a letter or digit");
  }
  S3Target t;
  t.bucket = std::string(bucket);
  while (prefix.ends_with('/')) prefix.remove_suffix(1);
  if (!prefix.empty()) {
    if (!valid_object_key(prefix) || prefix.find_first_of("%\\") != std::string_view::npos) {
      return usage(dest, "the prefix '" + printable_ascii(prefix, 200) +
                             "' must be folder names separated by '/' (none empty, '.' or '..')");
    }
    t.prefix = std::string(prefix) + "/";
  }
  bool custom_endpoint = false;
  auto params = parse_query_string(query);
  if (!params.ok()) return usage(dest, params.status().message());
  for (auto& [name, value] : *params) {
    if (value.empty()) {
      return usage(dest, "parameter '" + printable_ascii(name, 40) + "' needs a value");
    }
    if (name == "region") {
      if (!valid_region(value))
        return usage(dest, "bad region '" + printable_ascii(value, 40) + "'");
      t.region = value;
    } else if (name == "endpoint") {
      if (!value.starts_with("http://") && !value.starts_with("https://")) {
        return usage(dest, "the endpoint must be an http:// or https:// URL");
      }
      if (value.find_first_of(" \t\r\n?#") != std::string::npos) {
        return usage(dest, "the endpoint must be a plain http(s)://HOST[:PORT][/PATH] URL");
      }
      if (value.back() != '/') value += '/';
      t.endpoint = value;
      custom_endpoint = true;
    } else {
      return usage(
          dest, "unknown parameter '" + printable_ascii(name, 40) + "' (known: region, endpoint)");
    }
  }
  if (t.region.empty()) {
    if (!fallback_region.empty()) {
      if (!valid_region(fallback_region)) {
        return usage(dest, "bad region '" + printable_ascii(fallback_region, 40) +
                               "' from AWS_REGION or AWS_DEFAULT_REGION");
      }
      t.region = std::string(fallback_region);
    } else if (custom_endpoint) {
      t.region = "us-east-1";
    } else {
      return usage(dest, "no region (add ?region=REGION, or set AWS_REGION or AWS_DEFAULT_REGION)");
    }
  }
  t.display = "s3://" + t.bucket + "/" + t.prefix + "?region=" + t.region;
  if (custom_endpoint) t.display += "&endpoint=" + redact_url(t.endpoint);
  return t;
}

std::unique_ptr<Destination> make_s3_destination(S3Target target, std::string access_key_id,
                                                 std::string secret_access_key,
                                                 std::string session_token, S3Options options) {
  return std::make_unique<S3Destination>(std::move(target), std::move(access_key_id),
                                         std::move(secret_access_key), std::move(session_token),
                                         std::move(options));
}

Result<std::unique_ptr<Destination>> open_s3_destination(std::string_view dest) {
  std::string region = env("AWS_REGION");
  if (region.empty()) region = env("AWS_DEFAULT_REGION");
  auto target = parse_s3_url(dest, region);
  if (!target.ok()) return target.status();
  std::string key_id = env("AWS_ACCESS_KEY_ID"), secret = env("AWS_SECRET_ACCESS_KEY"),
              token = env("AWS_SESSION_TOKEN");
  for (const std::string* s : {&key_id, &secret, &token}) remember_secret(*s);
  std::vector<std::string> missing;
  if (key_id.empty()) missing.push_back("AWS_ACCESS_KEY_ID");
  if (secret.empty()) missing.push_back("AWS_SECRET_ACCESS_KEY");
  if (!missing.empty()) {
    std::string names = missing[0] + (missing.size() > 1 ? " and " + missing[1] : "");
    return Status::Usage(target->display + ": S3 needs AWS credentials in the environment: " +
                         names + (missing.size() > 1 ? " are" : " is") +
                         " not set (AWS_SESSION_TOKEN too, for temporary credentials)");
  }
  return make_s3_destination(std::move(*target), std::move(key_id), std::move(secret),
                             std::move(token));
}

}  // namespace covid
