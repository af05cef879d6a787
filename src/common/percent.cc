#include "common/percent.h"

namespace covid {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool percent_decode(std::string_view in, std::string* out, bool plus_is_space) {
  out->clear();
  out->reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '+' && plus_is_space) {
      out->push_back(' ');
    } else if (c == '%') {
      if (i + 2 >= in.size()) return false;
      int hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out->push_back(char(hi * 16 + lo));
      i += 2;
    } else {
      out->push_back(c);
    }
  }
  return true;
}

Result<QueryParams> parse_query_string(std::string_view query, bool plus_is_space) {
  QueryParams out;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view piece = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (piece.empty()) continue;
    size_t eq = piece.find('=');
    std::string key, value;
    std::string_view raw_key = piece.substr(0, eq);
    if (!percent_decode(raw_key, &key, plus_is_space)) {
      return Status::Usage("malformed percent-escape in the query parameter name '" +
                           printable_ascii(raw_key, 64) + "'");
    }
    if (eq != std::string_view::npos &&
        !percent_decode(piece.substr(eq + 1), &value, plus_is_space)) {
      return Status::Usage("malformed percent-escape in the value of query parameter '" +
                           printable_ascii(key, 64) + "'");
    }
    out.emplace_back(std::move(key), std::move(value));
  }
  return out;
}

std::string printable_ascii(std::string_view s, size_t max) {
  std::string out;
  for (char c : s) {
    if (out.size() >= max) {
      out += "...";
      break;
    }
    out += (c >= 0x20 && c < 0x7f) ? c : ' ';
  }
  return out;
}

}  // namespace covid
