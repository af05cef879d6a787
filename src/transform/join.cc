#include "transform/join.h"

namespace covid {

std::vector<Observation> join_recovered(const std::vector<Observation>& nyt,
                                        const std::vector<DatedCount>& recovered, JoinKind kind) {
  std::vector<Observation> out;
  out.reserve(nyt.size());
  size_t j = 0;
  for (const Observation& o : nyt) {
    while (j < recovered.size() && recovered[j].date < o.date) ++j;
    bool match = j < recovered.size() && recovered[j].date == o.date;
    if (!match && kind == JoinKind::kInner) continue;
    Observation row = o;
    row.recovered = match ? recovered[j].value : kAbsent;
    out.push_back(std::move(row));
  }
  return out;
}

}  // namespace covid
