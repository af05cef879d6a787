#include "serve/locations.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>

#include "common/suggest.h"
#include "pipeline/datasets.h"

namespace covid::serve {
namespace {

using nlohmann::json;

std::string fold(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
  }
  return out;
}

bool alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c & 0x80) != 0; }

int level(std::string_view type) {
  if (type == "nation") return 0;
  if (type == "state") return 1;
  if (type == "county") return 2;
  return 3;  // country
}

json text_or_null(const std::string& s) { return s.empty() ? json() : json(s); }

json rounded(double v) { return std::isnan(v) ? json() : json(std::round(v * 100.0) / 100.0); }

json count_or_null(int64_t v) { return v == kUnknown ? json() : json(v); }

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

}  // namespace

std::string location_label(const Location& l) {
  if (l.type == "county" && !l.state.empty()) return l.name + ", " + l.state;
  return l.name;
}

std::string location_source(const Location& l) {
  const Dataset* d = dataset_at_level(l.type);
  return d != nullptr && d->source_label != nullptr ? d->source_label : "";
}

std::optional<int64_t> LocationIndex::population(std::string_view id) const {
  auto it = populations_.find(id);
  if (it == populations_.end()) return std::nullopt;
  return it->second;
}

LocationIndex::LocationIndex(std::vector<Location> locations,
                             std::map<std::string, int64_t, std::less<>> populations)
    : all_(std::move(locations)), populations_(std::move(populations)) {
  if (!std::is_sorted(all_.begin(), all_.end(),
                      [](const Location& a, const Location& b) { return a.id < b.id; })) {
    std::sort(all_.begin(), all_.end(),
              [](const Location& a, const Location& b) { return a.id < b.id; });
  }
  label_.reserve(all_.size());
  name_.reserve(all_.size());
  id_.reserve(all_.size());
  shown_.reserve(all_.size());
  shown_fold_.reserve(all_.size());
  std::set<std::string> others;  // the folded labels of the locations that are not countries
  for (const Location& l : all_) {
    label_.push_back(fold(location_label(l)));
    name_.push_back(fold(l.name));
    id_.push_back(fold(l.id));
    if (l.type != "country") others.insert(label_.back());
  }
  for (size_t i = 0; i < all_.size(); ++i) {
    const Location& l = all_[i];
    const Dataset* d = dataset_at_level(l.type);
    bool collides = l.type == "country" && others.contains(label_[i]) && d != nullptr &&
                    d->source_short != nullptr;
    shown_.push_back(collides ? location_label(l) + " (" + d->source_short + ")"
                              : location_label(l));
    shown_fold_.push_back(fold(shown_.back()));
  }
}

std::string LocationIndex::label(const Location& l) const {
  const Location* found = find(l.id);
  return found != nullptr ? shown_[size_t(found - all_.data())] : location_label(l);
}

const Location* LocationIndex::find(std::string_view id) const {
  auto it = std::lower_bound(all_.begin(), all_.end(), id,
                             [](const Location& l, std::string_view key) { return l.id < key; });
  return it != all_.end() && it->id == id ? &*it : nullptr;
}

std::vector<const Location*> LocationIndex::search(std::string_view type, std::string_view text,
                                                   const std::vector<std::string>& ids) const {
  const std::string q = fold(trim(text));
  std::vector<bool> wanted;
  if (!ids.empty()) {
    wanted.assign(all_.size(), false);
    for (const std::string& id : ids) {
      if (const Location* l = find(id)) wanted[size_t(l - all_.data())] = true;
    }
  }
  struct Hit {
    int rank;
    size_t i;
  };
  std::vector<Hit> hits;
  for (size_t i = 0; i < all_.size(); ++i) {
    const Location& l = all_[i];
    if (!type.empty() && l.type != type) continue;
    if (!wanted.empty() && !wanted[i]) continue;
    int rank;
    if (q.empty() || name_[i] == q || id_[i] == q) {
      rank = 0;
    } else if (name_[i].starts_with(q) || id_[i].starts_with(q) ||
               (!l.fips.empty() && l.fips.starts_with(q))) {
      rank = 1;
    } else {
      size_t at = label_[i].find(q);
      if (at == std::string::npos) continue;
      rank = 3;
      for (; at != std::string::npos; at = label_[i].find(q, at + 1)) {
        if (at == 0 || !alnum(label_[i][at - 1])) {
          rank = 2;
          break;
        }
      }
    }
    hits.push_back(Hit{rank, i});
  }
  std::sort(hits.begin(), hits.end(), [&](const Hit& a, const Hit& b) {
    const Location& x = all_[a.i];
    const Location& y = all_[b.i];
    return std::forward_as_tuple(a.rank, level(x.type), name_[a.i], label_[a.i], x.id) <
           std::forward_as_tuple(b.rank, level(y.type), name_[b.i], label_[b.i], y.id);
  });
  std::vector<const Location*> out;
  out.reserve(hits.size());
  for (const Hit& h : hits) out.push_back(&all_[h.i]);
  return out;
}

std::string pad_fips(std::string_view text) {
  bool digits = !text.empty() &&
                std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (digits && (text.size() == 1 || text.size() == 4)) return "0" + std::string(text);
  return std::string(text);
}

LocationIndex::Resolved LocationIndex::resolve(std::string_view text) const {
  Resolved r;
  const std::string t = trim(text);
  if (const Location* l = find(pad_fips(t))) {
    r.location = l;
    return r;
  }
  const std::string q = fold(t);
  std::vector<const Location*> labels, names;
  for (size_t i = 0; i < all_.size(); ++i) {
    if (id_[i] == q || label_[i] == q || shown_fold_[i] == q) labels.push_back(&all_[i]);
    if (name_[i] == q) names.push_back(&all_[i]);
  }
  const std::vector<const Location*>& same = labels.empty() ? names : labels;
  if (same.size() == 1) {
    r.location = same.front();
    return r;
  }
  r.ambiguous = same.size() > 1;
  if (r.ambiguous) {
    r.closest = same;
  } else if (!q.empty()) {
    r.closest = search("", t);
  }
  if (r.closest.empty() && !q.empty()) {
    std::vector<std::string> all_labels;
    all_labels.reserve(all_.size());
    for (const Location& l : all_) all_labels.push_back(location_label(l));
    for (const std::string& near : nearest_names(t, all_labels, 5)) {
      for (size_t i = 0; i < all_.size(); ++i) {
        if (all_labels[i] == near) r.closest.push_back(&all_[i]);
      }
    }
  }
  if (r.closest.size() > 5) r.closest.resize(5);
  return r;
}

std::string unresolved_message(std::string_view text, const LocationIndex::Resolved& r) {
  std::set<std::string> sources;
  for (const Location* l : r.closest) sources.insert(location_source(*l));
  std::string list;
  for (const Location* l : r.closest) {
    std::string source = sources.size() > 1 ? location_source(*l) : "";
    list += (list.empty() ? "" : "; ") + location_label(*l) + " (" + l->id +
            (source.empty() ? "" : ", " + source) + ")";
  }
  std::string shown(text.substr(0, 64));
  if (r.ambiguous) {
    return "'" + shown + "' names several locations: " + list + "; give the id or \"Name, State\"";
  }
  return "unknown location '" + shown + "'" + (list.empty() ? "" : "; the closest: " + list);
}

std::string locations_json(const LocationIndex& index, const LocationSearch& search) {
  std::vector<const Location*> hits = index.search(search.type, search.text, search.ids);
  json list = json::array();
  for (size_t i = 0; i < hits.size() && i < search.limit; ++i) {
    const Location& l = *hits[i];
    list.push_back({{"id", l.id},
                    {"type", l.type},
                    {"name", l.name},
                    {"state", text_or_null(l.state)},
                    {"fips", text_or_null(l.fips)},
                    {"label", index.label(l)},
                    {"source", text_or_null(location_source(l))}});
    auto population = index.population(l.id);
    list.back()["population"] = population ? json(*population) : json();
  }
  json j = {{"q", search.text},      {"type", text_or_null(search.type)},
            {"limit", search.limit}, {"total", hits.size()},
            {"count", list.size()},  {"locations", std::move(list)}};
  return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string states_json(const std::vector<StateSeries>& states) {
  json list = json::array();
  std::optional<Date> newest;
  for (const StateSeries& st : states) {
    const SeriesColumns& s = st.series;
    json row = {{"id", st.location->id}, {"name", st.location->name}};
    if (s.size() == 0) {
      for (const char* k : {"date", "cases", "deaths", "new_cases_avg7", "new_deaths_avg7",
                            "new_cases_avg7_14d_ago", "change_14d", "change_14d_pct",
                            "new_cases_avg7_per_100k", "new_deaths_avg7_per_100k"}) {
        row[k] = nullptr;
      }
      list.push_back(std::move(row));
      continue;
    }
    size_t i = s.size() - 1;
    if (!newest || s.date[i] > *newest) newest = s.date[i];
    double now = s.new_cases_avg7[i];
    double before = std::nan("");
    auto [b, e] = s.range(Date{s.date[i].days - 14}, Date{s.date[i].days - 14});
    if (b < e) before = s.new_cases_avg7[b];
    // Rounded first, so that the change is the difference of the figures shown.
    double now_r = std::round(now * 100.0) / 100.0;
    double before_r = std::round(before * 100.0) / 100.0;
    row["date"] = format_date(s.date[i]);
    row["cases"] = count_or_null(s.cases[i]);
    row["deaths"] = count_or_null(s.deaths[i]);
    row["new_cases_avg7"] = rounded(now);
    row["new_deaths_avg7"] = rounded(s.new_deaths_avg7[i]);
    row["new_cases_avg7_14d_ago"] = rounded(before);
    row["change_14d"] = rounded(now_r - before_r);
    row["change_14d_pct"] = std::isnan(now_r - before_r) || before_r <= 0
                                ? json()
                                : rounded((now_r - before_r) / before_r * 100.0);
    auto rate = [&](const std::vector<double>& v) { return i < v.size() ? rounded(v[i]) : json(); };
    row["new_cases_avg7_per_100k"] = rate(s.new_cases_avg7_per_100k);
    row["new_deaths_avg7_per_100k"] = rate(s.new_deaths_avg7_per_100k);
    list.push_back(std::move(row));
  }
  json j = {{"date", newest ? json(format_date(*newest)) : json()},
            {"count", list.size()},
            {"states", std::move(list)}};
  return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string rankings_json(std::string_view level, std::string_view state,
                          const std::vector<StateSeries>& locations) {
  json list = json::array();
  std::optional<Date> newest;
  for (const StateSeries& st : locations) {
    const SeriesColumns& s = st.series;
    const Location& l = *st.location;
    json row = {{"id", l.id},
                {"name", l.name},
                {"label", location_label(l)},
                {"type", l.type},
                {"population", s.population ? json(*s.population) : json()}};
    std::optional<size_t> now, before;
    if (s.size() > 0) {
      now = s.size() - 1;
      if (!newest || s.date[*now] > *newest) newest = s.date[*now];
      auto [b, e] = s.range(Date{s.date[*now].days - 14}, Date{s.date[*now].days - 14});
      if (b < e) before = b;
    }
    auto at = [](const std::vector<double>& v, std::optional<size_t> i) {
      return i && *i < v.size() ? v[*i] : std::nan("");
    };
    row["date"] = now ? json(format_date(s.date[*now])) : json();
    row["cases"] = now ? count_or_null(s.cases[*now]) : json();
    row["deaths"] = now ? count_or_null(s.deaths[*now]) : json();
    for (const char* m : {"cases", "deaths"}) {
      bool cases = m[0] == 'c';
      const auto& avg = cases ? s.new_cases_avg7 : s.new_deaths_avg7;
      const auto& rate = cases ? s.new_cases_avg7_per_100k : s.new_deaths_avg7_per_100k;
      std::string name = std::string("new_") + m + "_avg7";
      // Rounded first, so that the change is the difference of the figures shown.
      double now_r = std::round(at(avg, now) * 100.0) / 100.0;
      double before_r = std::round(at(avg, before) * 100.0) / 100.0;
      row[name] = rounded(at(avg, now));
      row[name + "_per_100k"] = rounded(at(rate, now));
      row[name + "_14d_ago"] = rounded(at(avg, before));
      row[name + "_14d_ago_per_100k"] = rounded(at(rate, before));
      row[std::string(m) + "_change_14d_pct"] =
          std::isnan(now_r - before_r) || before_r <= 0
              ? json()
              : rounded((now_r - before_r) / before_r * 100.0);
    }
    list.push_back(std::move(row));
  }
  json j = {{"level", std::string(level)},
            {"state", state.empty() ? json() : json(std::string(state))},
            {"date", newest ? json(format_date(*newest)) : json()},
            {"count", list.size()},
            {"locations", std::move(list)}};
  return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace covid::serve
