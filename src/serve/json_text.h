// The small JSON writers the hand-made responses share (series.cc's series and map_data.cc's map
// levels, both too large to build as nlohmann::json values first): each appends to `out`.
//
// - append_escaped: a string's content, quotes, backslashes and control characters escaped
//   (\uXXXX), other bytes as they are (UTF-8 stays UTF-8); append_string: the same in quotes.
// - append_int: an integer in decimal.
// - append_avg: a number with two decimals at most, trailing zeros dropped (12345.57, 3.5, 4;
//   never "-0"): how the API writes averages and rates. The caller writes null for NaN.
// - append_date: a date in quotes, "YYYY-MM-DD".
// Pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/date.h"

namespace covid::serve {

void append_escaped(std::string& out, std::string_view text);
void append_string(std::string& out, std::string_view text);
void append_int(std::string& out, int64_t v);
void append_avg(std::string& out, double v);
void append_date(std::string& out, Date d);

}  // namespace covid::serve
