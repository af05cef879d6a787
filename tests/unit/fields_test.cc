#include "transform/fields.h"

#include <gtest/gtest.h>

#include <string>

namespace covid {
namespace {

TEST(ParseCount, AcceptsPlainDecimalIntegers) {
  struct Case {
    std::string text;
    int64_t value;
  };
  const Case cases[] = {
      {"0", 0},
      {"5", 5},
      {"1234", 1234},
      {"9007199254740991", 9007199254740991},
      {"9007199254740992", 9007199254740992},  // 2^53, the largest allowed
  };
  for (const Case& c : cases) {
    int64_t v = -7;
    EXPECT_EQ(parse_count(c.text, &v), CountError::kNone) << c.text;
    EXPECT_EQ(v, c.value) << c.text;
  }
}

TEST(ParseCount, Rejects) {
  struct Case {
    std::string text;
    CountError error;
  };
  const Case cases[] = {
      {"", CountError::kEmpty},
      {"9007199254740993", CountError::kTooLarge},  // 2^53 + 1
      {"10000000000000000", CountError::kTooLarge},
      {"9223372036854775807", CountError::kTooLarge},   // INT64_MAX
      {"9223372036854775808", CountError::kTooLarge},   // 2^63: would overflow int64
      {"18446744073709551617", CountError::kTooLarge},  // 2^64 + 1: would overflow uint64
      {"123456789012345678901234567890", CountError::kTooLarge},
      {"-5", CountError::kNegative},
      {"-0", CountError::kNegative},
      {"-9007199254740993", CountError::kNegative},
      {"-", CountError::kNotInteger},
      {"-5x", CountError::kNotInteger},
      {"--5", CountError::kNotInteger},
      {"+5", CountError::kNotInteger},
      {" 5", CountError::kNotInteger},
      {"5 ", CountError::kNotInteger},
      {"1,234", CountError::kNotInteger},
      {"1.0", CountError::kNotInteger},
      {"1e3", CountError::kNotInteger},
      {"12x", CountError::kNotInteger},
      {"0x10", CountError::kNotInteger},
      {"NaN", CountError::kNotInteger},
      {"\xEF\xBC\x95", CountError::kNotInteger},  // fullwidth digit five
  };
  for (const Case& c : cases) {
    int64_t v = -7;
    EXPECT_EQ(parse_count(c.text, &v), c.error) << "'" << c.text << "'";
  }
}

TEST(Describe, NamesTheProblem) {
  EXPECT_EQ(describe(CountError::kNone, "5"), "");
  EXPECT_EQ(describe(CountError::kEmpty, ""), "empty value");
  EXPECT_EQ(describe(CountError::kNotInteger, "12x"), "'12x' is not a whole number");
  EXPECT_EQ(describe(CountError::kNegative, "-5"), "'-5' is negative");
  EXPECT_EQ(describe(CountError::kTooLarge, "9007199254740993"),
            "'9007199254740993' is larger than 2^53");
}

TEST(Describe, QuotesABoundedExcerpt) {
  std::string long_text(100, '7');
  long_text += "x";
  EXPECT_EQ(describe(CountError::kNotInteger, long_text),
            "'" + std::string(40, '7') + "...' is not a whole number");
}

TEST(QuoteExcerpt, Cases) {
  struct Case {
    std::string text;
    std::string quoted;
  };
  const Case cases[] = {
      {"", "''"},
      {"abc", "'abc'"},
      {std::string(40, 'a'), "'" + std::string(40, 'a') + "'"},
      {std::string(41, 'a'), "'" + std::string(40, 'a') + "...'"},
      {std::string(39, 'a') + "bc", "'" + std::string(39, 'a') + "b...'"},
      {"a\tb\nc\rd", "'a\\x09b\\x0ac\\x0dd'"},
      {std::string("a\0b", 3), "'a\\x00b'"},
      {"\x1f\x7f", "'\\x1f\\x7f'"},
      {"caf\xC3\xA9", "'caf\xC3\xA9'"},  // UTF-8 is kept
      {"it's", "'it's'"},
  };
  for (const Case& c : cases) EXPECT_EQ(quote_excerpt(c.text), c.quoted);
}

TEST(Describe, MinusZeroHasASignNotANegativeValue) {
  // '-0' is refused like '+5': a count is written without a sign. It is not "negative".
  int64_t v = -7;
  EXPECT_EQ(parse_count("-0", &v), CountError::kNegative);
  EXPECT_EQ(describe(CountError::kNegative, "-0"),
            "'-0' has a minus sign (a count is written without one)");
  EXPECT_EQ(describe(CountError::kNegative, "-000"),
            "'-000' has a minus sign (a count is written without one)");
  EXPECT_EQ(describe(CountError::kNegative, "-10"), "'-10' is negative");
}

TEST(QuoteExcerpt, EscapesBytesThatAreNotUtf8) {
  // Messages go into JSON (run --json, the outbox, PostgreSQL json columns): every message must
  // be valid UTF-8 whatever the source held. Bytes that are not part of a valid UTF-8 sequence
  // are escaped like control bytes; valid sequences are kept.
  struct Case {
    std::string text;
    std::string quoted;
  };
  const Case cases[] = {
      {"1\xe9", "'1\\xe9'"},  // Latin-1 e-acute
      {"Calif\xf3rnia", "'Calif\\xf3rnia'"},
      {"Bayam\xc3", "'Bayam\\xc3'"},                   // a sequence cut short at the end
      {"\xc3(", "'\\xc3('"},                           // ... or by an ASCII byte
      {"\xc0\xaf", "'\\xc0\\xaf'"},                    // overlong '/'
      {"\xed\xa0\x80", "'\\xed\\xa0\\x80'"},           // a UTF-16 surrogate
      {"\xf4\x90\x80\x80", "'\\xf4\\x90\\x80\\x80'"},  // above U+10FFFF
      {"\xff\xfe", "'\\xff\\xfe'"},
      {"\x80", "'\\x80'"},  // a lone continuation byte
      {"Do\xc3\xb1"
       "a Ana",
       "'Do\xc3\xb1"
       "a Ana'"},                                  // valid: kept
      {"\xf0\x9f\x98\x80", "'\xf0\x9f\x98\x80'"},  // valid 4-byte sequence: kept
      {"\xef\xbb\xbf"
       "2020",
       "'\\xef\\xbb\\xbf2020'"},  // a BOM is invisible: shown escaped
  };
  for (const Case& c : cases) EXPECT_EQ(quote_excerpt(c.text), c.quoted);
}

TEST(QuoteExcerpt, NeverCutsAUtf8SequenceInTwo) {
  // 39 ASCII bytes then a 2-byte character: the character does not fit in 40 bytes whole, so the
  // excerpt stops before it (a cut sequence would be invalid UTF-8).
  std::string text = std::string(39, 'a') + "\xc3\xa9" + "zz";
  EXPECT_EQ(quote_excerpt(text), "'" + std::string(39, 'a') + "...'");
  std::string fits = std::string(38, 'a') + "\xc3\xa9" + "z";
  EXPECT_EQ(quote_excerpt(fits), "'" + std::string(38, 'a') + "\xc3\xa9...'");
}

TEST(CheckText, CleanUtf8TextOrWhereItIsNot) {
  struct Case {
    std::string text;
    TextError error;
    size_t offset;  // 1-based byte of the value where the problem is
  };
  const Case cases[] = {
      {"California", TextError::kNone, 0},
      {"", TextError::kNone, 0},
      {"Do\xc3\xb1"
       "a Ana",
       TextError::kNone, 0},
      {"Bayam\xc3\xb3n", TextError::kNone, 0},
      {"Lewis and Clark", TextError::kNone, 0},
      {"Calif\xf3rnia", TextError::kInvalidUtf8, 6},
      {"Bayam\xc3", TextError::kInvalidUtf8, 6},
      {"\xc0\xaf", TextError::kInvalidUtf8, 1},
      {"ab\xed\xa0\x80", TextError::kInvalidUtf8, 3},
      {"Los\tAngeles", TextError::kControl, 4},
      {"x\x7f", TextError::kControl, 2},
      {"\xef\xbb\xbf"
       "California",
       TextError::kBom, 1},
      {"Cali\xef\xbb\xbf", TextError::kBom, 5},
  };
  for (const Case& c : cases) {
    size_t offset = 0;
    EXPECT_EQ(check_text(c.text, &offset), c.error) << quote_excerpt(c.text);
    if (c.error != TextError::kNone) {
      EXPECT_EQ(offset, c.offset) << quote_excerpt(c.text);
    }
  }
  EXPECT_EQ(describe(TextError::kInvalidUtf8, "Calif\xf3rnia", 6),
            "'Calif\\xf3rnia' is not valid UTF-8 (byte 6)");
  EXPECT_EQ(describe(TextError::kControl, "Los\tAngeles", 4),
            "'Los\\x09Angeles' contains a control character (byte 4)");
  EXPECT_EQ(describe(TextError::kBom,
                     "\xef\xbb\xbf"
                     "California",
                     1),
            "'\\xef\\xbb\\xbfCalifornia' contains a byte order mark (U+FEFF, byte 1: files joined "
            "together?)");
}

TEST(CheckText, RefusesBidiControlsInvisibleCharactersAndC1Controls) {
  // A name is shown on the dashboard, in the CSV export and in terminals: a character that
  // reorders the text after it (U+202E shows 'Texas\u202Esaxet' as 'Texastexas'), that cannot be
  // seen (two names that look the same but differ) or that is a control is refused, at its byte.
  // The set is exactly the one fields.h lists; a few visible neighbours pass.
  struct Case {
    std::string text;
    TextError error;
    size_t offset;
    std::string message;  // describe(), with the code point named
  };
  const Case cases[] = {
      // C1 controls (U+0080..U+009F), and the line and paragraph separators.
      {"Los\xc2\x80"
       "Angeles",
       TextError::kControl, 4,
       "'Los\\xc2\\x80Angeles' contains a control character (U+0080, byte 4)"},
      {"Los\xc2\x85", TextError::kControl, 4,
       "'Los\\xc2\\x85' contains a control character (U+0085, byte 4)"},
      {"\xc2\x9f", TextError::kControl, 1,
       "'\\xc2\\x9f' contains a control character (U+009F, byte 1)"},
      {"a\xe2\x80\xa8"
       "b",
       TextError::kControl, 2, "'a\\xe2\\x80\\xa8b' contains a control character (U+2028, byte 2)"},
      {"a\xe2\x80\xa9", TextError::kControl, 2, ""},
      // Bidirectional controls.
      {"Texas\xe2\x80\xae"
       "saxet",
       TextError::kBidi, 6,
       "'Texas\\xe2\\x80\\xaesaxet' contains a bidirectional control (U+202E, byte 6: it would "
       "reorder the "
       "text shown after it)"},
      {"\xe2\x80\xaa"
       "x",
       TextError::kBidi, 1, ""},                   // U+202A LRE
      {"x\xe2\x80\xab", TextError::kBidi, 2, ""},  // U+202B RLE
      {"x\xe2\x80\xac", TextError::kBidi, 2, ""},  // U+202C PDF
      {"x\xe2\x80\xad", TextError::kBidi, 2, ""},  // U+202D LRO
      {"x\xe2\x80\x8e", TextError::kBidi, 2, ""},  // U+200E LRM
      {"x\xe2\x80\x8f", TextError::kBidi, 2, ""},  // U+200F RLM
      {"x\xd8\x9c", TextError::kBidi, 2, ""},      // U+061C ARABIC LETTER MARK
      {"x\xe2\x81\xa6", TextError::kBidi, 2, ""},  // U+2066 LRI
      {"x\xe2\x81\xa7", TextError::kBidi, 2, ""},  // U+2067 RLI
      {"x\xe2\x81\xa8", TextError::kBidi, 2, ""},  // U+2068 FSI
      {"x\xe2\x81\xa9", TextError::kBidi, 2, ""},  // U+2069 PDI
      // Invisible characters.
      {"Los\xe2\x80\x8b"
       "Angeles",
       TextError::kInvisible, 4,
       "'Los\\xe2\\x80\\x8bAngeles' contains an invisible character (U+200B, byte 4)"},
      {"x\xe2\x80\x8c", TextError::kInvisible, 2, ""},  // U+200C ZWNJ
      {"x\xe2\x80\x8d", TextError::kInvisible, 2, ""},  // U+200D ZWJ
      {"x\xe2\x81\xa0", TextError::kInvisible, 2, ""},  // U+2060 WORD JOINER
      {"x\xe2\x81\xa4", TextError::kInvisible, 2, ""},  // U+2064 INVISIBLE PLUS
      {"x\xe2\x81\xaf", TextError::kInvisible, 2, ""},  // U+206F NOMINAL DIGIT SHAPES
      {"Ala\xc2\xad"
       "bama",
       TextError::kInvisible, 4, ""},                       // U+00AD SOFT HYPHEN
      {"x\xe1\xa0\x8e", TextError::kInvisible, 2, ""},      // U+180E MONGOLIAN VOWEL SEPARATOR
      {"x\xef\xbf\xb9", TextError::kInvisible, 2, ""},      // U+FFF9
      {"x\xf3\xa0\x80\x81", TextError::kInvisible, 2, ""},  // U+E0001 LANGUAGE TAG
      {"x\xf3\xa0\x81\xbf", TextError::kInvisible, 2, ""},  // U+E007F CANCEL TAG
      // U+FEFF anywhere, with its own message.
      {"Tex\xef\xbb\xbf"
       "as",
       TextError::kBom, 4,
       "'Tex\\xef\\xbb\\xbfas' contains a byte order mark (U+FEFF, byte 4: files joined "
       "together?)"},
      // The first problem is the one reported.
      {"a\xe2\x80\x8b\xe2\x80\xae", TextError::kInvisible, 2, ""},
      // Visible neighbours pass: NBSP, accented letters, the dashes and quotes around the
      // refused ranges, Puerto Rico's and New Mexico's names, an emoji, U+E0080.
      {"a\xc2\xa0"
       "b",
       TextError::kNone, 0, ""},
      {"Do\xc3\xb1"
       "a Ana",
       TextError::kNone, 0, ""},
      {"Mayag\xc3\xbc"
       "ez",
       TextError::kNone, 0, ""},
      {"a\xe2\x80\x90\xe2\x80\x94\xe2\x80\x99\xe2\x80\xa7\xe2\x80\xaf\xe2\x81\x9f",
       TextError::kNone, 0, ""},
      {"x\xef\xbf\xbc", TextError::kNone, 0, ""},  // U+FFFC OBJECT REPLACEMENT (visible)
      {"x\xf0\x9f\x98\x80", TextError::kNone, 0, ""},
      {"x\xf3\xa0\x82\x80", TextError::kNone, 0, ""},  // U+E0080
  };
  for (const Case& c : cases) {
    size_t offset = 0;
    EXPECT_EQ(check_text(c.text, &offset), c.error) << quote_excerpt(c.text);
    if (c.error == TextError::kNone) continue;
    EXPECT_EQ(offset, c.offset) << quote_excerpt(c.text);
    std::string message = describe(c.error, c.text, offset);
    if (!c.message.empty()) {
      EXPECT_EQ(message, c.message);
    }
    // The message never carries the character it refuses: it is clean text itself.
    size_t at = 0;
    EXPECT_EQ(check_text(message, &at), TextError::kNone) << message;
  }
}

TEST(QuoteExcerpt, TruncatesBeforeEscaping) {
  // 40 bytes are kept, each escaped: the limit is on the text, not on the message.
  std::string controls(45, '\x01');
  std::string expected = "'";
  for (int i = 0; i < 40; ++i) expected += "\\x01";
  expected += "...'";
  EXPECT_EQ(quote_excerpt(controls), expected);
}

}  // namespace
}  // namespace covid
