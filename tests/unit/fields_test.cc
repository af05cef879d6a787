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
