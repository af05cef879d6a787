#include "common/date.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace covid {
namespace {

TEST(Date, ParseAcceptsAndRejects) {
  struct Case {
    std::string text;
    DateError error;
  };
  const Case cases[] = {
      {"2020-01-05", DateError::kNone},
      {"2020-02-29", DateError::kNone},  // leap year
      {"2000-02-29", DateError::kNone},  // divisible by 400
      {"1000-01-01", DateError::kNone},
      {"9999-12-31", DateError::kNone},
      {"2021-02-29", DateError::kNotCalendar},
      {"1900-02-29", DateError::kNotCalendar},  // divisible by 100, not by 400
      {"2020-02-30", DateError::kNotCalendar},
      {"2020-04-31", DateError::kNotCalendar},
      {"2020-13-01", DateError::kNotCalendar},
      {"2020-00-10", DateError::kNotCalendar},
      {"2020-01-00", DateError::kNotCalendar},
      {"2020-01-32", DateError::kNotCalendar},
      {"2020-1-5", DateError::kFormat},
      {"2020-01-5", DateError::kFormat},
      {"20200105", DateError::kFormat},
      {"2020/01/05", DateError::kFormat},
      {"2020.01.05", DateError::kFormat},
      {" 2020-01-05", DateError::kFormat},
      {"2020-01-05 ", DateError::kFormat},
      {"2020-01-05\n", DateError::kFormat},
      {"", DateError::kFormat},
      {"0999-12-31", DateError::kFormat},  // years 1000-9999 only
      {"0000-01-01", DateError::kFormat},
      {"+020-01-05", DateError::kFormat},
      {"-020-01-05", DateError::kFormat},
      {"2020-+1-05", DateError::kFormat},
      {"2020-01--5", DateError::kFormat},
      {"2020-0a-05", DateError::kFormat},
      {"202O-01-05", DateError::kFormat},  // letter O
      {"12020-01-05", DateError::kFormat},
      {"2020-01-05T00:00:00Z", DateError::kFormat},
  };
  for (const Case& c : cases) {
    Date d{12345};
    EXPECT_EQ(parse_date(c.text, &d), c.error) << "'" << c.text << "'";
  }
}

TEST(Date, KnownDayNumbers) {
  struct Case {
    std::string text;
    int32_t days;
  };
  const Case cases[] = {
      {"1970-01-01", 0},     {"1969-12-31", -1},      {"1970-01-02", 1},
      {"2000-03-01", 11017}, {"2020-01-21", 18282},   {"2020-02-29", 18321},
      {"2022-06-01", 19144}, {"1000-01-01", -354285}, {"9999-12-31", 2932896},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    Date d{12345};
    ASSERT_EQ(parse_date(c.text, &d), DateError::kNone);
    EXPECT_EQ(d.days, c.days);
    EXPECT_EQ(format_date(Date{c.days}), c.text);
  }
}

TEST(Date, FromYmd) {
  EXPECT_EQ(date_from_ymd(1970, 1, 1), Date{0});
  EXPECT_EQ(date_from_ymd(2020, 1, 21), Date{18282});
  EXPECT_EQ(date_from_ymd(2020, 2, 29), Date{18321});
  EXPECT_EQ(date_from_ymd(1969, 12, 31), Date{-1});
  EXPECT_EQ(date_from_ymd(2020, 3, 1).days - date_from_ymd(2020, 2, 28).days, 2);
  EXPECT_EQ(date_from_ymd(2021, 3, 1).days - date_from_ymd(2021, 2, 28).days, 1);
  EXPECT_LT(date_from_ymd(2020, 12, 31), date_from_ymd(2021, 1, 1));
}

// ymd_of is date_from_ymd backwards, and agrees with format_date's text, every day of 1900-2100.
TEST(Date, YmdOfIsFromYmdBackwards) {
  for (int32_t days = date_from_ymd(1900, 1, 1).days; days <= date_from_ymd(2100, 12, 31).days;
       ++days) {
    Ymd d = ymd_of(Date{days});
    ASSERT_EQ(date_from_ymd(d.year, d.month, d.day), Date{days});
    char text[11] = {};
    std::snprintf(text, sizeof text, "%04d-%02u-%02u", d.year, d.month, d.day);
    ASSERT_EQ(format_date(Date{days}), text);
  }
  Ymd before = ymd_of(Date{-1});
  EXPECT_EQ(before.year, 1969);
  EXPECT_EQ(before.month, 12u);
  EXPECT_EQ(before.day, 31u);
}

// Walks every day from 1600 to 2400 with an independent calendar: format_date must give the
// walked date, and parse_date must give back the day number.
TEST(Date, RoundTripAgainstIndependentCalendar) {
  auto leap = [](int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; };
  auto month_days = [&](int y, int m) {
    static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap(y) ? 29 : kDays[m - 1];
  };
  int y = 1600, m = 1, d = 1;
  int32_t days = date_from_ymd(1600, 1, 1).days;
  // 1600-01-01 is 370 years of 365 days plus 90 leap days (1600..1968) before 1970-01-01.
  ASSERT_EQ(days, -(370 * 365 + 90));
  char text[40];
  int checked = 0;
  for (; y <= 2400; ++days, ++checked) {
    std::snprintf(text, sizeof text, "%04d-%02d-%02d", y, m, d);
    ASSERT_EQ(format_date(Date{days}), text);
    Date parsed{};
    ASSERT_EQ(parse_date(text, &parsed), DateError::kNone) << text;
    ASSERT_EQ(parsed.days, days) << text;
    ASSERT_EQ(date_from_ymd(y, unsigned(m), unsigned(d)).days, days) << text;
    if (++d > month_days(y, m)) {
      d = 1;
      if (++m > 12) m = 1, ++y;
    }
  }
  EXPECT_EQ(checked, 801 * 365 + 195);  // 1600..2400: 195 leap years
}

TEST(Date, FormatIntoBufferWritesTenBytes) {
  char buf[12];
  std::fill(std::begin(buf), std::end(buf), 'x');
  format_date(Date{18282}, buf);
  EXPECT_EQ(std::string(buf, 12), "2020-01-21xx");
}

TEST(Date, Ordering) {
  Date a{1}, b{2};
  EXPECT_TRUE(a < b);
  EXPECT_TRUE(a == Date{1});
  EXPECT_FALSE(a == b);
}

}  // namespace
}  // namespace covid
