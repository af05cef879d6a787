// LibPq: the libpq functions the PostgreSQL store calls, loaded from libpq.so.5 on first use.
//
// libpq pulls in OpenSSL, Kerberos and LDAP; linking it would add their loading to the start of
// every run, SQLite runs included (see common/libcurl.h for the same choice about libcurl). So
// the binary does not link it: the first PostgreSQL store opened loads it with dlopen, once,
// thread-safely, and it stays loaded. Everything else about libpq is used as documented.
// Needs Debian's libpq5 at run time (libpq-dev, for the headers, depends on it).
#pragma once

#include <libpq-fe.h>

#include <string>

namespace covid {

struct LibPq {
  decltype(&PQconnectdbParams) connectdb_params;
  decltype(&PQstatus) status;
  decltype(&PQerrorMessage) error_message;
  decltype(&PQfinish) finish;
  decltype(&PQsetNoticeProcessor) set_notice_processor;
  decltype(&PQtransactionStatus) transaction_status;
  decltype(&PQexec) exec;
  decltype(&PQexecParams) exec_params;
  decltype(&PQresultStatus) result_status;
  decltype(&PQresultErrorField) result_error_field;
  decltype(&PQclear) clear;
  decltype(&PQntuples) ntuples;
  decltype(&PQnfields) nfields;
  decltype(&PQgetvalue) getvalue;
  decltype(&PQgetisnull) getisnull;
  decltype(&PQgetlength) getlength;
  decltype(&PQcmdTuples) cmd_tuples;
  decltype(&PQputCopyData) put_copy_data;
  decltype(&PQputCopyEnd) put_copy_end;
  decltype(&PQgetResult) get_result;
  decltype(&PQconninfoParse) conninfo_parse;  // libpq's own reading of a connection string
  decltype(&PQconninfoFree) conninfo_free;
  decltype(&PQfreemem) freemem;
  decltype(&PQlibVersion) lib_version;  // `covid-etl --version`

  // The loaded library, or nullptr with *error set.
  static const LibPq* get(std::string* error);
};

}  // namespace covid
