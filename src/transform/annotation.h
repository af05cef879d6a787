// The key and comparison of an Annotation (transform/reference.h), for the reader, the plan and
// the stores alike. An annotation is identified by (location, from, type, kind), kind being
// "adjustment" when it adjusts the count used for the average (adjusted_count != 0) and "note"
// otherwise: the NYT's file has one (place, date, type) twice, Texas on 2022-01-14, a note and an
// adjustment. Pure functions.
#pragma once

#include "transform/reference.h"

namespace covid {

// "adjustment" or "note".
const char* annotation_kind(const Annotation& a);
// Orders by key: location (bytes), from, type, kind.
bool annotation_key_less(const Annotation& a, const Annotation& b);
bool same_annotation_key(const Annotation& a, const Annotation& b);
// Every field equal.
bool same_annotation(const Annotation& a, const Annotation& b);

}  // namespace covid
