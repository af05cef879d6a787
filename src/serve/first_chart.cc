#include "serve/first_chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

namespace covid::serve {

namespace {

constexpr int kUnits = 1000;  // the plot's viewBox: 0..1000 both ways, y downwards

// The first `from` in `page` replaced by `to` (none: the page as it was).
void replace_first(std::string& page, std::string_view from, std::string_view to) {
  if (size_t at = page.find(from); at != std::string::npos) page.replace(at, from.size(), to);
}

std::string escape_html(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// The text of the first element of `page` that `open` ends the start tag of (up to its first
// child or end tag) replaced by `text`, escaped (none: the page as it was).
void set_text(std::string& page, std::string_view open, std::string_view text) {
  size_t at = page.find(open);
  if (at == std::string::npos) return;
  at += open.size();
  size_t end = page.find('<', at);
  if (end != std::string::npos) page.replace(at, end - at, escape_html(text));
}

// A number's text with the digits of its whole part grouped by three: 1234567.5 -> 1,234,567.5.
std::string grouped(const std::string& s) {
  size_t start = !s.empty() && s[0] == '-' ? 1 : 0;
  size_t end = std::min(s.find('.'), s.size());
  std::string out = s.substr(0, start);
  for (size_t i = start; i < end; ++i) {
    if (i > start && (end - i) % 3 == 0) out += ',';
    out += s[i];
  }
  return out + s.substr(end);
}

// v with `decimals` decimals (printf's rounding).
std::string fixed(double v, int decimals) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// A value as the legend shows it: digits grouped by three, rates with one decimal.
std::string legend_value(double v, bool rate) { return grouped(fixed(v, rate ? 1 : 0)); }

// A y scale as uPlot makes one for a line's visible values (its rangeNum with a padding of a
// tenth): the values' span padded by a tenth each way, not below zero for values that are not,
// rounded out to a tenth of the power of ten below the span; ticks at the smallest round step (1,
// 2, 2.5, 5 times a power of ten) that leaves 30 px between them on a plot about 220 px high.
struct Scale {
  double lo = 0, hi = 1, step = 1;
  int y(double v) const { return int(std::lround((hi - v) * kUnits / (hi - lo))); }
  double first_tick() const { return std::ceil(lo / step - 1e-9) * step; }
};

// The plot's height in uPlot's chart (app.js chartSize(): 290 px high, 200 on a phone).
constexpr double kWidePlot = 223, kPhonePlot = 133;

// uPlot's step between a value axis' ticks: the first of 1, 2, 2.5 and 5 times a power of ten
// that keeps them 30 px apart on a plot `plot_px` high.
double tick_step(const Scale& s, double plot_px) {
  double least = (s.hi - s.lo) * 30 / plot_px;
  double mag = std::pow(10, std::floor(std::log10(least)));
  for (double m : {1.0, 2.0, 2.5, 5.0})
    if (mag * m >= least) return mag * m;
  return mag * 10;
}

std::optional<Scale> scale_of(const std::vector<const std::vector<double>*>& lines) {
  double mn = INFINITY, mx = -INFINITY;
  for (const auto* line : lines)
    for (double v : *line)
      if (!std::isnan(v)) mn = std::min(mn, v), mx = std::max(mx, v);
  if (!(mn <= mx)) return std::nullopt;
  double span = mx - mn;
  if (span == 0) span = mx != 0 ? std::fabs(mx) : 1;
  double incr = std::pow(10, std::floor(std::log10(span))) / 10;
  Scale s;
  s.lo = std::floor((mn - span * 0.1) / incr) * incr;
  if (mn >= 0 && s.lo < 0) s.lo = 0;
  s.hi = std::ceil((mx + span * 0.1) / incr) * incr;
  s.step = tick_step(s, kWidePlot);
  return s;
}

// The same scale with the ticks uPlot makes on a phone's plot.
std::optional<Scale> on_phone(std::optional<Scale> s) {
  if (s) s->step = tick_step(*s, kPhonePlot);
  return s;
}

int year_of(Date d) { return ymd_of(d).year; }
int month_of(Date d) { return int(ymd_of(d).month); }
int day_of(Date d) { return int(ymd_of(d).day); }

constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

struct Tick {
  Date date;
  std::string label, year;  // year: a second line, under the first tick and each new year's
};

// The dates' labels as uPlot's time axis makes them, at most `most` of them: every 1, 2, 7 or 14
// days, else every 1, 2, 3 or 6 months (on the 1st), else every 1, 2 or 5 years (on January 1st).
std::vector<Tick> date_ticks(Date from, Date to, int most) {
  std::vector<Tick> out;
  const int span = to.days - from.days;
  for (int every : {1, 2, 7, 14}) {
    if (span / every + 1 > most) continue;
    int year = 0;
    for (int i = 0; i <= span; i += every) {
      Date d{from.days + i};
      int y = year_of(d);
      out.push_back({d, std::string(kMonths[month_of(d) - 1]) + " " + std::to_string(day_of(d)),
                     y != year ? std::to_string(y) : ""});
      year = y;
    }
    return out;
  }
  const int months = span / 30;
  for (int every : {1, 2, 3, 6}) {
    if (months / every > most) continue;
    int y = year_of(from), m = month_of(from), shown = 0;
    for (;;) {
      if (++m > 12) m = 1, ++y;
      Date d = date_from_ymd(y, unsigned(m), 1);
      if (d > to) break;
      if ((m - 1) % every != 0) continue;
      out.push_back({d, kMonths[m - 1], m == 1 || shown == 0 ? std::to_string(y) : ""});
      ++shown;
    }
    return out;
  }
  const int years = span / 365;
  int every = years <= most ? 1 : years / 2 <= most ? 2 : 5;
  for (int y = year_of(from) + 1; y <= year_of(to); ++y)
    if (y % every == 0) out.push_back({date_from_ymd(y, 1, 1), std::to_string(y), ""});
  return out;
}

std::string percent(double fraction) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.2f%%", fraction * 100);
  return buf;
}

// One line's path: relative moves between whole units, a gap where a value is unknown.
std::string line_path(const std::vector<int>& x, const std::vector<double>& v, const Scale& s) {
  std::string d;
  bool pen = false, moved = false;  // moved: an `l` since the last M
  int px = 0, py = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    if (std::isnan(v[i])) {
      pen = false;
      continue;
    }
    int y = s.y(v[i]);
    if (!pen) {
      d += "M" + std::to_string(x[i]) + " " + std::to_string(y);
      pen = true;
      moved = false;
    } else if (x[i] == px && y == py) {
      continue;
    } else {
      d += moved ? " " : "l";
      d += std::to_string(x[i] - px);
      if (y - py >= 0) d += ' ';
      d += std::to_string(y - py);
      moved = true;
    }
    px = x[i], py = y;
  }
  return d;
}

// How many decimals x needs (at most 6).
int decimals(double x) {
  int d = 0;
  while (d < 6 && std::fabs(std::round(x * std::pow(10, d)) - x * std::pow(10, d)) > 1e-6) ++d;
  return d;
}

// An axis' labels as app.js axisValues() makes them: in millions (M) or thousands (k) with the
// decimals the step needs, or whole numbers grouped where that would take more than two, each a
// <text> with `class_attr` (empty, or ` class="..."`). `texts` are the SVG's; `sizer` the same
// labels one per line in an invisible element of the label column, whose width the browser takes
// from the widest (style.css .ssr-w), as app.js axisSize() sizes uPlot's axis.
struct AxisLabels {
  std::string texts;
  std::string sizer;
};

AxisLabels axis_labels(const Scale& s, bool right, const std::string& class_attr) {
  std::vector<double> ticks;
  for (int i = 0;; ++i) {
    double t = s.first_tick() + i * s.step;
    if (t > s.hi + s.step * 1e-9) break;
    ticks.push_back(t);
  }
  double big = 0;
  for (double t : ticks) big = std::max(big, std::fabs(t));
  double unit = big >= 1e6 ? 1e6 : big >= 1e3 ? 1e3 : 1;
  int d = decimals(s.step / unit);
  if (unit > 1 && d > 2) {
    unit = 1;
    d = decimals(s.step);
  }
  d = std::min(d, 4);
  const char* suffix = unit == 1e6 ? "M" : unit == 1e3 ? "k" : "";
  AxisLabels out;
  for (double t : ticks) {
    std::string label = "0";
    if (std::fabs(t) > s.step * 1e-9) {
      label = fixed(t / unit, d);
      if (label.find('.') != std::string::npos) {  // toLocaleString's maximumFractionDigits
        while (label.back() == '0') label.pop_back();
        if (label.back() == '.') label.pop_back();
      }
      label = grouped(label) + suffix;
    }
    out.texts += "<text" + class_attr + " x=\"" + (right ? "15" : "100%") + "\" y=\"" +
                 percent((s.hi - t) / (s.hi - s.lo)) + "\">" + label + "</text>";
    if (!out.sizer.empty()) out.sizer += "<br>";
    out.sizer += label;
  }
  return out;
}

}  // namespace

std::optional<std::string_view> first_page_location(const QueryParams& params) {
  const std::string* loc = first_param(params, "loc");
  if (loc == nullptr) return std::string_view("US");
  std::string_view rest = *loc;
  for (;;) {
    size_t comma = rest.find(',');
    std::string_view piece = rest.substr(0, comma);
    for (char c : piece)
      if (c < 0x20 || c > 0x7e) return std::nullopt;  // JavaScript's trim() would differ
    size_t b = piece.find_first_not_of(' ');
    size_t e = piece.find_last_not_of(' ');
    piece = b == std::string_view::npos ? std::string_view{} : piece.substr(b, e - b + 1);
    if (piece.size() > 200) return std::nullopt;
    if (!piece.empty()) return piece;
    if (comma == std::string_view::npos) return std::string_view("US");
    rest.remove_prefix(comma + 1);
  }
}

std::string FirstChartView::key() const {
  return location + "|" + std::to_string(last_days) + "|" + (from ? format_date(*from) : "") + "|" +
         (to ? format_date(*to) : "") + "|" + (custom ? "c" : "") + (per_100k ? "r" : "") +
         (hide_cases ? "h1" : "") + (hide_deaths ? "h2" : "") + (hide_recovered ? "h3" : "");
}

void write_page_location(std::string& page, std::string_view label, std::string_view source) {
  std::string title = "COVID-19 in " + std::string(label);
  set_text(page, "<title>", title + " \u00b7 covid-etl");
  set_text(page, "<h1 id=\"title\">", title);
  set_text(page, "id=\"sub\">",
           "Cumulative and daily cases and deaths from " +
               (source.empty() ? std::string("its source") : std::string(source)) + ".");
  replace_first(page, "id=\"s-recovered-card\">", "id=\"s-recovered-card\" hidden>");
  replace_first(page, "<label><input type=\"checkbox\" id=\"show-recovered\"",
                "<label hidden><input type=\"checkbox\" id=\"show-recovered\"");
  replace_first(page, "class=\"chart-box\" id=\"box-total\"",
                "class=\"chart-box no-recovered\" id=\"box-total\"");
}

std::optional<FirstChartView> first_chart_view(const QueryParams& params) {
  auto is = [&](std::string_view name, std::string_view value) {
    const std::string* v = first_param(params, name);
    return v != nullptr && *v == value;
  };
  if (is("embed", "1") || is("scale", "log")) return std::nullopt;
  auto loc = first_page_location(params);
  if (!loc) return std::nullopt;
  FirstChartView view;
  view.location = std::string(*loc);
  if (is("range", "90d")) view.last_days = 90;
  if (is("range", "30d")) view.last_days = 30;
  for (const char* name : {"from", "to"}) {
    const std::string* v = first_param(params, name);
    Date d;
    if (v == nullptr || parse_date(*v, &d) != DateError::kNone) continue;
    view.custom = true;
    (name[0] == 'f' ? view.from : view.to) = d;
  }
  if (view.custom) view.last_days = 0;
  view.per_100k = is("per100k", "1");
  if (const std::string* hide = first_param(params, "hide")) {
    std::string_view rest = *hide;
    for (;;) {
      size_t comma = rest.find(',');
      std::string_view key = rest.substr(0, comma);
      if (key == "cases") view.hide_cases = true;
      if (key == "deaths") view.hide_deaths = true;
      if (key == "recovered") view.hide_recovered = true;
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  return view;
}

std::optional<ShownDates> shown_dates(const SeriesColumns& series, const FirstChartView& view) {
  if (series.size() == 0) return std::nullopt;
  Date first = series.date.front(), last = series.date.back();
  Date from = first, to = last;
  if (view.custom) {
    if (view.from && *view.from > first) from = *view.from;
    if (view.to && *view.to < last) to = *view.to;
    if (from > last) from = last;
    if (to < first) to = first;
    if (from > to) std::swap(from, to);
  } else if (view.last_days > 0) {
    from = std::max(first, Date{last.days - (view.last_days - 1)});
  }
  return ShownDates{first, last, from, to};
}

void write_page_controls(std::string& page, const FirstChartView& view, const ShownDates& dates) {
  const char* range = view.custom            ? "custom"
                      : view.last_days == 90 ? "90d"
                      : view.last_days == 30 ? "30d"
                                             : "all";
  for (const char* preset : {"all", "90d", "30d"}) {
    std::string id = std::string("id=\"r-") + preset + "\"";
    replace_first(
        page, id + ">",
        id + " aria-pressed=\"" + (std::string_view(range) == preset ? "true" : "false") + "\">");
  }
  for (auto [name, value] : {std::pair{"from", dates.from}, {"to", dates.to}}) {
    std::string id = std::string("id=\"") + name + "\" required";
    replace_first(page, id + ">",
                  id + " min=\"" + format_date(dates.first) + "\" max=\"" +
                      format_date(dates.last) + "\" value=\"" + format_date(value) + "\">");
  }
  if (view.per_100k)
    replace_first(page, "id=\"per100k\" aria-pressed=\"false\"",
                  "id=\"per100k\" aria-pressed=\"true\"");
  for (auto [hidden, key] : {std::pair{view.hide_cases, "cases"},
                             {view.hide_deaths, "deaths"},
                             {view.hide_recovered, "recovered"}}) {
    std::string box = std::string("id=\"show-") + key + "\" data-key=\"" + key + "\"";
    if (hidden) replace_first(page, box + " checked>", box + ">");
  }
}

void write_page_cards(std::string& page, const SeriesColumns& series) {
  const size_t n = series.size();
  if (n == 0) return;
  auto text = [&](const std::string& id, const std::string& value) {
    set_text(page, "id=\"" + id + "\">", value);  // <p ... id="ID">–</p>, <p ... id="ID"></p>
  };
  auto count = [](int64_t v) {
    return v == kUnknown ? std::string("–") : grouped(std::to_string(v));
  };
  const bool weekly = n >= 2 && series.date[n - 1].days - series.date[n - 2].days == 7;
  const std::string since = format_date(series.date.front());
  text("s-date", format_date(series.date.back()));
  text("s-days",
       grouped(std::to_string(n)) + (weekly ? " weekly reports since " : " days since ") + since);
  text("s-cases", count(series.cases.back()));
  text("s-deaths", count(series.deaths.back()));
  size_t k = n;
  while (k > 0 && series.recovered[k - 1] == kUnknown) --k;
  text("s-recovered", k > 0 ? count(series.recovered[k - 1]) : "–");
  text("s-recovered-date",
       k > 0 ? "last reported " + format_date(series.date[k - 1]) : std::string("never reported"));
  for (const char* what : {"cases", "deaths"}) {
    std::string title = std::string(weekly ? "Weekly" : "Daily") + " new " + what;
    text(std::string("h-") + what, title);
    replace_first(page, std::string("aria-label=\"Daily new ") + what + " with their 7-day average",
                  "aria-label=\"" + title + " with their 7-day average");
  }
}

std::string first_chart_html(const SeriesColumns& series, const FirstChartView& view) {
  // The dates shown (app.js selection()).
  auto shown = shown_dates(series, view);
  if (!shown) return {};
  const Date from = shown->from, to = shown->to;
  if (from == to) return {};
  const bool nation = view.location == "US";  // recovered: the nation's only
  const bool rate = view.per_100k;
  if (rate && (!series.population || *series.population <= 0)) return {};
  auto [b, e] = series.range(from, to);
  if (b == e) return {};

  std::vector<int> x;
  std::vector<double> cases, deaths, recovered;
  const double per = rate ? 1e5 / double(*series.population) : 1;
  auto count = [&](int64_t v) { return v == kUnknown ? NAN : double(v) * per; };
  for (size_t i = b; i < e; ++i) {
    x.push_back(int(std::lround(double(series.date[i].days - from.days) * kUnits /
                                double(to.days - from.days))));
    cases.push_back(rate ? series.cases_per_100k[i] : count(series.cases[i]));
    deaths.push_back(rate ? series.deaths_per_100k[i] : count(series.deaths[i]));
    recovered.push_back(count(series.recovered[i]));
  }
  const bool show_recovered = nation && !view.hide_recovered;
  std::vector<const std::vector<double>*> left;
  if (!view.hide_cases) left.push_back(&cases);
  if (show_recovered) left.push_back(&recovered);
  std::optional<Scale> y = scale_of(left);
  std::optional<Scale> y2 = view.hide_deaths ? std::nullopt : scale_of({&deaths});

  std::string key = view.location + "|" + format_date(from) + "|" + format_date(to) + "|" +
                    (rate ? "1" : "0") + "|";
  std::string hidden;
  for (auto [on, name] : {std::pair{view.hide_cases, "cases"},
                          {view.hide_deaths, "deaths"},
                          {view.hide_recovered, "recovered"}}) {
    if (!on) continue;
    if (!hidden.empty()) hidden += ',';
    hidden += name;
  }
  key += hidden;

  // The value axes' ticks (labels and grid lines) as uPlot spaces them on a wide screen's plot,
  // and where a phone's would space them otherwise, a second set: style.css shows one of them.
  struct Ticks {
    std::string cls;  // "" (one set), "ssr-wide" or "ssr-narrow"
    std::optional<Scale> y, y2;
  };
  std::vector<Ticks> sets{{"", y, y2}};
  std::optional<Scale> phone_y = on_phone(y), phone_y2 = on_phone(y2);
  if ((y && phone_y->step != y->step) || (y2 && phone_y2->step != y2->step)) {
    sets = {{"ssr-wide", y, y2}, {"ssr-narrow", phone_y, phone_y2}};
  }
  std::string sizers, left_texts, right_texts, grid;
  for (const Ticks& t : sets) {
    std::string class_attr = t.cls.empty() ? "" : " class=\"" + t.cls + "\"";
    AxisLabels l = t.y ? axis_labels(*t.y, false, class_attr) : AxisLabels{};
    AxisLabels r = t.y2 ? axis_labels(*t.y2, true, class_attr) : AxisLabels{};
    std::string also = t.cls.empty() ? "" : " " + t.cls;
    sizers += "<span class=\"ssr-w ssr-wl" + also + "\">" + l.sizer +
              "</span><span class=\"ssr-w ssr-wr" + also + "\">" + r.sizer + "</span>";
    left_texts += l.texts;
    right_texts += r.texts;
    if (t.y || t.y2) {
      const Scale& g = t.y ? *t.y : *t.y2;
      grid += "<path class=\"ssr-grid" + also + "\" d=\"";
      for (int i = 0;; ++i) {
        double v = g.first_tick() + i * g.step;
        if (v > g.hi + g.step * 1e-9) break;
        grid += "M0 " + std::to_string(g.y(v)) + "H1000";
      }
      grid += "\"/>";
    }
  }
  std::string html = "<div class=\"ssr\" aria-hidden=\"true\" data-view=\"" + escape_html(key) +
                     "\">" + sizers + "<svg class=\"ssr-y\">" + left_texts;
  html += "</svg><svg class=\"ssr-plot\" viewBox=\"0 0 1000 1000\" preserveAspectRatio=\"none\">";
  html += grid;
  if (y && show_recovered)
    html += "<path class=\"ssr-recovered\" d=\"" + line_path(x, recovered, *y) + "\"/>";
  if (y && !view.hide_cases)
    html += "<path class=\"ssr-cases\" d=\"" + line_path(x, cases, *y) + "\"/>";
  if (y2) html += "<path class=\"ssr-deaths\" d=\"" + line_path(x, deaths, *y2) + "\"/>";
  html += "</svg><svg class=\"ssr-y2\">" + right_texts;
  html += "</svg><svg class=\"ssr-x\">";
  // Two sets of labels: style.css shows the wider one on a wide screen, the other on a phone.
  for (auto [cls, most] : {std::pair{"ssr-wide", 14}, {"ssr-narrow", 5}}) {
    for (const Tick& t : date_ticks(from, to, most)) {
      std::string x = percent(double(t.date.days - from.days) / double(to.days - from.days));
      html += std::string("<text class=\"") + cls + "\" x=\"" + x + "\" y=\"8\">" + t.label;
      if (!t.year.empty()) html += "<tspan x=\"" + x + "\" dy=\"16\">" + t.year + "</tspan>";
      html += "</text>";
    }
  }
  html += "</svg></div>";

  // The legend: the values of the last date shown that has them.
  auto last_known = [&](const std::vector<double>& v) {
    for (size_t i = v.size(); i-- > 0;)
      if (!std::isnan(v[i])) return v[i];
    return double(NAN);
  };
  std::string per_label = rate ? " per 100k" : "";
  html += "<p class=\"ssr-legend\" elementtiming=\"first-chart\">" + format_date(to);
  auto item = [&](bool show, const char* cls, const std::string& label, double v) {
    if (!show) return;
    html += std::string(" <span class=\"ssr-key ") + cls + "\"></span>" + label + " <b>" +
            (std::isnan(v) ? std::string("–") : legend_value(v, rate)) + "</b>";
  };
  item(!view.hide_cases, "ssr-cases", "Cases" + per_label, last_known(cases));
  item(!view.hide_deaths, "ssr-deaths", "Deaths" + per_label + " (right axis)", last_known(deaths));
  item(show_recovered, "ssr-recovered", "Recovered" + per_label, last_known(recovered));
  html += "</p>";
  return html;
}

}  // namespace covid::serve
