// libFuzzer target: the CSV reader, differentially. The same bytes are read whole and in chunks
// of a size the input chooses; the records (fields, line, columns) and errors must be identical.
// Any difference, or any memory error (built with ASan and UBSan), is a crash. Each field is also
// quoted as an error message would quote it (transform/fields.h): the quote, and the message
// check_text gives for the field, must be clean text themselves (valid UTF-8, no control,
// bidirectional control or invisible character), whatever bytes the field holds.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "extract/csv_reader.h"
#include "transform/fields.h"

namespace {

struct Events final : covid::CsvHandler {
  std::vector<std::string> out;
  bool on_record(const covid::CsvRecord& r) override {
    std::string s = "R" + std::to_string(r.line) + ":" + std::to_string(r.end_line()) + ":" +
                    std::to_string(r.end_column);
    for (size_t i = 0; i < r.fields.size(); ++i) {
      s += "|" + std::to_string(r.field_line(i)) + "," + std::to_string(r.columns[i]) + "=" +
           std::string(r.fields[i]);
      size_t offset = 0, clean = 0;
      covid::TextError e = covid::check_text(r.fields[i], &offset);
      if (covid::check_text(covid::quote_excerpt(r.fields[i]), &clean) != covid::TextError::kNone)
        std::abort();
      if (e != covid::TextError::kNone && covid::check_text(covid::describe(e, r.fields[i], offset),
                                                            &clean) != covid::TextError::kNone) {
        std::abort();
      }
    }
    out.push_back(std::move(s));
    return true;
  }
  void on_error(const covid::CsvError& e) override {
    out.push_back("E" + std::to_string(e.line) + ":" + std::to_string(e.column) + " " + e.message);
  }
};

std::vector<std::string> read(std::string_view data, size_t chunk, size_t max_record) {
  Events events;
  covid::CsvOptions options;
  options.max_record_bytes = max_record;
  covid::CsvReader reader(events, options);
  for (size_t at = 0; at < data.size(); at += chunk) reader.feed(data.substr(at, chunk));
  reader.finish();
  return events.out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  if (size < 2) return 0;
  size_t chunk = size_t(bytes[0] % 67) + 1;        // 1..67: across the 64-byte blocks
  size_t max_record = 16 + size_t(bytes[1]) * 64;  // small limits reach the long-record paths
  std::string_view data(reinterpret_cast<const char*>(bytes) + 2, size - 2);
  if (read(data, data.size() + 1, max_record) != read(data, chunk, max_record)) std::abort();
  return 0;
}
