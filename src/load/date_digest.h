// DateDigest: what one level's rows on one date hold, summarised in 16 bytes and a count, so that
// a run can skip a date whose rows are the same as last time without comparing them one by one
// (at county scale: 3,000 rows a date, 800 dates, one new date a day).
//
// The digest is order-independent: the sum, lane by lane, of the XXH3-128 hashes of each row's
// (location, cases, deaths, recovered), so the same rows in any order give the same digest. It
// detects change, it is not a security measure.
//
// A BytesDigest is the other way to know a date did not change, cheaper still: the XXH3-128 hash
// of the date's lines exactly as they stand in the source file, so that a run can tell, before
// parsing a single field, that it has read these very bytes before (extract/date_block_skipper.h).
// Plain values; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "transform/observation.h"

namespace covid {

struct DateDigest {
  uint64_t rows = 0;  // rows the digest covers
  uint64_t low = 0, high = 0;

  void add(std::string_view location, int64_t cases, int64_t deaths, int64_t recovered);
  void add(const Observation& o) { add(o.location, o.cases, o.deaths, o.recovered); }
  // The hash as 32 hexadecimal digits (how stores keep it).
  std::string hash_hex() const;
  // Sets low and high from hash_hex()'s form; false when `hex` is not one.
  bool set_hash_hex(std::string_view hex);
  bool same_content(const DateDigest& o) const {
    return rows == o.rows && low == o.low && high == o.high;
  }
};

}  // namespace covid

namespace covid {

struct BytesDigest {
  uint64_t low = 0, high = 0;

  // The digest of a date's `lines` in a file whose header line (its line end included) is
  // `header`, under the current rules (kRulesVersion is mixed in): the same lines under another
  // header, or other rules, mean other things.
  static BytesDigest of(std::string_view header, std::string_view lines);
  // Bumped whenever the county reader's validation changes, so that lines read under older rules
  // are parsed and checked again once instead of skipped.
  static constexpr uint64_t kRulesVersion = 2;

  std::string hex() const;
  bool set_hex(std::string_view hex);
  friend bool operator==(const BytesDigest&, const BytesDigest&) = default;
};

// What a store keeps per (level, date): the digest of the rows the source gave the last time the
// date changed, and how many rows the store holds for it (more than the digest's when rows the
// source dropped are kept: rows are never deleted).
struct StoredDigest {
  DateDigest source;
  uint64_t stored_rows = 0;
  // The digest of the date's lines in the source file when they were last read, if known (a
  // store that predates it, a date that was only ever read into memory).
  std::optional<BytesDigest> bytes;
};

}  // namespace covid
