// AnomaliesReader: the New York Times' notes on anomalous days, rolling-averages/anomalies.csv
// (`date,end_date,county,state,geoid,type,omit_from_rolling_average,
// omit_from_rolling_average_on_subgeographies,adjusted_daily_count_for_avg,description`, columns
// found by name; county and state are not read: geoid says where). Each row becomes an Annotation
// (transform/reference.h):
// - geoid `USA` is the nation ("US"); `USA-SS` a state (its 2-digit FIPS, a state or territory
//   NYT names); `USA-SSCCC` a county (its 5-digit FIPS), except the Times' codes for the places
//   its county file gives without a FIPS, mapped to the ids CountiesReader gives them:
//   USA-36998 New York City -> "36:New York City", USA-29998 Kansas City -> "29:Kansas City",
//   USA-29997 Joplin -> "29:Joplin". Any other code is an error at the geoid field.
// - date is required; end_date is empty for a one-day note (to = nullopt) and otherwise not before
//   date; type is cases, deaths or both; the two omit flags are `yes` or empty;
//   adjusted_daily_count_for_avg is an integer (negative for a backlog; empty reads as 0).
// - description is kept as the Times wrote it (their typos, doubled quotes already undone by the
//   CSV reader, U+2019), but trailing spaces and tabs are trimmed (57 lines of the file end in a
//   space: nothing a reader sees); it may be empty; it must be clean text (fields.h check_text).
// - The key of a note is (location, date, type, kind), kind being "adjustment" when
//   adjusted_daily_count_for_avg is not 0 and "note" otherwise (transform/annotation.h): the file
//   has one (geoid, date, type) twice, Texas on 2022-01-14 (a note that omits the day for its
//   counties, and the -26,236 adjustment of the state's count). A key twice is an error at the
//   date field, naming the line of the first.
// The file ends without a line break (csv_options()). Every error is file:line:column with the
// column's name. Not thread-safe.
#pragma once

#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "transform/annotation.h"
#include "transform/table_reader.h"

namespace covid {

// Our location id for an NYT geoid, or "" when it is none we know.
std::string location_of_geoid(std::string_view geoid);

class AnomaliesReader final : public TableReader {
 public:
  AnomaliesReader(std::string file, const Clock& clock);

  // The Times' file has no line break after its last line: none is required (a file cut short
  // is still noticed by the run's shrink check, and a line cut inside lacks fields).
  CsvOptions csv_options() const override {
    CsvOptions o;
    o.require_final_newline = false;
    return o;
  }
  // The notes read, sorted by key, once the stream ended without errors.
  const std::vector<Annotation>& annotations() const { return rows_; }

 private:
  void on_row(const Row& row) override;
  void on_end() override;
  void on_restart() override {
    rows_.clear();
    seen_.clear();
  }

  std::vector<Annotation> rows_;
  std::map<std::tuple<std::string, int32_t, std::string, std::string>, uint64_t> seen_;  // -> line
};

}  // namespace covid
