#include "load/date_digest.h"

#include <xxhash.h>

#include <algorithm>
#include <cstring>

namespace covid {

void DateDigest::add(std::string_view location, int64_t cases, int64_t deaths, int64_t recovered) {
  // The location (at most 64 bytes are hashed: ids are short), a separator, the three counts.
  char buf[64 + 1 + 3 * sizeof(int64_t)];
  size_t n = std::min(location.size(), size_t(64));
  std::memcpy(buf, location.data(), n);
  buf[n++] = '\0';
  for (int64_t v : {cases, deaths, recovered}) {
    std::memcpy(buf + n, &v, sizeof v);
    n += sizeof v;
  }
  XXH128_hash_t h = XXH3_128bits(buf, n);
  ++rows;
  low += h.low64;
  high += h.high64;
}

namespace {

std::string hex128(uint64_t high, uint64_t low) {
  static const char kHex[] = "0123456789abcdef";
  std::string out(32, '0');
  for (int i = 0; i < 16; ++i) {
    out[i] = kHex[(high >> (60 - 4 * i)) & 0xf];
    out[16 + i] = kHex[(low >> (60 - 4 * i)) & 0xf];
  }
  return out;
}

bool parse_hex128(std::string_view hex, uint64_t* high, uint64_t* low) {
  if (hex.size() != 32) return false;
  uint64_t parts[2] = {0, 0};
  for (size_t i = 0; i < 32; ++i) {
    char c = hex[i];
    uint64_t v;
    if (c >= '0' && c <= '9')
      v = uint64_t(c - '0');
    else if (c >= 'a' && c <= 'f')
      v = uint64_t(c - 'a' + 10);
    else
      return false;
    parts[i / 16] = (parts[i / 16] << 4) | v;
  }
  *high = parts[0];
  *low = parts[1];
  return true;
}

}  // namespace

std::string DateDigest::hash_hex() const { return hex128(high, low); }

bool DateDigest::set_hash_hex(std::string_view hex) { return parse_hex128(hex, &high, &low); }

BytesDigest BytesDigest::of(std::string_view header, std::string_view lines) {
  XXH64_hash_t seed = XXH3_64bits_withSeed(header.data(), header.size(), kRulesVersion);
  XXH128_hash_t h = XXH3_128bits_withSeed(lines.data(), lines.size(), seed);
  return BytesDigest{h.low64, h.high64};
}

std::string BytesDigest::hex() const { return hex128(high, low); }

bool BytesDigest::set_hex(std::string_view hex) { return parse_hex128(hex, &high, &low); }

}  // namespace covid
