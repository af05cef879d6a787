// DynamoDB database URLs: what `--db` may name for the DynamoDB store. Pure functions, no I/O;
// thread-safe.
//
//   dynamodb://TABLE?region=us-east-1[&endpoint=http://127.0.0.1:8000]
//
// TABLE is the data table; the store keeps its runs, revisions, source states, outbox and lock
// in a second table, TABLE-meta. A table name is 3 to 250 letters, digits, '_', '-' and '.'
// (DynamoDB allows 255; "-meta" takes 5). The region is required unless the caller passes a
// fallback (from AWS_REGION or AWS_DEFAULT_REGION). The endpoint defaults to
// https://dynamodb.REGION.amazonaws.com/; another one (a DynamoDB-compatible server) must be an
// http:// or https:// URL. Parameter values may be percent-encoded. Every mistake is a usage
// error (exit 64). The URL holds no secret: credentials come from the environment only.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace covid {

struct DynamoTarget {
  std::string table;       // the data table
  std::string meta_table;  // table + "-meta"
  std::string region;
  std::string endpoint;  // ends with '/'
  bool custom_endpoint = false;
  std::string display;  // the URL as messages show it
};

inline bool is_dynamodb_url(std::string_view url) { return url.starts_with("dynamodb://"); }

Result<DynamoTarget> parse_dynamodb_url(std::string_view url,
                                        std::string_view fallback_region = {});

bool valid_table_name(std::string_view name);

}  // namespace covid
