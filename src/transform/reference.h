// Reference data: what a run loads beside the series, about locations and dates rather than
// counts. A population (for rates per 100,000 people) belongs to a location; an annotation (a note
// on anomalous days, as the NYT's anomalies.csv gives them) to a location and a range of dates.
// Readers in transform/ produce them, a DatasetRun hands them over (pipeline/datasets.h), the plan
// compares them with the store's and apply() writes them (load/plan.h). Plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/date.h"

namespace covid {

struct Population {
  std::string location;  // a Location id
  int64_t population = 0;
  std::string source;  // who published the figure: "JHU CSSE UID_ISO_FIPS_LookUp_Table"
  int year = 0;        // the year the figure stands for; 0 when not known
};

struct Annotation {
  std::string location;  // a Location id
  Date from;
  std::optional<Date> to;  // the last date of a range; std::nullopt for one day
  std::string type;        // cases, deaths, both
  bool omit_from_average = false;
  bool omit_on_subgeographies = false;
  int64_t adjusted_count = 0;  // NYT's adjusted_daily_count_for_avg
  std::string text;
};

struct ReferenceData {
  std::vector<Population> populations;
  std::vector<Annotation> annotations;
};

}  // namespace covid
