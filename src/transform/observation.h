// Observation: one location's cumulative counts on one date, the unit every stage passes on.
// Counts are kUnknown where the source says the value is not known (stored as NULL), and kAbsent
// where the source gave nothing for it at all (a joined source without a row for that date):
// classify() keeps the stored value then, so a value the database knows never becomes unknown
// because a source stopped giving it. kAbsent never reaches a store. Plain value.
#pragma once

#include <cstdint>
#include <string>

#include "common/date.h"

namespace covid {

inline constexpr int64_t kUnknown = -1;
inline constexpr int64_t kAbsent = -2;  // not given by the source: the stored value stands
inline constexpr int64_t kMaxCount = int64_t{1} << 53;  // exact in a double, so in JSON too
inline constexpr const char* kNation = "US";

struct Observation {
  std::string location = kNation;
  Date date;
  int64_t cases = kUnknown;
  int64_t deaths = kUnknown;
  int64_t recovered = kUnknown;

  bool same_counts(const Observation& o) const {
    return cases == o.cases && deaths == o.deaths && recovered == o.recovered;
  }
};

// Orders by location, then date: the order of every series the stages exchange.
inline bool by_location_date(const Observation& a, const Observation& b) {
  if (a.location != b.location) return a.location < b.location;
  return a.date < b.date;
}

}  // namespace covid
