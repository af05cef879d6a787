// The page's first chart (the cumulative totals) drawn by the server into the page it answers, so
// that the chart is on screen with the page's first paint instead of after its scripts have run
// (issue 18's speed). app.js reads the same view from the URL, replaces the drawing with its own
// interactive chart, and takes the drawing's paint time as its first chart's only when the
// drawing's data-view equals the view it shows (the same location, dates, rates and series).
//
// The drawing is SVG and HTML with classes only (no style attributes: the page's CSP allows none;
// style.css sizes and colours it, in both schemes): a grid of the left axis' labels, the plot
// (a viewBox stretched to its box, strokes that do not scale), the right axis' labels (deaths),
// the dates' labels below, and a legend with the values of the last date shown. Labels and grid
// lines come in two sets where uPlot would space them differently on a phone's shorter plot
// (style.css shows one), and each label column is as wide as its widest label. The legend
// carries `elementtiming="first-chart"`: it comes after the plot in the page, so its paint time
// (Element Timing) is one at which the plot is on screen.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/date.h"
#include "serve/http.h"
#include "serve/series.h"

namespace covid::serve {

// The first chart's view as app.js's readUrl() and selection() read it from the page's query.
struct FirstChartView {
  std::string location = "US";  // the first of ?loc=, trimmed
  int last_days = 0;            // ?range=90d|30d: the last N dates; 0: every date
  bool custom = false;          // ?from= or ?to= (a date): the dates between them
  std::optional<Date> from, to;
  bool per_100k = false;                                                 // ?per100k=1
  bool hide_cases = false, hide_deaths = false, hide_recovered = false;  // ?hide=

  // Every field, as text: equal for equal views (a key for the page drawn for this view).
  std::string key() const;
};

// The view of the query, or nullopt where the server does not draw the first chart: a query that
// does not parse, ?scale=log, ?embed=1 (one chart or the map alone), a first location app.js might
// read otherwise (not printable ASCII, longer than 200 characters).
std::optional<FirstChartView> first_chart_view(const QueryParams& params);

// The first location of ?loc= as app.js reads it (split on commas, trimmed, the empty ones
// skipped), "US" without one; nullopt for one app.js might read otherwise (as above).
std::optional<std::string_view> first_page_location(const QueryParams& params);

// The drawing of the cumulative chart of `series` in `view`, for the inside of the page's
// #chart-total; empty where it cannot be drawn as app.js would draw it (no dates, a single date
// shown, rates without a population).
std::string first_chart_html(const SeriesColumns& series, const FirstChartView& view);

// The dates app.js's selection() shows of `series` in `view`: the series' first and last, and the
// range shown, from..to (nullopt for an empty series).
struct ShownDates {
  Date first, last, from, to;
};
std::optional<ShownDates> shown_dates(const SeriesColumns& series, const FirstChartView& view);

// The page's controls set as app.js's updateControls() sets them for `view` and its `dates`: the
// range's buttons pressed or not, the date inputs' value, min and max, the rates' button, the
// series' boxes; so that the first frame shows the view's controls and nothing changes after.
void write_page_controls(std::string& page, const FirstChartView& view, const ShownDates& dates);

// The page's cards (the latest date and how many, the latest cases, deaths and recovered) and the
// daily charts' titles (weekly for a weekly series) filled from `series` as app.js's showCards()
// fills them; their second lines (new counts, averages, rates) are left to app.js.
void write_page_cards(std::string& page, const SeriesColumns& series);

// The page made the page of a location other than the nation as app.js's showSummary() makes it,
// with its `label` and `source` (locations.h location_label, location_source; an empty source:
// "its source"), so that the first frame names the location whose chart it draws and nothing
// moves when app.js has run: the document's <title>, <h1 id="title"> and <p ... id="sub">
// rewritten, and what is the nation's only (recovered: its card, its checkbox, its note) hidden.
// Elements the page lacks are left alone.
void write_page_location(std::string& page, std::string_view label, std::string_view source);

}  // namespace covid::serve
