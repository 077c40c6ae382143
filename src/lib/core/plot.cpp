#include "finegrain/core/plot.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "finegrain/core/common.hpp"
#include "finegrain/core/io.hpp"
#include "finegrain/core/text.hpp"

namespace fg::plot {

namespace {

const int kFont = cv::FONT_HERSHEY_SIMPLEX;
const cv::Scalar kBlack(0, 0, 0);
const cv::Scalar kWhite(255, 255, 255);
const cv::Scalar kGridColor(225, 225, 225);
const cv::Scalar kAxisColor(60, 60, 60);

cv::Size text_size(const std::string& text, double scale, int thickness, int* baseline = nullptr) {
  int base = 0;
  cv::Size size = cv::getTextSize(text, kFont, scale, thickness, &base);
  if (baseline) *baseline = base;
  return size;
}

// Draws text with its box anchored at (x, y): ax/ay in {0, 0.5, 1} select
// left/centre/right and top/middle/bottom.
void put_text(cv::Mat& image, const std::string& text, cv::Point at, double ax, double ay,
              double scale, const cv::Scalar& color, int thickness = 1) {
  int base = 0;
  cv::Size size = text_size(text, scale, thickness, &base);
  int x = at.x - static_cast<int>(std::lround(ax * size.width));
  int top = at.y - static_cast<int>(std::lround(ay * size.height));
  cv::putText(image, text, cv::Point(x, top + size.height), kFont, scale, color, thickness,
              cv::LINE_AA);
}

// Text rotated 90 degrees counter-clockwise (reads bottom to top), with the
// rotated box anchored like put_text.
void put_text_vertical(cv::Mat& image, const std::string& text, cv::Point at, double ax, double ay,
                       double scale, const cv::Scalar& color, int thickness = 1) {
  int base = 0;
  cv::Size size = text_size(text, scale, thickness, &base);
  cv::Mat strip(size.height + base + 4, size.width + 4, image.type(), kWhite);
  cv::putText(strip, text, cv::Point(2, size.height + 2), kFont, scale, color, thickness,
              cv::LINE_AA);
  cv::Mat rotated;
  cv::rotate(strip, rotated, cv::ROTATE_90_COUNTERCLOCKWISE);
  int x = at.x - static_cast<int>(std::lround(ax * rotated.cols));
  int y = at.y - static_cast<int>(std::lround(ay * rotated.rows));
  cv::Rect target(x, y, rotated.cols, rotated.rows);
  cv::Rect clipped = target & cv::Rect(0, 0, image.cols, image.rows);
  if (clipped.area() == 0) return;
  cv::Rect source(clipped.x - x, clipped.y - y, clipped.width, clipped.height);
  // Blend by darkness so the strip's white background does not cover lines.
  cv::Mat dst = image(clipped);
  cv::min(dst, rotated(source), dst);
}

void dashed_vline(cv::Mat& image, int x, int y0, int y1, const cv::Scalar& color) {
  for (int y = y0; y < y1; y += 10)
    cv::line(image, {x, y}, {x, std::min(y + 5, y1)}, color, 1, cv::LINE_AA);
}

}  // namespace

cv::Scalar heat_color(double v) {
  if (!(v > 0)) return kWhite;  // exactly zero (or NaN): white
  if (v > 1) v = 1;
  // Piecewise-linear ramp (BGR) from a pale blue, so that even a small
  // non-zero share stands out from the white empty cells, to dark blue.
  static const double stops[][3] = {
      {246, 226, 206}, {225, 185, 130}, {200, 130, 60}, {150, 60, 20}, {90, 20, 8}};
  const int n = 4;
  double t = v * n;
  int i = std::min(n - 1, static_cast<int>(t));
  double f = t - i;
  return cv::Scalar(stops[i][0] + f * (stops[i + 1][0] - stops[i][0]),
                    stops[i][1] + f * (stops[i + 1][1] - stops[i][1]),
                    stops[i][2] + f * (stops[i + 1][2] - stops[i][2]));
}

std::vector<double> nice_ticks(double lo, double hi, int target) {
  std::vector<double> ticks;
  if (!(hi > lo) || target < 1) return {lo};
  double raw = (hi - lo) / target;
  double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
    step = m * mag;
    if (step >= raw) break;
  }
  double first = std::ceil(lo / step - 1e-9) * step;
  for (double t = first; t <= hi + step * 1e-9; t += step)
    ticks.push_back(std::fabs(t) < step * 1e-9 ? 0.0 : t);
  return ticks;
}

std::string format_tick(double value) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", value);
  return buf;
}

std::string format_percent(double percent) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %%", percent);
  return buf;
}

cv::Mat draw(const LineChart& chart) {
  cv::Mat image(chart.height, chart.width, CV_8UC3, kWhite);
  const double tick_scale = 0.5, label_scale = 0.6, title_scale = 0.75;
  const int left = 95, right = 30, top = chart.note.empty() ? 60 : 80, bottom = 75;
  const cv::Rect area(left, top, chart.width - left - right, chart.height - top - bottom);
  auto px = [&](double x) {
    return area.x + static_cast<int>(
                        std::lround((x - chart.x_min) / (chart.x_max - chart.x_min) * area.width));
  };
  auto py = [&](double y) {
    return area.y + area.height -
           static_cast<int>(
               std::lround((y - chart.y_min) / (chart.y_max - chart.y_min) * area.height));
  };

  put_text(image, chart.title, {chart.width / 2, 18}, 0.5, 0, title_scale, kBlack, 2);
  if (!chart.note.empty()) put_text(image, chart.note, {chart.width / 2, 48}, 0.5, 0, 0.5, kGrey);

  // Grid and ticks.
  for (double t : nice_ticks(chart.x_min, chart.x_max, 8)) {
    int x = px(t);
    cv::line(image, {x, area.y}, {x, area.y + area.height}, kGridColor, 1);
    cv::line(image, {x, area.y + area.height}, {x, area.y + area.height + 6}, kAxisColor, 1);
    put_text(image, format_tick(t), {x, area.y + area.height + 10}, 0.5, 0, tick_scale, kBlack);
  }
  for (double t : nice_ticks(chart.y_min, chart.y_max, 6)) {
    int y = py(t);
    cv::line(image, {area.x, y}, {area.x + area.width, y}, kGridColor, 1);
    cv::line(image, {area.x - 6, y}, {area.x, y}, kAxisColor, 1);
    put_text(image, format_tick(t), {area.x - 10, y}, 1, 0.5, tick_scale, kBlack);
  }
  cv::rectangle(image, area, kAxisColor, 1);
  put_text(image, chart.x_label, {area.x + area.width / 2, chart.height - 30}, 0.5, 0, label_scale,
           kBlack);
  put_text_vertical(image, chart.y_label, {18, area.y + area.height / 2}, 0, 0.5, label_scale,
                    kBlack);

  // Data, clipped to the plot area.
  cv::Mat plot_area = image(area);
  for (const Series& s : chart.series) {
    std::vector<cv::Point> points;
    for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i)
      points.emplace_back(px(s.x[i]) - area.x, py(s.y[i]) - area.y);
    if (points.size() == 1) cv::circle(plot_area, points[0], 3, s.color, cv::FILLED, cv::LINE_AA);
    if (points.size() > 1)
      cv::polylines(plot_area, points, false, s.color, s.thickness, cv::LINE_AA);
  }
  for (const Marker& m : chart.markers) {
    int x = px(m.x);
    dashed_vline(image, x, area.y, area.y + area.height, kRed);
    // Text right of the line, unless it would leave the area.
    cv::Size size = text_size(m.text, label_scale, 1);
    bool fits_right = x + 8 + size.width < area.x + area.width - 4;
    put_text(image, m.text, {fits_right ? x + 8 : x - 8, area.y + area.height / 2},
             fits_right ? 0 : 1, 0.5, label_scale, kRed, 1);
  }

  // Legend, bottom right inside the plot.
  int named = 0;
  for (const Series& s : chart.series) named += s.name.empty() ? 0 : 1;
  if (named > 0) {
    int width = 0;
    for (const Series& s : chart.series)
      width = std::max(width, text_size(s.name, tick_scale, 1).width);
    const int row_h = 22;
    cv::Rect box(area.x + area.width - width - 60, area.y + area.height - named * row_h - 16,
                 width + 50, named * row_h + 8);
    cv::rectangle(image, box, kWhite, cv::FILLED);
    cv::rectangle(image, box, kGrey, 1);
    int y = box.y + 4 + row_h / 2;
    for (const Series& s : chart.series) {
      if (s.name.empty()) continue;
      cv::line(image, {box.x + 8, y}, {box.x + 32, y}, s.color, s.thickness + 1, cv::LINE_AA);
      put_text(image, s.name, {box.x + 40, y}, 0, 0.5, tick_scale, kBlack);
      y += row_h;
    }
  }
  return image;
}

namespace {

struct HeatStyle {
  int cell;
  double label_scale;
  double cell_scale;
  int row_label_width;
  int col_label_height;
  int text_height;
};

HeatStyle heat_style(const HeatMap& map) {
  HeatStyle s;
  const int n = static_cast<int>(std::max(map.row_names.size(), map.col_names.size()));
  s.cell = std::clamp(1000 / std::max(n, 1), 18, 64);
  // Hershey simplex capitals are about 22 px high at scale 1.
  s.label_scale = std::clamp(s.cell * 0.62 / 22.0, 0.4, 0.6);
  s.cell_scale = std::clamp(s.cell * 0.42 / 22.0, 0.35, 0.6);
  s.text_height = text_size("Ag", s.label_scale, 1).height;
  s.row_label_width = 0;
  for (const auto& name : map.row_names)
    s.row_label_width =
        std::max(s.row_label_width, text_size(shorten(name, 40), s.label_scale, 1).width);
  s.col_label_height = 0;
  for (const auto& name : map.col_names)
    s.col_label_height =
        std::max(s.col_label_height, text_size(shorten(name, 40), s.label_scale, 1).width);
  return s;
}

}  // namespace

HeatMapLayout layout(const HeatMap& map) {
  HeatStyle s = heat_style(map);
  const int rows = static_cast<int>(map.row_names.size()),
            cols = static_cast<int>(map.col_names.size());
  const int left = 50 + s.row_label_width + 12;  // rotated y label, names, gap
  const int top = 70;
  const int grid_w = cols * s.cell, grid_h = rows * s.cell;
  const int legend_w = 140;
  const int title_w = text_size(map.title, 0.75, 2).width + 40;
  HeatMapLayout l;
  l.cell = s.cell;
  l.origin = {left, top};
  int width = std::max(left + grid_w + 30 + legend_w, title_w);
  int height = top + std::max(grid_h, 260) + 12 + s.col_label_height + 60;
  l.size = {width, height};
  return l;
}

cv::Mat draw(const HeatMap& map) {
  HeatStyle s = heat_style(map);
  HeatMapLayout l = layout(map);
  const int rows = static_cast<int>(map.row_names.size()),
            cols = static_cast<int>(map.col_names.size());
  cv::Mat image(l.size, CV_8UC3, kWhite);
  const int grid_w = cols * s.cell, grid_h = rows * s.cell;

  put_text(image, map.title, {l.size.width / 2, 20}, 0.5, 0, 0.75, kBlack, 2);

  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c) {
      const std::size_t i = static_cast<std::size_t>(r) * cols + c;
      const double v = i < map.values.size() ? map.values[i] : 0.0;
      cv::Rect cell(l.origin.x + c * s.cell, l.origin.y + r * s.cell, s.cell, s.cell);
      cv::rectangle(image, cell, heat_color(v), cv::FILLED);
      if (i < map.cell_text.size() && !map.cell_text[i].empty()) {
        const cv::Scalar ink = v > 0.5 ? kWhite : kBlack;
        put_text(image, map.cell_text[i], {cell.x + s.cell / 2, cell.y + s.cell / 2}, 0.5, 0.5,
                 s.cell_scale, ink);
      }
    }
  }
  // Thin grid lines when cells are big enough to separate.
  const cv::Scalar line(235, 235, 235);
  if (s.cell >= 24) {
    for (int r = 1; r < rows; ++r)
      cv::line(image, {l.origin.x, l.origin.y + r * s.cell},
               {l.origin.x + grid_w - 1, l.origin.y + r * s.cell}, line);
    for (int c = 1; c < cols; ++c)
      cv::line(image, {l.origin.x + c * s.cell, l.origin.y},
               {l.origin.x + c * s.cell, l.origin.y + grid_h - 1}, line);
  }
  cv::rectangle(image, cv::Rect(l.origin.x - 1, l.origin.y - 1, grid_w + 2, grid_h + 2), kAxisColor,
                1);

  // Row names (right-aligned against the grid), column names rotated below.
  for (int r = 0; r < rows; ++r)
    put_text(image, shorten(map.row_names[r], 40),
             {l.origin.x - 8, l.origin.y + r * s.cell + s.cell / 2}, 1, 0.5, s.label_scale, kBlack);
  for (int c = 0; c < cols; ++c)
    put_text_vertical(image, shorten(map.col_names[c], 40),
                      {l.origin.x + c * s.cell + s.cell / 2, l.origin.y + grid_h + 6}, 0.5, 0,
                      s.label_scale, kBlack);
  put_text(image, map.x_label,
           {l.origin.x + grid_w / 2, l.origin.y + grid_h + 12 + s.col_label_height + 18}, 0.5, 0,
           0.65, kBlack, 1);
  put_text_vertical(image, map.y_label, {12, l.origin.y + grid_h / 2}, 0, 0.5, 0.65, kBlack, 1);

  // Colour bar with 0..100 % ticks.
  const int bar_h = std::max(grid_h, 260) - 40, bar_w = 22;
  const int bar_x = l.origin.x + grid_w + 30, bar_y = l.origin.y + 20;
  for (int y = 0; y < bar_h; ++y) {
    double v = 1.0 - static_cast<double>(y) / (bar_h - 1);
    if (y == bar_h - 1) v = 0;  // the bottom row: exactly 0 (white)
    cv::line(image, {bar_x, bar_y + y}, {bar_x + bar_w - 1, bar_y + y}, heat_color(v));
  }
  cv::rectangle(image, cv::Rect(bar_x - 1, bar_y - 1, bar_w + 2, bar_h + 2), kAxisColor, 1);
  for (int p = 0; p <= 100; p += 25) {
    int y = bar_y + static_cast<int>(std::lround((1.0 - p / 100.0) * (bar_h - 1)));
    cv::line(image, {bar_x + bar_w, y}, {bar_x + bar_w + 5, y}, kAxisColor);
    put_text(image, cat(p, " %"), {bar_x + bar_w + 8, y}, 0, 0.5, 0.45, kBlack);
  }
  if (!map.legend_label.empty())
    put_text_vertical(image, map.legend_label, {bar_x + bar_w + 60, bar_y + bar_h / 2}, 0, 0.5,
                      0.45, kBlack);
  return image;
}

void write_png(const std::string& path, const cv::Mat& image) {
  std::vector<uchar> buffer;
  if (!cv::imencode(".png", image, buffer))
    throw Error(cat(path, ": could not encode the PNG image"));
  AtomicOutput out(path);
  out.stream().write(reinterpret_cast<const char*>(buffer.data()),
                     static_cast<std::streamsize>(buffer.size()));
  out.commit();
}

}  // namespace fg::plot
