#include "load/classify.h"

#include <set>
#include <string>

namespace covid {

ChangeSet classify(const std::vector<Observation>& stored, const std::vector<Observation>& incoming) {
  ChangeSet out;
  std::set<std::string> locations;
  for (const Observation& o : incoming) {
    if (locations.empty() || *locations.rbegin() != o.location) locations.insert(o.location);
  }
  size_t i = 0, j = 0;
  while (i < stored.size() || j < incoming.size()) {
    if (j == incoming.size() || (i < stored.size() && by_location_date(stored[i], incoming[j]))) {
      if (locations.count(stored[i].location) != 0) out.missing.push_back(stored[i]);
      ++i;
    } else if (i == stored.size() || by_location_date(incoming[j], stored[i])) {
      out.inserted.push_back(incoming[j++]);
    } else {
      if (stored[i].same_counts(incoming[j])) {
        ++out.unchanged;
      } else {
        out.updated.push_back(Revision{stored[i], incoming[j]});
      }
      ++i;
      ++j;
    }
  }
  return out;
}

}  // namespace covid
