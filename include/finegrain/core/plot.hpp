// Small charts drawn with OpenCV: a line chart with axes, ticks and labels,
// and a labelled heat map (the confusion matrix). Written as PNG, atomically.
#pragma once

#include <opencv2/core.hpp>
#include <string>
#include <vector>

namespace fg::plot {

// Colours (BGR), from the Tableau 10 palette.
inline const cv::Scalar kBlue(180, 119, 31);
inline const cv::Scalar kOrange(14, 127, 255);
inline const cv::Scalar kGreen(44, 160, 44);
inline const cv::Scalar kRed(40, 39, 214);
inline const cv::Scalar kGrey(127, 127, 127);

struct Series {
  std::string name;  // shown in the legend when non-empty
  cv::Scalar color = kBlue;
  int thickness = 2;
  std::vector<double> x, y;
};

// A vertical dashed line at `x`, with `text` beside it.
struct Marker {
  double x = 0;
  std::string text;
};

struct LineChart {
  std::string title, x_label, y_label;
  std::string note;  // small grey line under the title, optional
  double x_min = 0, x_max = 1, y_min = 0, y_max = 1;
  std::vector<Series> series;
  std::vector<Marker> markers;
  int width = 1000, height = 650;
};

cv::Mat draw(const LineChart& chart);

// A rows x cols grid coloured by `values` (row-major, each in [0, 1]), with
// row names on the left, column names (rotated) below, an optional text per
// cell, and a colour bar. Cells and fonts scale with the number of classes
// so that 100 names stay readable.
struct HeatMap {
  std::string title, x_label, y_label, legend_label;
  std::vector<std::string> row_names, col_names;
  std::vector<double> values;          // rows x cols, in [0, 1]
  std::vector<std::string> cell_text;  // rows x cols, or empty for none
};

// The layout draw() uses, exposed so tests can look at a known cell.
struct HeatMapLayout {
  int cell = 0;      // cell side in pixels
  cv::Point origin;  // top-left corner of cell (0, 0)
  cv::Size size;     // whole image
};
HeatMapLayout layout(const HeatMap& map);
cv::Mat draw(const HeatMap& map);

// The sequential colour for v in [0, 1]: white for exactly 0, then pale
// blue (just above 0) to dark blue (1).
cv::Scalar heat_color(double v);

// "Nice" tick positions (1, 2, 5 x 10^k steps) covering [lo, hi].
std::vector<double> nice_ticks(double lo, double hi, int target = 6);
// Shortest readable form of a tick value ("0.25", "1000", "1e+06").
std::string format_tick(double value);
// "93.1 %" for 93.12.
std::string format_percent(double percent);

// Encodes as PNG and writes atomically (temp file + rename).
void write_png(const std::string& path, const cv::Mat& image);

}  // namespace fg::plot
