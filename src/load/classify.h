// Classification: what a run changes, decided above every store so that all stores agree.
//
// Each source row is inserted (a date the store does not have), updated (a revised past row:
// the old and new counts are kept as a Revision) or unchanged. Dates the store has for a
// location that the source no longer has are reported as missing, never deleted. Pure function.
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

  bool empty() const { return inserted.empty() && updated.empty(); }
};

// Both inputs sorted by (location, date) with unique keys. Only the locations present in
// `incoming` are compared: a store row of another location is not missing.
ChangeSet classify(const std::vector<Observation>& stored, const std::vector<Observation>& incoming);

}  // namespace covid
