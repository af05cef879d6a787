// CountryCodes: the WHO's two-letter country codes mapped to our country ids (ISO 3166-1 alpha-3)
// and names, from Debian's iso-codes table (/usr/share/iso-codes/json/iso_3166-1.json, installed
// by scripts/setup.sh), never from a source file's own names (the WHO's exports since 2024 replace
// accented letters with U+FFFD).
//
// A code ISO has maps to its alpha-3 code and ISO's name: its `common_name` when ISO gives one
// ("Bolivia", "South Korea", "Taiwan"), its `name` otherwise ("Côte d'Ivoire", "Türkiye").
// The WHO's codes that ISO lacks get documented ids in ISO's user-assigned range (X..):
//   XK  -> XKS  Kosovo (as Johns Hopkins' lookup table has it)
//   XA  -> XBO  Bonaire          (2021 files; the three are one series, BQ -> BES, since 2024)
//   XB  -> XSE  Sint Eustatius
//   XC  -> XSA  Saba
//   " " -> XXO  International conveyances (2021 files: a code of one space, name "Other")
//   XXF .. XXL (the WHO's own 3-letter codes, 2026): kept, named as the WHO names them
//   (International conveyance (American Samoa), (Solomon Islands), (Vanuatu), (Kiribati),
//   (Diamond Princess); XXL International commercial vessel); any other XX? code is kept too,
//   named "International conveyance (XX?)".
// Any other code is unknown: find() answers std::nullopt. Immutable once loaded; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/status.h"

namespace covid {

inline constexpr const char* kIsoCodesPath = "/usr/share/iso-codes/json/iso_3166-1.json";

struct Country {
  std::string id;    // alpha-3 (or a documented X.. id)
  std::string name;  // ISO's (or the documented one)
};

class CountryCodes {
 public:
  // Parses an iso_3166-1.json (the `3166-1` array of {alpha_2, alpha_3, name, common_name?}).
  // A file that cannot be read or parsed is a kUsage status naming it (install iso-codes).
  static Result<CountryCodes> parse(std::string_view json, const std::string& path);
  static Result<CountryCodes> load(const std::string& path = kIsoCodesPath);

  // The country of a WHO code (two letters, a non-ISO code above, or XX?), or std::nullopt.
  std::optional<Country> find(std::string_view who_code) const;
  size_t size() const { return by_code_.size(); }
  // The ISO 3166-1 numeric code of a country id ("250" for FRA), as the table gives it; empty
  // for an id the table lacks (XKS, XXO...). The map (serve/map_data.h) matches world-atlas's
  // shapes, which carry these codes, to our ids with it.
  std::string numeric(std::string_view id) const;

 private:
  std::unordered_map<std::string, Country> by_code_;
  std::unordered_map<std::string, std::string> numeric_;  // alpha-3 -> numeric
};

// The table at kIsoCodesPath, read once per process (the first call reads it; later ones return
// the same result). Thread-safe.
const Result<CountryCodes>& iso_country_codes();

}  // namespace covid
