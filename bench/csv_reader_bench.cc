// Google Benchmark of the CSV reader alone (bytes/s), on an NYT-shaped county file.
//
// The file comes from ../shared/tools/gen-nyt-like (bench/README.md says how); pass its path
// with COVID_ETL_BENCH_CSV, default build/bench-data/us-counties.csv. The whole file is read
// into memory first, so the figure is the parser's, not the disk's: once fed as one chunk
// (the file case), once in 16 KiB chunks (what libcurl hands over from the network).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "extract/csv_reader.h"

namespace {

const std::string& data() {
  static const std::string text = [] {
    const char* path = std::getenv("COVID_ETL_BENCH_CSV");
    std::ifstream in(path != nullptr ? path : "build/bench-data/us-counties.csv", std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }();
  return text;
}

// Touches every field so the work cannot be optimised away.
class Counter final : public covid::CsvHandler {
 public:
  bool on_record(const covid::CsvRecord& r) override {
    fields += r.fields.size();
    bytes += r.fields.back().size();
    return true;
  }
  void on_error(const covid::CsvError&) override { ++errors; }
  uint64_t fields = 0, bytes = 0, errors = 0;
};

void run(benchmark::State& state, size_t chunk) {
  const std::string& text = data();
  if (text.empty()) {
    state.SkipWithError(
        "no input: set COVID_ETL_BENCH_CSV or generate build/bench-data/us-counties.csv");
    return;
  }
  uint64_t records = 0;
  for (auto _ : state) {
    Counter counter;
    covid::CsvReader reader(counter);
    for (size_t at = 0; at < text.size(); at += chunk) {
      reader.feed(std::string_view(text).substr(at, chunk));
    }
    reader.finish();
    if (counter.errors != 0) state.SkipWithError("the file has CSV errors");
    records = reader.records();
    benchmark::DoNotOptimize(counter.fields);
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(text.size()));
  state.counters["records"] = double(records);
  state.counters["MB"] = double(text.size()) / 1e6;
}

void BM_CsvReader_WholeFile(benchmark::State& state) { run(state, data().size() + 1); }
void BM_CsvReader_16KiBChunks(benchmark::State& state) { run(state, 16 * 1024); }

BENCHMARK(BM_CsvReader_WholeFile)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(BM_CsvReader_16KiBChunks)->Unit(benchmark::kMillisecond)->MinTime(2.0);

}  // namespace

BENCHMARK_MAIN();
