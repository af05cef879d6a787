// BodyFilter: sees every byte of a downloaded body, in order, and hands it to the CSV reader or
// accounts for it there some other way (extract/date_block_skipper.h). pipeline/table_sink.h puts
// one between a download and a dataset's reader. Not thread-safe.
#pragma once

#include <string_view>

#include "extract/csv_reader.h"

namespace covid {

class BodyFilter {
 public:
  virtual ~BodyFilter() = default;
  virtual void write(std::string_view bytes, CsvReader& csv) = 0;
  // The body is complete: hand on what is held (before csv.finish()).
  virtual void finish(CsvReader& csv) = 0;
  // A body starts (a new TableSink) or starts again (the download restarted).
  virtual void restart() = 0;
};

}  // namespace covid
