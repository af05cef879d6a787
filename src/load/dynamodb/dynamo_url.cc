#include "load/dynamodb/dynamo_url.h"

#include "common/percent.h"

namespace covid {
namespace {

constexpr size_t kMaxTableName = 250;

bool valid_region(std::string_view r) {
  if (r.empty() || r.size() > 32) return false;
  for (char c : r) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

Status usage(std::string_view url, const std::string& what) {
  return Status::Usage("bad DynamoDB URL '" + std::string(url) + "': " + what +
                       " (expected dynamodb://TABLE?region=REGION[&endpoint=URL])");
}

}  // namespace

bool valid_table_name(std::string_view name) {
  if (name.size() < 3 || name.size() > kMaxTableName) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

Result<DynamoTarget> parse_dynamodb_url(std::string_view url, std::string_view fallback_region) {
  if (!is_dynamodb_url(url)) return usage(url, "not a dynamodb:// URL");
  std::string_view rest = url.substr(11);
  size_t q = rest.find('?');
  std::string_view table = rest.substr(0, q);
  std::string_view query = q == std::string_view::npos ? std::string_view() : rest.substr(q + 1);
  if (!table.empty() && table.back() == '/') table.remove_suffix(1);
  if (table.empty()) return usage(url, "no table name");
  if (!valid_table_name(table)) {
    return usage(url, "the table name must be 3 to " + std::to_string(kMaxTableName) +
                          " letters, digits, '_', '-' or '.'");
  }
  DynamoTarget t;
  t.table = std::string(table);
  t.meta_table = t.table + "-meta";
  auto params = parse_query_string(query);
  if (!params.ok()) return usage(url, params.status().message());
  for (auto& [key, value] : *params) {
    if (value.empty()) return usage(url, "parameter '" + key + "' needs a value");
    if (key == "region") {
      if (!valid_region(value)) return usage(url, "bad region '" + value + "'");
      t.region = value;
    } else if (key == "endpoint") {
      if (!value.starts_with("http://") && !value.starts_with("https://")) {
        return usage(url, "the endpoint must be an http:// or https:// URL");
      }
      if (value.find_first_of(" \t\r\n") != std::string::npos) return usage(url, "bad endpoint");
      if (value.find('/', value.find("://") + 3) == std::string::npos) value += '/';
      t.endpoint = value;
      t.custom_endpoint = true;
    } else {
      return usage(url, "unknown parameter '" + std::string(key) + "' (known: region, endpoint)");
    }
  }
  if (t.region.empty()) {
    if (fallback_region.empty()) {
      return usage(url, "no region (add ?region=REGION, or set AWS_REGION or AWS_DEFAULT_REGION)");
    }
    if (!valid_region(fallback_region)) {
      return usage(url, "bad region '" + std::string(fallback_region) + "' from the environment");
    }
    t.region = std::string(fallback_region);
  }
  if (t.endpoint.empty()) t.endpoint = "https://dynamodb." + t.region + ".amazonaws.com/";
  t.display = "dynamodb://" + t.table + "?region=" + t.region;
  if (t.custom_endpoint) t.display += "&endpoint=" + t.endpoint;
  return t;
}

}  // namespace covid
