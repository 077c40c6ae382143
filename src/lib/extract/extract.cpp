#include "finegrain/extract/extract.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include <Eigen/Core>
#include <opencv2/imgproc.hpp>

#include "finegrain/core/common.hpp"
#include "finegrain/core/io.hpp"
#include "finegrain/core/option_range.hpp"
#include "finegrain/core/text.hpp"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace fg {

Merge parse_merge(const std::string& name) {
  if (name == "mean") return Merge::mean;
  if (name == "concat") return Merge::concat;
  throw UsageError(cat("unknown merge '", name, "' (mean, concat)"));
}

std::string to_string(Merge m) { return m == Merge::mean ? "mean" : "concat"; }

namespace {

template <class T>
std::string join(const std::vector<T>& v, const std::function<std::string(const T&)>& f) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) out += (i ? "," : "") + f(v[i]);
  return out;
}

std::vector<int> parse_sides(const std::string& text, const std::string& what) {
  std::vector<int> out;
  for (const auto& p : split_list(text)) {
    long long v;
    if (!parse_int(p, v) || v < 16 || v > 8192)
      throw UsageError(cat(what, ": '", p, "' is not a side length in 16..8192"));
    out.push_back(int(v));
  }
  return out;
}

std::vector<double> parse_weights(const std::string& text) {
  std::vector<double> out;
  for (const auto& p : split_list(text)) {
    double v;
    if (!parse_double(p, v) || !(v >= 0) || !std::isfinite(v))
      throw UsageError(cat("--layer-weights: '", p, "' is not a finite weight >= 0"));
    out.push_back(v);
  }
  return out;
}

void parse_augment(const std::string& text, ExtractOptions& o) {
  o.augment_flip = o.augment_crops = false;
  for (const auto& p : split_list(text)) {
    if (p == "flip")
      o.augment_flip = true;
    else if (p == "crops")
      o.augment_crops = true;
    else if (p == "none")
      continue;
    else
      throw UsageError(cat("--augment: unknown '", p, "' (flip, crops)"));
  }
}

std::string augment_text(const ExtractOptions& o) {
  std::vector<std::string> a;
  if (o.augment_flip) a.push_back("flip");
  if (o.augment_crops) a.push_back("crops");
  return a.empty() ? "none" : join<std::string>(a, [](const std::string& s) { return s; });
}

const char* const kCropNames[5] = {"tl", "tr", "bl", "br", "c"};

constexpr std::size_t kMaxSketchDim = std::size_t(1) << 20;

std::size_t parse_sketch_dim(const std::string& text) {
  long long v;
  if (!parse_int(text, v) || v < 16 || v > (long long)kMaxSketchDim)
    throw UsageError(cat("'", text, "' is not a sketch size in 16..", kMaxSketchDim));
  return std::size_t(v);
}

std::uint64_t parse_seed(const std::string& text) {
  std::uint64_t v = 0;
  if (text.empty() || text.size() > 20 || text.find_first_not_of("0123456789") != std::string::npos)
    throw UsageError(cat("'", text, "' is not a seed (an integer in 0..2^64-1)"));
  for (char c : text) {
    const std::uint64_t next = v * 10 + std::uint64_t(c - '0');
    if (next / 10 != v)
      throw UsageError(cat("'", text, "' is not a seed (an integer in 0..2^64-1)"));
    v = next;
  }
  return v;
}

// Eigen's products single-threaded while the pooling runs on OpenCV's
// threads (one map per thread already keeps both cores busy).
struct EigenSingleThread {
  int saved = Eigen::nbThreads();
  EigenSingleThread() { Eigen::setNbThreads(1); }
  ~EigenSingleThread() { Eigen::setNbThreads(saved); }
};

}  // namespace

namespace {
// Positions (H x W) of a conv output, and its shape for messages.
std::size_t map_positions(const cv::Mat& o) {
  return std::size_t(o.dims >= 3 ? o.size[2] : 1) * std::size_t(o.dims >= 4 ? o.size[3] : 1);
}
std::string map_shape(const cv::Mat& o) {
  return cat(o.dims >= 2 ? o.size[1] : 1, "x", o.dims >= 3 ? o.size[2] : 1, "x",
             o.dims >= 4 ? o.size[3] : 1);
}
}  // namespace

// ---------------------------------------------------------------- options

std::string ExtractOptions::to_text() const {
  std::ostringstream out;
  out.imbue(std::locale::classic());
  out << "model=" << model << "\n";
  out << "layers=" << join<std::string>(layers, [](const std::string& s) { return s; }) << "\n";
  out << "size=" << size << "\n";
  out << "scales=" << join<int>(scales, [](const int& s) { return std::to_string(s); }) << "\n";
  out << "resize=" << (resize == ResizeMode::warp ? "warp" : "crop") << "\n";
  out << "pooling=" << to_string(pool.pooling) << "\n";
  out << "gem-p=" << format_double(pool.gem_p) << "\n";
  out << "attn-pool=" << to_string(pool.attn_pool) << "\n";
  // Second-order settings only where they change the values, so tables of
  // other poolings keep their provenance (and still join with older ones).
  if (pool.second_order()) out << "bilinear-norm=" << to_string(pool.bilinear_norm) << "\n";
  if (pool.effective() == Pooling::compact_bilinear)
    out << "sketch-dim=" << pool.sketch_dim << "\nsketch-seed=" << pool.seed << "\n";
  out << "layer-weights="
      << join<double>(layer_weights, [](const double& w) { return format_double(w); }) << "\n";
  out << "norm=" << to_string(norm) << "\n";
  out << "flip=" << (flip ? 1 : 0) << "\n";
  out << "flip-merge=" << to_string(flip_merge) << "\n";
  out << "scale-merge=" << to_string(scale_merge) << "\n";
  out << "augment=" << augment_text(*this) << "\n";
  out << "crop-fraction=" << format_double(crop_fraction) << "\n";
  out << "max-pixels=" << max_pixels << "\n";
  out << "conv=" << to_string(conv) << "\n";
  return out.str();
}

ExtractOptions ExtractOptions::from_text(const std::string& text, const std::string& origin) {
  ExtractOptions o;
  std::istringstream in(text);
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    const auto eq = line.find('=');
    if (eq == std::string::npos)
      throw Error(cat(origin, ": line ", lineno, ": expected key=value, found '", line, "'"));
    const std::string key = line.substr(0, eq), value = line.substr(eq + 1);
    try {
      if (key == "model")
        o.model = value;
      else if (key == "layers")
        o.layers = split_list(value);
      else if (key == "size") {
        long long v;
        if (!parse_int(value, v) || v < 0 || v > 8192) throw Error("bad size");
        o.size = int(v);
      } else if (key == "scales")
        o.scales = parse_sides(value, "scales");
      else if (key == "resize") {
        if (value == "warp")
          o.resize = ResizeMode::warp;
        else if (value == "crop")
          o.resize = ResizeMode::crop;
        else
          throw Error("resize is warp or crop");
      } else if (key == "pooling")
        o.pool.pooling = parse_pooling(value);
      else if (key == "gem-p") {
        if (!parse_double(value, o.pool.gem_p) || !(o.pool.gem_p > 0))
          throw Error("gem-p must be > 0");
      } else if (key == "attn-pool")
        o.pool.attn_pool = parse_pooling(value);
      else if (key == "bilinear-norm")
        o.pool.bilinear_norm = parse_bilinear_norm(value);
      else if (key == "sketch-dim")
        o.pool.sketch_dim = parse_sketch_dim(value);
      else if (key == "sketch-seed")
        o.pool.seed = parse_seed(value);
      else if (key == "layer-weights")
        o.layer_weights = parse_weights(value);
      else if (key == "norm")
        o.norm = parse_norm(value);
      else if (key == "flip") {
        if (value != "0" && value != "1") throw Error("flip is 0 or 1");
        o.flip = value == "1";
      } else if (key == "flip-merge")
        o.flip_merge = parse_merge(value);
      else if (key == "scale-merge")
        o.scale_merge = parse_merge(value);
      else if (key == "augment")
        parse_augment(value, o);
      else if (key == "crop-fraction") {
        if (!parse_double(value, o.crop_fraction) || !(o.crop_fraction > 0 && o.crop_fraction <= 1))
          throw Error("crop-fraction is in (0, 1]");
      } else if (key == "max-pixels") {
        long long v;
        if (!parse_int(value, v) || v < 0) throw Error("bad max-pixels");
        o.max_pixels = std::uint64_t(v);
      } else if (key == "conv") {
        o.conv = parse_conv_impl(value);
      } else {
        throw Error("unknown key");
      }
    } catch (const Error& e) {
      throw Error(cat(origin, ": line ", lineno, ": ", key, "=", value, ": ", e.what()));
    }
  }
  return o;
}

std::string ExtractOptions::provenance_text() const {
  std::istringstream in(to_text());
  std::string line, out;
  while (std::getline(in, line)) out += "extract." + line + "\n";
  return out;
}

ExtractOptions ExtractOptions::from_provenance(const std::string& text, const std::string& origin) {
  std::istringstream in(text);
  std::string line, ours;
  while (std::getline(in, line))
    if (line.rfind("extract.", 0) == 0) ours += line.substr(8) + "\n";
  return from_text(ours, origin);
}

void ExtractOptions::add_options(po::options_description& options) {
  const ExtractOptions d;
  // clang-format off
  options.add_options()
    ("model,m", po::value<std::string>()->default_value(d.model),
     "model spec: a name from data/models (squeezenet1_1_imagenet_notop, vgg16-caffe, vgg16-onnx, "
     "vgg16_tiny_seeded), a .spec path, or a bare .onnx/.caffemodel file")
    ("layers,l", po::value<std::string>()->default_value(""),
     "comma-separated layers to tap, e.g. conv4_3,conv5_3 or fire8,fire9 (default: the spec's "
     "default-layers); OpenCV layer names work too. With bilinear pooling, a*b is the cross-layer "
     "product of two layers with the same spatial size (C_a x C_b values)")
    ("size", ranged<int>(0, 8192)->default_value(0), "input side in pixels (0 = the spec's, usually 224)")
    ("scales", po::value<std::string>()->default_value(""),
     "several input sides, e.g. 224,448: pooled per scale then merged (--scale-merge)")
    ("scale-merge", po::value<std::string>()->default_value("mean"), "merge of scales: mean | concat")
    ("resize", po::value<std::string>()->default_value("warp"),
     "warp (squash to size x size) | crop (shorter side to size, then centre crop)")
    ("pool,p", po::value<std::string>()->default_value("avgmax"),
     "pooling per layer: avg | max | avgmax (avg then max, concatenated) | gem | attn (SCDA-style selective) | "
     "bilinear (mean outer product, C(C+1)/2 values) | compact-bilinear (its Tensor Sketch, --sketch-dim values)")
    ("gem-p", ranged<double>(0, 100, Ends::open_low)->default_value(d.pool.gem_p), "exponent of gem pooling")
    ("attn-pool", po::value<std::string>()->default_value("avgmax"),
     "pooling inside the attn region: avg | max | avgmax | gem | bilinear | compact-bilinear")
    ("bilinear-norm", po::value<std::string>()->default_value(to_string(d.pool.bilinear_norm)),
     "normalisation of each bilinear block, after the views (--flip, --scales) are averaged: signed-sqrt "
     "(element-wise, then L2) | matrix-sqrt (B^1/2, then L2; not for a*b or compact-bilinear) | none")
    ("sketch-dim", po::value<std::string>()->default_value(std::to_string(d.pool.sketch_dim)),
     "length of a compact-bilinear block, 16..1048576 (powers of two are fastest)")
    ("sketch-seed", po::value<std::string>()->default_value("0"),
     "seed of the compact-bilinear hash functions (recorded in the table; test features must use the training "
     "features' seed)")
    ("layer-weights", po::value<std::string>()->default_value(""),
     "weights of the layers in a fusion, e.g. 1,0.5 (default: all 1)")
    ("norm", po::value<std::string>()->default_value("l2"),
     "normalisation of the final vector: none | l2 | power-l2 (signed square root, then L2)")
    ("flip", po::bool_switch(), "also pass the mirrored image and merge (--flip-merge)")
    ("flip-merge", po::value<std::string>()->default_value("mean"), "merge of image and mirror: mean | concat")
    ("augment", po::value<std::string>()->default_value("none"),
     "extra training rows: flip (mirrored copy, key#flip), crops (4 corners + centre, key#crop-tl ...), "
     "or flip,crops (all, and their mirrors)")
    ("crop-fraction", ranged<double>(0, 1, Ends::open_low)->default_value(d.crop_fraction),
     "side of the --augment crops as a fraction of the image's")
    ("max-pixels", ranged<std::uint64_t>(0, unbounded<std::uint64_t>())->default_value(d.max_pixels),
     "refuse images with more pixels than this, checked in the file header before decoding (0 = no limit)")
    ("conv", po::value<std::string>()->default_value(to_string(d.conv)),
     "3x3 stride-1 convolutions: winograd (F(4x4,3x3), faster) | opencv (OpenCV's direct convolution)");
  // clang-format on
}

ExtractOptions ExtractOptions::from_variables(const po::variables_map& vm) {
  ExtractOptions o;
  // Value errors name the option they came from.
  auto with = [&](const char* name, const std::function<void(const std::string&)>& f) {
    const std::string value = vm[name].as<std::string>();
    try {
      f(value);
    } catch (const Error& e) {
      const std::string msg = e.what();
      throw UsageError(msg.rfind("--", 0) == 0 ? msg : cat("--", name, ": ", msg));
    }
  };
  o.model = vm["model"].as<std::string>();
  o.layers = split_list(vm["layers"].as<std::string>());
  o.size = vm["size"].as<int>();
  if (o.size != 0 && o.size < 16)
    throw UsageError(cat("--size: expected 0 (the spec's) or 16..8192, got ", o.size));
  with("scales", [&](const std::string& v) { o.scales = parse_sides(v, "--scales"); });
  with("scale-merge", [&](const std::string& v) { o.scale_merge = parse_merge(v); });
  with("resize", [&](const std::string& v) {
    if (v == "warp")
      o.resize = ResizeMode::warp;
    else if (v == "crop")
      o.resize = ResizeMode::crop;
    else
      throw UsageError(cat("unknown '", v, "' (warp, crop)"));
  });
  with("pool", [&](const std::string& v) { o.pool.pooling = parse_pooling(v); });
  o.pool.gem_p = vm["gem-p"].as<double>();
  if (!(o.pool.gem_p > 0)) throw UsageError("--gem-p must be > 0");
  with("attn-pool", [&](const std::string& v) {
    o.pool.attn_pool = parse_pooling(v);
    if (o.pool.attn_pool == Pooling::attn)
      throw UsageError("avg, max, avgmax, gem, bilinear or compact-bilinear");
  });
  with("bilinear-norm",
       [&](const std::string& v) { o.pool.bilinear_norm = parse_bilinear_norm(v); });
  with("sketch-dim", [&](const std::string& v) { o.pool.sketch_dim = parse_sketch_dim(v); });
  with("sketch-seed", [&](const std::string& v) { o.pool.seed = parse_seed(v); });
  with("layer-weights", [&](const std::string& v) { o.layer_weights = parse_weights(v); });
  with("norm", [&](const std::string& v) { o.norm = parse_norm(v); });
  o.flip = vm["flip"].as<bool>();
  with("flip-merge", [&](const std::string& v) { o.flip_merge = parse_merge(v); });
  with("augment", [&](const std::string& v) { parse_augment(v, o); });
  o.crop_fraction = vm["crop-fraction"].as<double>();
  if (!(o.crop_fraction > 0 && o.crop_fraction <= 1))
    throw UsageError("--crop-fraction: expected (0, 1]");
  o.max_pixels = vm["max-pixels"].as<std::uint64_t>();
  with("conv", [&](const std::string& v) { o.conv = parse_conv_impl(v); });
  return o;
}

// ---------------------------------------------------------------- extractor

Extractor::Extractor(const ExtractOptions& options)
    : Extractor(load_model_spec(options.model), options) {}

// OpenCV DNN creates the layers while reading the model and at the first
// forward pass (in setup): options.conv decides their convolutions then.
Extractor::Extractor(const ModelSpec& spec, const ExtractOptions& options)
    : spec_(spec), options_(options) {
  ConvImplScope conv(options_.conv);
  load_net();
  setup();
}

Extractor::Extractor(const ModelSpec& spec, cv::dnn::Net net, const ExtractOptions& options)
    : spec_(spec), options_(options), net_(std::move(net)) {
  ConvImplScope conv(options_.conv);
  setup();
}

Extractor::~Extractor() = default;

void Extractor::load_net() {
  const std::string model = spec_.model_path();
  const std::string config = spec_.config_path();
  const std::string where = spec_.origin.empty() ? model : spec_.origin;
  try {
    std::string framework = spec_.format == "auto" ? "" : spec_.format;
    net_ = cv::dnn::readNet(model, config, framework);
  } catch (const cv::Exception& e) {
    throw Error(cat(where, ": OpenCV could not load ", model, ": ", e.err));
  }
  if (net_.empty()) throw Error(cat(where, ": OpenCV could not load ", model, " (empty network)"));
}

void Extractor::setup() {
  const std::string where = spec_.origin.empty() ? spec_.name : spec_.origin;
  net_.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
  net_.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
  map_ = LayerMap(spec_, net_);

  layers_ = options_.layers;
  if (layers_.empty()) layers_ = spec_.default_layers;
  if (layers_.empty()) layers_ = net_.getUnconnectedOutLayersNames();
  {
    std::set<std::string> seen;
    for (const auto& l : layers_)
      if (!seen.insert(l).second) throw UsageError(cat("--layers: '", l, "' given twice"));
  }
  // Blocks: "a" or "a*b"; each tapped node is forwarded once.
  const PoolOptions& po = options_.pool;
  if (po.attn_pool == Pooling::attn)
    throw UsageError("--attn-pool: attn cannot pool its own region");
  blocks_.clear();
  auto tap = [&](const std::string& name) {
    const std::string node = map_.resolve(name);
    const auto it = std::find(nodes_.begin(), nodes_.end(), node);
    if (it != nodes_.end()) return std::size_t(it - nodes_.begin());
    nodes_.push_back(node);
    return nodes_.size() - 1;
  };
  for (const auto& l : layers_) {
    const auto star = l.find('*');
    if (star == std::string::npos) {
      const std::size_t a = tap(l);
      blocks_.push_back({a, a, 0, 0});
      continue;
    }
    const std::string first = l.substr(0, star), second = l.substr(star + 1);
    if (first.empty() || second.empty() || second.find('*') != std::string::npos)
      throw UsageError(cat("--layers: '", l, "': a cross-layer product is two layer names, a*b"));
    if (!po.second_order())
      throw UsageError(cat("--layers: '", l,
                           "' (a cross-layer product) needs --pool bilinear or compact-bilinear"));
    if (po.bilinear_norm == BilinearNorm::matrix_sqrt)
      throw UsageError(cat("--layers: '", l,
                           "': matrix-sqrt needs a symmetric B; a cross-layer product takes "
                           "--bilinear-norm signed-sqrt or none"));
    blocks_.push_back({tap(first), tap(second), 0, 0});
  }
  if (po.effective() == Pooling::compact_bilinear && po.bilinear_norm == BilinearNorm::matrix_sqrt)
    throw UsageError(
        "--bilinear-norm matrix-sqrt needs the full B; compact-bilinear takes signed-sqrt or none");
  if (!options_.layer_weights.empty() && options_.layer_weights.size() != layers_.size())
    throw UsageError(cat("--layer-weights: ", options_.layer_weights.size(), " weights for ",
                         layers_.size(), " layers"));
  const int size = options_.size ? options_.size : spec_.size;
  scales_ = options_.scales.empty() ? std::vector<int>{size} : options_.scales;

  // Views per image per scale: rows (augmentation) x flips.
  std::vector<View> rows{{0, false, -1}};
  suffixes_ = {""};
  if (options_.augment_flip) {
    rows.push_back({int(rows.size()), true, -1});
    suffixes_.push_back("#flip");
  }
  if (options_.augment_crops) {
    for (int c = 0; c < 5; ++c) {
      rows.push_back({int(rows.size()), false, c});
      suffixes_.push_back(cat("#crop-", kCropNames[c]));
      if (options_.augment_flip) {
        rows.push_back({int(rows.size()), true, c});
        suffixes_.push_back(cat("#crop-", kCropNames[c], "-flip"));
      }
    }
  }
  views_.clear();
  for (const auto& r : rows) {
    views_.push_back(r);
    if (options_.flip) views_.push_back({r.row, !r.mirror, r.crop});
  }

  // Channels per layer, from one forward pass on a grey image (this also
  // proves the network runs before any real work).
  const int side = scales_.front();
  cv::Mat probe(std::vector<int>{1, 3, side, side}, CV_32F, cv::Scalar(0));
  std::vector<cv::Mat> outs;
  try {
    if (spec_.input.empty())
      net_.setInput(probe);
    else
      net_.setInput(probe, spec_.input);
    net_.forward(outs, nodes_);
  } catch (const cv::Exception& e) {
    // A side the user chose is a usage error; the spec's own, a model error.
    if (options_.size != 0 || !options_.scales.empty())
      throw UsageError(cat("--", options_.scales.empty() ? "size " : "scales side ", side,
                           " is too small for ", spec_.name,
                           " or does not suit it (OpenCV: ", one_line(e.err), ")"));
    throw Error(cat(where, ": forward pass at ", side, "x", side, " failed: ", one_line(e.err)));
  }
  channels_.clear();
  for (std::size_t l = 0; l < outs.size(); ++l) {
    const cv::Mat& o = outs[l];
    if (o.dims < 2)
      throw Error(cat(where, ": layer '", nodes_[l], "' output has ", o.dims, " dimensions"));
    channels_.push_back(std::size_t(o.size[1]));
  }
  std::size_t off = 0;
  sketches_.clear();
  for (std::size_t k = 0; k < blocks_.size(); ++k) {
    Block& b = blocks_[k];
    const std::size_t ca = channels_[b.a], cb = channels_[b.b];
    if (b.a != b.b) {
      if (map_positions(outs[b.a]) != map_positions(outs[b.b]))
        throw UsageError(
            cat("--layers: '", layers_[k], "': a cross-layer product needs maps of the same size (",
                map_shape(outs[b.a]), " and ", map_shape(outs[b.b]), " at ", side, "x", side, ")"));
      b.dim = po.effective() == Pooling::compact_bilinear ? po.sketch_dim : ca * cb;
    } else {
      b.dim = pooled_dim(ca, po);
    }
    if (po.effective() == Pooling::compact_bilinear)  // each block its own hash functions
      sketches_.emplace_back(ca, cb, po.sketch_dim, po.seed + 0x9E3779B97F4A7C15ULL * k);
    b.offset = off;
    off += b.dim;
  }
  view_dim_ = off;
  const std::size_t flips = options_.flip ? 2 : 1;
  std::size_t per_scale =
      view_dim_ * (options_.flip && options_.flip_merge == Merge::concat ? flips : 1);
  dim_ = per_scale * (options_.scale_merge == Merge::concat ? scales_.size() : 1);
}

cv::Mat Extractor::make_view(const cv::Mat& image, const View& v, int side) const {
  cv::Mat src = image;
  if (v.crop >= 0) {
    const int w = std::max(1, int(std::lround(image.cols * options_.crop_fraction)));
    const int h = std::max(1, int(std::lround(image.rows * options_.crop_fraction)));
    int x = 0, y = 0;
    switch (v.crop) {
      case 0:
        break;
      case 1:
        x = image.cols - w;
        break;
      case 2:
        y = image.rows - h;
        break;
      case 3:
        x = image.cols - w;
        y = image.rows - h;
        break;
      default:
        x = (image.cols - w) / 2;
        y = (image.rows - h) / 2;
        break;
    }
    src = image(cv::Rect(x, y, w, h));
  }
  cv::Mat out = resize_image(src, side, options_.resize);
  if (v.mirror) {
    cv::Mat m;
    cv::flip(out, m, 1);
    return m;
  }
  if (!out.isContinuous()) out = out.clone();
  return out;
}

std::size_t Extractor::input_pixels_per_image() const {
  std::size_t pixels = 0;
  for (int side : scales_) pixels += std::size_t(side) * side;
  return pixels * views_.size();
}

PreparedBatch Extractor::prepare(const std::vector<cv::Mat>& images, PreparedBatch reuse) const {
  PreparedBatch b = std::move(reuse);
  b.images = images.size();
  b.blobs.resize(scales_.size());
  for (std::size_t s = 0; s < scales_.size(); ++s) {
    const int side = scales_[s];
    const int n = int(images.size() * views_.size());
    cv::Mat& blob = b.blobs[s];
    blob.create(std::vector<int>{n, 3, side, side}, CV_32F);  // keeps the memory if the shape fits
    const std::size_t slot = std::size_t(3) * side * side;
    float* dst = blob.ptr<float>();
    for (const auto& img : images)
      for (const auto& v : views_) {
        image_to_blob(make_view(img, v, side), spec_, dst);
        dst += slot;
      }
  }
  return b;
}

void Extractor::pool_item(const std::vector<cv::Mat>& outs, std::size_t item, float* view,
                          double view_weight, MatrixRowF* factors) const {
  const PoolOptions& po = options_.pool;
  for (std::size_t k = 0; k < blocks_.size(); ++k) {
    const Block& b = blocks_[k];
    const cv::Mat& o = outs[b.a];
    const int h = o.dims >= 3 ? o.size[2] : 1;
    const int w = o.dims >= 4 ? o.size[3] : 1;
    const std::size_t n = std::size_t(h) * w;
    const std::size_t c = channels_[b.a];
    const float* map = o.ptr<float>() + item * c * n;
    float* dst = view + b.offset;
    if (!po.second_order()) {
      pool(map, c, h, w, po, dst);
      if (blocks_.size() > 1) l2_normalize(dst, b.dim);
      if (!options_.layer_weights.empty()) {
        const float wgt = float(options_.layer_weights[k]);
        for (std::size_t i = 0; i < b.dim; ++i) dst[i] *= wgt;
      }
      continue;
    }
    // Second order: the raw (averaged-later) B or its sketch; normalised in
    // finish_second_order once the views are merged.
    std::vector<std::size_t> kept;
    if (po.pooling == Pooling::attn) {  // the region is the first layer's
      const AttentionMap a = attention_map(map, c, h, w);
      for (std::size_t i = 0; i < n; ++i)
        if (a.kept[i]) kept.push_back(i);
    }
    const std::vector<std::size_t>* positions = po.pooling == Pooling::attn ? &kept : nullptr;
    const std::size_t cb = channels_[b.b];
    const float* map_b = outs[b.b].ptr<float>() + item * cb * n;
    if (po.effective() == Pooling::compact_bilinear) {
      sketches_[k].pool(map, map_b, n, positions, dst);
    } else if (b.a != b.b) {
      bilinear_pool_cross(map, c, map_b, cb, n, positions, dst);
    } else if (factors) {
      // B = M M^T with M = sqrt(weight / positions) x the kept columns: the
      // views' factors side by side give their weighted mean B.
      const std::size_t count = positions ? positions->size() : n;
      factors[k] =
          gather_positions(map, c, n, positions, float(std::sqrt(view_weight / double(count))));
      std::fill(dst, dst + b.dim, 0.0f);
    } else {
      bilinear_pool(map, c, n, positions, dst);
    }
  }
}

void Extractor::finish_second_order(
    float* slot, const std::vector<std::vector<const MatrixRowF*>>& factors) const {
  const PoolOptions& po = options_.pool;
  for (std::size_t k = 0; k < blocks_.size(); ++k) {
    const Block& b = blocks_[k];
    float* dst = slot + b.offset;
    if (po.bilinear_norm == BilinearNorm::matrix_sqrt) {
      const auto& parts = factors[k];
      if (parts.size() == 1) {
        matrix_sqrt_of_factor(*parts[0], dst);
      } else {
        Eigen::Index cols = 0;
        for (const MatrixRowF* p : parts) cols += p->cols();
        MatrixRowF m(static_cast<Eigen::Index>(channels_[b.a]), cols);
        cols = 0;
        for (const MatrixRowF* p : parts) {
          m.middleCols(cols, p->cols()) = *p;
          cols += p->cols();
        }
        matrix_sqrt_of_factor(m, dst);
      }
      l2_normalize(dst, b.dim);
    } else if (po.bilinear_norm == BilinearNorm::signed_sqrt) {
      signed_sqrt_l2(dst, b.dim);
    } else if (blocks_.size() > 1) {
      l2_normalize(dst, b.dim);
    }
    if (!options_.layer_weights.empty()) {
      const float wgt = float(options_.layer_weights[k]);
      for (std::size_t i = 0; i < b.dim; ++i) dst[i] *= wgt;
    }
  }
}

void Extractor::compute(const PreparedBatch& batch, std::vector<float>& out) {
  const EigenSingleThread eigen_threads;
  const std::size_t rows = rows_per_image();
  const std::size_t nviews = views_.size();
  const std::size_t flips = options_.flip ? 2 : 1;
  const bool flip_concat = options_.flip && options_.flip_merge == Merge::concat;
  const bool scale_concat = options_.scale_merge == Merge::concat;
  const std::size_t per_scale = flip_concat ? flips * view_dim_ : view_dim_;
  out.assign(batch.images * rows * dim_, 0.0f);
  const std::size_t items = batch.images * nviews;
  const std::size_t nblocks = blocks_.size();
  double view_weight = 1.0;  // of one view in its merged row
  if (options_.flip && options_.flip_merge == Merge::mean) view_weight /= double(flips);
  if (options_.scale_merge == Merge::mean) view_weight /= double(scales_.size());
  const bool second_order = options_.pool.second_order();
  const bool keep_factors =
      second_order && options_.pool.bilinear_norm == BilinearNorm::matrix_sqrt;
  std::vector<MatrixRowF> factors(keep_factors ? scales_.size() * items * nblocks : 0);
  std::vector<float> pooled(items * view_dim_);
  std::vector<cv::Mat> outs;
  for (std::size_t s = 0; s < scales_.size(); ++s) {
    const auto t0 = std::chrono::steady_clock::now();
    if (spec_.input.empty())
      net_.setInput(batch.blobs[s]);
    else
      net_.setInput(batch.blobs[s], spec_.input);
    net_.forward(outs, nodes_);
    forward_seconds_ +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    for (std::size_t k = 0; k < nblocks;
         ++k)  // sizes agree at the probe's scale; check them at each
      if (map_positions(outs[blocks_[k].a]) != map_positions(outs[blocks_[k].b]))
        throw Error(cat(layers_[k], ": maps of ", map_shape(outs[blocks_[k].a]), " and ",
                        map_shape(outs[blocks_[k].b]), " at ", scales_[s], "x", scales_[s],
                        " (a cross-layer product needs the same size)"));
    // Pool every (image, view) item on OpenCV's threads: the same pool that
    // just ran the forward pass, so nothing else is competing for the cores.
    cv::parallel_for_(cv::Range(0, int(items)), [&](const cv::Range& range) {
      for (int item = range.start; item < range.end; ++item)
        pool_item(outs, std::size_t(item), pooled.data() + std::size_t(item) * view_dim_,
                  view_weight,
                  keep_factors ? &factors[(s * items + std::size_t(item)) * nblocks] : nullptr);
    });
    for (std::size_t i = 0; i < batch.images; ++i) {
      for (std::size_t v = 0; v < nviews; ++v) {
        const float* view = pooled.data() + (i * nviews + v) * view_dim_;
        // Place the view: row, flip slot, scale slot.
        const std::size_t flip_slot = options_.flip ? (v % 2) : 0;
        const std::size_t row = views_[v].row;
        float* dst = out.data() + (i * rows + row) * dim_;
        if (scale_concat) dst += s * per_scale;
        if (flip_concat) dst += flip_slot * view_dim_;
        const float scale = float(view_weight);
        for (std::size_t k = 0; k < view_dim_; ++k) dst[k] += view[k] * scale;
      }
    }
  }
  if (second_order) {
    // Normalise each merged slot (row x scale slot x flip slot), in parallel.
    const std::size_t scale_slots = scale_concat ? scales_.size() : 1,
                      flip_slots = flip_concat ? flips : 1;
    const std::size_t slots = batch.images * rows * scale_slots * flip_slots;
    cv::parallel_for_(cv::Range(0, int(slots)), [&](const cv::Range& range) {
      std::vector<std::vector<const MatrixRowF*>> parts(nblocks);
      for (int job = range.start; job < range.end; ++job) {
        std::size_t j = std::size_t(job);
        const std::size_t fs = j % flip_slots;
        j /= flip_slots;
        const std::size_t ss = j % scale_slots;
        j /= scale_slots;
        const std::size_t row = j % rows, i = j / rows;
        for (auto& p : parts) p.clear();
        if (keep_factors)
          for (std::size_t s = 0; s < scales_.size(); ++s) {
            if (scale_concat && s != ss) continue;
            for (std::size_t v = 0; v < nviews; ++v) {
              if (std::size_t(views_[v].row) != row || (flip_concat && v % 2 != fs)) continue;
              for (std::size_t k = 0; k < nblocks; ++k)
                parts[k].push_back(&factors[(s * items + i * nviews + v) * nblocks + k]);
            }
          }
        finish_second_order(out.data() + (i * rows + row) * dim_ + ss * per_scale + fs * view_dim_,
                            parts);
      }
    });
  }
  if (options_.norm != Norm::none)
    for (std::size_t r = 0; r < batch.images * rows; ++r)
      apply_norm(out.data() + r * dim_, dim_, options_.norm);
}

std::vector<float> Extractor::extract(const std::vector<cv::Mat>& images) {
  std::vector<float> out;
  compute(prepare(images), out);
  return out;
}

AttentionMap Extractor::attention(const cv::Mat& image, const std::string& layer, cv::Mat* view) {
  const std::string node = layer.empty() ? nodes_.front() : map_.resolve(layer);
  const int side = scales_.front();
  cv::Mat blob(std::vector<int>{1, 3, side, side}, CV_32F);
  const cv::Mat seen = make_view(image, View{0, false, -1}, side);
  image_to_blob(seen, spec_, blob.ptr<float>());
  if (view) *view = seen;
  if (spec_.input.empty())
    net_.setInput(blob);
  else
    net_.setInput(blob, spec_.input);
  cv::Mat o = net_.forward(node);
  const int h = o.dims >= 3 ? o.size[2] : 1, w = o.dims >= 4 ? o.size[3] : 1;
  return attention_map(o.ptr<float>(), std::size_t(o.size[1]), h, w);
}

// ---------------------------------------------------------------- pipeline

namespace {

struct LoadedBatch {
  std::vector<std::size_t> indexes;   // all indexes of this batch, in order
  std::vector<std::string> problems;  // per index; empty = loaded
  std::vector<std::string> damage;    // per index; loaded, but decoded with errors
  PreparedBatch prepared;             // of the loaded ones, in order
  std::exception_ptr error;
};

}  // namespace

PipelineStats extract_files(Extractor& extractor, const std::vector<std::string>& paths,
                            const std::vector<std::size_t>& todo, std::size_t batch_size,
                            const std::function<void(std::size_t, const float*)>& on_rows,
                            const std::function<void(std::size_t, const std::string&)>& on_skip,
                            const std::function<void(std::size_t)>& on_progress,
                            OnCorrupt on_corrupt) {
  if (batch_size == 0) batch_size = 1;
  PipelineStats stats;
  const auto start = std::chrono::steady_clock::now();
  const double forward_before = extractor.forward_seconds();
  const std::uint64_t max_pixels = extractor.options().max_pixels;

  std::mutex mu;
  std::condition_variable cv_ready, cv_space;
  std::deque<LoadedBatch> queue;
  std::vector<PreparedBatch> spare;  // computed batches, their blobs reused
  bool producer_done = false;
  bool stop = false;
  // Batches prepared ahead: at least 2, and at least 32 network inputs of
  // 224x224 (19 MB of blobs). The producer fills the queue, then sleeps until
  // it is half empty: it wakes once per depth/2 batches to decode them in one
  // burst, rather than once per batch — each wake-up takes a core from the
  // forward pass in mid-layer.
  const std::size_t ahead_pixels = 32 * 224 * 224;
  const std::size_t batch_pixels =
      std::max<std::size_t>(1, batch_size * extractor.input_pixels_per_image());
  const std::size_t depth =
      std::max<std::size_t>(2, (ahead_pixels + batch_pixels - 1) / batch_pixels);
  const std::size_t refill_at = depth / 2;

  std::thread producer([&] {
    for (std::size_t first = 0; first < todo.size(); first += batch_size) {
      LoadedBatch b;
      try {
        std::vector<cv::Mat> images;
        const std::size_t last = std::min(todo.size(), first + batch_size);
        for (std::size_t k = first; k < last; ++k) {
          const std::size_t index = todo[k];
          std::string problem, damage;
          cv::Mat img = load_image(paths[index], max_pixels, problem, &damage);
          if (problem.empty() && !damage.empty() && on_corrupt == OnCorrupt::skip) {
            problem = cat(damage, ", --on-corrupt skip");
            damage.clear();
          }
          b.indexes.push_back(index);
          b.problems.push_back(problem);
          b.damage.push_back(damage);
          if (problem.empty()) images.push_back(std::move(img));
        }
        PreparedBatch reuse;
        {
          std::lock_guard<std::mutex> lock(mu);
          if (!spare.empty()) {
            reuse = std::move(spare.back());
            spare.pop_back();
          }
        }
        b.prepared = extractor.prepare(images, std::move(reuse));
      } catch (...) {
        b.error = std::current_exception();
      }
      std::unique_lock<std::mutex> lock(mu);
      if (queue.size() >= depth)
        cv_space.wait(lock, [&] { return queue.size() <= refill_at || stop; });
      if (stop) return;
      queue.push_back(std::move(b));
      cv_ready.notify_one();
    }
    std::lock_guard<std::mutex> lock(mu);
    producer_done = true;
    cv_ready.notify_one();
  });

  auto finish = [&] {
    {
      std::lock_guard<std::mutex> lock(mu);
      stop = true;
      cv_space.notify_all();
    }
    producer.join();
  };

  try {
    std::vector<float> rows;
    std::size_t done = 0;
    const std::size_t row_floats = extractor.rows_per_image() * extractor.dim();
    for (;;) {
      LoadedBatch b;
      {
        std::unique_lock<std::mutex> lock(mu);
        cv_ready.wait(lock, [&] { return !queue.empty() || producer_done; });
        if (queue.empty()) break;
        b = std::move(queue.front());
        queue.pop_front();
        if (queue.size() <= refill_at) cv_space.notify_one();
      }
      if (b.error) std::rethrow_exception(b.error);
      if (b.prepared.images) extractor.compute(b.prepared, rows);
      std::size_t k = 0;
      for (std::size_t j = 0; j < b.indexes.size(); ++j) {
        if (b.problems[j].empty()) {
          if (!b.damage[j].empty()) {
            log::warn(cat(paths[b.indexes[j]], ": ", b.damage[j],
                          "; used as decoded (--on-corrupt skip leaves such images out)"));
            ++stats.damaged;
          }
          on_rows(b.indexes[j], rows.data() + (k++) * row_floats);
          ++stats.images;
        } else {
          on_skip(b.indexes[j], b.problems[j]);
          ++stats.skipped;
        }
      }
      done += b.indexes.size();
      if (on_progress) on_progress(done);
      std::lock_guard<std::mutex> lock(mu);
      spare.push_back(std::move(b.prepared));
    }
  } catch (...) {
    finish();
    throw;
  }
  finish();
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  stats.forward_seconds = extractor.forward_seconds() - forward_before;
  return stats;
}

// ---------------------------------------------------------------- checkpoint

namespace {
const char kPartialMagic[] = "FGPARTIAL\n";  // 10 bytes
constexpr std::uint32_t kPartialVersion = 1;

template <class T>
void put(std::ostream& out, T v) {
  out.write(reinterpret_cast<const char*>(&v), sizeof v);
}
template <class T>
bool get(std::istream& in, T& v) {
  return bool(in.read(reinterpret_cast<char*>(&v), sizeof v));
}
}  // namespace

std::uint64_t fingerprint(const std::string& text) {
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

namespace {
// The pid holding a flock on the file with this device and inode, from
// Linux's /proc/locks ("1: FLOCK  ADVISORY  WRITE 4242 08:01:1234 0 EOF"); 0 if unknown.
long lock_holder(dev_t device, ino_t inode) {
  std::ifstream locks("/proc/locks");
  std::string line;
  while (std::getline(locks, line)) {
    std::istringstream fields(line);
    std::string number, kind, mode, access, id;
    long pid = 0;
    if (!(fields >> number >> kind >> mode >> access >> pid >> id) || kind != "FLOCK") continue;
    unsigned major_number = 0, minor_number = 0;
    unsigned long long ino = 0;
    if (std::sscanf(id.c_str(), "%x:%x:%llu", &major_number, &minor_number, &ino) == 3 &&
        ino == inode && major_number == major(device) && minor_number == minor(device))
      return pid;
  }
  return 0;
}
}  // namespace

struct ExtractCheckpoint::Impl {
  std::fstream file;
  int lock_fd = -1;  // holds the flock that keeps a second run off this output
  ~Impl() {
    if (lock_fd >= 0) ::close(lock_fd);
  }
};

void ExtractCheckpoint::lock() {
  // Lock, then check that the path still names the locked file: a run that
  // just finished may have removed it between our open() and flock().
  for (int attempt = 0; attempt < 100; ++attempt) {
    const int fd = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
      throw Error(
          cat(path_, ": cannot create the partial extraction file (", std::strerror(errno), ")"));
    struct stat held {};
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int why = errno;
      ::fstat(fd, &held);
      ::close(fd);
      if (why != EWOULDBLOCK) throw Error(cat(path_, ": cannot lock (", std::strerror(why), ")"));
      const long pid = lock_holder(held.st_dev, held.st_ino);
      throw Error(cat(path_, ": another run", pid > 0 ? cat(" (pid ", pid, ")") : std::string(),
                      " is extracting to this output now; wait for it to finish or stop it"));
    }
    struct stat now {};
    if (::fstat(fd, &held) == 0 && ::stat(path_.c_str(), &now) == 0 && held.st_ino == now.st_ino &&
        held.st_dev == now.st_dev) {
      impl_->lock_fd = fd;
      return;
    }
    ::close(fd);
  }
  throw Error(cat(path_, ": cannot lock (the file keeps being replaced)"));
}

ExtractCheckpoint::ExtractCheckpoint(const std::string& path, const std::string& identity,
                                     std::size_t dim, std::size_t rows_per_image, bool resume)
    : path_(path), dim_(dim), rows_per_image_(rows_per_image), impl_(std::make_unique<Impl>()) {
  std::uint64_t good_end = 0;
  bool keep = false;
  std::error_code error;
  existed_ = fs::file_size(path, error) > 0 && !error;
  lock();
  if (resume && existed_) {
    std::ifstream in(path, std::ios::binary);
    char magic[sizeof kPartialMagic - 1];
    std::uint32_t version = 0, idlen = 0, d = 0, r = 0;
    if (!in.read(magic, sizeof magic) || std::memcmp(magic, kPartialMagic, sizeof magic) != 0 ||
        !get(in, version))
      throw Error(cat(path, ": not a finegrain partial extraction (delete it, or drop --resume)"));
    if (version != kPartialVersion)
      throw Error(cat(path, ": partial extraction version ", version, ", this program writes ",
                      kPartialVersion, " (delete it, or drop --resume)"));
    std::string id;
    if (!get(in, idlen) || idlen > (1u << 24))
      throw Error(cat(path, ": damaged header (delete it)"));
    id.resize(idlen);
    if (!in.read(&id[0], idlen) || !get(in, d) || !get(in, r))
      throw Error(cat(path, ": damaged header (delete it)"));
    if (id != identity || d != dim || r != rows_per_image)
      throw Error(
          cat(path,
              ": made with different options, model or manifest; delete it, or drop --resume to "
              "start afresh"));
    good_end = std::uint64_t(in.tellg());
    const std::uint64_t floats = std::uint64_t(dim) * rows_per_image;
    std::vector<float> buf(floats);
    for (;;) {
      const std::uint64_t at = std::uint64_t(in.tellg());
      char tag;
      std::uint64_t index;
      if (!get(in, tag) || !get(in, index)) break;
      if (tag == 'R') {
        if (!in.read(reinterpret_cast<char*>(buf.data()), std::streamsize(floats * sizeof(float))))
          break;
      } else if (tag == 'S') {
        std::uint32_t len;
        if (!get(in, len) || len > (1u << 20)) break;
        std::string s(len, '\0');
        if (len && !in.read(&s[0], len)) break;
      } else {
        break;
      }
      records_[std::size_t(index)] = at;
      good_end = std::uint64_t(in.tellg());
    }
    keep = true;
    resumed_ = records_.size();
  }
  if (keep) {
    fs::resize_file(path, good_end);  // drop a torn last record
    impl_->file.open(path, std::ios::binary | std::ios::in | std::ios::out);
    impl_->file.seekp(0, std::ios::end);
  } else {
    impl_->file.open(path, std::ios::binary | std::ios::in | std::ios::out | std::ios::trunc);
    if (!impl_->file) throw Error(cat(path, ": cannot create the partial extraction file"));
    impl_->file.write(kPartialMagic, sizeof kPartialMagic - 1);
    put(impl_->file, kPartialVersion);
    put(impl_->file, std::uint32_t(identity.size()));
    impl_->file.write(identity.data(), std::streamsize(identity.size()));
    put(impl_->file, std::uint32_t(dim));
    put(impl_->file, std::uint32_t(rows_per_image));
    impl_->file.flush();
  }
  if (!impl_->file) throw Error(cat(path, ": cannot write the partial extraction file"));
}

ExtractCheckpoint::~ExtractCheckpoint() = default;

void ExtractCheckpoint::add_rows(std::size_t index, const float* rows) {
  auto& f = impl_->file;
  records_[index] = std::uint64_t(f.tellp());
  put(f, 'R');
  put(f, std::uint64_t(index));
  f.write(reinterpret_cast<const char*>(rows),
          std::streamsize(dim_ * rows_per_image_ * sizeof(float)));
}

void ExtractCheckpoint::add_skip(std::size_t index, const std::string& problem) {
  auto& f = impl_->file;
  records_[index] = std::uint64_t(f.tellp());
  put(f, 'S');
  put(f, std::uint64_t(index));
  put(f, std::uint32_t(problem.size()));
  f.write(problem.data(), std::streamsize(problem.size()));
}

void ExtractCheckpoint::flush() {
  impl_->file.flush();
  if (!impl_->file) throw Error(cat(path_, ": write error (disk full?)"));
}

void ExtractCheckpoint::replay(
    const std::function<void(std::size_t, const float*)>& on_rows,
    const std::function<void(std::size_t, const std::string&)>& on_skip) {
  flush();
  auto& f = impl_->file;
  std::vector<float> buf(dim_ * rows_per_image_);
  for (const auto& [index, at] : records_) {
    f.seekg(std::streamoff(at));
    char tag;
    std::uint64_t idx;
    if (!get(f, tag) || !get(f, idx) || idx != index)
      throw Error(cat(path_, ": damaged record (delete it)"));
    if (tag == 'R') {
      if (!f.read(reinterpret_cast<char*>(buf.data()), std::streamsize(buf.size() * sizeof(float))))
        throw Error(cat(path_, ": damaged record (delete it)"));
      on_rows(index, buf.data());
    } else {
      std::uint32_t len;
      if (!get(f, len)) throw Error(cat(path_, ": damaged record (delete it)"));
      std::string s(len, '\0');
      if (len && !f.read(&s[0], len)) throw Error(cat(path_, ": damaged record (delete it)"));
      on_skip(index, s);
    }
  }
  f.clear();
  f.seekp(0, std::ios::end);
}

void ExtractCheckpoint::remove() {
  impl_->file.close();
  std::error_code ec;
  fs::remove(path_, ec);  // while still locked, so no other run can take it over half-removed
  if (impl_->lock_fd >= 0) ::close(impl_->lock_fd);
  impl_->lock_fd = -1;
}

}  // namespace fg
