// common/percent.h: the one percent-decoder of the URL parsers and the server's query strings,
// and the printable form of a server's answer in messages.
#include "common/percent.h"

#include <gtest/gtest.h>

namespace covid {
namespace {

TEST(Percent, DecodesEscapesOfEitherCaseAndLeavesPlusUnlessAsked) {
  std::string out;
  ASSERT_TRUE(percent_decode("a%2Fb%2fc+d%20e", &out));
  EXPECT_EQ(out, "a/b/c+d e");
  ASSERT_TRUE(percent_decode("a%2Fb+c", &out, /*plus_is_space=*/true));
  EXPECT_EQ(out, "a/b c");
  ASSERT_TRUE(percent_decode("", &out));
  EXPECT_EQ(out, "");
  ASSERT_TRUE(percent_decode("%00%ff", &out));
  EXPECT_EQ(out, std::string("\0\xff", 2));
}

TEST(Percent, RefusesABadEscape) {
  std::string out;
  for (const char* bad : {"%", "%2", "a%2", "%G0", "%0g", "x%%41"}) {
    EXPECT_FALSE(percent_decode(bad, &out)) << bad;
  }
}

TEST(Percent, QueryStringsInOrderDecodedEmptyPiecesSkipped) {
  auto p = parse_query_string("region=eu-west-3&&endpoint=http%3A%2F%2Fh%3A9&flag&a+b=c+d");
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(
      *p, (QueryParams{
              {"region", "eu-west-3"}, {"endpoint", "http://h:9"}, {"flag", ""}, {"a+b", "c+d"}}));
  p = parse_query_string("a+b=c+d", /*plus_is_space=*/true);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p, (QueryParams{{"a b", "c d"}}));
  EXPECT_TRUE(parse_query_string("")->empty());
  auto bad = parse_query_string("ok=1&region=%zz");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().kind(), ErrorKind::kUsage);
  EXPECT_EQ(bad.status().message(),
            "malformed percent-escape in the value of query parameter 'region'");
  EXPECT_EQ(parse_query_string("%4=1").status().message(),
            "malformed percent-escape in the query parameter name '%4'");
}

TEST(Percent, PrintableAsciiReplacesOtherBytesAndCuts) {
  EXPECT_EQ(printable_ascii("ok\n\tx\x7f\xc3\xa9", 100), "ok  x   ");
  EXPECT_EQ(printable_ascii("abcdef", 3), "abc...");
  EXPECT_EQ(printable_ascii("abc", 3), "abc");
}

}  // namespace
}  // namespace covid
