// Joining the national series: NYT cases and deaths with JHU recoveries, on date.
// NYT is the authority for cases and deaths and decides which dates exist (left join, the
// default); the inner join keeps only dates present in both (the original challenge's rule).
// A date JHU has no row for gets recovered kAbsent (not given: a stored value stands, see
// observation.h); a JHU row whose value the zero rule made unknown gives kUnknown. Pure function.
#pragma once

#include <vector>

#include "transform/jhu_recovered.h"
#include "transform/observation.h"

namespace covid {

enum class JoinKind { kLeft, kInner };

// Both inputs sorted by date with unique dates; the result is sorted by date.
std::vector<Observation> join_recovered(const std::vector<Observation>& nyt,
                                        const std::vector<DatedCount>& recovered, JoinKind kind);

}  // namespace covid
