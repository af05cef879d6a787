// libFuzzer target: the county date-block skipper, differentially. The input is two county files,
// `before` and `after` (split at the first form feed; without one, the same file twice). `before`
// is read once to learn what a store keeps after a run without errors (row digests and line
// hashes per date); `after` is then read with that knowledge twice: through the skipper (in chunks
// of a size the input chooses) and with every line parsed. The run must learn the same from both:
// the rows read, the errors (text, file, line, column) and, without errors, every date's digest.
// Two differences are by design (transform/nyt_counties.h): a decrease between two dates is
// reported only when neither was skipped, so the skipper's warnings are some of the others; and a
// county renamed since a skipped date is found by the pipeline through the store, which is not
// here, so name errors are left out of the comparison. Anything else, or any memory error (built
// with ASan and UBSan), is a crash.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "extract/date_block_skipper.h"
#include "pipeline/county_spool.h"
#include "pipeline/table_sink.h"
#include "transform/nyt_counties.h"

namespace {

using covid::Date;
using covid::StoredDigest;

class FixedClock final : public covid::Clock {
 public:
  std::chrono::system_clock::time_point now() const override {
    return std::chrono::sys_days{std::chrono::year{2022} / 6 / 1};
  }
  void sleep_for(std::chrono::milliseconds) const override {}
};

struct Read {
  uint64_t rows = 0;
  std::vector<std::string> errors;  // without the name errors (see above)
  bool name_errors = false;
  std::set<std::string> warnings;
  std::map<Date, StoredDigest> digests;
  std::vector<std::string> digest_texts() const {
    std::vector<std::string> out;
    for (const auto& [date, d] : digests) {
      out.push_back(covid::format_date(date) + " " + d.source.hash_hex() + " " +
                    std::to_string(d.source.rows));
    }
    return out;
  }
};

Read read(std::string_view text, const std::map<Date, StoredDigest>& known, size_t chunk,
          bool skipper) {
  static const FixedClock clock;
  covid::CountySpool spool(known);
  if (!spool.open().ok()) std::abort();
  covid::CountiesReader reader("c.csv", clock);
  reader.set_sink(&spool);
  covid::CountyBlockTarget target(reader, spool);
  covid::DateBlockSkipper skip(target);
  covid::TableSink sink(reader, skipper ? &skip : nullptr);
  for (size_t at = 0; at < text.size(); at += chunk) sink.write(text.substr(at, chunk));
  sink.finish();
  Read r;
  r.rows = reader.rows_read();
  for (const covid::Issue& i : reader.diagnostics().errors()) {
    std::string e = i.to_string();
    if (e.find(" here but ") != std::string::npos)
      r.name_errors = true;
    else
      r.errors.push_back(std::move(e));
  }
  for (const covid::Issue& i : reader.diagnostics().warnings()) r.warnings.insert(i.to_string());
  for (const covid::CountySpool::Block& b : spool.blocks()) {
    r.digests[b.date] = StoredDigest{b.digest, b.digest.rows, b.bytes};
  }
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  if (size < 1 || size > 64 * 1024) return 0;
  size_t chunk = size_t(bytes[0] % 67) + 1;  // 1..67: block and line boundaries across the pieces
  std::string_view data(reinterpret_cast<const char*>(bytes) + 1, size - 1);
  size_t cut = data.find('\f');
  std::string_view before = data.substr(0, cut);
  std::string_view after = cut == std::string_view::npos ? data : data.substr(cut + 1);
  Read first = read(before, {}, before.size() + 1, true);
  if (!first.errors.empty() || first.name_errors) return 0;  // a run with errors keeps nothing
  Read skipped = read(after, first.digests, chunk, true);
  Read parsed = read(after, first.digests, after.size() + 1, false);
  bool same = skipped.rows == parsed.rows && skipped.errors == parsed.errors &&
              std::includes(parsed.warnings.begin(), parsed.warnings.end(),
                            skipped.warnings.begin(), skipped.warnings.end());
  if (same && parsed.errors.empty() && !parsed.name_errors) {
    same = !skipped.name_errors && skipped.digest_texts() == parsed.digest_texts();
  }
  if (!same) {
    for (const Read* r : {&skipped, &parsed}) {
      std::fprintf(stderr, "== %s: %llu rows%s\n",
                   r == &skipped ? "through the skipper" : "every line parsed",
                   static_cast<unsigned long long>(r->rows), r->name_errors ? ", name errors" : "");
      for (const std::string& e : r->errors) std::fprintf(stderr, "error %s\n", e.c_str());
      for (const std::string& w : r->warnings) std::fprintf(stderr, "warning %s\n", w.c_str());
      for (const std::string& d : r->digest_texts()) std::fprintf(stderr, "digest %s\n", d.c_str());
    }
    std::abort();
  }
  return 0;
}
