// TableSink: where a fetched body goes: it checks the first bytes are CSV at all, then streams
// everything through a CsvReader into a dataset's TableReader, or, with a BodyFilter, through the
// filter (extract/body_filter.h), which decides what the CsvReader parses. The glue between extract
// and transform, so neither knows the other. Not thread-safe.
#pragma once

#include "extract/body_filter.h"
#include "extract/csv_reader.h"
#include "extract/fetcher.h"
#include "transform/table_reader.h"

namespace covid {

class TableSink final : public SourceSink {
 public:
  explicit TableSink(TableReader& table, BodyFilter* filter = nullptr)
      : table_(table), csv_(table, table.csv_options()), filter_(filter) {
    if (filter_ != nullptr) filter_->restart();  // a new body
  }

  void write(std::string_view bytes) override {
    if (!sniffed_ && !bytes.empty()) {
      sniffed_ = true;
      std::string problem = sniff_not_csv(bytes);
      if (!problem.empty()) {
        rejected_ = true;
        table_.on_error(CsvError{1, 1, problem});
      }
    }
    if (rejected_) return;
    if (filter_ != nullptr)
      filter_->write(bytes, csv_);
    else
      csv_.feed(bytes);
  }
  void restart() override {
    csv_.reset();
    if (filter_ != nullptr) filter_->restart();
    table_.restart();
    sniffed_ = rejected_ = false;
  }
  // The body is complete.
  void finish() {
    if (!rejected_) {
      if (filter_ != nullptr) filter_->finish(csv_);
      csv_.finish();
    }
    table_.end_of_stream();
  }

 private:
  TableReader& table_;
  CsvReader csv_;
  BodyFilter* filter_;
  bool sniffed_ = false;
  bool rejected_ = false;
};

}  // namespace covid
