#include "serve/series.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "serve/json_text.h"

namespace covid::serve {
namespace {

constexpr std::pair<const char*, SeriesField> kFieldNames[] = {
    {"date", kFieldDate},
    {"cases", kFieldCases},
    {"deaths", kFieldDeaths},
    {"recovered", kFieldRecovered},
    {"new_cases", kFieldNewCases},
    {"new_deaths", kFieldNewDeaths},
    {"new_cases_avg7", kFieldNewCasesAvg7},
    {"new_deaths_avg7", kFieldNewDeathsAvg7},
    {"cases_per_100k", kFieldCasesPer100k},
    {"deaths_per_100k", kFieldDeathsPer100k},
    {"new_cases_avg7_per_100k", kFieldNewCasesAvg7Per100k},
    {"new_deaths_avg7_per_100k", kFieldNewDeathsAvg7Per100k},
    {"new_cases_avg7_raw", kFieldNewCasesAvg7Raw},
    {"new_deaths_avg7_raw", kFieldNewDeathsAvg7Raw},
    {"omitted", kFieldOmitted},
};

// `v` per 100,000 of `population`; NaN for an unknown value or without a population.
double per_100k(double v, std::optional<int64_t> population) {
  if (!population || std::isnan(v)) return std::nan("");
  return v * 100000.0 / double(*population);
}

double count_value(int64_t v) { return v == kUnknown ? std::nan("") : double(v); }

// Rounded to 2 decimals, as the API shows it; null when NaN.
nlohmann::json rounded_or_null(double v) {
  if (std::isnan(v)) return nullptr;
  return std::round(v * 100.0) / 100.0;
}

void daily(const std::vector<Date>& dates, const std::vector<int64_t>& cumulative,
           std::vector<int64_t>* out, std::vector<double>* avg) {
  size_t n = cumulative.size();
  out->assign(n, kNoValue);
  avg->assign(n, std::nan(""));
  for (size_t i = 1; i < n; ++i) {
    if (dates[i].days - dates[i - 1].days != 1) continue;
    if (cumulative[i] == kUnknown || cumulative[i - 1] == kUnknown) continue;
    (*out)[i] = cumulative[i] - cumulative[i - 1];
  }
  for (size_t i = 6; i < n; ++i) {
    if (dates[i].days - dates[i - 6].days != 6) continue;
    int64_t sum = 0;
    bool known = true;
    for (size_t k = i - 6; k <= i && known; ++k) {
      known = (*out)[k] != kNoValue;
      if (known) sum += (*out)[k];
    }
    if (known) (*avg)[i] = double(sum) / 7.0;
  }
}

// A weekly series: at least two dates, every two consecutive ones 7 days apart (the WHO's since
// 2023, one row per country per Sunday).
bool weekly_dates(const std::vector<Date>& dates) {
  if (dates.size() < 2) return false;
  for (size_t i = 1; i < dates.size(); ++i) {
    if (dates[i].days - dates[i - 1].days != 7) return false;
  }
  return true;
}

// A weekly series' new counts are the week's: the difference of consecutive weekly cumulatives,
// on the week's date; its 7-day average is the week's count divided by 7 (the six dates a weekly
// file does not have never break it).
void weekly(const std::vector<int64_t>& cumulative, std::vector<int64_t>* out,
            std::vector<double>* avg) {
  size_t n = cumulative.size();
  out->assign(n, kNoValue);
  avg->assign(n, std::nan(""));
  for (size_t i = 1; i < n; ++i) {
    if (cumulative[i] == kUnknown || cumulative[i - 1] == kUnknown) continue;
    (*out)[i] = cumulative[i] - cumulative[i - 1];
    (*avg)[i] = double((*out)[i]) / 7.0;
  }
}

template <typename F>
void array(std::string& out, const char* name, size_t begin, size_t end, F item) {
  out += ",\"";
  out += name;
  out += "\":[";
  for (size_t i = begin; i < end; ++i) {
    if (i != begin) out.push_back(',');
    item(i);
  }
  out.push_back(']');
}

}  // namespace

SeriesColumns SeriesColumns::build(std::string location, const std::vector<Observation>& rows) {
  SeriesColumns s;
  s.location = std::move(location);
  s.date.reserve(rows.size());
  s.cases.reserve(rows.size());
  s.deaths.reserve(rows.size());
  s.recovered.reserve(rows.size());
  for (const Observation& o : rows) {
    s.date.push_back(o.date);
    s.cases.push_back(o.cases);
    s.deaths.push_back(o.deaths);
    s.recovered.push_back(o.recovered);
  }
  if (weekly_dates(s.date)) {
    weekly(s.cases, &s.new_cases, &s.new_cases_avg7);
    weekly(s.deaths, &s.new_deaths, &s.new_deaths_avg7);
  } else {
    daily(s.date, s.cases, &s.new_cases, &s.new_cases_avg7);
    daily(s.date, s.deaths, &s.new_deaths, &s.new_deaths_avg7);
  }
  s.new_cases_avg7_raw = s.new_cases_avg7;
  s.new_deaths_avg7_raw = s.new_deaths_avg7;
  s.omitted.assign(s.date.size(), 0);
  return s;
}

void SeriesColumns::set_population(std::optional<int64_t> p) {
  population = p && *p > 0 ? p : std::nullopt;
  size_t n = size();
  cases_per_100k.assign(n, std::nan(""));
  deaths_per_100k.assign(n, std::nan(""));
  new_cases_avg7_per_100k.assign(n, std::nan(""));
  new_deaths_avg7_per_100k.assign(n, std::nan(""));
  if (!population) return;
  for (size_t i = 0; i < n; ++i) {
    cases_per_100k[i] = per_100k(count_value(cases[i]), population);
    deaths_per_100k[i] = per_100k(count_value(deaths[i]), population);
    if (i < new_cases_avg7.size())
      new_cases_avg7_per_100k[i] = per_100k(new_cases_avg7[i], population);
    if (i < new_deaths_avg7.size())
      new_deaths_avg7_per_100k[i] = per_100k(new_deaths_avg7[i], population);
  }
}

std::pair<size_t, size_t> SeriesColumns::range(std::optional<Date> from,
                                               std::optional<Date> to) const {
  auto lo = from ? std::lower_bound(date.begin(), date.end(), *from) : date.begin();
  auto hi = to ? std::upper_bound(date.begin(), date.end(), *to) : date.end();
  if (hi < lo) hi = lo;
  return {size_t(lo - date.begin()), size_t(hi - date.begin())};
}

Result<unsigned> parse_fields(std::string_view list) {
  unsigned fields = kFieldDate;
  while (true) {
    size_t comma = list.find(',');
    std::string_view name = list.substr(0, comma);
    bool found = false;
    for (const auto& [n, bit] : kFieldNames) {
      if (name == n) {
        fields |= bit;
        found = true;
      }
    }
    if (!found) {
      std::string known;
      for (const auto& [n, bit] : kFieldNames)
        known += (known.empty() ? "" : ", ") + std::string(n);
      return Status::Usage("fields: unknown field '" + std::string(name.substr(0, 64)) +
                           "' (known: " + known + ")");
    }
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return fields;
}

std::string series_json(const SeriesColumns& s, size_t begin, size_t end, unsigned fields) {
  std::string out;
  out.reserve(64 + (end - begin) * 96);
  out += "{\"location\":\"";
  append_escaped(out, s.location);  // an id: "US", digits, or "SS:Name" with a county's name
  out += "\",\"from\":";
  if (begin < end)
    append_date(out, s.date[begin]);
  else
    out += "null";
  out += ",\"to\":";
  if (begin < end)
    append_date(out, s.date[end - 1]);
  else
    out += "null";
  out += ",\"count\":";
  append_int(out, int64_t(end - begin));
  auto counts = [&](const char* name, const std::vector<int64_t>& v, int64_t null) {
    array(out, name, begin, end, [&](size_t i) {
      if (v[i] == null)
        out += "null";
      else
        append_int(out, v[i]);
    });
  };
  auto averages = [&](const char* name, const std::vector<double>& v) {
    array(out, name, begin, end, [&](size_t i) {
      if (std::isnan(v[i]))
        out += "null";
      else
        append_avg(out, v[i]);
    });
  };
  array(out, "date", begin, end, [&](size_t i) { append_date(out, s.date[i]); });
  if (fields & kFieldCases) counts("cases", s.cases, kUnknown);
  if (fields & kFieldDeaths) counts("deaths", s.deaths, kUnknown);
  if (fields & kFieldRecovered) counts("recovered", s.recovered, kUnknown);
  if (fields & kFieldNewCases) counts("new_cases", s.new_cases, kNoValue);
  if (fields & kFieldNewDeaths) counts("new_deaths", s.new_deaths, kNoValue);
  if (fields & kFieldNewCasesAvg7) averages("new_cases_avg7", s.new_cases_avg7);
  if (fields & kFieldNewDeathsAvg7) averages("new_deaths_avg7", s.new_deaths_avg7);
  // Rates: null throughout until set_population() made them.
  auto rates = [&](const char* name, const std::vector<double>& v) {
    array(out, name, begin, end, [&](size_t i) {
      if (i >= v.size() || std::isnan(v[i]))
        out += "null";
      else
        append_avg(out, v[i]);
    });
  };
  if (fields & kFieldCasesPer100k) rates("cases_per_100k", s.cases_per_100k);
  if (fields & kFieldDeathsPer100k) rates("deaths_per_100k", s.deaths_per_100k);
  if (fields & kFieldNewCasesAvg7Per100k)
    rates("new_cases_avg7_per_100k", s.new_cases_avg7_per_100k);
  if (fields & kFieldNewDeathsAvg7Per100k)
    rates("new_deaths_avg7_per_100k", s.new_deaths_avg7_per_100k);
  if (fields & kFieldNewCasesAvg7Raw) averages("new_cases_avg7_raw", s.new_cases_avg7_raw);
  if (fields & kFieldNewDeathsAvg7Raw) averages("new_deaths_avg7_raw", s.new_deaths_avg7_raw);
  if (fields & kFieldOmitted) {
    array(out, "omitted", begin, end, [&](size_t i) {
      static constexpr const char* kNames[] = {"null", "\"cases\"", "\"deaths\"", "\"both\""};
      out += kNames[s.omitted[i] & 3];
    });
  }
  out += "}\n";
  return out;
}

std::string export_csv(const SeriesColumns& s, size_t begin, size_t end, bool per_100k) {
  std::string out = per_100k ? "date,cases,deaths,recovered,cases_per_100k,deaths_per_100k,"
                               "new_cases_avg7_per_100k,new_deaths_avg7_per_100k\n"
                             : "date,cases,deaths,recovered\n";
  out.reserve(out.size() + (end - begin) * 36);
  char date[10];
  for (size_t i = begin; i < end; ++i) {
    format_date(s.date[i], date);
    out.append(date, 10);
    for (int64_t v : {s.cases[i], s.deaths[i], s.recovered[i]}) {
      out.push_back(',');
      if (v != kUnknown) append_int(out, v);
    }
    if (per_100k) {
      for (const std::vector<double>* v :
           {&s.cases_per_100k, &s.deaths_per_100k, &s.new_cases_avg7_per_100k,
            &s.new_deaths_avg7_per_100k}) {
        out.push_back(',');
        if (i < v->size() && !std::isnan((*v)[i])) append_avg(out, (*v)[i]);
      }
    }
    out.push_back('\n');
  }
  return out;
}

std::string export_json(const SeriesColumns& s, size_t begin, size_t end, bool per_100k) {
  auto count = [](int64_t v) { return v == kUnknown ? nlohmann::json() : nlohmann::json(v); };
  nlohmann::json arr = nlohmann::json::array();
  for (size_t i = begin; i < end; ++i) {
    arr.push_back({{"date", format_date(s.date[i])},
                   {"cases", count(s.cases[i])},
                   {"deaths", count(s.deaths[i])},
                   {"recovered", count(s.recovered[i])}});
    if (per_100k) {
      auto rate = [&](const std::vector<double>& v) {
        return i < v.size() ? rounded_or_null(v[i]) : nlohmann::json();
      };
      nlohmann::json& o = arr.back();
      o["cases_per_100k"] = rate(s.cases_per_100k);
      o["deaths_per_100k"] = rate(s.deaths_per_100k);
      o["new_cases_avg7_per_100k"] = rate(s.new_cases_avg7_per_100k);
      o["new_deaths_avg7_per_100k"] = rate(s.new_deaths_avg7_per_100k);
    }
  }
  return arr.dump() + "\n";
}

}  // namespace covid::serve
