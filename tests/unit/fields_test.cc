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
      {"9007199254740993", CountError::kTooLarge},     // 2^53 + 1
      {"10000000000000000", CountError::kTooLarge},
      {"9223372036854775807", CountError::kTooLarge},  // INT64_MAX
      {"9223372036854775808", CountError::kTooLarge},  // 2^63: would overflow int64
      {"18446744073709551617", CountError::kTooLarge}, // 2^64 + 1: would overflow uint64
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
  EXPECT_EQ(describe(CountError::kNegative, "-0"), "'-0' has a minus sign (a count is written without one)");
  EXPECT_EQ(describe(CountError::kNegative, "-000"), "'-000' has a minus sign (a count is written without one)");
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
      {"1\xe9", "'1\\xe9'"},                        // Latin-1 e-acute
      {"Calif\xf3rnia", "'Calif\\xf3rnia'"},
      {"Bayam\xc3", "'Bayam\\xc3'"},                // a sequence cut short at the end
      {"\xc3(", "'\\xc3('"},                        // ... or by an ASCII byte
      {"\xc0\xaf", "'\\xc0\\xaf'"},                // overlong '/'
      {"\xed\xa0\x80", "'\\xed\\xa0\\x80'"},      // a UTF-16 surrogate
      {"\xf4\x90\x80\x80", "'\\xf4\\x90\\x80\\x80'"},  // above U+10FFFF
      {"\xff\xfe", "'\\xff\\xfe'"},
      {"\x80", "'\\x80'"},                          // a lone continuation byte
      {"Do\xc3\xb1" "a Ana", "'Do\xc3\xb1" "a Ana'"},      // valid: kept
      {"\xf0\x9f\x98\x80", "'\xf0\x9f\x98\x80'"},    // valid 4-byte sequence: kept
      {"\xef\xbb\xbf" "2020", "'\\xef\\xbb\\xbf2020'"},  // a BOM is invisible: shown escaped
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
      {"Do\xc3\xb1" "a Ana", TextError::kNone, 0},
      {"Bayam\xc3\xb3n", TextError::kNone, 0},
      {"Lewis and Clark", TextError::kNone, 0},
      {"Calif\xf3rnia", TextError::kInvalidUtf8, 6},
      {"Bayam\xc3", TextError::kInvalidUtf8, 6},
      {"\xc0\xaf", TextError::kInvalidUtf8, 1},
      {"ab\xed\xa0\x80", TextError::kInvalidUtf8, 3},
      {"Los\tAngeles", TextError::kControl, 4},
      {"x\x7f", TextError::kControl, 2},
      {"\xef\xbb\xbf" "California", TextError::kBom, 1},
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
  EXPECT_EQ(describe(TextError::kBom, "\xef\xbb\xbf" "California", 1),
            "'\\xef\\xbb\\xbfCalifornia' contains a byte order mark (U+FEFF, byte 1: files joined together?)");
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
