#include "pipeline/run_message.h"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "common/secrets.h"
#include "pipeline/datasets.h"

namespace covid {
namespace {

std::string count(int64_t v) { return v == kUnknown ? "-" : std::to_string(v); }

std::string changed(int64_t before, int64_t after) {
  return before == after ? count(after) : count(before) + " -> " + count(after);
}

std::string row(const std::string& date, const std::string& cases, const std::string& deaths,
                const std::string& recovered, const char* note) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "%-10s  %-24s  %-18s  %-20s%s", date.c_str(), cases.c_str(),
                deaths.c_str(), recovered.c_str(), note);
  std::string s = buf;
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s + "\n";
}

std::string plural(uint64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

// The first quality warnings (pipeline/quality.h), counted by kind.
std::string quality_lines(const RunSummary& s) {
  if (s.quality.total() == 0) return "";
  std::string kinds;
  for (const auto& [kind, n] : s.quality.counts())
    kinds += (kinds.empty() ? "" : ", ") + kind + " " + std::to_string(n);
  std::string out = "\nData-quality warnings: " + std::to_string(s.quality.total()) + " (" + kinds +
                    "); the first:\n";
  for (size_t i = 0; i < s.quality.samples().size() && i < kMessageQualityLines; ++i)
    out += "  " + s.quality.samples()[i].message + "\n";
  return out;
}

// The sources this run says are stale (pipeline/freshness.h), once per stale period.
std::string stale_lines(const RunSummary& s) {
  std::string out;
  for (const RunSummary::Stale& st : s.stale) {
    out += "Source " + st.name + " (" + st.url + ") is stale since " + st.since +
           ": its content has not changed since " + st.changed_at + ".\n";
  }
  return out.empty() ? out : "\n" + out;
}

Message compose(const RunSummary& s, const std::string& dashboard_url) {
  Message m;
  m.run_id = s.run_id.value_or(0);
  m.payload = to_json(s).dump();
  std::string run = "covid-etl run" + (s.run_id ? " " + std::to_string(*s.run_id) : std::string());

  if (s.status == RunStatus::kFailed) {
    m.event = "failure";
    std::string stage = stage_name(s.failure.kind());
    m.subject = "covid-etl: run FAILED at " + stage + ": " + s.failure.message();
    m.body = run + " failed at " + stage + ": " + s.failure.message() + "\n";
    m.body += "Nothing was loaded: the database is as it was before this run.\n";
    if (!s.diagnostics.errors().empty()) {
      m.body += "\nFirst errors:\n";
      size_t shown = 0;
      for (const Issue& i : s.diagnostics.errors()) {
        if (shown++ == 20) break;
        m.body += "  " + i.to_string() + "\n";
      }
      m.body += "(" + plural(s.diagnostics.error_count(), "error", "errors") + " in all)\n";
    }
    return m;
  }

  if (s.status == RunStatus::kUnchanged) {
    m.event = "unchanged";
    bool not_modified = !s.sources.empty();
    for (const SourceReport& r : s.sources) not_modified = not_modified && r.not_modified;
    m.subject = "covid-etl: no changes";
    m.body = run + ": no changes (" +
             (not_modified ? std::string("the sources were not modified")
                           : plural(s.counts.unchanged, "date", "dates") + " unchanged") +
             ")\n";
    if (!s.stale.empty()) {
      // Its own event, which channels want by default: an unchanged run says nothing else.
      m.event = "stale";
      std::string names;
      for (const RunSummary::Stale& st : s.stale) names += (names.empty() ? "" : ", ") + st.name;
      m.subject = "covid-etl: stale " + std::string(s.stale.size() == 1 ? "source" : "sources") +
                  ": " + names + " (not changed since " + s.stale.front().changed_at.substr(0, 10) +
                  ")";
    }
    m.body += stale_lines(s) + quality_lines(s);
    return m;
  }

  m.event = "success";
  const ChangeSet& c = s.changes;
  // The national rows are listed; the levels below are summarised ("56 states updated for
  // 2023-03-23, 12 revised").
  auto nation = s.levels.find("nation");
  bool national_only = s.levels.empty() || (s.levels.size() == 1 && nation != s.levels.end());
  uint64_t inserted =
      nation != s.levels.end() ? nation->second.inserted : (national_only ? c.inserted.size() : 0);
  uint64_t updated =
      nation != s.levels.end() ? nation->second.updated : (national_only ? c.updated.size() : 0);
  std::vector<std::string> summaries;
  for (const auto& [level, l] : s.levels) {
    if (l.replaced > 0) {  // --replace-dataset: told first, whatever else changed
      summaries.push_back("the " + plural(l.replaced, "stored row", "stored rows") + " of level " +
                          level + " replaced by the source's (--replace-dataset)");
    }
    if (level == "nation" || l.locations_changed == 0) continue;
    if (l.last_changed.empty()) {  // reference data, without dates: "12 new populations"
      summaries.push_back(std::to_string(l.inserted) + " new " + level + ", " +
                          std::to_string(l.updated) + " revised");
      continue;
    }
    const Dataset* d = dataset_at_level(level);
    const char* one = level.c_str();
    const char* many = d != nullptr ? d->level_plural : one;
    summaries.push_back(plural(l.locations_changed, one, many) + " updated for " + l.last_changed +
                        ", " + std::to_string(l.updated) + " revised");
  }
  std::string what;
  if (national_only || inserted + updated > 0) {
    what = plural(inserted, "new date", "new dates") + ", " + std::to_string(updated) + " revised";
  }
  for (const std::string& sum : summaries) what += (what.empty() ? "" : "; ") + sum;
  m.subject = "covid-etl: " + what + (s.last_date.empty() ? "" : " (up to " + s.last_date + ")");
  m.body = run + ": " + what + ".\n";
  if (s.date_ranges.size() > 1) {  // each dataset's own: their dates are not the same
    std::string ranges;
    for (const auto& [dataset, r] : s.date_ranges)
      ranges += (ranges.empty() ? "" : "; ") + dataset + " from " + r.first + " to " + r.second;
    m.body += "The series run: " + ranges + ".\n";
  } else if (!s.first_date.empty()) {
    m.body += "The series runs from " + s.first_date + " to " + s.last_date + ".\n";
  }
  m.body += "\n" + row("date", "cases", "deaths", "recovered", "");
  size_t lines = 0, total = inserted + updated;
  for (const Observation& o : c.inserted) {
    if (o.location != kNation) continue;
    if (lines == kMessageTableLines) break;
    m.body +=
        row(format_date(o.date), count(o.cases), count(o.deaths), count(o.recovered), "  new");
    ++lines;
  }
  for (const Revision& r : c.updated) {
    if (r.after.location != kNation) continue;
    if (lines == kMessageTableLines) break;
    m.body += row(format_date(r.after.date), changed(r.before.cases, r.after.cases),
                  changed(r.before.deaths, r.after.deaths),
                  changed(r.before.recovered, r.after.recovered), "  revised");
    ++lines;
  }
  if (total > lines) m.body += "and " + std::to_string(total - lines) + " more\n";
  if (s.diagnostics.warning_count() > 0) {
    m.body += "\n" + plural(s.diagnostics.warning_count(), "warning", "warnings") +
              " (revisions upstream and unreported recoveries), e.g. " +
              s.diagnostics.warnings().front().to_string() + "\n";
  }
  m.body += quality_lines(s) + stale_lines(s);
  if (!dashboard_url.empty()) m.body += "\nDashboard: " + dashboard_url + "\n";
  return m;
}

}  // namespace

// The last net before a message is stored in the outbox or sent: no known secret in any part.
Message run_message(const RunSummary& s, const std::string& dashboard_url) {
  Message m = compose(s, dashboard_url);
  m.subject = scrub(m.subject);
  m.body = scrub(m.body);
  m.payload = scrub(m.payload);
  return m;
}

Message interrupted_message(const RunRecord& r) {
  Message m;
  m.run_id = r.id;
  m.event = "failure";
  m.subject = "covid-etl: run " + std::to_string(r.id) + " FAILED: interrupted";
  m.body = "covid-etl run " + std::to_string(r.id) + " (started " + r.started_at + ") was " +
           r.error + ".\n";
  m.payload = nlohmann::json{{"status", "failed"},
                             {"run_id", r.id},
                             {"stage", nullptr},
                             {"message", r.error},
                             {"started_at", r.started_at}}
                  .dump();
  return m;
}

}  // namespace covid
