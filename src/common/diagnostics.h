// Diagnostics: the bad rows and warnings found while reading and validating sources.
//
// Bad rows are values, not exceptions: each Issue names the file (the source URL or path), the
// 1-based line and column, and a message. Diagnostics keeps the first kMaxSamples of each kind
// and counts all of them; the run decides once, after validation, whether to load. Not
// thread-safe: one Diagnostics per run, filled by one thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace covid {

struct Issue {
  std::string file;
  uint64_t line = 0;    // 1-based; 0 when the issue concerns the whole file
  uint32_t column = 0;  // 1-based byte column in the line; 0 when not applicable
  std::string message;

  // "file:line:column: message" (the parts that are known).
  std::string to_string() const;
};

class Diagnostics {
 public:
  static constexpr size_t kMaxSamples = 50;

  void error(Issue issue);
  void warning(Issue issue);
  // A warning about the data as a whole (values kept that the source no longer gives, a location
  // renamed): put before the readers' row warnings among the samples, so that it is seen.
  void warning_first(Issue issue);
  // Adds another Diagnostics' samples (up to the limit) and counts.
  void merge(const Diagnostics& other);

  bool has_errors() const { return error_count_ > 0; }
  uint64_t error_count() const { return error_count_; }
  uint64_t warning_count() const { return warning_count_; }
  const std::vector<Issue>& errors() const { return errors_; }
  const std::vector<Issue>& warnings() const { return warnings_; }

 private:
  std::vector<Issue> errors_, warnings_;
  uint64_t error_count_ = 0, warning_count_ = 0;
  size_t first_warnings_ = 0;  // how many samples warning_first() put in front
};

}  // namespace covid
