// Secrets: the process-wide list of the secrets covid-etl knows, and scrub(), which removes them
// from any text before it is stored, printed or sent.
//
// A secret is remembered where it is parsed: the PostgreSQL password (load/postgres), the user
// info and secret-looking query values of source and webhook URLs (common/redact_url.h,
// redact_url), notifier tokens and passwords, the trigger token, the AWS keys. scrub() replaces
// each of them with *** in the forms it can take in a message: as it is, percent-encoded (either
// case of the hex digits, and with '+' for a space) and JSON-escaped. It is the second net: what
// is shown of a URL or a database address is built from its parsed parts without the secret;
// scrub() is applied to the error texts of libraries (libpq, libcurl) where they enter our
// messages, and to what a run stores, prints and sends, in case a library quoted one.
//
// Secrets shorter than kMinSecretLength characters are not scrubbed from free text (they cannot
// be told from ordinary words); the redacted URL forms still leave them out. Thread-safe: the
// list only grows, under a mutex.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace covid {

inline constexpr size_t kMinSecretLength = 4;

// Remembers `secret` (and its encoded forms) for scrub(). Empty or short ones are ignored.
void remember_secret(std::string_view secret);

// `text` with every known secret, in every form above, replaced by ***.
std::string scrub(std::string_view text);

// How many secrets are known (for tests and diagnostics; never the secrets themselves).
size_t known_secret_count();

}  // namespace covid
