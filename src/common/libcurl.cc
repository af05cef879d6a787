#include "common/libcurl.h"

#include <dlfcn.h>

#include <mutex>

namespace covid {
namespace {

struct Loaded {
  LibCurl api{};
  std::string error;
  bool ok = false;
};

template <typename F>
bool resolve(void* handle, const char* name, F* out, std::string* error) {
  *out = reinterpret_cast<F>(dlsym(handle, name));
  if (*out == nullptr && error->empty()) *error = std::string("libcurl.so.4 lacks ") + name;
  return *out != nullptr;
}

Loaded load() {
  Loaded l;
  void* h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
  if (h == nullptr) {
    const char* e = dlerror();
    l.error = std::string("cannot load libcurl (install libcurl4): ") + (e ? e : "unknown error");
    return l;
  }
  decltype(&curl_global_init) global_init = nullptr;
  bool ok = resolve(h, "curl_global_init", &global_init, &l.error);
  ok = resolve(h, "curl_easy_init", &l.api.easy_init, &l.error) && ok;
  ok = resolve(h, "curl_version_info", &l.api.version_info, &l.error) && ok;
  ok = resolve(h, "curl_easy_cleanup", &l.api.easy_cleanup, &l.error) && ok;
  ok = resolve(h, "curl_easy_reset", &l.api.easy_reset, &l.error) && ok;
  ok = resolve(h, "curl_easy_setopt", &l.api.easy_setopt, &l.error) && ok;
  ok = resolve(h, "curl_easy_perform", &l.api.easy_perform, &l.error) && ok;
  ok = resolve(h, "curl_easy_getinfo", &l.api.easy_getinfo, &l.error) && ok;
  ok = resolve(h, "curl_easy_strerror", &l.api.easy_strerror, &l.error) && ok;
  ok = resolve(h, "curl_slist_append", &l.api.slist_append, &l.error) && ok;
  ok = resolve(h, "curl_slist_free_all", &l.api.slist_free_all, &l.error) && ok;
  ok = resolve(h, "curl_easy_escape", &l.api.easy_escape, &l.error) && ok;
  ok = resolve(h, "curl_free", &l.api.free, &l.error) && ok;
  ok = resolve(h, "curl_url", &l.api.url, &l.error) && ok;
  ok = resolve(h, "curl_url_cleanup", &l.api.url_cleanup, &l.error) && ok;
  ok = resolve(h, "curl_url_set", &l.api.url_set, &l.error) && ok;
  ok = resolve(h, "curl_url_get", &l.api.url_get, &l.error) && ok;
  if (ok && global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    l.error = "curl_global_init failed";
    ok = false;
  }
  l.ok = ok;
  return l;  // the library stays loaded for the life of the process
}

}  // namespace

const LibCurl* LibCurl::get(std::string* error) {
  static const Loaded loaded = load();
  if (!loaded.ok) {
    *error = loaded.error;
    return nullptr;
  }
  return &loaded.api;
}

}  // namespace covid
