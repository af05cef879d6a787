// Location: one place a series belongs to, as kept in the locations table. `id` is the key every
// Observation carries: "US"; a state's 2-digit FIPS code; a county's 5-digit FIPS code (or
// "SS:Name" for a county NYT gives without FIPS). Plain value.
#pragma once

#include <string>
#include <string_view>

namespace covid {

struct Location {
  std::string id;
  std::string type;  // nation, state, county
  std::string name;
  std::string state;  // a county's state name; empty otherwise
  std::string fips;   // empty when there is none
};

// The level of a location id: "nation" for US, "state" for 2 digits, "county" otherwise.
inline const char* location_level(std::string_view id) {
  if (id == "US") return "nation";
  if (id.size() == 2) return "state";
  return "county";
}

}  // namespace covid
