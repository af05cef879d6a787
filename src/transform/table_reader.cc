#include "transform/table_reader.h"

#include <algorithm>
#include <numeric>

#include "transform/fields.h"

namespace covid {

std::string sniff_not_csv(std::string_view head) {
  if (head.starts_with("\xEF\xBB\xBF")) head.remove_prefix(3);
  if (head.size() >= 2 && uint8_t(head[0]) == 0x1f && uint8_t(head[1]) == 0x8b) {
    return "the body is gzip-compressed data, not CSV (sent without a Content-Encoding header)";
  }
  size_t i = head.find_first_not_of(" \t\r\n");
  if (i == std::string_view::npos) return "";
  if (head[i] == '<') return "the body is HTML or XML, not CSV (an error page?)";
  if (head[i] == '{' || head[i] == '[') return "the body is JSON, not CSV";
  return "";
}

TableReader::TableReader(std::string file, std::vector<std::string> columns, const Clock& clock)
    : file_(std::move(file)), columns_(std::move(columns)), clock_(clock), today_(clock.today()) {}

void TableReader::error(uint64_t line, uint32_t column, std::string message) {
  diagnostics_.error(Issue{file_, line, column, std::move(message)});
}

void TableReader::warning(uint64_t line, uint32_t column, std::string message) {
  diagnostics_.warning(Issue{file_, line, column, std::move(message)});
}

void TableReader::on_error(const CsvError& e) {
  csv_failed_ = true;
  error(e.line, e.column, e.message);
}

void TableReader::restart() {
  index_.clear();
  header_columns_.clear();
  header_fields_ = 0;
  header_names_.clear();
  header_ok_ = seen_header_ = csv_failed_ = false;
  rows_ = 0;
  kept_rows_ = 0;
  kept_dates_.clear();
  last_kept_ = Date{INT32_MIN};
  seen_dates_.clear();
  diagnostics_ = Diagnostics();
  today_ = clock_.today();
  on_restart();
}

bool TableReader::on_header(const CsvRecord& record) {
  seen_header_ = true;
  header_line_ = record.line;
  header_fields_ = record.fields.size();
  header_names_.assign(record.fields.begin(), record.fields.end());
  // Every header name once: a repeated name makes "the column named X" ambiguous.
  for (size_t i = 0; i < record.fields.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (record.fields[i] == record.fields[j]) {
        error(record.line, record.columns[i],
              "column " + quote_excerpt(record.fields[i]) + " appears twice in the header");
        return false;
      }
    }
  }
  std::string header;
  for (size_t i = 0; i < record.fields.size(); ++i) {
    if (i > 0) header += ',';
    header += record.fields[i];
  }
  bool ok = true;
  for (const std::string& name : columns_) {
    auto it = std::find(record.fields.begin(), record.fields.end(), name);
    if (it == record.fields.end()) {
      error(record.line, 1,
            "missing required column '" + name + "' (header is " + quote_excerpt(header) + ")");
      ok = false;
      continue;
    }
    index_.push_back(size_t(it - record.fields.begin()));
    header_columns_.push_back(record.columns[index_.back()]);
  }
  return ok;
}

bool TableReader::on_record(const CsvRecord& record) {
  if (!seen_header_) {
    header_ok_ = on_header(record);
    return header_ok_;  // without the columns, rows cannot be read
  }
  ++rows_;
  // The stream's own BOM was taken off by the CsvReader; one at the start of a later line is
  // where two files were joined (and in a row that would be skipped, nothing else would see it).
  if (record.fields[0].starts_with("\xEF\xBB\xBF")) {
    error(record.line, 1,
          "a byte order mark (U+FEFF) starts this line: files joined together? (it belongs only at "
          "the start of a file)");
    return true;
  }
  if (record.fields.size() != header_fields_) {
    bool few = record.fields.size() < header_fields_;
    error(few ? record.end_line() : record.field_line(header_fields_),
          few ? record.end_column : record.columns[header_fields_],
          "expected " + std::to_string(header_fields_) + " fields as in the header, found " +
              std::to_string(record.fields.size()));
    return true;
  }
  on_row(Row(record, index_));
  return true;
}

void TableReader::end_of_stream() {
  if (csv_failed_) return;
  if (!seen_header_) {
    error(1, 1, "the file is empty (no header line)");
    return;
  }
  if (!header_ok_) return;
  if (rows_ == 0) {
    error(2, 1, "the file has a header but no data rows");
    return;
  }
  on_end();
  if (!diagnostics_.has_errors() && kept_rows_ == 0) {
    size_t c = rows_wanted_column();
    error(header_line_, c < header_columns_.size() ? header_columns_[c] : 1,
          "expected " + rows_wanted() + ", found none in " + std::to_string(rows_) +
              (rows_ == 1 ? " row" : " rows") +
              ": not this dataset's file, or cut short? Nothing was loaded");
  }
}

bool TableReader::read_date(const Row& row, size_t i, Date* out) {
  std::string_view text = row[i];
  switch (parse_date(text, out)) {
    case DateError::kNone:
      break;
    case DateError::kFormat:
      error(row.line(i), row.column(i),
            column_name(i) + ": " +
                (text.empty() ? std::string("empty value")
                              : quote_excerpt(text) + " is not a date in YYYY-MM-DD form"));
      return false;
    case DateError::kNotCalendar:
      error(row.line(i), row.column(i),
            column_name(i) + ": " + quote_excerpt(text) + " is not a calendar date");
      return false;
  }
  if (*out > today_) {
    error(row.line(i), row.column(i),
          column_name(i) + ": " + quote_excerpt(text) + " is in the future");
    return false;
  }
  return true;
}

bool TableReader::read_count(const Row& row, size_t i, int64_t* out) {
  CountError e = parse_count(row[i], out);
  if (e == CountError::kNone) return true;
  error(row.line(i), row.column(i), column_name(i) + ": " + describe(e, row[i]));
  return false;
}

bool TableReader::check_name(const Row& row, size_t i) {
  size_t offset = 0;
  TextError e = check_text(row[i], &offset);
  if (e == TextError::kNone) return true;
  error(row.line(i), row.column(i), column_name(i) + ": " + describe(e, row[i], offset));
  return false;
}

std::vector<Observation> TableReader::sort_and_check(
    std::vector<Observation> rows, const std::vector<CountSource>& sources,
    const std::function<std::string(const Observation&, const char*)>& subject) {
  std::vector<size_t> order(rows.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return by_location_date(rows[a], rows[b]); });
  std::vector<Observation> sorted;
  sorted.reserve(rows.size());
  for (size_t i : order) {
    Observation& o = rows[i];
    if (!sorted.empty() && sorted.back().location == o.location) {
      const Observation& prev = sorted.back();
      auto check = [&](const char* count, int64_t before, int64_t now, uint64_t line,
                       uint32_t column) {
        if (before == kUnknown || now == kUnknown || now >= before) return;
        warning(line, column,
                subject(o, count) + " went down from " + std::to_string(before) + " on " +
                    format_date(prev.date) + " to " + std::to_string(now) + " on " +
                    format_date(o.date) + " (a revision upstream; loaded as given)");
      };
      check("cases", prev.cases, o.cases, sources[i].cases_line, sources[i].cases_column);
      check("deaths", prev.deaths, o.deaths, sources[i].deaths_line, sources[i].deaths_column);
    }
    sorted.push_back(std::move(o));
  }
  return sorted;
}

bool TableReader::check_unique_date(const Row& row, size_t i, Date date) {
  auto [it, inserted] = seen_dates_.emplace(date.days, row.line(i));
  if (inserted) return true;
  error(row.line(i), row.column(i),
        column_name(i) + ": " + format_date(date) + " appears twice (first on line " +
            std::to_string(it->second) + ")");
  return false;
}

}  // namespace covid
