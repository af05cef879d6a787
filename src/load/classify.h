// Classification: what a run changes, decided above every store so that all stores agree.
//
// Each source row is inserted (a date the store does not have), updated (a revised past row:
// the old and new counts are kept as a Revision) or unchanged. Dates the store has for a
// location that the source no longer has are reported as missing, never deleted. A count the
// source row does not give (kAbsent, see observation.h) keeps the stored value; where that value
// was known, the row is reported in missing_values (a new row gets kUnknown there). Nothing
// classify() returns holds kAbsent. Pure function.
#pragma once

#include <cstdint>
#include <vector>

#include "transform/observation.h"

namespace covid {

struct Revision {
  Observation before, after;
};

struct ChangeSet {
  std::vector<Observation> inserted;
  std::vector<Revision> updated;
  uint64_t unchanged = 0;
  std::vector<Observation> missing;
  // Stored rows still in the source, one of whose known counts the source no longer gives: the
  // stored counts are kept (as they are here). Counted as missing too.
  std::vector<Observation> missing_values;

  bool empty() const { return inserted.empty() && updated.empty(); }
};

// Both inputs sorted by (location, date) with unique keys. Only the locations present in
// `incoming` are compared: a store row of another location is not missing.
ChangeSet classify(const std::vector<Observation>& stored,
                   const std::vector<Observation>& incoming);

}  // namespace covid
