// libFuzzer target: the county date-block skipper, differentially. The input is two county files,
// `before` and `after` (split at the first form feed; without one, the same file twice). `before`
// is read once to learn what a store would keep (row digests and line hashes per date); `after` is
// then read with that knowledge twice: through the skipper (in chunks of a size the input chooses)
// and with every line parsed. The run must learn the same from both: rows read, errors and
// warnings (text, file, line, column) and, when there are no errors, every date's digest. Any
// difference, or any memory error (built with ASan and UBSan), is a crash.
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "common/clock.h"
#include "pipeline/county_spool.h"
#include "pipeline/date_block_skipper.h"
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
  std::vector<std::string> seen;  // rows, errors, warnings; then the digests when no errors
  std::map<Date, StoredDigest> digests;
};

Read read(std::string_view text, const std::map<Date, StoredDigest>& known, size_t chunk, bool skipper) {
  static const FixedClock clock;
  covid::CountySpool spool(known);
  if (!spool.open().ok()) std::abort();
  covid::CountiesReader reader("c.csv", clock);
  reader.set_sink(&spool);
  covid::DateBlockSkipper skip(reader, spool);
  covid::TableSink sink(reader, skipper ? &skip : nullptr);
  for (size_t at = 0; at < text.size(); at += chunk) sink.write(text.substr(at, chunk));
  sink.finish();
  Read r;
  r.seen.push_back("rows " + std::to_string(reader.rows_read()));
  for (const covid::Issue& i : reader.diagnostics().errors()) r.seen.push_back("E " + i.to_string());
  for (const covid::Issue& i : reader.diagnostics().warnings()) r.seen.push_back("W " + i.to_string());
  for (const covid::CountySpool::Block& b : spool.blocks()) {
    r.digests[b.date] = StoredDigest{b.digest, b.digest.rows, b.bytes};
  }
  if (reader.diagnostics().errors().empty()) {
    for (const auto& [date, d] : r.digests) {
      r.seen.push_back(covid::format_date(date) + " " + d.source.hash_hex() + " " + std::to_string(d.source.rows));
    }
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
  if (read(after, first.digests, chunk, true).seen != read(after, first.digests, after.size() + 1, false).seen) {
    std::abort();
  }
  return 0;
}
