#include "transform/annotation.h"

#include <string_view>
#include <tuple>

namespace covid {
namespace {
auto key_of(const Annotation& a) {
  return std::make_tuple(std::string_view(a.location), a.from.days, std::string_view(a.type),
                         std::string_view(annotation_kind(a)));
}
}  // namespace

const char* annotation_kind(const Annotation& a) {
  return a.adjusted_count != 0 ? "adjustment" : "note";
}

bool annotation_key_less(const Annotation& a, const Annotation& b) { return key_of(a) < key_of(b); }

bool same_annotation_key(const Annotation& a, const Annotation& b) {
  return key_of(a) == key_of(b);
}

bool same_annotation(const Annotation& a, const Annotation& b) {
  return same_annotation_key(a, b) && a.to == b.to && a.omit_from_average == b.omit_from_average &&
         a.omit_on_subgeographies == b.omit_on_subgeographies &&
         a.adjusted_count == b.adjusted_count && a.text == b.text;
}

}  // namespace covid
