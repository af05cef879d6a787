#include "common/diagnostics.h"

namespace covid {

std::string Issue::to_string() const {
  std::string s = file;
  if (line > 0) {
    s += ':' + std::to_string(line);
    if (column > 0) s += ':' + std::to_string(column);
  }
  s += ": ";
  s += message;
  return s;
}

void Diagnostics::error(Issue issue) {
  if (errors_.size() < kMaxSamples) errors_.push_back(std::move(issue));
  ++error_count_;
}

void Diagnostics::warning(Issue issue) {
  if (warnings_.size() < kMaxSamples) warnings_.push_back(std::move(issue));
  ++warning_count_;
}

void Diagnostics::warning_first(Issue issue) {
  if (first_warnings_ < kMaxSamples) {
    warnings_.insert(warnings_.begin() + std::ptrdiff_t(first_warnings_++), std::move(issue));
    if (warnings_.size() > kMaxSamples) warnings_.pop_back();
  }
  ++warning_count_;
}

void Diagnostics::merge(const Diagnostics& other) {
  for (const Issue& i : other.errors_) {
    if (errors_.size() < kMaxSamples) errors_.push_back(i);
  }
  for (const Issue& i : other.warnings_) {
    if (warnings_.size() < kMaxSamples) warnings_.push_back(i);
  }
  error_count_ += other.error_count_;
  warning_count_ += other.warning_count_;
}

}  // namespace covid
