// The states and territories of the NYT state and county series, each with its 2-digit FIPS code
// (US Census, FIPS PUB 5-2 / ANSI INCITS 38) and its name exactly as NYT spells it: the 50 states
// (01 Alabama .. 56 Wyoming; 03, 07, 14, 43 and 52 are unused codes), the District of Columbia
// (11) and the five inhabited territories, 60 American Samoa, 66 Guam, 69 Northern Mariana
// Islands, 72 Puerto Rico and 78 Virgin Islands. These 56 are every place us-states.csv ever
// named (checked against ../shared/data/nyt/us-states.csv and JHU's lookup table by
// tests/unit/states_test.cc). Codes the Census gives to no state (00, 99) or to places NYT never
// reports (64, 68, 70 freely associated states; 74 U.S. Minor Outlying Islands; the old 81..95
// outlying islands) are not here, so the readers refuse them. The one table the state reader
// (FIPS against name), the county reader (a county's first two digits against its state) and
// the county-without-FIPS rule ("36:New York City") read. Pure functions, no state.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>
#include <utility>

namespace covid {

inline constexpr std::pair<std::string_view, std::string_view> kStatesByFips[] = {
    {"01", "Alabama"},        {"02", "Alaska"},         {"04", "Arizona"},
    {"05", "Arkansas"},       {"06", "California"},     {"08", "Colorado"},
    {"09", "Connecticut"},    {"10", "Delaware"},       {"11", "District of Columbia"},
    {"12", "Florida"},        {"13", "Georgia"},        {"15", "Hawaii"},
    {"16", "Idaho"},          {"17", "Illinois"},       {"18", "Indiana"},
    {"19", "Iowa"},           {"20", "Kansas"},         {"21", "Kentucky"},
    {"22", "Louisiana"},      {"23", "Maine"},          {"24", "Maryland"},
    {"25", "Massachusetts"},  {"26", "Michigan"},       {"27", "Minnesota"},
    {"28", "Mississippi"},    {"29", "Missouri"},       {"30", "Montana"},
    {"31", "Nebraska"},       {"32", "Nevada"},         {"33", "New Hampshire"},
    {"34", "New Jersey"},     {"35", "New Mexico"},     {"36", "New York"},
    {"37", "North Carolina"}, {"38", "North Dakota"},   {"39", "Ohio"},
    {"40", "Oklahoma"},       {"41", "Oregon"},         {"42", "Pennsylvania"},
    {"44", "Rhode Island"},   {"45", "South Carolina"}, {"46", "South Dakota"},
    {"47", "Tennessee"},      {"48", "Texas"},          {"49", "Utah"},
    {"50", "Vermont"},        {"51", "Virginia"},       {"53", "Washington"},
    {"54", "West Virginia"},  {"55", "Wisconsin"},      {"56", "Wyoming"},
    {"60", "American Samoa"}, {"66", "Guam"},           {"69", "Northern Mariana Islands"},
    {"72", "Puerto Rico"},    {"78", "Virgin Islands"},
};

namespace detail {
constexpr std::array<std::string_view, 100> states_by_number() {
  std::array<std::string_view, 100> out{};
  for (const auto& [code, name] : kStatesByFips)
    out[size_t((code[0] - '0') * 10 + (code[1] - '0'))] = name;
  return out;
}
inline constexpr std::array<std::string_view, 100> kStatesByNumber = states_by_number();
}  // namespace detail

// The NYT name of the state or territory whose FIPS code is `fips` (two digits: "06" ->
// "California"), or "" when no state or territory has that code. One array lookup: the county
// reader asks it for every row.
constexpr std::string_view state_name_by_fips(std::string_view fips) {
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (fips.size() != 2 || !digit(fips[0]) || !digit(fips[1])) return {};
  return detail::kStatesByNumber[size_t((fips[0] - '0') * 10 + (fips[1] - '0'))];
}

// The 2-digit FIPS code of a state or territory by its NYT name ("California" -> "06"), or "".
constexpr std::string_view state_fips_by_name(std::string_view name) {
  for (const auto& [code, n] : kStatesByFips) {
    if (n == name) return code;
  }
  return {};
}

}  // namespace covid
