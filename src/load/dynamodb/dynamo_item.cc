#include "load/dynamodb/dynamo_item.h"

#include <charconv>

namespace covid::dynamo {

std::string string_field(const nlohmann::json& object, const char* name) {
  if (!object.is_object()) return {};
  auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

void put_s(nlohmann::json& item, const char* name, std::string_view value) {
  if (!value.empty()) item[name] = S(value);
}

void put_n(nlohmann::json& item, const char* name, int64_t value) { item[name] = N(value); }

void put_count(nlohmann::json& item, const char* name, int64_t count) {
  if (count != kUnknown) item[name] = N(count);
}

bool parse_integer(std::string_view text, int64_t* out) {
  if (text.empty()) return false;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, *out);
  return ec == std::errc() && ptr == end;
}

bool ItemReader::has(const char* name) const {
  auto it = item_.find(name);
  return it != item_.end() && it->is_object() && !it->contains("NULL");
}

const nlohmann::json* ItemReader::find(const char* name, const char* type) {
  auto it = item_.find(name);
  if (it == item_.end()) return nullptr;
  if (it->is_object() && it->contains("NULL")) return nullptr;
  auto v = it->is_object() ? it->find(type) : it->end();
  if (!it->is_object() || v == it->end() || !v->is_string()) {
    if (error_.empty()) error_ = std::string("attribute '") + name + "' is not of type " + type;
    return nullptr;
  }
  return &*v;
}

std::string ItemReader::s(const char* name) {
  const nlohmann::json* v = find(name, "S");
  return v == nullptr ? std::string() : v->get<std::string>();
}

int64_t ItemReader::n(const char* name, int64_t absent) {
  const nlohmann::json* v = find(name, "N");
  if (v == nullptr) return absent;
  int64_t out = 0;
  if (!parse_integer(v->get_ref<const std::string&>(), &out)) {
    if (error_.empty()) {
      error_ = std::string("attribute '") + name + "' is not an integer: '" +
               v->get<std::string>().substr(0, 40) + "'";
    }
    return absent;
  }
  return out;
}

nlohmann::json observation_item(const Observation& o, int64_t run_id) {
  nlohmann::json item = {{"location", S(o.location)}, {"date", S(format_date(o.date))}};
  put_count(item, "cases", o.cases);
  put_count(item, "deaths", o.deaths);
  put_count(item, "recovered", o.recovered);
  put_n(item, "run_id", run_id);
  return item;
}

Result<Observation> observation_from_item(const nlohmann::json& item) {
  if (!item.is_object()) return Status::Load("an item that is not a JSON object");
  ItemReader r(item);
  Observation o;
  o.location = r.s("location");
  std::string date = r.s("date");
  o.cases = r.n("cases", kUnknown);
  o.deaths = r.n("deaths", kUnknown);
  o.recovered = r.n("recovered", kUnknown);
  if (!r.ok()) return Status::Load("observation " + o.location + " " + date + ": " + r.error());
  if (parse_date(date, &o.date) != DateError::kNone) {
    return Status::Load("bad date '" + date.substr(0, 40) + "' in observation of " + o.location);
  }
  for (int64_t c : {o.cases, o.deaths, o.recovered}) {
    if (c != kUnknown && (c < 0 || c > kMaxCount)) {
      return Status::Load("observation " + o.location + " " + date +
                          ": count out of range: " + std::to_string(c));
    }
  }
  return o;
}

}  // namespace covid::dynamo
