// PostgreSQL database URLs: what `--db` may name for the PostgreSQL store, split into what libpq
// receives and what is ours. Pure functions, no I/O; thread-safe.
//
// Accepted: libpq connection URIs (postgresql://... and postgres://...) and key=value connection
// strings that start with a libpq keyword ("host=/run/postgresql dbname=covid"). One parameter is
// ours and is removed before libpq sees the string: `schema` (URI: ?schema=NAME; key=value:
// schema=NAME), the PostgreSQL schema the store's tables live in, default covid_etl. A schema
// name is 1 to 63 letters, digits and underscores, not starting with a digit or pg_; it is
// always used double-quoted. Passwords (in the user info of a URI, or a password parameter) are
// left to libpq, but replaced by *** in `display`, the form used in every message, and
// remembered for common/secrets.h's scrub(). A URI with an unencoded '/' or '@' in its user info
// (postgresql://etl:S3cret/pw@host/db), which libpq would split elsewhere and quote in its errors,
// is a usage error that does not show the user info.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace covid {

inline constexpr const char* kDefaultPgSchema = "covid_etl";

struct PgTarget {
  std::string conninfo;  // for libpq: the URL without our own parameters
  std::string schema = kDefaultPgSchema;
  std::string display;               // conninfo with any password replaced by ***
  std::vector<std::string> secrets;  // the passwords it contains, to scrub from messages
};

// True for a URL the PostgreSQL store takes (a postgresql:// or postgres:// URI, or a key=value
// string starting with a libpq keyword).
bool is_postgres_url(std::string_view url);

// Splits a URL that is_postgres_url() accepts. Usage errors (exit 64) for a bad schema name, a
// malformed key=value string or an unencoded '/' or '@' in a URI's user info; the messages never
// contain the password. Remembers the passwords it finds (common/secrets.h).
Result<PgTarget> parse_postgres_url(std::string_view url);

bool valid_schema_name(std::string_view name);

// "name" with any " doubled: an SQL identifier that is never a keyword and keeps its case.
std::string quote_identifier(std::string_view name);

// `text` with every occurrence of each non-empty secret replaced by ***.
std::string scrub_secrets(std::string text, const std::vector<std::string>& secrets);

}  // namespace covid
