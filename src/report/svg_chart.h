#pragma once
// A line chart as inline SVG text (no script, no external font or style): axes with tick labels,
// light grid lines, a legend above the plot, one path per series. Drawn here rather than by a
// browser-side library so that a report is one file that opens anywhere, offline.
#include <string>
#include <vector>

namespace electra {

struct ChartSeries {
  std::string label;   // legend text (escaped when drawn)
  std::string colour;  // a CSS colour written by the caller, e.g. "#1f77b4"
  bool dashed = false;
  std::vector<double> x, y;  // same length; a NaN y is a gap in the line
};

struct LineChart {
  std::string title;    // the SVG's accessible name (the report prints its own heading)
  std::string x_label;  // "step"
  std::string y_label;
  std::vector<ChartSeries> series;
};

// The chart as an <svg> element, width x height user units (the page scales it). A series with
// a single point, or a point between two gaps, is drawn as a dot; a chart with no finite point
// says so instead of drawing empty axes. Series longer than a few thousand points are thinned
// (each bucket keeps its lowest and highest point, so spikes stay visible).
std::string render_svg_chart(const LineChart& chart, int width = 560, int height = 320);

}  // namespace electra
