#include "load/postgres/pg_url.h"

#include <algorithm>
#include <cctype>
#include <optional>

#include "common/percent.h"
#include "common/secrets.h"

namespace covid {
namespace {

// The libpq keywords a key=value connection string is recognised by (its first keyword), plus
// our own `schema`.
// clang-format off
constexpr std::string_view kKeywords[] = {
    "host", "hostaddr", "port", "dbname", "user", "password", "passfile", "service", "sslmode",
    "sslpassword", "connect_timeout", "application_name", "options", "target_session_attrs",
    "channel_binding", "gssencmode", "sslrootcert", "sslcert", "sslkey", "requiressl", "krbsrvname",
    "schema"};
// clang-format on

// Parameters whose values are secrets: the password, and the passphrase of an SSL key.
bool is_secret_key(std::string_view key) { return key == "password" || key == "sslpassword"; }

bool is_uri(std::string_view u) {
  return u.starts_with("postgresql://") || u.starts_with("postgres://");
}

// Percent-decoding as libpq does it ('+' is left alone); nullopt for a bad escape.
std::optional<std::string> unescaped(std::string_view s) {
  std::string out;
  if (!percent_decode(s, &out)) return std::nullopt;
  return out;
}

Result<std::string> checked_schema(std::string_view raw) {
  if (!valid_schema_name(raw)) {
    return Status::Usage(
        "schema '" + std::string(raw) +
        "' in the database URL is not a valid schema name (1 to 63 letters, digits "
        "and underscores, not starting with a digit or pg_)");
  }
  return std::string(raw);
}

Result<PgTarget> parse_uri(std::string_view url) {
  PgTarget t;
  size_t host = url.find("://") + 3;
  // An '@' that libpq would not take for the end of the user info (one after a '/', or a second
  // one) means a '/' or '@' was left unencoded in the user name or password: libpq would read
  // part of the password as the host, port or database name and quote it in its errors. The URL
  // is refused, shown without everything up to its last '@', and that part remembered as secret.
  size_t query_at = url.find('?', host);
  size_t last_at = url.substr(0, query_at).rfind('@');
  if (last_at != std::string_view::npos && last_at >= host) {
    size_t first = url.find_first_of("@/", host);
    if (first != last_at) {
      std::string_view userinfo = url.substr(host, last_at - host);
      size_t colon = userinfo.find(':');
      std::string_view password =
          colon == std::string_view::npos ? userinfo : userinfo.substr(colon + 1);
      for (std::string_view secret : {userinfo, password}) {
        remember_secret(secret);
        if (auto decoded = unescaped(secret)) remember_secret(*decoded);
      }
      return Status::Usage(
          "the database URL " + std::string(url.substr(0, host)) + "***" +
          std::string(url.substr(last_at)) +
          " has a '/' or '@' in its user name, password or database name: write them "
          "percent-encoded (%2F for '/', %40 for '@')");
    }
  }
  // libpq takes user info up to the first '@' before the first '/'.
  size_t stop = url.find_first_of("@/", host);
  std::string display;
  if (stop != std::string_view::npos && url[stop] == '@') {
    std::string_view userinfo = url.substr(host, stop - host);
    size_t colon = userinfo.find(':');
    if (colon != std::string_view::npos) {
      auto password = unescaped(userinfo.substr(colon + 1));
      t.secrets.push_back(password ? *password : std::string(userinfo.substr(colon + 1)));
      display = std::string(url.substr(0, host + colon)) + ":***" + std::string(url.substr(stop));
    }
  }
  if (display.empty()) display = std::string(url);

  // The query: drop our parameter, redact a password parameter.
  auto split_query = [](std::string_view u) {
    size_t q = u.find('?');
    return q == std::string_view::npos ? std::pair(u, std::string_view())
                                       : std::pair(u.substr(0, q), u.substr(q + 1));
  };
  auto [base, query] = split_query(std::string_view(url));
  auto [display_base, display_query] = split_query(std::string_view(display));
  std::string kept, kept_display;
  size_t pos = 0;
  while (pos <= query.size() && !query.empty()) {
    size_t amp = query.find('&', pos);
    std::string_view param =
        query.substr(pos, amp == std::string_view::npos ? std::string_view::npos : amp - pos);
    pos = amp == std::string_view::npos ? query.size() + 1 : amp + 1;
    if (param.empty()) continue;
    size_t eq = param.find('=');
    std::string_view key = param.substr(0, eq);
    std::string_view value =
        eq == std::string_view::npos ? std::string_view() : param.substr(eq + 1);
    if (key == "schema") {
      auto decoded = unescaped(value);
      if (!decoded)
        return Status::Usage("bad %-escape in the schema parameter of the database URL");
      auto schema = checked_schema(*decoded);
      if (!schema.ok()) return schema.status();
      t.schema = *schema;
      continue;
    }
    std::string shown(param);
    if (is_secret_key(key)) {
      auto decoded = unescaped(value);
      t.secrets.push_back(decoded ? *decoded : std::string(value));
      shown = std::string(key) + "=***";
    }
    kept += (kept.empty() ? "" : "&") + std::string(param);
    kept_display += (kept_display.empty() ? "" : "&") + shown;
  }
  t.conninfo = std::string(base) + (kept.empty() ? "" : "?" + kept);
  t.display = std::string(display_base) + (kept_display.empty() ? "" : "?" + kept_display);
  return t;
}

// key=value strings: keywords, optional spaces around '=', values bare (up to a space) or
// single-quoted, with backslash escaping the next character in both.
Result<PgTarget> parse_keyword_value(std::string_view s) {
  PgTarget t;
  size_t i = 0;
  auto space = [&](size_t k) {
    return k < s.size() && std::isspace(static_cast<unsigned char>(s[k]));
  };
  while (true) {
    while (space(i)) ++i;
    if (i >= s.size()) break;
    size_t pair_start = i;
    size_t key_start = i;
    while (i < s.size() && s[i] != '=' && !space(i)) ++i;
    std::string_view key = s.substr(key_start, i - key_start);
    while (space(i)) ++i;
    if (i >= s.size() || s[i] != '=') {
      return Status::Usage("malformed PostgreSQL connection string: no '=' after '" +
                           std::string(key) + "'");
    }
    ++i;
    while (space(i)) ++i;
    size_t value_start = i;
    std::string value;
    if (i < s.size() && s[i] == '\'') {
      ++i;
      bool closed = false;
      while (i < s.size()) {
        if (s[i] == '\\' && i + 1 < s.size()) {
          value += s[i + 1];
          i += 2;
        } else if (s[i] == '\'') {
          ++i;
          closed = true;
          break;
        } else {
          value += s[i++];
        }
      }
      if (!closed)
        return Status::Usage("malformed PostgreSQL connection string: unterminated quote");
    } else {
      while (i < s.size() && !space(i)) {
        if (s[i] == '\\' && i + 1 < s.size()) ++i;
        value += s[i++];
      }
    }
    std::string_view pair = s.substr(pair_start, i - pair_start);
    if (key == "schema") {
      auto schema = checked_schema(value);
      if (!schema.ok()) return schema.status();
      t.schema = *schema;
      continue;
    }
    std::string sep = t.conninfo.empty() ? "" : " ";
    t.conninfo += sep + std::string(pair);
    if (is_secret_key(key)) {
      t.secrets.push_back(value);
      t.display += sep + std::string(s.substr(pair_start, value_start - pair_start)) + "***";
    } else {
      t.display += sep + std::string(pair);
    }
  }
  return t;
}

}  // namespace

bool is_postgres_url(std::string_view url) {
  if (is_uri(url)) return true;
  size_t i = 0;
  while (i < url.size() && (std::islower(static_cast<unsigned char>(url[i])) || url[i] == '_')) ++i;
  std::string_view key = url.substr(0, i);
  while (i < url.size() && url[i] == ' ') ++i;
  if (i >= url.size() || url[i] != '=') return false;
  return std::find(std::begin(kKeywords), std::end(kKeywords), key) != std::end(kKeywords);
}

Result<PgTarget> parse_postgres_url(std::string_view url) {
  auto t = is_uri(url) ? parse_uri(url) : parse_keyword_value(url);
  if (t.ok()) {
    for (const std::string& secret : t->secrets) remember_secret(secret);
  }
  return t;
}

bool valid_schema_name(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  if (std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  if (name.size() >= 3 && std::tolower(static_cast<unsigned char>(name[0])) == 'p' &&
      std::tolower(static_cast<unsigned char>(name[1])) == 'g' && name[2] == '_') {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

std::string quote_identifier(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + '"';
}

std::string scrub_secrets(std::string text, const std::vector<std::string>& secrets) {
  for (const std::string& secret : secrets) {
    if (secret.empty()) continue;
    for (size_t p = text.find(secret); p != std::string::npos; p = text.find(secret, p + 3)) {
      text.replace(p, secret.size(), "***");
    }
  }
  return text;
}

}  // namespace covid
