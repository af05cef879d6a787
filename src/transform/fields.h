// The validation rules for single fields, shared by every dataset reader. Pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace covid {

enum class CountError { kNone, kEmpty, kNotInteger, kNegative, kTooLarge };

// A count is a plain decimal integer from 0 to 2^53: no sign, spaces, separators or exponent.
CountError parse_count(std::string_view text, int64_t* out);

// A message for a field that failed parse_count, quoting (a bounded excerpt of) the text. A
// negative zero ('-0') is refused like '+5': a count is written without a sign.
std::string describe(CountError error, std::string_view text);

// A text value that is stored and shown (a state or county name) must be clean UTF-8 text: valid
// UTF-8 (no overlong forms, surrogates or code points above U+10FFFF), no control character
// (C0 or DEL) and no byte order mark (U+FEFF, left where files were joined together).
enum class TextError { kNone, kInvalidUtf8, kControl, kBom };
// *offset: the 1-based byte of the value where the first problem is (unset for kNone).
TextError check_text(std::string_view text, size_t* offset);
std::string describe(TextError error, std::string_view text, size_t offset);

// The length of the valid UTF-8 sequence starting at s[i] (1 to 4), or 0 when there is none.
size_t utf8_sequence_length(std::string_view s, size_t i);

// The text quoted for a message: at most 40 bytes, never cutting a character in two; control
// bytes, bytes that are not valid UTF-8 and a byte order mark escaped as \xNN, so the message
// is always valid UTF-8 (it goes into JSON and into the database).
std::string quote_excerpt(std::string_view text);

}  // namespace covid
