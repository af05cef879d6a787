#include "load/classify.h"

#include <set>
#include <string>

namespace covid {
namespace {

// The counts of a source row: its own, and the stored one's where it gives none. True when a
// known stored count was kept that way.
bool merge_absent(const Observation& stored, Observation& row) {
  bool kept_known = false;
  for (auto [from, to] :
       {std::pair{&stored.cases, &row.cases}, std::pair{&stored.deaths, &row.deaths},
        std::pair{&stored.recovered, &row.recovered}}) {
    if (*to != kAbsent) continue;
    *to = *from;
    kept_known = kept_known || *from != kUnknown;
  }
  return kept_known;
}

Observation without_absent(Observation row) {
  for (int64_t* v : {&row.cases, &row.deaths, &row.recovered}) {
    if (*v == kAbsent) *v = kUnknown;
  }
  return row;
}

}  // namespace

ChangeSet classify(const std::vector<Observation>& stored,
                   const std::vector<Observation>& incoming) {
  ChangeSet out;
  std::set<std::string> locations;
  for (const Observation& o : incoming) {
    if (locations.empty() || *locations.rbegin() != o.location) locations.insert(o.location);
  }
  // At least this many rows are new (exactly, when the store holds none the source lacks): one
  // allocation instead of a vector doubling through a first load's rows.
  if (incoming.size() > stored.size()) out.inserted.reserve(incoming.size() - stored.size());
  size_t i = 0, j = 0;
  while (i < stored.size() || j < incoming.size()) {
    if (j == incoming.size() || (i < stored.size() && by_location_date(stored[i], incoming[j]))) {
      if (locations.count(stored[i].location) != 0) out.missing.push_back(stored[i]);
      ++i;
    } else if (i == stored.size() || by_location_date(incoming[j], stored[i])) {
      out.inserted.push_back(without_absent(incoming[j++]));
    } else {
      Observation row = incoming[j];
      if (merge_absent(stored[i], row)) out.missing_values.push_back(stored[i]);
      if (stored[i].same_counts(row)) {
        ++out.unchanged;
      } else {
        out.updated.push_back(Revision{stored[i], std::move(row)});
      }
      ++i;
      ++j;
    }
  }
  return out;
}

}  // namespace covid
