// Helpers shared by the unit tests: a fixed clock, a clock that records the waits, feeding a
// dataset reader, showing diagnostics, and reading a SQLite file with the raw API beside any store.
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/diagnostics.h"
#include "extract/csv_reader.h"
#include "transform/table_reader.h"

namespace covid::test {

using Strings = std::vector<std::string>;
using Rows = std::vector<Strings>;

// Always 2022-06-01T12:00:00Z; sleeps return at once.
class FixedClock final : public Clock {
 public:
  std::chrono::system_clock::time_point now() const override {
    return std::chrono::sys_days{std::chrono::year{2022} / 6 / 1} + std::chrono::hours{12};
  }
  void sleep_for(std::chrono::milliseconds) const override {}
};

// Records the waits instead of sleeping (the retry loops' backoff); time moves only by them.
class RecordingClock final : public Clock {
 public:
  std::chrono::system_clock::time_point now() const override { return t; }
  void sleep_for(std::chrono::milliseconds d) const override {
    slept.push_back(d);
    t += d;
  }
  mutable std::chrono::system_clock::time_point t =
      std::chrono::sys_days{std::chrono::year{2022} / 4 / 20};
  mutable std::vector<std::chrono::milliseconds> slept;
};

// Streams `text` through a CsvReader (with the table's options) into `table` in pieces of `chunk`
// bytes, then ends it.
inline void read_into(TableReader& table, std::string_view text, size_t chunk) {
  CsvReader csv(table, table.csv_options());
  for (size_t at = 0; at < text.size(); at += chunk) csv.feed(text.substr(at, chunk));
  csv.finish();
  table.end_of_stream();
}

inline Strings show(const std::vector<Issue>& issues) {
  Strings out;
  for (const Issue& i : issues) out.push_back(i.to_string());
  return out;
}

// Runs SQL on the file with the raw SQLite API; each row as text, NULL as "NULL".
inline Rows sqlite_query(const std::string& path, const std::string& sql, bool create) {
  sqlite3* h = nullptr;
  Rows rows;
  int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
  if (sqlite3_open_v2(path.c_str(), &h, flags, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << "cannot open " << path;
    sqlite3_close(h);
    return rows;
  }
  sqlite3_stmt* s = nullptr;
  const char* tail = sql.c_str();
  while (*tail != '\0') {
    if (sqlite3_prepare_v2(h, tail, -1, &s, &tail) != SQLITE_OK) {
      ADD_FAILURE() << sql << ": " << sqlite3_errmsg(h);
      break;
    }
    if (s == nullptr) break;  // only whitespace left
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      Strings row;
      for (int i = 0; i < sqlite3_column_count(s); ++i) {
        const unsigned char* t = sqlite3_column_text(s, i);
        row.push_back(t == nullptr ? "NULL" : reinterpret_cast<const char*>(t));
      }
      rows.push_back(row);
    }
    if (rc != SQLITE_DONE) ADD_FAILURE() << sql << ": " << sqlite3_errmsg(h);
    sqlite3_finalize(s);
  }
  sqlite3_close(h);
  return rows;
}

}  // namespace covid::test
