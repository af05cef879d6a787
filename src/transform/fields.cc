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

size_t utf8_sequence_length(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return i + k < s.size() ? uint8_t(s[i + k]) : uint8_t(0); };
  auto cont = [&](size_t k) { return (byte(k) & 0xC0) == 0x80; };
  uint8_t b = byte(0);
  if (i >= s.size()) return 0;
  if (b < 0x80) return 1;
  if (b >= 0xC2 && b <= 0xDF) return cont(1) ? 2 : 0;
  if (b >= 0xE0 && b <= 0xEF) {
    uint8_t lo = b == 0xE0 ? 0xA0 : 0x80,
            hi = b == 0xED ? 0x9F : 0xBF;  // no overlong, no surrogate
    return byte(1) >= lo && byte(1) <= hi && cont(2) ? 3 : 0;
  }
  if (b >= 0xF0 && b <= 0xF4) {
    uint8_t lo = b == 0xF0 ? 0x90 : 0x80, hi = b == 0xF4 ? 0x8F : 0xBF;  // U+10000 .. U+10FFFF
    return byte(1) >= lo && byte(1) <= hi && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;  // a continuation byte, C0, C1 or F5..FF
}

namespace {
bool is_control(uint8_t c) { return c < 0x20 || c == 0x7f; }

// The code point of the valid UTF-8 sequence of `n` bytes at s[i].
char32_t decode(std::string_view s, size_t i, size_t n) {
  auto b = [&](size_t k) { return char32_t(uint8_t(s[i + k])); };
  switch (n) {
    case 1:
      return b(0);
    case 2:
      return (b(0) & 0x1F) << 6 | (b(1) & 0x3F);
    case 3:
      return (b(0) & 0x0F) << 12 | (b(1) & 0x3F) << 6 | (b(2) & 0x3F);
    default:
      return (b(0) & 0x07) << 18 | (b(1) & 0x3F) << 12 | (b(2) & 0x3F) << 6 | (b(3) & 0x3F);
  }
}

// What check_text thinks of one code point (the exact set is in fields.h).
TextError classify(char32_t c) {
  auto in = [c](char32_t lo, char32_t hi) { return c >= lo && c <= hi; };
  if (c < 0x20 || c == 0x7F || in(0x80, 0x9F) || c == 0x2028 || c == 0x2029)
    return TextError::kControl;
  if (c < 0xAD) return TextError::kNone;  // the common case: ASCII and most of Latin-1
  if (c == 0x061C || c == 0x200E || c == 0x200F || in(0x202A, 0x202E) || in(0x2066, 0x2069)) {
    return TextError::kBidi;
  }
  if (c == 0x00AD || c == 0x180E || in(0x200B, 0x200D) || in(0x2060, 0x2064) ||
      in(0x206A, 0x206F) || in(0xFFF9, 0xFFFB) || in(0xE0000, 0xE007F)) {
    return TextError::kInvisible;
  }
  if (c == 0xFEFF) return TextError::kBom;
  return TextError::kNone;
}
}  // namespace

TextError check_text(std::string_view text, size_t* offset) {
  for (size_t i = 0; i < text.size();) {
    uint8_t c = uint8_t(text[i]);
    if (c < 0x80) {
      if (is_control(c)) {
        *offset = i + 1;
        return TextError::kControl;
      }
      ++i;
      continue;
    }
    size_t n = utf8_sequence_length(text, i);
    if (n == 0) {
      *offset = i + 1;
      return TextError::kInvalidUtf8;
    }
    if (TextError e = classify(decode(text, i, n)); e != TextError::kNone) {
      *offset = i + 1;
      return e;
    }
    i += n;
  }
  return TextError::kNone;
}

std::string describe(TextError error, std::string_view text, size_t offset) {
  std::string at = "byte " + std::to_string(offset);
  // The refused character, as U+XXXX, when it is not ASCII.
  size_t i = offset - 1, n = i < text.size() ? utf8_sequence_length(text, i) : 0;
  if (n > 1) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "U+%04X, ", unsigned(decode(text, i, n)));
    at = buf + at;
  }
  switch (error) {
    case TextError::kNone:
      return "";
    case TextError::kInvalidUtf8:
      return quote_excerpt(text) + " is not valid UTF-8 (" + at + ")";
    case TextError::kControl:
      return quote_excerpt(text) + " contains a control character (" + at + ")";
    case TextError::kBidi:
      return quote_excerpt(text) + " contains a bidirectional control (" + at +
             ": it would reorder the text shown after it)";
    case TextError::kInvisible:
      return quote_excerpt(text) + " contains an invisible character (" + at + ")";
    case TextError::kBom:
      return quote_excerpt(text) + " contains a byte order mark (" + at +
             ": files joined together?)";
  }
  return "";
}

std::string quote_excerpt(std::string_view text) {
  std::string s = "'";
  auto escape = [&s](uint8_t c) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "\\x%02x", c);
    s += buf;
  };
  constexpr size_t kMax = 40;
  size_t i = 0;
  while (i < text.size()) {
    uint8_t c = uint8_t(text[i]);
    size_t n = c < 0x80 ? 1 : utf8_sequence_length(text, i);
    if (i + (n == 0 ? 1 : n) > kMax) break;  // a character is kept whole or not at all
    if (n == 0) {                            // not UTF-8: this byte alone
      escape(c);
      ++i;
    } else if (n == 1) {
      if (is_control(c)) {
        escape(c);
      } else {
        s += char(c);
      }
      ++i;
    } else {
      std::string_view seq = text.substr(i, n);
      if (classify(decode(text, i, n)) != TextError::kNone) {
        for (char b : seq) escape(uint8_t(b));
      } else {
        s += seq;
      }
      i += n;
    }
  }
  if (i < text.size()) s += "...";
  return s + "'";
}

std::string describe(CountError error, std::string_view text) {
  switch (error) {
    case CountError::kNone:
      return "";
    case CountError::kEmpty:
      return "empty value";
    case CountError::kNotInteger:
      return quote_excerpt(text) + " is not a whole number";
    case CountError::kNegative:
      if (text.find_first_not_of('0', 1) == std::string_view::npos) {
        return quote_excerpt(text) + " has a minus sign (a count is written without one)";
      }
      return quote_excerpt(text) + " is negative";
    case CountError::kTooLarge:
      return quote_excerpt(text) + " is larger than 2^53";
  }
  return "";
}

}  // namespace covid
