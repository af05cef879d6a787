// The page's first chart as the server draws it (serve/first_chart.h): the view read from the
// page's query as app.js reads it, and the lines, axes and legend of the dates shown.
#include "serve/first_chart.h"

#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <string>
#include <utility>
#include <vector>

namespace covid::serve {
namespace {

std::optional<FirstChartView> view_of(std::string_view query) {
  auto params = parse_query(query);
  EXPECT_TRUE(params.ok()) << query;
  return params.ok() ? first_chart_view(*params) : std::nullopt;
}

Date day(const char* text) {
  Date d;
  EXPECT_EQ(parse_date(text, &d), DateError::kNone);
  return d;
}

// 2021-03-01 .. 2021-03-11: cases 0, 100, .. 1000; deaths 0, 10, .. 100.
SeriesColumns eleven_days(const char* location = "06") {
  std::vector<Observation> rows;
  for (int d = 0; d <= 10; ++d) {
    Observation o;
    o.location = location;
    o.date = Date{day("2021-03-01").days + d};
    o.cases = 100 * d;
    o.deaths = 10 * d;
    rows.push_back(o);
  }
  return SeriesColumns::build(location, rows);
}

// The absolute points of each subpath of the path of class `cls` (M x y, then l dx dy ...).
std::vector<std::vector<std::pair<int, int>>> subpaths(const std::string& html,
                                                       const std::string& cls) {
  std::smatch m;
  std::regex path("<path class=\"" + cls + "\" d=\"([^\"]*)\"");
  EXPECT_TRUE(std::regex_search(html, m, path)) << cls;
  std::vector<std::vector<std::pair<int, int>>> out;
  std::string d = m[1];
  std::regex token("([Ml]?)(-?\\d+)[ ]?(-?\\d+)");
  int x = 0, y = 0;
  bool relative = false;
  for (auto it = std::sregex_iterator(d.begin(), d.end(), token); it != std::sregex_iterator();
       ++it) {
    std::string cmd = (*it)[1];
    int a = std::stoi((*it)[2]), b = std::stoi((*it)[3]);
    if (cmd == "M") {
      relative = false;
      x = a, y = b;
      out.push_back({{x, y}});
      continue;
    }
    if (cmd == "l") relative = true;
    EXPECT_TRUE(relative) << d;
    x += a, y += b;
    out.back().emplace_back(x, y);
  }
  return out;
}

TEST(FirstChart, ReadsTheViewAsAppJsReadsTheUrl) {
  auto all = view_of("");
  ASSERT_TRUE(all);
  EXPECT_EQ(all->location, "US");
  EXPECT_EQ(all->last_days, 0);
  EXPECT_FALSE(all->custom || all->per_100k || all->hide_cases || all->hide_deaths ||
               all->hide_recovered);

  auto v = view_of("loc=,%2006%20,FRA&range=90d&per100k=1&hide=deaths,bogus,recovered");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->location, "06");
  EXPECT_EQ(v->last_days, 90);
  EXPECT_TRUE(v->per_100k);
  EXPECT_FALSE(v->hide_cases);
  EXPECT_TRUE(v->hide_deaths && v->hide_recovered);

  // A date makes the range custom (app.js: state.range = 'custom'), whatever ?range= says.
  auto custom = view_of("range=30d&to=2021-03-05&from=nonsense");
  ASSERT_TRUE(custom);
  EXPECT_TRUE(custom->custom);
  EXPECT_EQ(custom->last_days, 0);
  EXPECT_FALSE(custom->from);
  EXPECT_EQ(custom->to, day("2021-03-05"));
  EXPECT_EQ(view_of("range=30d&range=90d")->last_days, 30);  // the first of a repeated name
  EXPECT_EQ(view_of("range=7d")->last_days, 0);

  // Not drawn: a log scale, one chart or the map alone, a location app.js might read otherwise.
  EXPECT_FALSE(view_of("scale=log"));
  EXPECT_FALSE(view_of("embed=1&view=map"));
  EXPECT_FALSE(view_of("loc=%E6%9D%B1"));
  EXPECT_FALSE(view_of("loc=" + std::string(201, 'x')));
  EXPECT_TRUE(view_of("scale=linear&embed=0"));
}

TEST(FirstChart, DrawsEachDateWhereUplotWould) {
  FirstChartView view;
  view.location = "06";
  std::string html = first_chart_html(eleven_days(), view);
  // The view app.js compares with its own, and the legend of the last date.
  EXPECT_NE(html.find("data-view=\"06|2021-03-01|2021-03-11|0|\""), std::string::npos) << html;
  EXPECT_NE(html.find(">2021-03-11 "), std::string::npos);
  EXPECT_NE(html.find("Cases <b>1,000</b>"), std::string::npos);
  EXPECT_NE(html.find("Deaths (right axis) <b>100</b>"), std::string::npos);
  EXPECT_EQ(html.find("ssr-recovered"), std::string::npos);  // the nation's only
  // Cases 0..1000 padded by a tenth, to a tenth of the power of ten below the span: 0..1100;
  // deaths 0..110. Each date at x = 100 * day, y = 1000 * (top - value) / top.
  for (auto [cls, top, per_day] : {std::tuple{"ssr-cases", 1100, 100}, {"ssr-deaths", 110, 10}}) {
    auto lines = subpaths(html, cls);
    ASSERT_EQ(lines.size(), 1u) << cls;
    ASSERT_EQ(lines[0].size(), 11u) << cls;
    for (int d = 0; d <= 10; ++d) {
      EXPECT_EQ(lines[0][d].first, 100 * d) << cls << " day " << d;
      EXPECT_EQ(lines[0][d].second, int(std::lround(1000.0 * (top - per_day * d) / top)))
          << cls << " day " << d;
    }
  }
  // Ticks every 200 cases (30 px apart on uPlot's plot of 223 px), at their heights; on a phone's
  // plot (133 px) every 250, a second set of labels and grid lines that style.css shows there.
  EXPECT_NE(html.find("<text class=\"ssr-wide\" x=\"100%\" y=\"100.00%\">0</text>"),
            std::string::npos)
      << html;
  EXPECT_NE(html.find("<text class=\"ssr-wide\" x=\"100%\" y=\"9.09%\">1k</text>"),
            std::string::npos);
  EXPECT_EQ(html.find(">1.2k</text>"), std::string::npos);
  EXPECT_NE(html.find("<text class=\"ssr-wide\" x=\"15\" y=\"27.27%\">80</text>"),
            std::string::npos);
  EXPECT_NE(html.find("<text class=\"ssr-narrow\" x=\"100%\" y=\"77.27%\">0.25k</text>"),
            std::string::npos);
  EXPECT_NE(html.find("<text class=\"ssr-narrow\" x=\"100%\" y=\"9.09%\">1k</text>"),
            std::string::npos);
  EXPECT_EQ(html.find("<text class=\"ssr-narrow\" x=\"100%\" y=\"27.27%\">"), std::string::npos);
  EXPECT_NE(html.find("<path class=\"ssr-grid ssr-wide\" d=\"M0 1000H1000M0 818H1000"),
            std::string::npos);
  EXPECT_NE(html.find("<path class=\"ssr-grid ssr-narrow\" d=\"M0 1000H1000M0 773H1000"),
            std::string::npos);
  // Days' labels: every day on a wide screen (at most 14), every 7 on a phone (at most 5); the
  // year under the first.
  EXPECT_NE(html.find("<text class=\"ssr-wide\" x=\"0.00%\" y=\"8\">Mar 1<tspan x=\"0.00%\" "
                      "dy=\"16\">2021</tspan></text><text class=\"ssr-wide\" x=\"10.00%\" "
                      "y=\"8\">Mar 2</text>"),
            std::string::npos)
      << html;
  EXPECT_NE(html.find("<text class=\"ssr-narrow\" x=\"70.00%\" y=\"8\">Mar 8</text>"),
            std::string::npos);
}

// A narrow range of large counts (a few weeks of a country's cumulative cases): labels that tell
// the ticks apart (app.js axisValues), not 39.1M on every line.
TEST(FirstChart, AxisLabelsTellTheirTicksApart) {
  std::vector<Observation> rows;
  for (int d = 0; d <= 10; ++d) {
    Observation o;
    o.location = "FRA";
    o.date = Date{day("2026-03-01").days + 7 * d};
    o.cases = 39060000 + 100 * d;
    o.deaths = 168200 + d / 3;
    rows.push_back(o);
  }
  FirstChartView view;
  view.location = "FRA";
  std::string html = first_chart_html(SeriesColumns::build("FRA", rows), view);
  std::regex label("<text class=\"([^\"]*)\"[^>]*>([^<>]*)</text>");
  std::map<std::string, std::vector<std::string>> left, right;  // by set: ssr-wide, ssr-narrow
  size_t y2 = html.find("ssr-y2");
  for (auto it = std::sregex_iterator(html.begin(), html.end(), label);
       it != std::sregex_iterator(); ++it) {
    if (size_t(it->position()) < html.find("ssr-plot"))
      left[(*it)[1]].push_back((*it)[2]);
    else if (size_t(it->position()) > y2 && size_t(it->position()) < html.find("ssr-x"))
      right[(*it)[1]].push_back((*it)[2]);
  }
  // 39,059,900 .. 39,061,100 (padded), a tick every 200 (every 500 on a phone).
  EXPECT_EQ(left["ssr-wide"], (std::vector<std::string>{"39,060,000", "39,060,200", "39,060,400",
                                                        "39,060,600", "39,060,800", "39,061,000"}))
      << html;
  EXPECT_EQ(left["ssr-narrow"],
            (std::vector<std::string>{"39,060,000", "39,060,500", "39,061,000"}));
  EXPECT_EQ(right["ssr-wide"],
            (std::vector<std::string>{"168,200", "168,200.5", "168,201", "168,201.5", "168,202",
                                      "168,202.5", "168,203"}))
      << html;
  EXPECT_EQ(right["ssr-narrow"],
            (std::vector<std::string>{"168,200", "168,201", "168,202", "168,203"}));
  // Each label column is as wide as its widest label: the same labels, one per line, in the
  // column's invisible sizer (style.css .ssr-w), one for each set.
  EXPECT_NE(html.find("<span class=\"ssr-w ssr-wl ssr-wide\">39,060,000<br>39,060,200<br>"
                      "39,060,400<br>39,060,600<br>39,060,800<br>39,061,000</span><span "
                      "class=\"ssr-w ssr-wr ssr-wide\">168,200<br>168,200.5<br>"),
            std::string::npos)
      << html;
  EXPECT_NE(html.find("<span class=\"ssr-w ssr-wl ssr-narrow\">39,060,000<br>39,060,500<br>"
                      "39,061,000</span>"),
            std::string::npos);
}

// The page's controls as app.js's updateControls() sets them: the view's range button pressed,
// the dates' inputs filled and bounded by the series, the rates pressed, hidden series unticked.
TEST(FirstChart, ThePageControlsShowTheView) {
  const std::string page =
      "<button type=\"button\" class=\"preset\" data-range=\"all\" id=\"r-all\">All</button>"
      "<button type=\"button\" class=\"preset\" data-range=\"90d\" id=\"r-90d\">90</button>"
      "<button type=\"button\" class=\"preset\" data-range=\"30d\" id=\"r-30d\">30</button>"
      "<input type=\"date\" id=\"from\" required><input type=\"date\" id=\"to\" required>"
      "<button type=\"button\" id=\"per100k\" aria-pressed=\"false\">Per</button>"
      "<input type=\"checkbox\" id=\"show-cases\" data-key=\"cases\" checked>"
      "<input type=\"checkbox\" id=\"show-deaths\" data-key=\"deaths\" checked>";
  SeriesColumns s = eleven_days();  // 2021-03-01 .. 2021-03-11
  auto controls = [&](std::string_view query) {
    auto params = parse_query(query);
    auto view = first_chart_view(*params);
    std::string out = page;
    write_page_controls(out, *view, *shown_dates(s, *view));
    return out;
  };
  std::string all = controls("");
  EXPECT_NE(all.find("id=\"r-all\" aria-pressed=\"true\">"), std::string::npos) << all;
  EXPECT_NE(all.find("id=\"r-90d\" aria-pressed=\"false\">"), std::string::npos) << all;
  EXPECT_NE(all.find("id=\"from\" required min=\"2021-03-01\" max=\"2021-03-11\" "
                     "value=\"2021-03-01\">"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("id=\"to\" required min=\"2021-03-01\" max=\"2021-03-11\" "
                     "value=\"2021-03-11\">"),
            std::string::npos);
  EXPECT_NE(all.find("aria-pressed=\"false\">Per"), std::string::npos);
  EXPECT_NE(all.find("data-key=\"deaths\" checked>"), std::string::npos);
  std::string custom = controls("from=2021-03-04&per100k=1&hide=deaths&range=90d");
  for (const char* preset : {"all", "90d", "30d"})  // a range of its own: no button pressed
    EXPECT_NE(custom.find(std::string("id=\"r-") + preset + "\" aria-pressed=\"false\">"),
              std::string::npos)
        << preset << custom;
  EXPECT_NE(custom.find("value=\"2021-03-04\">"), std::string::npos) << custom;
  EXPECT_NE(custom.find("aria-pressed=\"true\">Per"), std::string::npos);
  EXPECT_NE(custom.find("data-key=\"deaths\">"), std::string::npos) << custom;
  EXPECT_NE(custom.find("data-key=\"cases\" checked>"), std::string::npos);
  EXPECT_NE(controls("range=30d").find("id=\"r-30d\" aria-pressed=\"true\">"), std::string::npos);
}

// The cards as app.js's showCards() fills them: the latest date and the number of dates (weekly
// reports for a weekly series), the latest counts, the last known recovered; the daily charts'
// titles say weekly where the series is.
TEST(FirstChart, ThePageCardsShowTheLatestValues) {
  const std::string page =
      "<p class=\"big\" id=\"s-date\">–</p><p class=\"small\" id=\"s-days\"></p>"
      "<p class=\"big\" id=\"s-cases\">–</p><p class=\"big\" id=\"s-deaths\">–</p>"
      "<p class=\"big\" id=\"s-recovered\">–</p><p class=\"small\" id=\"s-recovered-date\"></p>"
      "<h2 id=\"h-cases\">Daily new cases</h2><div id=\"chart-cases\" aria-label=\"Daily new "
      "cases with their 7-day average; arrow keys read the values\"></div>";
  std::string daily = page;
  write_page_cards(daily, eleven_days());
  EXPECT_NE(daily.find("id=\"s-date\">2021-03-11</p><p class=\"small\" id=\"s-days\">11 days "
                       "since 2021-03-01</p>"),
            std::string::npos)
      << daily;
  EXPECT_NE(daily.find("id=\"s-cases\">1,000</p>"), std::string::npos) << daily;
  EXPECT_NE(daily.find("id=\"s-deaths\">100</p>"), std::string::npos);
  EXPECT_NE(daily.find("id=\"s-recovered\">–</p><p class=\"small\" id=\"s-recovered-date\">never "
                       "reported</p>"),
            std::string::npos)
      << daily;
  EXPECT_NE(daily.find(">Daily new cases</h2>"), std::string::npos);
  std::vector<Observation> rows;
  for (int w = 0; w < 3; ++w) {
    Observation o;
    o.location = "FRA";
    o.date = Date{day("2026-03-01").days + 7 * w};
    o.cases = 39060000 + 1000 * w;
    o.deaths = 168200 + w;
    o.recovered = w < 2 ? 5000 + w : kUnknown;
    rows.push_back(o);
  }
  std::string weekly = page;
  write_page_cards(weekly, SeriesColumns::build("FRA", rows));
  EXPECT_NE(weekly.find(">3 weekly reports since 2026-03-01<"), std::string::npos) << weekly;
  EXPECT_NE(weekly.find("id=\"s-cases\">39,062,000</p>"), std::string::npos);
  EXPECT_NE(weekly.find(">5,001</p><p class=\"small\" id=\"s-recovered-date\">last reported "
                        "2026-03-08</p>"),
            std::string::npos)
      << weekly;
  EXPECT_NE(weekly.find(">Weekly new cases</h2><div id=\"chart-cases\" aria-label=\"Weekly new "
                        "cases with their 7-day average"),
            std::string::npos)
      << weekly;
}

TEST(FirstChart, TheDatesShownAreAppJsSelection) {
  SeriesColumns s = eleven_days();
  FirstChartView view;
  view.location = "06";
  view.last_days = 3;
  EXPECT_NE(first_chart_html(s, view).find("data-view=\"06|2021-03-09|2021-03-11|0|\""),
            std::string::npos);
  view.last_days = 0;
  view.custom = true;
  view.from = day("2021-02-01");  // before the first date: the first date
  view.to = day("2021-03-04");
  std::string html = first_chart_html(s, view);
  EXPECT_NE(html.find("data-view=\"06|2021-03-01|2021-03-04|0|\""), std::string::npos);
  auto lines = subpaths(html, "ssr-cases");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].size(), 4u);
  EXPECT_EQ(lines[0].back().first, 1000);
  view.from = day("2021-03-09");  // swapped, as app.js does
  EXPECT_NE(first_chart_html(s, view).find("data-view=\"06|2021-03-04|2021-03-09|0|\""),
            std::string::npos);
  view.from = view.to = day("2021-03-04");  // one date: uPlot widens it; not drawn
  EXPECT_EQ(first_chart_html(s, view), "");
  EXPECT_EQ(first_chart_html(SeriesColumns::build("06", {}), FirstChartView{}), "");
}

TEST(FirstChart, UnknownCountsAreGapsAndHiddenLinesAreNotDrawn) {
  std::vector<Observation> rows;
  for (int d = 0; d < 6; ++d) {
    Observation o;
    o.date = Date{day("2021-03-01").days + d};
    o.cases = d == 2 ? kUnknown : 10 * d + 10;
    o.deaths = 1;
    o.recovered = d < 3 ? 5 * d : kUnknown;
    rows.push_back(o);
  }
  SeriesColumns us = SeriesColumns::build("US", rows);
  FirstChartView view;
  std::string html = first_chart_html(us, view);
  auto cases = subpaths(html, "ssr-cases");
  ASSERT_EQ(cases.size(), 2u) << html;
  EXPECT_EQ(cases[0].size(), 2u);
  EXPECT_EQ(cases[1].size(), 3u);
  EXPECT_EQ(subpaths(html, "ssr-recovered").size(), 1u);
  EXPECT_NE(html.find("Recovered <b>10</b>"), std::string::npos) << html;  // its last known
  view.hide_recovered = view.hide_deaths = true;
  html = first_chart_html(us, view);
  EXPECT_EQ(html.find("ssr-recovered"), std::string::npos);
  EXPECT_EQ(html.find("ssr-deaths"), std::string::npos);
  EXPECT_NE(html.find("data-view=\"US|2021-03-01|2021-03-06|0|deaths,recovered\""),
            std::string::npos);
}

TEST(FirstChart, RatesNeedAPopulation) {
  SeriesColumns s = eleven_days();
  FirstChartView view;
  view.location = "06";
  view.per_100k = true;
  EXPECT_EQ(first_chart_html(s, view), "");  // app.js says there is none; nothing drawn
  s.set_population(200000);
  std::string html = first_chart_html(s, view);
  EXPECT_NE(html.find("data-view=\"06|2021-03-01|2021-03-11|1|\""), std::string::npos);
  EXPECT_NE(html.find("Cases per 100k <b>500.0</b>"), std::string::npos) << html;
}

TEST(FirstChart, TheLocationIsEscapedInTheMarkup) {
  FirstChartView view;
  view.location = "a\"<b>&";
  std::string html = first_chart_html(eleven_days("a\"<b>&"), view);
  EXPECT_NE(html.find("data-view=\"a&quot;&lt;b&gt;&amp;|"), std::string::npos) << html;
  EXPECT_EQ(html.find("<b>&"), std::string::npos);
}

}  // namespace
}  // namespace covid::serve
