#include "serve/map_data.h"

#include <algorithm>
#include <cmath>

#include "serve/json_text.h"
#include "serve/locations.h"

namespace covid::serve {
namespace {

// New York City's five boroughs (Bronx, Kings, New York, Queens, Richmond counties): the NYT
// reports them as one location, "36:New York City".
constexpr const char* kNycBoroughs[] = {"36005", "36047", "36061", "36081", "36085"};

bool digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

size_t MapLevel::bytes() const {
  size_t n = sizeof *this + (cases.size() + deaths.size()) * sizeof(float) +
             dates.size() * sizeof(Date) + population.size() * sizeof(population[0]);
  for (size_t i = 0; i < ids.size(); ++i) n += ids[i].size() + names[i].size() + 64;
  return n;
}

std::vector<std::string> map_shapes(const Location& l, std::string_view numeric) {
  if (l.type == "country") {
    if (numeric.empty()) return {};
    return {std::string(numeric)};
  }
  if (l.type == "county") {
    if (l.id == "36:New York City") return {std::begin(kNycBoroughs), std::end(kNycBoroughs)};
    if (l.id.size() == 5 && digits(l.id)) return {l.id};
    return {};  // Kansas City, Joplin, Unknown: no county of their own
  }
  return {l.id};
}

MapLevel make_map_level(std::string level, const std::vector<const Location*>& locations,
                        const std::vector<SeriesColumns>& series,
                        const std::vector<std::string>& numeric) {
  MapLevel m;
  m.level = std::move(level);
  size_t n = locations.size();
  int32_t lo = INT32_MAX, hi = INT32_MIN;
  for (const SeriesColumns& s : series) {
    if (s.size() == 0) continue;
    lo = std::min(lo, s.date.front().days);
    hi = std::max(hi, s.date.back().days);
  }
  std::vector<int32_t> index;  // day - lo -> date index, or -1
  if (lo <= hi) {
    std::vector<char> seen(size_t(hi - lo + 1), 0);
    for (const SeriesColumns& s : series) {
      for (Date d : s.date) seen[size_t(d.days - lo)] = 1;
    }
    index.assign(seen.size(), -1);
    for (size_t k = 0; k < seen.size(); ++k) {
      if (!seen[k]) continue;
      index[k] = int32_t(m.dates.size());
      m.dates.push_back(Date{int32_t(lo + int32_t(k))});
    }
  }
  m.cases.assign(m.dates.size() * n, std::nanf(""));
  m.deaths.assign(m.dates.size() * n, std::nanf(""));
  for (size_t i = 0; i < n; ++i) {
    const Location& l = *locations[i];
    m.ids.push_back(l.id);
    m.names.push_back(location_label(l));
    m.shapes.push_back(map_shapes(l, i < numeric.size() ? numeric[i] : std::string_view()));
    const SeriesColumns& s = series[i];
    m.population.push_back(s.population);
    for (size_t k = 0; k < s.size(); ++k) {
      size_t at = size_t(index[size_t(s.date[k].days - lo)]) * n + i;
      m.cases[at] = float(s.new_cases_avg7[k]);
      m.deaths[at] = float(s.new_deaths_avg7[k]);
    }
  }
  return m;
}

std::string map_json(const MapLevel& m, const MapQuery& q) {
  // The dates asked for: [from, to], or the last date alone.
  size_t b = 0, e = m.dates.size();
  if (!q.from && !q.to) {
    b = e == 0 ? 0 : e - 1;
  } else {
    if (q.from)
      b = size_t(std::lower_bound(m.dates.begin(), m.dates.end(), *q.from) - m.dates.begin());
    if (q.to) e = size_t(std::upper_bound(m.dates.begin(), m.dates.end(), *q.to) - m.dates.begin());
    if (e < b) e = b;
  }
  std::vector<size_t> cols;  // the ids shown
  for (size_t i = 0; i < m.ids.size(); ++i) {
    if (q.state.empty() || m.ids[i].starts_with(q.state)) cols.push_back(i);
  }
  const std::vector<float>& v = q.metric == "deaths" ? m.deaths : m.cases;
  size_t n = m.ids.size();
  std::string out;
  out.reserve(256 + cols.size() * (24 + (e - b) * 6));
  out += "{\"level\":";
  append_string(out, m.level);
  out += ",\"metric\":";
  append_string(out, q.metric);
  out += ",\"per_100k\":";
  out += q.per_100k ? "true" : "false";
  out += ",\"state\":";
  if (q.state.empty())
    out += "null";
  else
    append_string(out, q.state);
  auto date_or_null = [&](bool has, Date d) {
    if (has)
      append_date(out, d);
    else
      out += "null";
  };
  out += ",\"first_date\":";
  date_or_null(!m.dates.empty(), m.dates.empty() ? Date{} : m.dates.front());
  out += ",\"last_date\":";
  date_or_null(!m.dates.empty(), m.dates.empty() ? Date{} : m.dates.back());
  out += ",\"from\":";
  date_or_null(b < e, b < e ? m.dates[b] : Date{});
  out += ",\"to\":";
  date_or_null(b < e, b < e ? m.dates[e - 1] : Date{});
  out += ",\"count\":";
  out += std::to_string(e - b);
  out += ",\"dates\":[";
  for (size_t k = b; k < e; ++k) {
    if (k > b) out += ',';
    append_date(out, m.dates[k]);
  }
  out += "],\"ids\":[";
  for (size_t c = 0; c < cols.size(); ++c) {
    if (c) out += ',';
    append_string(out, m.ids[cols[c]]);
  }
  out += "],\"names\":[";
  for (size_t c = 0; c < cols.size(); ++c) {
    if (c) out += ',';
    append_string(out, m.names[cols[c]]);
  }
  out += "],\"population\":[";
  for (size_t c = 0; c < cols.size(); ++c) {
    if (c) out += ',';
    const auto& p = m.population[cols[c]];
    out += p ? std::to_string(*p) : "null";
  }
  out += "],\"shapes\":{";
  bool first = true;
  for (size_t i : cols) {
    const auto& s = m.shapes[i];
    if (s.size() == 1 && s[0] == m.ids[i]) continue;
    if (!first) out += ',';
    first = false;
    append_string(out, m.ids[i]);
    out += ":[";
    for (size_t k = 0; k < s.size(); ++k) {
      if (k) out += ',';
      append_string(out, s[k]);
    }
    out += ']';
  }
  out += "},\"values\":[";
  for (size_t k = b; k < e; ++k) {
    if (k > b) out += ',';
    out += '[';
    for (size_t c = 0; c < cols.size(); ++c) {
      if (c) out += ',';
      size_t i = cols[c];
      double x = double(v[k * n + i]);
      if (q.per_100k) {
        const auto& p = m.population[i];
        x = p && *p > 0 ? x * 100000.0 / double(*p) : std::nan("");
      }
      if (std::isnan(x))
        out += "null";
      else
        append_avg(out, x);
    }
    out += ']';
  }
  out += "]}\n";
  return out;
}

}  // namespace covid::serve
