// Pictures for people: a contact sheet of predictions, and the attention
// region that `attn` pooling keeps, over the image. (Charts are in plot.hpp;
// plot::write_png writes any of these.)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <boost/program_options.hpp>
#include <opencv2/core.hpp>

#include "finegrain/eval/metrics.hpp"
#include "finegrain/extract/options.hpp"
#include "finegrain/extract/pooling.hpp"

namespace fg::viz {

struct SheetItem {
  std::string path;       // image file
  std::string truth;      // true label ("" = unknown)
  std::string predicted;  // predicted label
  double score = 0;
};

struct SheetOptions {
  int columns = 8;
  int thumb = 180;  // thumbnail side in pixels
  std::string title;
};

// Which predictions a sheet shows: the first in file order, a seeded random
// choice, or the wrong ones first (in the random order), then the others.
enum class SheetSelect { first, random, errors };
SheetSelect parse_sheet_select(const std::string& name);  // first | random | errors

struct SheetSelection {
  std::vector<SheetItem> items;
  std::size_t errors = 0;  // of the items, those whose best guess is wrong
};
// At most `count` rows of `predictions`, chosen by `select` (with `seed`).
SheetSelection select_for_sheet(const Predictions& predictions, SheetSelect select,
                                std::size_t count, std::uint64_t seed);

// A grid of thumbnails, each framed and captioned with its predicted and true
// label: green when right, red when wrong, grey when the truth is unknown.
// Images that cannot be read get a grey tile saying so.
cv::Mat contact_sheet(const std::vector<SheetItem>& items, const SheetOptions& options);

// The image as the network saw it (side x side), with the activation map as a
// translucent heat overlay and the kept region outlined.
cv::Mat attention_overlay(const cv::Mat& view, const AttentionMap& map, const std::string& caption);

// fg-viz grid: which predictions go on the sheet, and how it looks (the
// options pattern, core/cli.hpp).
struct GridOptions {
  std::size_t count = 48;
  SheetSelect select = SheetSelect::errors;
  std::uint64_t seed = 1;  // of the random and errors selections
  SheetOptions sheet;      // columns, thumb (the title is made from the file)
  static void add_options(boost::program_options::options_description& options);
  static GridOptions from(const boost::program_options::variables_map& vm);
};
std::string to_string(SheetSelect select);

// The contact sheet of a predictions file as a PNG; returns the summary line
// ("Done: ...").
std::string write_prediction_sheet(const std::string& predictions_path, const std::string& png,
                                   const GridOptions& options);

// fg-viz attention: the overlay of `layer` ("" = the first tapped) for one
// image file, extracted with `options`, as a PNG; returns the summary line.
std::string write_attention_overlay(const std::string& image_path, const std::string& png,
                                    const ExtractOptions& options, const std::string& layer);

}  // namespace fg::viz
