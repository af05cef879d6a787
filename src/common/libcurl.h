// LibCurl: the libcurl functions covid-etl calls, loaded from libcurl.so.4 on first use.
//
// Loading libcurl (with the TLS, LDAP, SSH and IDN libraries it pulls in) costs about 5 ms at
// process start, a quarter of a whole national run from local files. So the binary does not
// link it: the first fetch of a URL with a scheme loads it with dlopen, once, thread-safely.
// Everything else about libcurl is used as documented.
#pragma once

#include <curl/curl.h>

#include <string>

namespace covid {

struct LibCurl {
  decltype(&curl_easy_init) easy_init;
  decltype(&curl_easy_cleanup) easy_cleanup;
  decltype(&curl_easy_reset) easy_reset;
  decltype(&curl_easy_setopt) easy_setopt;
  decltype(&curl_easy_perform) easy_perform;
  decltype(&curl_easy_getinfo) easy_getinfo;
  decltype(&curl_easy_strerror) easy_strerror;
  decltype(&curl_slist_append) slist_append;
  decltype(&curl_slist_free_all) slist_free_all;
  decltype(&curl_easy_escape) easy_escape;
  decltype(&curl_free) free;
  decltype(&curl_url) url;  // the URL API: parsing, for redaction (common/redact_url.h)
  decltype(&curl_url_cleanup) url_cleanup;
  decltype(&curl_url_set) url_set;
  decltype(&curl_url_get) url_get;
  decltype(&curl_version_info) version_info;  // `covid-etl --version`

  // The loaded library (initialised with curl_global_init), or nullptr with *error set.
  static const LibCurl* get(std::string* error);
};

}  // namespace covid
