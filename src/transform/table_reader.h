// TableReader: the generic part of reading one dataset file (a "table") from CSV.
//
// It receives the CsvReader's records, finds the dataset's required columns by header name (in
// any order; extra columns are ignored), checks every row has as many fields as the header, and
// gives subclasses field readers that validate dates and counts and record any bad value in its
// Diagnostics as file:line:column with the column's name. Subclasses hold only what is specific
// to their dataset: which columns, which rows, which rule. Not thread-safe.
#pragma once

#include <climits>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/clock.h"
#include "common/date.h"
#include "common/diagnostics.h"
#include "extract/csv_reader.h"
#include "transform/observation.h"

namespace covid {

class TableReader : public CsvHandler {
 public:
  TableReader(std::string file, std::vector<std::string> columns, const Clock& clock);

  bool on_record(const CsvRecord& record) final;
  void on_error(const CsvError& error) final;

  // The stream ended: reports an empty file or one without data rows, then calls on_end().
  void end_of_stream();
  // A new attempt at the same stream starts: forget all rows and diagnostics.
  void restart();

  // The errors and warnings of this file (of the current attempt).
  const Diagnostics& diagnostics() const { return diagnostics_; }

  const std::string& file() const { return file_; }
  // How its file is parsed. The default requires a final line break (a file without one was most
  // likely cut short); a dataset whose publisher writes none says so.
  virtual CsvOptions csv_options() const { return {}; }
  uint64_t rows_read() const { return rows_; }
  // The rows the dataset takes from the file (all of them, or only some, as the JHU national
  // rows) and their distinct dates: what a run compares with the last successful run's to notice
  // a source that shrank (a download cut at a line boundary).
  uint64_t rows_kept() const { return kept_rows_; }
  uint64_t dates_kept() const { return kept_dates_.size(); }
  // The column names of the file's header line, as read (empty before it is read).
  const std::vector<std::string>& header() const { return header_names_; }

 protected:
  // The required columns of one data row, in the order given to the constructor.
  class Row {
   public:
    Row(const CsvRecord& record, const std::vector<size_t>& index)
        : record_(record), index_(index) {}
    std::string_view operator[](size_t i) const { return record_.fields[index_[i]]; }
    uint32_t column(size_t i) const { return record_.columns[index_[i]]; }
    uint64_t line(size_t i) const { return record_.field_line(index_[i]); }
    uint64_t line() const { return record_.line; }

   private:
    const CsvRecord& record_;
    const std::vector<size_t>& index_;
  };

  virtual void on_row(const Row& row) = 0;
  virtual void on_end() {}
  virtual void on_restart() {}
  // What the dataset needs from the file, said when the file has none of it ("a row with
  // Country/Region US and an empty Province/State"): a file with data rows but none kept is
  // invalid, reported at the header's `column`.
  virtual std::string rows_wanted() const { return "a data row"; }
  virtual size_t rows_wanted_column() const { return 0; }

  // Notes `rows` rows of `date` taken by the dataset (see rows_kept()).
  void kept(Date date, uint64_t rows = 1) {
    kept_rows_ += rows;
    if (date != last_kept_) kept_dates_.insert(date.days);
    last_kept_ = date;
  }

  // Counts rows that were not parsed because they are known to be valid and unchanged (see
  // CountiesReader::skip_block).
  void add_skipped_rows(uint64_t n) { rows_ += n; }

  // Each returns false after recording an error when the field is not valid.
  bool read_date(const Row& row, size_t i, Date* out);
  bool read_count(const Row& row, size_t i, int64_t* out);
  // A name that is stored: must be clean UTF-8 text (fields.h check_text). Empty passes here.
  bool check_name(const Row& row, size_t i);

  void error(uint64_t line, uint32_t column, std::string message);
  void warning(uint64_t line, uint32_t column, std::string message);
  const std::string& column_name(size_t i) const { return columns_[i]; }
  // Where a row's counts are in the file, for the warnings of sort_and_check().
  struct CountSource {
    uint64_t cases_line, deaths_line;
    uint32_t cases_column, deaths_column;
  };
  // Sorts rows (sources[i] belongs to rows[i]) by location and date, and warns where a cumulative
  // count goes down from one date to the next: a revision upstream, loaded as given. `subject`
  // names the count in the message ("cases", "cases of California").
  std::vector<Observation> sort_and_check(
      std::vector<Observation> rows, const std::vector<CountSource>& sources,
      const std::function<std::string(const Observation&, const char* count)>& subject);

  // Records a duplicate when date was already seen; returns false then.
  bool check_unique_date(const Row& row, size_t i, Date date);

 private:
  bool on_header(const CsvRecord& record);

  std::string file_;
  std::vector<std::string> columns_;
  Diagnostics diagnostics_;
  const Clock& clock_;
  Date today_;
  std::vector<size_t> index_;
  std::vector<uint32_t> header_columns_;  // the byte column of each required column's name
  size_t header_fields_ = 0;
  std::vector<std::string> header_names_;
  bool header_ok_ = false;
  bool seen_header_ = false;
  bool csv_failed_ = false;
  uint64_t rows_ = 0;
  uint64_t kept_rows_ = 0;
  std::unordered_set<int32_t> kept_dates_;
  Date last_kept_{INT32_MIN};
  uint64_t header_line_ = 1;
  std::unordered_map<int32_t, uint64_t> seen_dates_;  // date -> line of its first row
};

// Inspects the first bytes of a body: an error message when it is clearly not CSV (HTML, JSON,
// gzip data without a Content-Encoding header), or an empty string.
std::string sniff_not_csv(std::string_view head);

}  // namespace covid
