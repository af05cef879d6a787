// TerminalProgress: a run's progress (pipeline/progress.h) as one line on a terminal, redrawn in
// place at most every 100 ms and erased when the run is over: "nyt  1.2 MB of 3.4 MB, 5.1 MB/s,
// 12,345 rows", then "validating 2,345,678 rows", "loading 2,345,678 rows". The command line
// makes one only when stderr is a terminal and neither --json nor --quiet is given. Writes to the
// file it is given; not thread-safe (a run calls it from its own thread).
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "pipeline/progress.h"

namespace covid {

class TerminalProgress final : public RunProgress {
 public:
  explicit TerminalProgress(std::FILE* out) : out_(out) {}
  ~TerminalProgress() override { finished(); }
  TerminalProgress(const TerminalProgress&) = delete;
  TerminalProgress& operator=(const TerminalProgress&) = delete;

  void fetching(std::string_view source, uint64_t bytes, uint64_t total, uint64_t rows) override;
  void step(std::string_view what, uint64_t rows) override;
  void finished() override;

 private:
  void draw(const std::string& line, bool now);

  std::FILE* out_;
  std::string source_;
  std::chrono::steady_clock::time_point source_start_, last_draw_;
  bool drawn_ = false;
};

// "1.2 MB", "345 kB", "12 B" (powers of 1000).
std::string progress_bytes(uint64_t n);
// "12,345,678".
std::string progress_count(uint64_t n);

}  // namespace covid
