#include "common/redact_url.h"

#include <cctype>
#include <optional>

#include "common/libcurl.h"
#include "common/secrets.h"

namespace covid {

bool is_secret_query_key(std::string_view key) {
  std::string k;
  for (char c : key) k += c == '-' ? '_' : char(std::tolower(static_cast<unsigned char>(c)));
  for (std::string_view exact :
       {"sig", "code", "auth", "pass", "pwd", "session", "jwt", "x_amz_credential"}) {
    if (k == exact) return true;
  }
  for (std::string_view part :
       {"token", "key", "secret", "signature", "password", "passwd", "credential"}) {
    if (k.find(part) != std::string::npos) return true;
  }
  return false;
}

namespace {

// Percent-decoding for remembering a value also as it will be sent ('+' is left alone).
std::string percent_decoded(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    auto hex = [](char c) {
      return std::isdigit(static_cast<unsigned char>(c)) ? c - '0'
             : (c >= 'a' && c <= 'f')                    ? c - 'a' + 10
             : (c >= 'A' && c <= 'F')                    ? c - 'A' + 10
                                                         : -1;
    };
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out += char(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

void remember_encoded(std::string_view raw) {
  remember_secret(raw);
  remember_secret(percent_decoded(raw));
}

// A CURLU handle, freed with the library's own function.
struct UrlHandle {
  const LibCurl* lib;
  CURLU* h;
  ~UrlHandle() {
    if (h != nullptr) lib->url_cleanup(h);
  }
  // One part as it is written in the URL (not decoded), or nullopt when absent.
  std::optional<std::string> get(CURLUPart part) const {
    char* out = nullptr;
    if (lib->url_get(h, part, &out, 0) != CURLUE_OK || out == nullptr) return std::nullopt;
    std::string s(out);
    lib->free(out);
    return s;
  }
};

}  // namespace

std::string redact_url(std::string_view url) {
  if (!has_scheme(url)) return std::string(url);
  // Without '@', '?' or ';' there is no user info, query or login option to hide: shown as given,
  // without loading libcurl (export, history and serve never need it otherwise).
  if (url.find_first_of("@?;") == std::string_view::npos) return std::string(url);
  std::string scheme(url.substr(0, url.find("://")));
  std::string error;
  const LibCurl* lib = LibCurl::get(&error);
  if (lib == nullptr) return scheme + "://(a URL not shown: libcurl is missing to parse it)";
  UrlHandle u{lib, lib->url()};
  if (u.h == nullptr) return scheme + "://(a URL not shown)";
  std::string text(url);
  if (lib->url_set(u.h, CURLUPART_URL, text.c_str(), CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK) {
    return scheme + "://(a URL that does not parse)";
  }
  bool changed = false;
  auto user = u.get(CURLUPART_USER);
  auto password = u.get(CURLUPART_PASSWORD);
  if (password)
    remember_encoded(*password);
  else if (user)
    remember_encoded(*user);  // a token given as the user name
  if (user || password) {
    lib->url_set(u.h, CURLUPART_PASSWORD, nullptr, 0);
    lib->url_set(u.h, CURLUPART_USER, "***", 0);
    changed = true;
  }
  if (auto options = u.get(CURLUPART_OPTIONS)) {  // ;AUTH=... after the user name
    remember_encoded(*options);
    lib->url_set(u.h, CURLUPART_OPTIONS, nullptr, 0);
    changed = true;
  }
  if (auto query = u.get(CURLUPART_QUERY)) {
    std::string kept;
    std::string_view q = *query;
    while (true) {
      size_t amp = q.find('&');
      std::string_view param = q.substr(0, amp);
      size_t eq = param.find('=');
      std::string_view key = param.substr(0, eq);
      if (eq != std::string_view::npos && is_secret_query_key(percent_decoded(key)) &&
          eq + 1 < param.size()) {
        remember_encoded(param.substr(eq + 1));
        kept += std::string(key) + "=***";
        changed = true;
      } else {
        kept += param;
      }
      if (amp == std::string_view::npos) break;
      kept += '&';
      q.remove_prefix(amp + 1);
    }
    if (changed) lib->url_set(u.h, CURLUPART_QUERY, kept.c_str(), 0);
  }
  if (!changed) return text;  // nothing secret: the URL as given
  auto shown = u.get(CURLUPART_URL);
  return shown ? *shown : scheme + "://(a URL not shown)";
}

bool has_scheme(std::string_view url) {
  size_t p = url.find("://");
  if (p == std::string_view::npos || p == 0) return false;
  for (char c : url.substr(0, p)) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.')
      return false;
  }
  return true;
}

}  // namespace covid
