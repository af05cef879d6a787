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
// UTF-8 (no overlong forms, surrogates or code points above U+10FFFF) with none of the characters
// that change how text around them is shown or that cannot be seen. Refused, exactly:
//   kControl    C0 controls U+0000..U+001F, DEL U+007F, C1 controls U+0080..U+009F, and the
//               line and paragraph separators U+2028, U+2029 (a line break inside a name);
//   kBidi       the bidirectional controls, which reorder the text after them on screen (a name
//               ending in U+202E shows what follows it reversed): U+061C ARABIC LETTER MARK,
//               U+200E, U+200F (LRM, RLM), U+202A..U+202E (LRE, RLE, PDF, LRO, RLO),
//               U+2066..U+2069 (LRI, RLI, FSI, PDI);
//   kInvisible  format characters that show nothing, so two names that look the same differ:
//               U+00AD SOFT HYPHEN, U+180E MONGOLIAN VOWEL SEPARATOR, U+200B..U+200D (zero-width
//               space, non-joiner, joiner), U+2060..U+2064 (word joiner, invisible operators),
//               U+206A..U+206F (deprecated format controls), U+FFF9..U+FFFB (interlinear
//               annotation), U+E0000..U+E007F (tag characters);
//   kBom        U+FEFF, the byte order mark or zero-width no-break space, anywhere (at the start
//               of a name it is most often left where files were joined together).
// That is every control (Unicode category Cc) and every format character (Cf) but those that
// act only inside one script (Arabic number signs U+0600..U+0605, Egyptian hieroglyph and
// musical notation controls...), which no US place name has. Accented letters (Doña Ana,
// Bayamón) and every other visible character pass.
enum class TextError { kNone, kInvalidUtf8, kControl, kBom, kBidi, kInvisible };
// *offset: the 1-based byte of the value where the first problem is (unset for kNone).
TextError check_text(std::string_view text, size_t* offset);
// The message for a value that failed check_text, e.g. "'ab\xe2\x80\xaecd' contains a
// bidirectional control (U+202E, byte 3)".
std::string describe(TextError error, std::string_view text, size_t offset);

// The length of the valid UTF-8 sequence starting at s[i] (1 to 4), or 0 when there is none.
size_t utf8_sequence_length(std::string_view s, size_t i);

// The text quoted for a message: at most 40 bytes, never cutting a character in two; bytes that
// are not valid UTF-8 and every character check_text refuses (controls, bidirectional controls,
// invisible characters, a byte order mark) escaped as \xNN, so the message is always clean
// UTF-8 text itself (it goes into JSON, the database and a terminal: a quoted U+202E must not
// reverse the rest of the message).
std::string quote_excerpt(std::string_view text);

}  // namespace covid
