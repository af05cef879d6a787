#include "transform/fields.h"

#include <cstdio>

#include "transform/observation.h"

namespace covid {

CountError parse_count(std::string_view s, int64_t* out) {
  if (s.empty()) return CountError::kEmpty;
  if (s[0] == '-' && s.size() > 1) {
    bool digits = true;
    for (char c : s.substr(1)) digits = digits && c >= '0' && c <= '9';
    return digits ? CountError::kNegative : CountError::kNotInteger;
  }
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return CountError::kNotInteger;
    if (v > uint64_t(kMaxCount)) return CountError::kTooLarge;  // stop before overflow
    v = v * 10 + uint64_t(c - '0');
  }
  if (v > uint64_t(kMaxCount)) return CountError::kTooLarge;
  *out = int64_t(v);
  return CountError::kNone;
}

std::string quote_excerpt(std::string_view text) {
  std::string s = "'";
  size_t n = 0;
  for (unsigned char c : text) {
    if (++n > 40) {
      s += "...";
      break;
    }
    if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      s += buf;
    } else {
      s += char(c);
    }
  }
  return s + "'";
}

std::string describe(CountError error, std::string_view text) {
  switch (error) {
    case CountError::kNone: return "";
    case CountError::kEmpty: return "empty value";
    case CountError::kNotInteger: return quote_excerpt(text) + " is not a whole number";
    case CountError::kNegative: return quote_excerpt(text) + " is negative";
    case CountError::kTooLarge: return quote_excerpt(text) + " is larger than 2^53";
  }
  return "";
}

}  // namespace covid
