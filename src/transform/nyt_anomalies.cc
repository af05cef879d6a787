#include "transform/nyt_anomalies.h"

#include <algorithm>
#include <charconv>

#include "transform/fields.h"
#include "transform/location.h"
#include "transform/state_fips.h"

namespace covid {
namespace {
enum Col { kDate, kEndDate, kGeoid, kType, kOmit, kOmitSub, kAdjusted, kDescription };

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}
}  // namespace

std::string location_of_geoid(std::string_view g) {
  if (g == "USA") return std::string(kNation);
  if (g.size() < 6 || g.substr(0, 4) != "USA-") return "";
  std::string_view code = g.substr(4);
  if (!all_digits(code)) return "";
  if (code.size() == 2) return state_name_by_fips(code).empty() ? "" : std::string(code);
  if (code.size() != 5 || state_name_by_fips(code.substr(0, 2)).empty()) return "";
  if (code == "36998") return "36:New York City";
  if (code == "29998") return "29:Kansas City";
  if (code == "29997") return "29:Joplin";
  if (code.substr(2) == "000") return "";  // a state as a whole is USA-SS
  return std::string(code);
}

AnomaliesReader::AnomaliesReader(std::string file, const Clock& clock)
    : TableReader(std::move(file),
                  {"date", "end_date", "geoid", "type", "omit_from_rolling_average",
                   "omit_from_rolling_average_on_subgeographies", "adjusted_daily_count_for_avg",
                   "description"},
                  clock) {}

void AnomaliesReader::on_row(const Row& row) {
  Annotation a;
  bool ok = read_date(row, kDate, &a.from);
  if (!row[kEndDate].empty()) {
    Date to;
    if (read_date(row, kEndDate, &to)) {
      if (ok && to < a.from) {
        error(row.line(kEndDate), row.column(kEndDate),
              column_name(kEndDate) + ": " + format_date(to) + " is before the date " +
                  format_date(a.from));
        ok = false;
      }
      a.to = to;
    } else {
      ok = false;
    }
  }
  a.location = location_of_geoid(row[kGeoid]);
  if (a.location.empty()) {
    error(row.line(kGeoid), row.column(kGeoid),
          column_name(kGeoid) + ": " +
              (row[kGeoid].empty() ? std::string("empty value")
                                   : quote_excerpt(row[kGeoid]) +
                                         " is not USA, USA-SS (a state's FIPS) or USA-SSCCC (a "
                                         "county's FIPS, or 36998, 29998, 29997)"));
    ok = false;
  }
  std::string_view type = row[kType];
  if (type == "cases" || type == "deaths" || type == "both") {
    a.type = std::string(type);
  } else {
    error(row.line(kType), row.column(kType),
          column_name(kType) + ": " +
              (type.empty() ? std::string("empty value")
                            : quote_excerpt(type) + " is not cases, deaths or both"));
    ok = false;
  }
  for (auto [col, out] :
       {std::pair{kOmit, &a.omit_from_average}, std::pair{kOmitSub, &a.omit_on_subgeographies}}) {
    std::string_view v = row[col];
    if (v == "yes" || v.empty()) {
      *out = v == "yes";
    } else {
      error(row.line(col), row.column(col),
            column_name(col) + ": " + quote_excerpt(v) + " is not yes or empty");
      ok = false;
    }
  }
  std::string_view adj = row[kAdjusted];
  if (!adj.empty()) {
    std::string_view digits = adj[0] == '-' ? adj.substr(1) : adj;
    int64_t v = 0;
    auto r = std::from_chars(adj.data(), adj.data() + adj.size(), v);
    if (!all_digits(digits) || r.ec != std::errc() || r.ptr != adj.data() + adj.size() ||
        v > kMaxCount || v < -kMaxCount) {
      error(row.line(kAdjusted), row.column(kAdjusted),
            column_name(kAdjusted) + ": " + quote_excerpt(adj) +
                " is not an integer (a count, negative for a backlog)");
      ok = false;
    } else {
      a.adjusted_count = v;
    }
  }
  std::string_view text = row[kDescription];
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  if (!text.empty() && !check_name(row, kDescription)) ok = false;
  if (!ok) return;
  a.text = std::string(text);
  auto [it, inserted] = seen_.emplace(
      std::make_tuple(a.location, a.from.days, a.type, std::string(annotation_kind(a))),
      row.line(kDate));
  if (!inserted) {
    error(row.line(kDate), row.column(kDate),
          "geoid " + std::string(row[kGeoid]) + " on " + format_date(a.from) + " has a second " +
              annotation_kind(a) + " for " + a.type + " (first on line " +
              std::to_string(it->second) + ")");
    return;
  }
  kept(a.from);
  rows_.push_back(std::move(a));
}

void AnomaliesReader::on_end() {
  if (diagnostics().has_errors()) return;
  std::sort(rows_.begin(), rows_.end(), annotation_key_less);
}

}  // namespace covid
