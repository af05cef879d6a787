// PostgreSQL's binary wire formats, for COPY ... FROM STDIN (FORMAT binary) and binary results:
// big-endian integers, dates as days since 2000-01-01, NULL as a length of -1.
// CopyBinaryWriter builds the COPY stream in memory, a chunk at a time (take() hands over what
// is built so far). Plain values; not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/date.h"

namespace covid {

// Days from 1970-01-01 (our Date) to 2000-01-01 (PostgreSQL's date epoch).
inline constexpr int32_t kPgDateEpochDays = 10957;

inline int32_t pg_date(Date d) { return d.days - kPgDateEpochDays; }
inline Date from_pg_date(int32_t days) { return Date{days + kPgDateEpochDays}; }

inline uint32_t read_be32(const char* p) {
  auto b = reinterpret_cast<const unsigned char*>(p);
  return uint32_t(b[0]) << 24 | uint32_t(b[1]) << 16 | uint32_t(b[2]) << 8 | uint32_t(b[3]);
}
inline uint64_t read_be64(const char* p) { return uint64_t(read_be32(p)) << 32 | read_be32(p + 4); }

class CopyBinaryWriter {
 public:
  // The stream starts with the signature, flags and header-extension length.
  CopyBinaryWriter() { buf_.append("PGCOPY\n\xff\r\n\0", 11).append(8, '\0'); }

  void begin_row(int16_t fields) { be16(uint16_t(fields)); }
  void null() { be32(0xffffffffu); }
  void text(std::string_view s) {
    be32(uint32_t(s.size()));
    buf_.append(s);
  }
  void int8(int64_t v) {
    be32(8);
    be32(uint32_t(uint64_t(v) >> 32));
    be32(uint32_t(uint64_t(v)));
  }
  void date(Date d) {
    be32(4);
    be32(uint32_t(pg_date(d)));
  }
  void boolean(bool b) {
    be32(1);
    buf_ += char(b ? 1 : 0);
  }
  // The trailer: a field count of -1. Nothing may follow.
  void finish() { be16(0xffffu); }

  size_t size() const { return buf_.size(); }
  // What was built so far; the writer continues with an empty buffer.
  std::string take() {
    std::string out;
    out.swap(buf_);
    return out;
  }

 private:
  void be16(uint16_t v) {
    buf_ += char(v >> 8);
    buf_ += char(v);
  }
  void be32(uint32_t v) {
    be16(uint16_t(v >> 16));
    be16(uint16_t(v));
  }
  std::string buf_;
};

}  // namespace covid
