// Text helpers for URLs and messages, shared by the URL parsers (PostgreSQL, DynamoDB, S3, the
// server's query strings) and the clients that quote a server's answer. Pure functions;
// thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace covid {

// Percent-decodes `in` into *out (RFC 3986 %XX, either case); with plus_is_space, '+' becomes a
// space (HTML forms' query strings). False for a bad escape ('%' not followed by two hex digits):
// *out is then unspecified.
bool percent_decode(std::string_view in, std::string* out, bool plus_is_space = false);

// The parameters of a URL's query string ("k=v&k2=v2", without its '?'), in order, names and
// values percent-decoded (plus_is_space as above). Empty pieces ("a=1&&b=2") are skipped; a
// parameter without '=' has an empty value. A bad escape is a kUsage error naming the parameter.
// The one parser of the server's query strings and of the dynamodb:// and s3:// URLs.
using QueryParams = std::vector<std::pair<std::string, std::string>>;
Result<QueryParams> parse_query_string(std::string_view query, bool plus_is_space = false);

// `s` for a message: printable ASCII kept, every other byte a space, at most `max` characters
// and then "...".
std::string printable_ascii(std::string_view s, size_t max);

}  // namespace covid
