#include "serve/views.h"

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "common/secrets.h"
#include "serve/run_json.h"

namespace covid::serve {
namespace {

using nlohmann::json;

json text_or_null(const std::string& s) { return s.empty() ? json() : json(s); }
json count_or_null(int64_t v, int64_t null) { return v == null ? json() : json(v); }
json avg_or_null(double v) { return std::isnan(v) ? json() : json(std::round(v * 100.0) / 100.0); }

json brief_run(const std::optional<RunRecord>& r) {
  if (!r) return json();
  return {{"id", r->id},
          {"status", to_string(r->status)},
          {"started_at", r->started_at},
          {"finished_at", text_or_null(r->finished_at)},
          {"stage", text_or_null(r->stage)},
          {"error", text_or_null(scrub(r->error))},
          {"inserted", r->counts.inserted},
          {"updated", r->counts.updated},
          {"unchanged", r->counts.unchanged},
          {"missing", r->counts.missing}};
}

std::string dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace

RunTotals total_runs(const std::vector<RunRecord>& runs) {
  RunTotals t;
  t.runs = runs.size();
  for (const RunRecord& r : runs) {
    t.by_status[size_t(r.status)]++;
    t.rows_read += r.counts.rows_read;
    t.inserted += r.counts.inserted;
    t.updated += r.counts.updated;
    t.unchanged += r.counts.unchanged;
    t.missing += r.counts.missing;
    if (!t.last_success && (r.status == RunStatus::kOk || r.status == RunStatus::kUnchanged))
      t.last_success = r;
  }
  if (!runs.empty()) t.last_run = runs.front();
  return t;
}

std::string summary_json(const RunTotals& totals, std::string_view location,
                         const SeriesColumns* series, const std::string& sources_json) {
  json j;
  j["location"] = std::string(location);
  json latest;
  json first, last, recovered_last_date, recovered_last;
  size_t days = 0;
  if (series != nullptr && series->size() > 0) {
    const SeriesColumns& s = *series;
    size_t i = s.size() - 1;
    days = s.size();
    first = format_date(s.date.front());
    last = format_date(s.date[i]);
    latest = {{"date", format_date(s.date[i])},
              {"cases", count_or_null(s.cases[i], kUnknown)},
              {"deaths", count_or_null(s.deaths[i], kUnknown)},
              {"recovered", count_or_null(s.recovered[i], kUnknown)},
              {"new_cases", count_or_null(s.new_cases[i], kNoValue)},
              {"new_deaths", count_or_null(s.new_deaths[i], kNoValue)},
              {"new_cases_avg7", avg_or_null(s.new_cases_avg7[i])},
              {"new_deaths_avg7", avg_or_null(s.new_deaths_avg7[i])}};
    for (size_t k = s.size(); k-- > 0;) {
      if (s.recovered[k] != kUnknown) {
        recovered_last_date = format_date(s.date[k]);
        recovered_last = s.recovered[k];
        break;
      }
    }
  }
  j["first_date"] = first;
  j["last_date"] = last;
  j["days"] = days;
  j["latest"] = latest;
  j["recovered_last_date"] = recovered_last_date;
  j["recovered_last"] = recovered_last;
  j["last_run"] = brief_run(totals.last_run);
  j["last_success"] = brief_run(totals.last_success);
  json by_status = json::object();
  for (RunStatus s :
       {RunStatus::kOk, RunStatus::kUnchanged, RunStatus::kFailed, RunStatus::kRunning}) {
    by_status[to_string(s)] = totals.by_status[size_t(s)];
  }
  j["runs"] = by_status;
  j["sources"] = json::parse(sources_json, nullptr, false);
  if (j["sources"].is_discarded()) j["sources"] = json::array();
  return dump(j);
}

std::string runs_json(const std::vector<RunRecord>& runs, size_t limit) {
  json arr = json::array();
  for (size_t i = 0; i < runs.size() && i < limit; ++i) arr.push_back(run_record_json(runs[i]));
  return dump(json{{"runs", arr}});
}

std::optional<double> epoch_seconds(std::string_view ts) {
  // YYYY-MM-DDTHH:MM:SS[.fff]Z
  if (ts.size() < 20 || ts[10] != 'T' || ts.back() != 'Z') return std::nullopt;
  Date d;
  if (parse_date(ts.substr(0, 10), &d) != DateError::kNone) return std::nullopt;
  auto two = [&](size_t at) -> int {
    char a = ts[at], b = ts[at + 1];
    if (a < '0' || a > '9' || b < '0' || b > '9') return -1;
    return (a - '0') * 10 + (b - '0');
  };
  int h = two(11), m = two(14), s = two(17);
  if (h < 0 || m < 0 || s < 0 || ts[13] != ':' || ts[16] != ':') return std::nullopt;
  double frac = 0;
  if (ts.size() > 20 && ts[19] == '.') {
    double scale = 0.1;
    for (size_t i = 20; i + 1 < ts.size(); ++i, scale /= 10) {
      if (ts[i] < '0' || ts[i] > '9') return std::nullopt;
      frac += (ts[i] - '0') * scale;
    }
  }
  return double(d.days) * 86400.0 + h * 3600 + m * 60 + s + frac;
}

std::string data_metrics(bool available, const RunTotals& t,
                         const std::map<std::string, SeriesColumns, std::less<>>& series) {
  std::string out;
  char line[256];
  auto add = [&](int n) { out.append(line, size_t(n)); };
  add(std::snprintf(line, sizeof line,
                    "# HELP covid_etl_database_up Whether the database could be read.\n"
                    "# TYPE covid_etl_database_up gauge\ncovid_etl_database_up %d\n",
                    available ? 1 : 0));
  out +=
      "# HELP covid_etl_runs Runs recorded in the database, by status.\n# TYPE covid_etl_runs "
      "gauge\n";
  for (RunStatus s :
       {RunStatus::kOk, RunStatus::kUnchanged, RunStatus::kFailed, RunStatus::kRunning}) {
    add(std::snprintf(line, sizeof line, "covid_etl_runs{status=\"%s\"} %llu\n", to_string(s),
                      (unsigned long long)t.by_status[size_t(s)]));
  }
  out +=
      "# HELP covid_etl_rows_total Source rows of all recorded runs, by outcome.\n"
      "# TYPE covid_etl_rows_total counter\n";
  auto rows = [&](const char* metric, const char* outcome, uint64_t v) {
    add(std::snprintf(line, sizeof line, "%s{outcome=\"%s\"} %llu\n", metric, outcome,
                      (unsigned long long)v));
  };
  rows("covid_etl_rows_total", "inserted", t.inserted);
  rows("covid_etl_rows_total", "updated", t.updated);
  rows("covid_etl_rows_total", "unchanged", t.unchanged);
  rows("covid_etl_rows_total", "missing", t.missing);
  if (t.last_run) {
    const RunRecord& r = *t.last_run;
    out +=
        "# HELP covid_etl_last_run_rows Source rows of the newest run, by outcome.\n"
        "# TYPE covid_etl_last_run_rows gauge\n";
    rows("covid_etl_last_run_rows", "inserted", r.counts.inserted);
    rows("covid_etl_last_run_rows", "updated", r.counts.updated);
    rows("covid_etl_last_run_rows", "unchanged", r.counts.unchanged);
    rows("covid_etl_last_run_rows", "missing", r.counts.missing);
    out +=
        "# HELP covid_etl_last_run_status The newest run's status (1 for that status).\n"
        "# TYPE covid_etl_last_run_status gauge\n";
    for (RunStatus s :
         {RunStatus::kOk, RunStatus::kUnchanged, RunStatus::kFailed, RunStatus::kRunning}) {
      add(std::snprintf(line, sizeof line, "covid_etl_last_run_status{status=\"%s\"} %d\n",
                        to_string(s), r.status == s ? 1 : 0));
    }
    if (auto at = epoch_seconds(r.started_at)) {
      add(std::snprintf(line, sizeof line,
                        "# HELP covid_etl_last_run_timestamp_seconds When the newest run started.\n"
                        "# TYPE covid_etl_last_run_timestamp_seconds gauge\n"
                        "covid_etl_last_run_timestamp_seconds %.3f\n",
                        *at));
    }
  }
  if (t.last_success) {
    if (auto at = epoch_seconds(t.last_success->finished_at)) {
      add(std::snprintf(
          line, sizeof line,
          "# HELP covid_etl_last_success_timestamp_seconds When the newest successful run "
          "(ok or unchanged) finished.\n"
          "# TYPE covid_etl_last_success_timestamp_seconds gauge\n"
          "covid_etl_last_success_timestamp_seconds %.3f\n",
          *at));
    }
  }
  out +=
      "# HELP covid_etl_observations Dates held per location.\n# TYPE covid_etl_observations "
      "gauge\n";
  for (const auto& [loc, s] : series) {
    add(std::snprintf(line, sizeof line, "covid_etl_observations{location=\"%s\"} %zu\n",
                      loc.c_str(), s.size()));
  }
  out +=
      "# HELP covid_etl_latest_date_timestamp_seconds The newest date in the series, per "
      "location.\n"
      "# TYPE covid_etl_latest_date_timestamp_seconds gauge\n";
  for (const auto& [loc, s] : series) {
    if (s.size() == 0) continue;
    add(std::snprintf(line, sizeof line,
                      "covid_etl_latest_date_timestamp_seconds{location=\"%s\"} %lld\n",
                      loc.c_str(), (long long)s.date.back().days * 86400LL));
  }
  return out;
}

}  // namespace covid::serve
