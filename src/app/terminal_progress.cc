#include "app/terminal_progress.h"

namespace covid {

std::string progress_bytes(uint64_t n) {
  char buf[32];
  if (n >= 1'000'000'000)
    std::snprintf(buf, sizeof buf, "%.1f GB", double(n) / 1e9);
  else if (n >= 1'000'000)
    std::snprintf(buf, sizeof buf, "%.1f MB", double(n) / 1e6);
  else if (n >= 1'000)
    std::snprintf(buf, sizeof buf, "%.0f kB", double(n) / 1e3);
  else
    std::snprintf(buf, sizeof buf, "%llu B", (unsigned long long)n);
  return buf;
}

std::string progress_count(uint64_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

void TerminalProgress::fetching(std::string_view source, uint64_t bytes, uint64_t total,
                                uint64_t rows) {
  auto now = std::chrono::steady_clock::now();
  bool first = source != source_;
  if (first) {
    source_ = std::string(source);
    source_start_ = now;
  }
  if (!first && now - last_draw_ < std::chrono::milliseconds(100)) return;
  std::string line = source_ + "  " + progress_bytes(bytes);
  if (total >= bytes && total > 0) line += " of " + progress_bytes(total);
  double seconds = std::chrono::duration<double>(now - source_start_).count();
  if (seconds > 0.05) line += ", " + progress_bytes(uint64_t(double(bytes) / seconds)) + "/s";
  line += ", " + progress_count(rows) + " rows";
  draw(line, true);
}

void TerminalProgress::step(std::string_view what, uint64_t rows) {
  source_.clear();
  std::string line(what);
  if (rows > 0) line += " " + progress_count(rows) + " rows";
  draw(line, true);
}

void TerminalProgress::draw(const std::string& line, bool /*now*/) {
  last_draw_ = std::chrono::steady_clock::now();
  // Carriage return, the line, then erase what a longer line before left.
  std::fprintf(out_, "\r%s\033[K", line.c_str());
  std::fflush(out_);
  drawn_ = true;
}

void TerminalProgress::finished() {
  if (!drawn_) return;
  std::fputs("\r\033[K", out_);
  std::fflush(out_);
  drawn_ = false;
}

}  // namespace covid
