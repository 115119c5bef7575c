#include "report/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "report/html_text.h"

namespace electra {
namespace {

constexpr double kCharWidth = 6.4;      // average advance of an 11px sans-serif glyph
constexpr std::size_t kMaxPoints = 1500;  // per series; a 560-unit plot shows no more

struct Range {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  void add(double v) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  bool empty() const { return lo > hi; }
};

// Ticks at 1, 2 or 5 times a power of ten, about `target` of them; the axis is widened to whole
// ticks so that the data never touches the frame between two labels.
struct Axis {
  double lo = 0, hi = 1, step = 1;
  int digits = 4;
  std::vector<double> ticks;
};

Axis nice_axis(Range r, int target) {
  const bool non_negative = r.lo >= 0;
  if (r.lo == r.hi) {  // one value: centre it
    const double pad = r.lo == 0 ? 1.0 : std::fabs(r.lo) * 0.1;
    r.lo -= pad;
    r.hi += pad;
  }
  if (non_negative) r.lo = std::max(r.lo, 0.0);  // no negative ticks under rates, accuracies or losses
  const double raw = (r.hi - r.lo) / target;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  const double norm = raw / magnitude;
  Axis a;
  a.step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * magnitude;
  a.lo = std::floor(r.lo / a.step) * a.step;
  a.hi = std::ceil(r.hi / a.step) * a.step;
  // Enough significant digits to tell neighbouring ticks apart (0.5, 0.55, 0.6; 1.0001, 1.0002).
  const double largest = std::max(std::fabs(a.lo), std::fabs(a.hi));
  a.digits = std::clamp(static_cast<int>(std::ceil(std::log10(largest / a.step))) + 1, 1, 12);
  const int count = static_cast<int>(std::lround((a.hi - a.lo) / a.step));
  for (int i = 0; i <= count; ++i) {
    const double t = a.lo + i * a.step;
    a.ticks.push_back(std::fabs(t) < a.step * 1e-9 ? 0.0 : t);  // -0 and 1e-17 print as 0
  }
  return a;
}

std::string num(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f", v);
  return buffer;
}

double text_width(const std::string& text) { return static_cast<double>(text.size()) * kCharWidth; }

// Long series: each of kMaxPoints/2 buckets keeps its lowest and highest finite point in step
// order, and a gap stays a gap (a bucket with a NaN keeps one).
ChartSeries thinned(const ChartSeries& s) {
  if (s.x.size() <= kMaxPoints) return s;
  ChartSeries out = s;
  out.x.clear();
  out.y.clear();
  const std::size_t buckets = kMaxPoints / 2;
  const std::size_t n = s.x.size();
  for (std::size_t b = 0; b < buckets; ++b) {
    const std::size_t begin = b * n / buckets, end = (b + 1) * n / buckets;
    std::size_t low = end, high = end;
    bool gap = false;
    for (std::size_t i = begin; i < end; ++i) {
      if (!std::isfinite(s.y[i])) {
        gap = true;
        continue;
      }
      if (low == end || s.y[i] < s.y[low]) low = i;
      if (high == end || s.y[i] > s.y[high]) high = i;
    }
    if (low == end) {
      out.x.push_back(s.x[begin]);
      out.y.push_back(std::numeric_limits<double>::quiet_NaN());
      continue;
    }
    for (const std::size_t i : {std::min(low, high), std::max(low, high)}) {
      if (!out.x.empty() && out.x.back() == s.x[i] && out.y.back() == s.y[i]) continue;
      out.x.push_back(s.x[i]);
      out.y.push_back(s.y[i]);
    }
    if (gap) {
      out.x.push_back(s.x[end - 1]);
      out.y.push_back(std::numeric_limits<double>::quiet_NaN());
    }
  }
  return out;
}

bool usable(const ChartSeries& s, std::size_t i) { return std::isfinite(s.x[i]) && std::isfinite(s.y[i]); }

}  // namespace

std::string render_svg_chart(const LineChart& chart, int width, int height) {
  std::vector<ChartSeries> series;
  Range xr, yr;
  for (const auto& s : chart.series) {
    series.push_back(thinned(s));
    const auto& t = series.back();
    for (std::size_t i = 0; i < std::min(t.x.size(), t.y.size()); ++i) {
      if (!usable(t, i)) continue;
      xr.add(t.x[i]);
      yr.add(t.y[i]);
    }
  }
  const double w = width, h = height;
  std::string svg = "<svg class=\"chart\" viewBox=\"0 0 " + std::to_string(width) + " " + std::to_string(height) +
                    "\" width=\"" + std::to_string(width) + "\" height=\"" + std::to_string(height) +
                    "\" role=\"img\" aria-label=\"" + escape_html(chart.title) +
                    "\" font-family=\"sans-serif\" font-size=\"11\">\n<title>" + escape_html(chart.title) + "</title>\n";
  if (xr.empty()) {
    svg += "<rect x=\"0.5\" y=\"0.5\" width=\"" + num(w - 1) + "\" height=\"" + num(h - 1) +
           "\" fill=\"none\" stroke=\"#ccc\"/>\n<text x=\"" + num(w / 2) + "\" y=\"" + num(h / 2) +
           "\" text-anchor=\"middle\" fill=\"#777\">no finite values recorded</text>\n</svg>\n";
    return svg;
  }
  const Axis xa = nice_axis(xr, 6), ya = nice_axis(yr, 5);

  // Legend rows above the plot: swatch, label, wrapped to the width.
  struct Placed {
    double x, y;
    const ChartSeries* s;
  };
  std::vector<Placed> legend;
  const double legend_left = 10, legend_right = w - 10, row_height = 16;
  double lx = legend_left, ly = 14;
  for (const auto& s : series) {
    const double item = 22 + text_width(s.label) + 14;
    if (lx > legend_left && lx + item > legend_right) {
      lx = legend_left;
      ly += row_height;
    }
    legend.push_back({lx, ly, &s});
    lx += item;
  }
  double label_chars = 0;
  for (const double t : ya.ticks) label_chars = std::max(label_chars, text_width(format_number(t, ya.digits)));
  const double left = 24 + label_chars + 6, right = w - 16, top = ly + 14, bottom = h - 38;
  const auto px = [&](double x) { return left + (x - xa.lo) / (xa.hi - xa.lo) * (right - left); };
  const auto py = [&](double y) { return bottom - (y - ya.lo) / (ya.hi - ya.lo) * (bottom - top); };

  for (const auto& p : legend) {
    svg += "<line x1=\"" + num(p.x) + "\" y1=\"" + num(p.y - 4) + "\" x2=\"" + num(p.x + 18) + "\" y2=\"" +
           num(p.y - 4) + "\" stroke=\"" + escape_html(p.s->colour) + "\" stroke-width=\"2.5\"" +
           (p.s->dashed ? " stroke-dasharray=\"5 3\"" : "") + "/><text x=\"" + num(p.x + 22) + "\" y=\"" + num(p.y) +
           "\" fill=\"#222\">" + escape_html(p.s->label) + "</text>\n";
  }
  // Grid and tick labels.
  svg += "<g stroke=\"#e4e4e4\" stroke-width=\"1\">";
  for (const double t : ya.ticks) {
    svg += "<line x1=\"" + num(left) + "\" y1=\"" + num(py(t)) + "\" x2=\"" + num(right) + "\" y2=\"" + num(py(t)) +
           "\"/>";
  }
  for (const double t : xa.ticks) {
    svg += "<line x1=\"" + num(px(t)) + "\" y1=\"" + num(top) + "\" x2=\"" + num(px(t)) + "\" y2=\"" + num(bottom) +
           "\"/>";
  }
  svg += "</g>\n<g fill=\"#444\">";
  for (const double t : ya.ticks) {
    svg += "<text x=\"" + num(left - 5) + "\" y=\"" + num(py(t) + 4) + "\" text-anchor=\"end\">" +
           format_number(t, ya.digits) + "</text>";
  }
  for (const double t : xa.ticks) {
    svg += "<text x=\"" + num(px(t)) + "\" y=\"" + num(bottom + 15) + "\" text-anchor=\"middle\">" +
           format_number(t, xa.digits) + "</text>";
  }
  svg += "</g>\n<rect x=\"" + num(left) + "\" y=\"" + num(top) + "\" width=\"" + num(right - left) + "\" height=\"" +
         num(bottom - top) + "\" fill=\"none\" stroke=\"#888\"/>\n";
  svg += "<text x=\"" + num((left + right) / 2) + "\" y=\"" + num(h - 6) + "\" text-anchor=\"middle\" fill=\"#222\">" +
         escape_html(chart.x_label) + "</text>\n";
  svg += "<text transform=\"translate(12 " + num((top + bottom) / 2) + ") rotate(-90)\" text-anchor=\"middle\" " +
         "fill=\"#222\">" + escape_html(chart.y_label) + "</text>\n";

  // The lines: a NaN starts a new sub-path; a point with no neighbour on either side gets a dot.
  for (const auto& s : series) {
    const std::size_t n = std::min(s.x.size(), s.y.size());
    std::string path, dots;
    for (std::size_t i = 0; i < n; ++i) {
      if (!usable(s, i)) continue;
      const bool joined_before = i > 0 && usable(s, i - 1);
      const bool joined_after = i + 1 < n && usable(s, i + 1);
      path += (joined_before ? "L" : "M") + num(px(s.x[i])) + " " + num(py(s.y[i])) + " ";
      if ((!joined_before && !joined_after) || n <= 30) {
        dots += "<circle cx=\"" + num(px(s.x[i])) + "\" cy=\"" + num(py(s.y[i])) + "\" r=\"2.5\"/>";
      }
    }
    const std::string colour = escape_html(s.colour);
    if (!path.empty()) {
      path.pop_back();
      svg += "<path d=\"" + path + "\" fill=\"none\" stroke=\"" + colour + "\" stroke-width=\"1.6\"" +
             (s.dashed ? " stroke-dasharray=\"5 3\"" : "") + " stroke-linejoin=\"round\"/>\n";
    }
    if (!dots.empty()) svg += "<g fill=\"" + colour + "\">" + dots + "</g>\n";
  }
  svg += "</svg>\n";
  return svg;
}

}  // namespace electra
