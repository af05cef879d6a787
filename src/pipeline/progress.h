// RunProgress: what a run tells a progress display as it goes (the command line draws it on a
// terminal: app/terminal_progress.h). A run without one (RunOptions::progress == nullptr) does no
// work for it. Calls come from the run's thread, as often as every chunk of a body arrives: an
// implementation keeps each call cheap (it redraws at most every so often).
#pragma once

#include <cstdint>
#include <string_view>

namespace covid {

class RunProgress {
 public:
  virtual ~RunProgress() = default;
  // A source's body is arriving: `bytes` so far of `total` (0: not known; a compressed body's
  // total is smaller than the bytes it gives), `rows` of it read so far.
  virtual void fetching(std::string_view source, uint64_t bytes, uint64_t total, uint64_t rows) = 0;
  // A step after the downloads ("validating", "loading"); `rows`: how many it handles (0: none
  // to say).
  virtual void step(std::string_view what, uint64_t rows) = 0;
  // The run is over (before its summary is printed): whatever was drawn goes.
  virtual void finished() = 0;
};

}  // namespace covid
