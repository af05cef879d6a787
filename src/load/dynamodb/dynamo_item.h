// DynamoDB attribute values and items: how covid-etl's values are written to and read from
// DynamoDB's JSON ({"S": "text"}, {"N": "123"}, {"NULL": true}). Pure functions; thread-safe.
//
// Counts are N attributes written as plain integers; an unknown count (kUnknown) is written as
// no attribute at all, and read back as unknown whether it is absent or NULL. Empty strings are
// not written either (older DynamoDB-compatible servers refuse them) and read back as "".
//
// The data table's item for an observation: location (S, partition key), date (S, YYYY-MM-DD,
// sort key), cases, deaths, recovered (N, when known), run_id (N: the run that last wrote it).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/status.h"
#include "transform/observation.h"

namespace covid::dynamo {

inline nlohmann::json S(std::string_view s) { return {{"S", s}}; }
inline nlohmann::json N(int64_t v) { return {{"N", std::to_string(v)}}; }

// A member of a JSON object that is a string, or "" (for anything else: never an exception).
std::string string_field(const nlohmann::json& object, const char* name);

// Puts `name` into `item` unless the value is empty / unknown.
void put_s(nlohmann::json& item, const char* name, std::string_view value);
void put_n(nlohmann::json& item, const char* name, int64_t value);
void put_count(nlohmann::json& item, const char* name, int64_t count);  // kUnknown: nothing

// Reads attributes of one item, remembering the first malformed one.
class ItemReader {
 public:
  explicit ItemReader(const nlohmann::json& item) : item_(item) {}

  std::string s(const char* name);                  // "" when absent or NULL
  int64_t n(const char* name, int64_t absent = 0);  // `absent` when absent or NULL
  bool has(const char* name) const;                 // present and not NULL

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

 private:
  const nlohmann::json* find(const char* name, const char* type);

  const nlohmann::json& item_;
  std::string error_;
};

// Parses a whole decimal integer (an N attribute's text); false for anything else.
bool parse_integer(std::string_view text, int64_t* out);

nlohmann::json observation_item(const Observation& o, int64_t run_id);
// A kLoad Status (without the table's name) for an item that is not one.
Result<Observation> observation_from_item(const nlohmann::json& item);

}  // namespace covid::dynamo
