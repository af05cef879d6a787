#include "common/secrets.h"

#include <algorithm>
#include <mutex>
#include <set>
#include <vector>

namespace covid {
namespace {

struct Registry {
  std::mutex mutex;
  std::set<std::string> secrets;
  std::vector<std::string> forms;  // every form of every secret, longest first
};

Registry& registry() {
  static Registry* r = new Registry();  // never destroyed: scrub() may run during exit
  return *r;
}

bool unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

// Percent-encoding of everything but the unreserved characters; `plus`: a space as '+'.
std::string percent_encode(std::string_view s, bool lower, bool plus) {
  const char* hex = lower ? "0123456789abcdef" : "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (unreserved(c)) {
      out += char(c);
    } else if (plus && c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

// JSON string escaping of the characters a secret may hold ('/' as \/ too, as some encoders do).
std::string json_escape(std::string_view s, bool slash) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '/' && slash) {
      out += "\\/";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

void remember_secret(std::string_view secret) {
  if (secret.size() < kMinSecretLength) return;
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  if (!r.secrets.emplace(secret).second) return;
  for (std::string form : {std::string(secret), percent_encode(secret, false, false),
                           percent_encode(secret, true, false), percent_encode(secret, false, true),
                           percent_encode(secret, true, true), json_escape(secret, false),
                           json_escape(secret, true)}) {
    if (std::find(r.forms.begin(), r.forms.end(), form) == r.forms.end()) r.forms.push_back(form);
  }
  std::stable_sort(r.forms.begin(), r.forms.end(),
                   [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

std::string scrub(std::string_view text) {
  std::string out(text);
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  for (const std::string& form : r.forms) {
    for (size_t p = out.find(form); p != std::string::npos; p = out.find(form, p + 3)) {
      out.replace(p, form.size(), "***");
    }
  }
  return out;
}

size_t known_secret_count() {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  return r.secrets.size();
}

}  // namespace covid
