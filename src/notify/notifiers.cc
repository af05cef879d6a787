// The four notifiers: log (a line on stderr), webhook (JSON POST), email (SMTP through libcurl)
// and sns (AWS SNS Publish signed with SigV4 by libcurl).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <random>

#include "common/clock.h"
#include "common/curl_call.h"
#include "common/libcurl.h"
#include "common/redact_url.h"
#include "common/retry.h"
#include "common/secrets.h"
#include "notify/channel.h"

namespace covid {
namespace {

const char* env(const Getenv& getenv, const std::string& name) {
  if (name.empty()) return nullptr;
  const char* v = getenv ? getenv(name.c_str()) : std::getenv(name.c_str());
  return (v != nullptr && *v != '\0') ? v : nullptr;
}

// The outcome of an HTTP exchange: 2xx delivered; 429 and 5xx worth retrying (common/retry.h);
// others not.
Delivery http_delivery(const CurlOutcome& r, const std::string& where) {
  Delivery d;
  if (!r.status.ok()) {
    d.retriable = r.transient;
    d.error = where + ": " + r.status.message();
    return d;
  }
  if (r.code >= 200 && r.code < 300) {
    d.ok = true;
    return d;
  }
  d.retriable = is_retriable_http_status(r.code);
  d.error = where + ": HTTP " + std::to_string(r.code);
  return d;
}

class LogNotifier final : public Notifier {
 public:
  explicit LogNotifier(bool json) : json_(json) {}
  Delivery deliver(const OutboxMessage& m) override {
    if (json_) {
      nlohmann::json line = {{"ts", format_timestamp(std::chrono::system_clock::now())},
                             {"event", "notification"},
                             {"run_event", m.event},
                             {"run_id", m.run_id},
                             {"message", m.subject}};
      std::fprintf(stderr, "%s\n", line.dump().c_str());
    } else {
      std::fprintf(stderr, "covid-etl notify: %s\n", m.subject.c_str());
    }
    return Delivery{true, false, ""};
  }

 private:
  bool json_;
};

class WebhookNotifier final : public Notifier {
 public:
  WebhookNotifier(ChannelConfig c, Getenv getenv) : c_(std::move(c)), getenv_(std::move(getenv)) {}

  Delivery deliver(const OutboxMessage& m) override {
    CurlCall call;
    call.url = c_.url;
    call.timeout = c_.timeout;
    call.ca_file = c_.ca_file;
    call.headers.push_back("Content-Type: application/json; charset=utf-8");
    for (const auto& [name, value] : c_.headers) {
      std::string expanded;
      if (!expand(value, &expanded)) {
        return Delivery{false, false,
                        "header " + name + " names an environment variable that is not set"};
      }
      call.headers.push_back(name + ": " + expanded);
    }
    nlohmann::json doc = nlohmann::json::parse(m.payload, nullptr, false);
    if (!doc.is_object()) doc = nlohmann::json::object();
    doc["event"] = m.event;
    doc["subject"] = m.subject;
    doc["text"] = m.body;
    call.body = doc.dump();
    return http_delivery(perform(call), url_origin(c_.url));
  }

 private:
  // Replaces each ${NAME} by the variable's value; false when one is not set.
  bool expand(const std::string& in, std::string* out) const {
    out->clear();
    for (size_t i = 0; i < in.size();) {
      size_t open = in.find("${", i);
      if (open == std::string::npos) {
        out->append(in, i);
        break;
      }
      size_t close = in.find('}', open);
      if (close == std::string::npos) {
        out->append(in, i);
        break;
      }
      out->append(in, i, open - i);
      const char* v = env(getenv_, in.substr(open + 2, close - open - 2));
      if (v == nullptr) return false;
      out->append(v);
      i = close + 1;
    }
    return true;
  }

  ChannelConfig c_;
  Getenv getenv_;
};

// "Name <a@b.org>" -> "<a@b.org>"; "a@b.org" -> "<a@b.org>".
std::string angle_address(const std::string& s) {
  size_t lt = s.find('<'), gt = s.find('>');
  if (lt != std::string::npos && gt != std::string::npos && gt > lt)
    return s.substr(lt, gt - lt + 1);
  return "<" + s + ">";
}

bool is_ascii(const std::string& s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (unsigned char)c < 0x80 && c != '\n' && c != '\r'; });
}

std::string base64(const std::string& in) {
  static constexpr char k[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = uint32_t((unsigned char)in[i]) << 16 | uint32_t((unsigned char)in[i + 1]) << 8 |
                 (unsigned char)in[i + 2];
    out += {k[v >> 18], k[(v >> 12) & 63], k[(v >> 6) & 63], k[v & 63]};
  }
  if (i + 1 == in.size()) {
    uint32_t v = uint32_t((unsigned char)in[i]) << 16;
    out += {k[v >> 18], k[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    uint32_t v = uint32_t((unsigned char)in[i]) << 16 | uint32_t((unsigned char)in[i + 1]) << 8;
    out += {k[v >> 18], k[(v >> 12) & 63], k[(v >> 6) & 63], '='};
  }
  return out;
}

// RFC 2047 encoding for a header value that is not plain ASCII.
std::string header_text(const std::string& s) {
  return is_ascii(s) ? s : "=?UTF-8?B?" + base64(s) + "?=";
}

std::string rfc5322_date(std::chrono::system_clock::time_point t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return buf;
}

class EmailNotifier final : public Notifier {
 public:
  EmailNotifier(ChannelConfig c, Getenv getenv) : c_(std::move(c)), getenv_(std::move(getenv)) {}

  Delivery deliver(const OutboxMessage& m) override {
    CurlCall call;
    call.smtp = true;
    call.url = c_.url;
    call.timeout = c_.timeout;
    call.ca_file = c_.ca_file;
    call.require_tls = c_.require_tls && !c_.url.starts_with("smtps://");
    call.mail_from = angle_address(c_.from);
    for (const std::string& to : c_.to) call.mail_rcpt.push_back(angle_address(to));
    if (const char* user = env(getenv_, c_.username_env)) call.username = user;
    if (const char* pass = env(getenv_, c_.password_env)) call.password = pass;
    if (!c_.password_env.empty() && call.password.empty()) {
      return Delivery{false, false,
                      "the variable " + c_.password_env + " (password_env) is not set"};
    }
    call.body = compose(m);
    CurlOutcome r = perform(call);
    Delivery d;
    if (!r.status.ok()) {
      d.retriable = r.transient;
      d.error = url_origin(c_.url) + ": " + r.status.message();
      return d;
    }
    d.ok = true;
    return d;
  }

 private:
  std::string compose(const OutboxMessage& m) const {
    std::string to;
    for (const std::string& t : c_.to) to += (to.empty() ? "" : ", ") + t;
    std::string domain = angle_address(c_.from);
    domain = domain.substr(domain.find('@') + 1);
    domain.pop_back();  // '>'
    std::mt19937_64 rng(std::random_device{}());
    char id[80];
    std::snprintf(id, sizeof id, "<covid-etl.%lld.%lld.%016llx@%s>", (long long)m.run_id,
                  (long long)m.id, (unsigned long long)rng(), domain.c_str());
    std::string out;
    out += "Date: " + rfc5322_date(std::chrono::system_clock::now()) + "\r\n";
    out += "From: " + c_.from + "\r\n";
    out += "To: " + to + "\r\n";
    out += "Subject: " + header_text(m.subject) + "\r\n";
    out += std::string("Message-ID: ") + id + "\r\n";
    out += "MIME-Version: 1.0\r\n";
    out += "Content-Type: text/plain; charset=UTF-8\r\n";
    out += "Content-Transfer-Encoding: 8bit\r\n";
    out += "\r\n";
    size_t start = 0;
    while (start <= m.body.size()) {
      size_t nl = m.body.find('\n', start);
      std::string line =
          m.body.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.size() > 990) line.resize(990);  // SMTP's line limit
      out += line + "\r\n";
      if (nl == std::string::npos) break;
      start = nl + 1;
    }
    return out;
  }

  ChannelConfig c_;
  Getenv getenv_;
};

constexpr size_t kSnsSubjectMax = 99;
constexpr size_t kSnsMessageMax = 256 * 1024 - 1024;  // the limit, less room for the note

// SNS subjects: ASCII, no line breaks, under 100 characters.
std::string sns_subject(const std::string& s) {
  std::string out;
  for (char c : s) {
    if ((unsigned char)c >= 0x20 && (unsigned char)c < 0x7f)
      out += c;
    else if (c == '\n' || c == '\t')
      out += ' ';
  }
  if (out.size() > kSnsSubjectMax) out = out.substr(0, kSnsSubjectMax - 3) + "...";
  return out;
}

class SnsNotifier final : public Notifier {
 public:
  SnsNotifier(ChannelConfig c, Getenv getenv) : c_(std::move(c)), getenv_(std::move(getenv)) {}

  Delivery deliver(const OutboxMessage& m) override {
    const char* key = env(getenv_, "AWS_ACCESS_KEY_ID");
    const char* secret = env(getenv_, "AWS_SECRET_ACCESS_KEY");
    if (key == nullptr || secret == nullptr) {
      return Delivery{false, false, "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set"};
    }
    std::string message = m.body;
    if (message.size() > kSnsMessageMax) {
      message.resize(kSnsMessageMax);
      message += "\n[truncated to SNS's 256 KiB limit]";
    }
    std::string error;
    const LibCurl* lib = LibCurl::get(&error);
    if (lib == nullptr) return Delivery{false, false, error};
    auto escape = [lib](const std::string& s) {
      char* e = lib->easy_escape(nullptr, s.data(), int(s.size()));
      std::string out = e != nullptr ? e : "";
      lib->free(e);
      return out;
    };
    CurlCall call;
    call.url = c_.endpoint.empty() ? "https://sns." + c_.region + ".amazonaws.com/" : c_.endpoint;
    call.timeout = c_.timeout;
    call.headers.push_back("Content-Type: application/x-www-form-urlencoded; charset=utf-8");
    if (const char* token = env(getenv_, "AWS_SESSION_TOKEN")) {
      call.headers.push_back(std::string("X-Amz-Security-Token: ") + token);
    }
    call.body = "Action=Publish&Version=2010-03-31&TopicArn=" + escape(c_.topic_arn) +
                "&Subject=" + escape(sns_subject(m.subject)) + "&Message=" + escape(message);
    call.username = key;
    call.password = secret;
    call.aws_sigv4 = "aws:amz:" + c_.region + ":sns";
    CurlOutcome r = perform(call);
    Delivery d = http_delivery(r, url_origin(call.url));
    // SNS answers throttling with 400 and a Throttling code.
    if (!d.ok && r.code == 400 && r.response.find("Throttl") != std::string::npos)
      d.retriable = true;
    return d;
  }

 private:
  ChannelConfig c_;
  Getenv getenv_;
};

}  // namespace

bool ChannelConfig::wants(const std::string& event) const {
  return event == "test" || std::find(on.begin(), on.end(), event) != on.end();
}

std::string url_origin(const std::string& url) {
  size_t scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  size_t host = scheme + 3;
  size_t end = url.find_first_of("/?#", host);
  std::string authority =
      url.substr(host, end == std::string::npos ? std::string::npos : end - host);
  size_t at = authority.rfind('@');
  if (at != std::string::npos) authority = authority.substr(at + 1);
  return url.substr(0, host) + authority;
}

// The secrets a channel uses, remembered (common/secrets.h) before any message can quote them:
// those in its URL, the variables its headers name, its SMTP password, the AWS keys for SNS.
void remember_channel_secrets(const ChannelConfig& c, const Getenv& getenv) {
  if (!c.url.empty()) (void)redact_url(c.url);
  for (const auto& [name, value] : c.headers) {
    for (size_t open = value.find("${"); open != std::string::npos;
         open = value.find("${", open + 2)) {
      size_t close = value.find('}', open);
      if (close == std::string::npos) break;
      if (const char* v = env(getenv, value.substr(open + 2, close - open - 2))) remember_secret(v);
    }
  }
  if (const char* pass = env(getenv, c.password_env)) remember_secret(pass);
  if (c.type == "sns") {
    for (const char* name : {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"}) {
      if (const char* v = env(getenv, name)) remember_secret(v);
    }
  }
}

std::unique_ptr<Notifier> make_notifier(const ChannelConfig& c, Getenv getenv) {
  remember_channel_secrets(c, getenv);
  if (c.type == "webhook") return std::make_unique<WebhookNotifier>(c, std::move(getenv));
  if (c.type == "email") return std::make_unique<EmailNotifier>(c, std::move(getenv));
  if (c.type == "sns") return std::make_unique<SnsNotifier>(c, std::move(getenv));
  return std::make_unique<LogNotifier>(c.json);
}

}  // namespace covid
