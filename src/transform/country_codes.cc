#include "transform/country_codes.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace covid {
namespace {

struct Extra {
  const char* code;
  const char* id;
  const char* name;
};

// The WHO's codes that ISO 3166-1 lacks (see the header).
constexpr Extra kExtras[] = {
    {"XK", "XKS", "Kosovo"},
    {"XA", "XBO", "Bonaire"},
    {"XB", "XSE", "Sint Eustatius"},
    {"XC", "XSA", "Saba"},
    {" ", "XXO", "International conveyances"},
    {"XXF", "XXF", "International conveyance (American Samoa)"},
    {"XXG", "XXG", "International conveyance (Solomon Islands)"},
    {"XXH", "XXH", "International conveyance (Vanuatu)"},
    {"XXI", "XXI", "International conveyance (Kiribati)"},
    {"XXJ", "XXJ", "International conveyance (Diamond Princess)"},
    {"XXL", "XXL", "International commercial vessel"},
};

bool upper(char c) { return c >= 'A' && c <= 'Z'; }

}  // namespace

Result<CountryCodes> CountryCodes::parse(std::string_view text, const std::string& path) {
  auto fail = [&](const std::string& why) {
    return Status::Usage("cannot read the ISO 3166-1 country table " + path + ": " + why +
                         " (Debian's iso-codes package: scripts/setup.sh installs it)");
  };
  auto json = nlohmann::json::parse(text, nullptr, false);
  if (json.is_discarded() || !json.is_object()) return fail("not JSON");
  auto list = json.find("3166-1");
  if (list == json.end() || !list->is_array()) return fail("no \"3166-1\" array");
  CountryCodes out;
  for (const auto& e : *list) {
    auto text_of = [&](const char* key) -> std::string {
      auto v = e.find(key);
      return v != e.end() && v->is_string() ? v->get<std::string>() : std::string();
    };
    std::string a2 = text_of("alpha_2"), a3 = text_of("alpha_3"), name = text_of("name");
    std::string common = text_of("common_name");
    if (a2.size() != 2 || a3.size() != 3 || name.empty()) return fail("an entry lacks its codes");
    out.by_code_[a2] = Country{a3, common.empty() ? name : common};
    if (std::string numeric = text_of("numeric"); !numeric.empty()) out.numeric_[a3] = numeric;
  }
  if (out.by_code_.empty()) return fail("no country in it");
  for (const Extra& x : kExtras) out.by_code_[x.code] = Country{x.id, x.name};
  return out;
}

Result<CountryCodes> CountryCodes::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return Status::Usage("cannot read the ISO 3166-1 country table " + path +
                         ": no such file (Debian's iso-codes package: scripts/setup.sh "
                         "installs it)");
  std::ostringstream s;
  s << in.rdbuf();
  return parse(s.str(), path);
}

std::string CountryCodes::numeric(std::string_view id) const {
  auto it = numeric_.find(std::string(id));
  return it == numeric_.end() ? std::string() : it->second;
}

std::optional<Country> CountryCodes::find(std::string_view code) const {
  auto it = by_code_.find(std::string(code));
  if (it != by_code_.end()) return it->second;
  // The WHO's conveyances since 2024 are XX and a letter; a new one is kept under its own code.
  if (code.size() == 3 && code[0] == 'X' && code[1] == 'X' && upper(code[2])) {
    return Country{std::string(code), "International conveyance (" + std::string(code) + ")"};
  }
  return std::nullopt;
}

const Result<CountryCodes>& iso_country_codes() {
  static const Result<CountryCodes> codes = CountryCodes::load();
  return codes;
}

}  // namespace covid
