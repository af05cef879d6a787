#include "load/postgres/libpq.h"

#include <dlfcn.h>

namespace covid {
namespace {

struct Loaded {
  LibPq api{};
  std::string error;
  bool ok = false;
};

template <typename F>
bool resolve(void* handle, const char* name, F* out, std::string* error) {
  *out = reinterpret_cast<F>(dlsym(handle, name));
  if (*out == nullptr && error->empty()) *error = std::string("libpq.so.5 lacks ") + name;
  return *out != nullptr;
}

Loaded load() {
  Loaded l;
  void* h = dlopen("libpq.so.5", RTLD_NOW | RTLD_LOCAL);
  if (h == nullptr) {
    const char* e = dlerror();
    l.error = std::string("cannot load libpq (install libpq5): ") + (e ? e : "unknown error");
    return l;
  }
  LibPq& a = l.api;
  bool ok = resolve(h, "PQconnectdbParams", &a.connectdb_params, &l.error);
  ok = resolve(h, "PQstatus", &a.status, &l.error) && ok;
  ok = resolve(h, "PQlibVersion", &a.lib_version, &l.error) && ok;
  ok = resolve(h, "PQerrorMessage", &a.error_message, &l.error) && ok;
  ok = resolve(h, "PQfinish", &a.finish, &l.error) && ok;
  ok = resolve(h, "PQsetNoticeProcessor", &a.set_notice_processor, &l.error) && ok;
  ok = resolve(h, "PQtransactionStatus", &a.transaction_status, &l.error) && ok;
  ok = resolve(h, "PQexec", &a.exec, &l.error) && ok;
  ok = resolve(h, "PQexecParams", &a.exec_params, &l.error) && ok;
  ok = resolve(h, "PQresultStatus", &a.result_status, &l.error) && ok;
  ok = resolve(h, "PQresultErrorField", &a.result_error_field, &l.error) && ok;
  ok = resolve(h, "PQclear", &a.clear, &l.error) && ok;
  ok = resolve(h, "PQntuples", &a.ntuples, &l.error) && ok;
  ok = resolve(h, "PQnfields", &a.nfields, &l.error) && ok;
  ok = resolve(h, "PQgetvalue", &a.getvalue, &l.error) && ok;
  ok = resolve(h, "PQgetisnull", &a.getisnull, &l.error) && ok;
  ok = resolve(h, "PQgetlength", &a.getlength, &l.error) && ok;
  ok = resolve(h, "PQcmdTuples", &a.cmd_tuples, &l.error) && ok;
  ok = resolve(h, "PQputCopyData", &a.put_copy_data, &l.error) && ok;
  ok = resolve(h, "PQputCopyEnd", &a.put_copy_end, &l.error) && ok;
  ok = resolve(h, "PQgetResult", &a.get_result, &l.error) && ok;
  ok = resolve(h, "PQconninfoParse", &a.conninfo_parse, &l.error) && ok;
  ok = resolve(h, "PQconninfoFree", &a.conninfo_free, &l.error) && ok;
  ok = resolve(h, "PQfreemem", &a.freemem, &l.error) && ok;
  l.ok = ok;
  return l;  // the library stays loaded for the life of the process
}

}  // namespace

const LibPq* LibPq::get(std::string* error) {
  static const Loaded loaded = load();
  if (!loaded.ok) {
    *error = loaded.error;
    return nullptr;
  }
  return &loaded.api;
}

}  // namespace covid
