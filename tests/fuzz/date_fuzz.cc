// libFuzzer target: parse_date accepts exactly what format_date writes back unchanged.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "common/date.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  std::string text(reinterpret_cast<const char*>(bytes), size);
  covid::Date d;
  if (covid::parse_date(text, &d) == covid::DateError::kNone && covid::format_date(d) != text)
    std::abort();
  return 0;
}
