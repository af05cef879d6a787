// The validation rules for single fields, shared by every dataset reader. Pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace covid {

enum class CountError { kNone, kEmpty, kNotInteger, kNegative, kTooLarge };

// A count is a plain decimal integer from 0 to 2^53: no sign, spaces, separators or exponent.
CountError parse_count(std::string_view text, int64_t* out);

// A message for a field that failed parse_count, quoting (a bounded excerpt of) the text.
std::string describe(CountError error, std::string_view text);

// The text quoted for a message: at most 40 bytes, control bytes escaped.
std::string quote_excerpt(std::string_view text);

}  // namespace covid
