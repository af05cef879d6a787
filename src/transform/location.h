// Location: one place a series belongs to, as kept in the locations table. `id` is the key every
// Observation carries: "US"; a state's 2-digit FIPS code; a county's 5-digit FIPS code (or
// "SS:Name" for a county NYT gives without FIPS); a country's ISO 3166-1 alpha-3 code ("FRA",
// "USA": the WHO's series, apart from NYT's national "US"; transform/country_codes.h). Plain value.
#pragma once

#include <string>
#include <string_view>

namespace covid {

struct Location {
  std::string id;
  std::string type;  // nation, state, county, country
  std::string name;
  std::string state;  // a county's state name; empty otherwise
  std::string fips;   // empty when there is none
};

// Exactly 3 ASCII uppercase letters: a country's id.
inline bool is_country_id(std::string_view id) {
  if (id.size() != 3) return false;
  for (char c : id) {
    if (c < 'A' || c > 'Z') return false;
  }
  return true;
}

// The level of a location id: "nation" for US, "state" for 2 digits, "country" for exactly 3
// ASCII uppercase letters, "county" otherwise.
inline const char* location_level(std::string_view id) {
  if (id == "US") return "nation";
  if (id.size() == 2) return "state";
  if (id.size() == 3 && is_country_id(id)) return "country";
  return "county";
}

}  // namespace covid
