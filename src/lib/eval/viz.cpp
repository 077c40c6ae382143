#include "finegrain/eval/viz.hpp"

#include <algorithm>
#include <random>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "finegrain/core/common.hpp"
#include "finegrain/core/option_range.hpp"
#include "finegrain/core/plot.hpp"
#include "finegrain/core/random.hpp"
#include "finegrain/extract/extractor.hpp"
#include "finegrain/extract/image.hpp"

namespace fg::viz {

namespace {
const cv::Scalar kRight(60, 160, 40);  // green (BGR)
const cv::Scalar kWrong(40, 40, 210);  // red
const cv::Scalar kUnknown(128, 128, 128);
const cv::Scalar kText(20, 20, 20);
const int kFont = cv::FONT_HERSHEY_SIMPLEX;

// Shortens `text` with "..." until it fits `width` pixels at `scale`.
std::string fit(const std::string& text, double scale, int width) {
  int baseline = 0;
  if (cv::getTextSize(text, kFont, scale, 1, &baseline).width <= width) return text;
  std::string cut = text;
  while (!cut.empty() && cv::getTextSize(cut + "...", kFont, scale, 1, &baseline).width > width)
    cut.pop_back();
  return cut + "...";
}
}  // namespace

SheetSelect parse_sheet_select(const std::string& name) {
  if (name == "first") return SheetSelect::first;
  if (name == "random") return SheetSelect::random;
  if (name == "errors") return SheetSelect::errors;
  throw UsageError(cat("--select must be first, random or errors, got '", name, "'"));
}

std::string to_string(SheetSelect select) {
  return select == SheetSelect::first    ? "first"
         : select == SheetSelect::random ? "random"
                                         : "errors";
}

SheetSelection select_for_sheet(const Predictions& predictions, SheetSelect select,
                                std::size_t count, std::uint64_t seed) {
  std::vector<std::size_t> order(predictions.rows.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  if (select != SheetSelect::first) {
    std::mt19937_64 rng(seed);
    seeded_shuffle(order, rng);
  }
  auto wrong = [&](std::size_t i) {
    const auto& row = predictions.rows[i];
    return !row.truth.empty() && row.truth != row.predicted[0];
  };
  if (select == SheetSelect::errors) std::stable_partition(order.begin(), order.end(), wrong);
  order.resize(std::min(order.size(), count));
  SheetSelection selection;
  for (std::size_t i : order) {
    const auto& row = predictions.rows[i];
    selection.items.push_back({row.key, row.truth, row.predicted[0], row.scores[0]});
    selection.errors += wrong(i);
  }
  return selection;
}

cv::Mat contact_sheet(const std::vector<SheetItem>& items, const SheetOptions& options) {
  const int columns = std::max(
      1, std::min<int>(options.columns, static_cast<int>(std::max<std::size_t>(items.size(), 1))));
  const int rows = (static_cast<int>(items.size()) + columns - 1) / columns;
  const int pad = 8, frame = 4, caption = 40, header = options.title.empty() ? 0 : 36;
  const int cell_w = options.thumb + 2 * frame + pad,
            cell_h = options.thumb + 2 * frame + caption + pad;
  cv::Mat sheet(header + rows * cell_h + pad, columns * cell_w + pad, CV_8UC3,
                cv::Scalar(255, 255, 255));
  if (header) cv::putText(sheet, options.title, {pad, 26}, kFont, 0.7, kText, 2, cv::LINE_AA);
  const double scale = 0.42;
  for (std::size_t k = 0; k < items.size(); ++k) {
    const SheetItem& item = items[k];
    int x = pad + static_cast<int>(k % columns) * cell_w,
        y = header + pad + static_cast<int>(k / columns) * cell_h;
    cv::Scalar colour = item.truth.empty()             ? kUnknown
                        : item.truth == item.predicted ? kRight
                                                       : kWrong;
    cv::rectangle(sheet, {x, y, options.thumb + 2 * frame, options.thumb + 2 * frame}, colour,
                  cv::FILLED);
    std::string problem;
    cv::Mat image = load_image(item.path, kDefaultMaxPixels, problem);
    cv::Mat tile(options.thumb, options.thumb, CV_8UC3, cv::Scalar(200, 200, 200));
    if (!image.empty()) {
      resize_image(image, options.thumb, ResizeMode::crop).copyTo(tile);
    } else {
      cv::putText(tile, "unreadable", {10, options.thumb / 2}, kFont, 0.5, kText, 1, cv::LINE_AA);
    }
    tile.copyTo(sheet(cv::Rect(x + frame, y + frame, options.thumb, options.thumb)));
    int text_w = options.thumb + 2 * frame;
    char score[32];
    std::snprintf(score, sizeof score, " %.2f", item.score);
    std::string predicted = fit(item.predicted, scale, text_w - 40) + score;
    cv::putText(sheet, predicted, {x, y + options.thumb + 2 * frame + 15}, kFont, scale, colour, 1,
                cv::LINE_AA);
    std::string truth = item.truth.empty()             ? "true: ?"
                        : item.truth == item.predicted ? "correct"
                                                       : "true: " + item.truth;
    cv::putText(sheet, fit(truth, scale, text_w), {x, y + options.thumb + 2 * frame + 32}, kFont,
                scale, kText, 1, cv::LINE_AA);
  }
  return sheet;
}

cv::Mat attention_overlay(const cv::Mat& network_view, const AttentionMap& map,
                          const std::string& caption) {
  // Small inputs are enlarged so the picture and its caption stay readable.
  cv::Mat view = network_view;
  if (view.cols < 448)
    cv::resize(network_view, view, cv::Size(448, 448 * network_view.rows / network_view.cols));
  cv::Mat activation(map.height, map.width, CV_32F, const_cast<float*>(map.activation.data()));
  double low = 0, high = 0;
  cv::minMaxLoc(activation, &low, &high);
  cv::Mat scaled;
  activation.convertTo(scaled, CV_8U, high > low ? 255.0 / (high - low) : 0.0,
                       high > low ? -255.0 * low / (high - low) : 0.0);
  cv::Mat heat, heat_big;
  cv::applyColorMap(scaled, heat, cv::COLORMAP_JET);
  cv::resize(heat, heat_big, view.size(), 0, 0, cv::INTER_LINEAR);
  cv::Mat blended;
  cv::addWeighted(view, 0.55, heat_big, 0.45, 0, blended);
  // Outline of the kept region, drawn at image resolution.
  cv::Mat kept(map.height, map.width, CV_8U, const_cast<unsigned char*>(map.kept.data()));
  cv::Mat kept_big;
  cv::resize(kept * 255, kept_big, view.size(), 0, 0, cv::INTER_NEAREST);
  std::vector<std::vector<cv::Point>> contours;
  cv::findContours(kept_big, contours, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_SIMPLE);
  cv::drawContours(blended, contours, -1, cv::Scalar(255, 255, 255), 3, cv::LINE_AA);
  cv::Mat out(blended.rows + 56, std::max(blended.cols, 2 * view.cols), CV_8UC3,
              cv::Scalar(255, 255, 255));
  view.copyTo(out(cv::Rect(0, 0, view.cols, view.rows)));
  blended.copyTo(out(cv::Rect(view.cols, 0, blended.cols, blended.rows)));
  cv::putText(out, fit(caption, 0.5, out.cols - 10), {6, blended.rows + 22}, kFont, 0.5, kText, 1,
              cv::LINE_AA);
  cv::putText(
      out,
      cat("left: input; right: channel-sum activation (blue low, red high), white: kept region (",
          map.kept_count, " of ", map.height * map.width, " positions)"),
      {6, blended.rows + 44}, kFont, 0.42, kText, 1, cv::LINE_AA);
  return out;
}

namespace po = boost::program_options;

void GridOptions::add_options(po::options_description& options) {
  const GridOptions d;
  options.add_options()("count", ranged<std::size_t>(1, 10000)->default_value(d.count),
                        "images on the sheet")(
      "select", po::value<std::string>()->default_value(to_string(d.select)),
      "which images: first (in file order), random, errors (wrong ones first, then random)")(
      "seed", ranged<std::uint64_t>(0, unbounded<std::uint64_t>())->default_value(d.seed),
      "seed of random/errors selection")(
      "columns", ranged<int>(1, 100)->default_value(d.sheet.columns), "thumbnails per row")(
      "thumb", ranged<int>(32, 1024)->default_value(d.sheet.thumb), "thumbnail side in pixels");
}

GridOptions GridOptions::from(const po::variables_map& vm) {
  GridOptions o;
  o.count = vm["count"].as<std::size_t>();
  o.select = parse_sheet_select(vm["select"].as<std::string>());
  o.seed = vm["seed"].as<std::uint64_t>();
  o.sheet.columns = vm["columns"].as<int>();
  o.sheet.thumb = vm["thumb"].as<int>();
  if (o.sheet.columns < 1 || o.sheet.thumb < 32)
    throw UsageError("--columns must be >= 1 and --thumb >= 32");
  return o;
}

std::string write_prediction_sheet(const std::string& predictions_path, const std::string& png,
                                   const GridOptions& options) {
  const Predictions predictions = read_predictions(predictions_path);
  const SheetSelection chosen =
      select_for_sheet(predictions, options.select, options.count, options.seed);
  SheetOptions sheet = options.sheet;
  sheet.title =
      cat(predictions_path, ": ", chosen.items.size(), " of ", predictions.rows.size(), " images (",
          to_string(options.select), "), ", chosen.errors, " wrong: green = right, red = wrong");
  plot::write_png(png, contact_sheet(chosen.items, sheet));
  return cat("Done: ", png, " (", chosen.items.size(), " images, ", chosen.errors, " wrong)");
}

std::string write_attention_overlay(const std::string& image_path, const std::string& png,
                                    const ExtractOptions& options, const std::string& layer) {
  Extractor extractor(options);
  std::string problem, damage;
  const cv::Mat image = load_image(image_path, options.max_pixels, problem, &damage);
  if (image.empty()) throw Error(cat(image_path, ": ", problem));
  if (!damage.empty()) log::warn(cat(image_path, ": ", damage, "; used as decoded"));
  const std::string shown = layer.empty() ? extractor.layers().front() : layer;
  cv::Mat view;  // what the network saw at the map's scale (the first of --scales)
  const AttentionMap map = extractor.attention(image, shown, &view);
  plot::write_png(png, attention_overlay(view, map,
                                         cat(image_path, " - ", extractor.spec().name, " ", shown,
                                             " (", map.height, "x", map.width, ")")));
  return cat("Done: ", png, " (", map.kept_count, " of ", map.height * map.width,
             " positions kept)");
}

}  // namespace fg::viz
