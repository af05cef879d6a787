// URLs as they may be shown: redact_url() and the rules it uses. Below extract/ (which fetches
// them) so that every layer that shows a URL (load/ for the database's, config/, notify/, the
// pipeline's run records) can use it without depending on the HTTP client. Thread-safe (libcurl's
// URL API, loaded on first use by common/libcurl.h, on a handle of its own per call).
#pragma once

#include <string>
#include <string_view>

namespace covid {

// The URL as shown and stored: parsed (libcurl's URL API), with the user info replaced by ***
// and the value of every secret-looking query parameter (is_secret_query_key) by ***. What it
// removes is remembered as a secret (common/secrets.h). A URL with nothing to remove is returned
// as given; one that does not parse is not shown at all. Plain paths are returned as they are.
std::string redact_url(std::string_view url);

// True for a query parameter name whose value is taken for a secret: one containing token, key,
// secret, signature, password, passwd or credential, or one of sig, code, auth, pass, pwd,
// session, jwt (case-insensitive, '-' and '_' alike: X-Amz-Signature, access_token, apiKey, sig).
bool is_secret_query_key(std::string_view name);

// True for URLs with a scheme (http://, https://, file://); false for plain paths.
bool has_scheme(std::string_view url);

}  // namespace covid
