// ExtractOptions: the settings that determine feature values, as text, provenance and options.
#include "finegrain/extract/options.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <sstream>

#include "finegrain/core/common.hpp"
#include "finegrain/core/io.hpp"
#include "finegrain/core/option_range.hpp"
#include "finegrain/core/text.hpp"
#include "finegrain/extract/bilinear.hpp"

namespace po = boost::program_options;

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

std::string join_text(const std::vector<std::string>& v) {
  return join<std::string>(v, [](const std::string& s) { return s; });
}
std::string sides_text(const std::vector<int>& sides) {
  return join<int>(sides, [](const int& s) { return std::to_string(s); });
}
std::string weights_text(const std::vector<double>& weights) {
  return join<double>(weights, [](const double& w) { return format_double(w); });
}
std::string resize_text(ResizeMode mode) { return mode == ResizeMode::warp ? "warp" : "crop"; }

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
  return a.empty() ? "none" : join_text(a);
}

constexpr std::size_t kMaxSketchDim = std::size_t(1) << 20;

std::size_t parse_sketch_dim(const std::string& text) {
  long long v;
  if (!parse_int(text, v) || v < 16 || v > (long long)kMaxSketchDim)
    throw UsageError(cat("'", text, "' is not a sketch size in 16..", kMaxSketchDim));
  return std::size_t(v);
}

// --conv and extract.conv: winograd | opencv, or auto (empty: the spec's).
std::optional<ConvImpl> parse_conv_choice(const std::string& text) {
  if (text == "auto") return std::nullopt;
  if (text == "winograd" || text == "opencv") return parse_conv_impl(text);
  throw UsageError(cat("unknown convolution '", text, "' (auto, winograd, opencv)"));
}

std::string conv_choice_text(const std::optional<ConvImpl>& conv) {
  return conv ? to_string(*conv) : "auto";
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

}  // namespace

std::string ExtractOptions::to_text() const {
  std::ostringstream out;
  out.imbue(std::locale::classic());
  out << "model=" << model << "\n";
  out << "layers=" << join_text(layers) << "\n";
  out << "size=" << size << "\n";
  out << "scales=" << sides_text(scales) << "\n";
  out << "resize=" << resize_text(resize) << "\n";
  out << "pooling=" << to_string(pool.pooling) << "\n";
  out << "gem-p=" << format_double(pool.gem_p) << "\n";
  out << "attn-pool=" << to_string(pool.attn_pool) << "\n";
  // Second-order settings only where they change the values, so tables of
  // other poolings keep their provenance (and still join with older ones).
  if (pool.second_order()) out << "bilinear-norm=" << to_string(pool.bilinear_norm) << "\n";
  if (pool.effective() == Pooling::compact_bilinear)
    out << "sketch-dim=" << pool.sketch_dim << "\nsketch-seed=" << pool.seed << "\n";
  out << "layer-weights=" << weights_text(layer_weights) << "\n";
  out << "norm=" << to_string(norm) << "\n";
  out << "flip=" << (flip ? 1 : 0) << "\n";
  out << "flip-merge=" << to_string(flip_merge) << "\n";
  out << "scale-merge=" << to_string(scale_merge) << "\n";
  out << "augment=" << augment_text(*this) << "\n";
  out << "crop-fraction=" << format_double(crop_fraction) << "\n";
  out << "max-pixels=" << max_pixels << "\n";
  out << "conv=" << conv_choice_text(conv) << "\n";
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
        o.conv = parse_conv_choice(value);
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

namespace {
const char kExtractStage[] = "stage=fg-extract";
const char kSpecNameKey[] = "model-spec-name=";
}  // namespace

std::string ExtractionRecord::provenance() const {
  return cat(kExtractStage, "\n", options.provenance_text(), kSpecNameKey, spec_name, "\n");
}

std::optional<ExtractionRecord> ExtractionRecord::find(const std::string& provenance,
                                                       const std::string& origin) {
  std::istringstream lines(provenance);
  bool found = false;
  std::string spec_name;
  for (std::string line; std::getline(lines, line);) {
    if (line == kExtractStage) found = true;
    if (line.rfind(kSpecNameKey, 0) == 0) spec_name = line.substr(sizeof kSpecNameKey - 1);
  }
  if (!found) return std::nullopt;
  return ExtractionRecord{ExtractOptions::from_provenance(provenance, origin), spec_name};
}

ExtractOptions ExtractOptions::resolved(const ModelSpec& spec) const {
  ExtractOptions r = *this;
  if (!r.conv) r.conv = spec.conv;
  return r;
}

ExtractOptions ExtractOptions::canonical(const ModelSpec& spec) const {
  const ExtractOptions d;
  ExtractOptions c = resolved(spec);
  c.model.clear();
  if (c.scales.size() == 1) {
    c.size = c.scales.front();
    c.scales.clear();
  }
  if (c.scales.empty()) {
    if (c.size == 0) c.size = spec.size;
    c.scale_merge = d.scale_merge;
  } else {
    c.size = 0;  // unused
  }
  if (c.layers.empty()) c.layers = spec.default_layers;
  if (std::all_of(c.layer_weights.begin(), c.layer_weights.end(),
                  [](double w) { return w == 1.0; }))
    c.layer_weights.clear();
  if (c.pool.pooling != Pooling::attn) c.pool.attn_pool = d.pool.attn_pool;
  if (c.pool.effective() != Pooling::gem) c.pool.gem_p = d.pool.gem_p;
  if (!c.flip) c.flip_merge = d.flip_merge;
  if (!c.augment_crops) c.crop_fraction = d.crop_fraction;
  return c;
}

namespace {
// The lines of a provenance that are not its extraction record, in order.
std::string other_lines(const std::string& provenance) {
  std::istringstream lines(provenance);
  std::string out;
  for (std::string line; std::getline(lines, line);)
    if (line != kExtractStage && line.rfind("extract.", 0) != 0 && line.rfind(kSpecNameKey, 0) != 0)
      out += line + "\n";
  return out;
}

// The extraction record's settings in canonical form; without the model
// spec (not on this machine), the spec-free part of that.
std::string canonical_text(const ExtractionRecord& record) {
  for (const std::string& name : {record.options.model, record.spec_name}) {
    try {
      return record.options.canonical(load_model_spec(name)).to_text();
    } catch (const Error&) {}
  }
  ModelSpec unknown;
  unknown.size = 0;
  return record.options.canonical(unknown).to_text();
}
}  // namespace

bool same_provenance(const std::string& a, const std::string& b) {
  if (a == b) return true;
  if (other_lines(a) != other_lines(b)) return false;
  std::optional<ExtractionRecord> ra, rb;
  try {
    ra = ExtractionRecord::find(a);
    rb = ExtractionRecord::find(b);
  } catch (const Error&) {
    return false;  // a damaged record is not the same as anything
  }
  if (!ra || !rb) return false;
  return ra->spec_name == rb->spec_name && canonical_text(*ra) == canonical_text(*rb);
}

void ExtractOptions::add_options(po::options_description& options) {
  const ExtractOptions d;
  // clang-format off
  options.add_options()
    ("model,m", po::value<std::string>()->default_value(d.model),
     "model spec: a name from data/models (squeezenet1_1_imagenet_notop, vgg16-caffe, vgg16-onnx, "
     "vgg16_tiny_seeded), a .spec path, or a bare .onnx/.caffemodel file")
    ("layers,l", po::value<std::string>()->default_value(join_text(d.layers)),
     "comma-separated layers to tap, e.g. conv4_3,conv5_3 or fire8,fire9 (default: the spec's "
     "default-layers); OpenCV layer names work too. With bilinear pooling, a*b is the cross-layer "
     "product of two layers with the same spatial size (C_a x C_b values)")
    ("size", ranged<int>(0, 8192)->default_value(d.size), "input side in pixels (0 = the spec's, usually 224)")
    ("scales", po::value<std::string>()->default_value(sides_text(d.scales)),
     "several input sides, e.g. 224,448: pooled per scale then merged (--scale-merge)")
    ("scale-merge", po::value<std::string>()->default_value(to_string(d.scale_merge)), "merge of scales: mean | concat")
    ("resize", po::value<std::string>()->default_value(resize_text(d.resize)),
     "warp (squash to size x size) | crop (shorter side to size, then centre crop)")
    ("pool,p", po::value<std::string>()->default_value(to_string(d.pool.pooling)),
     "pooling per layer: avg | max | avgmax (avg then max, concatenated) | gem | attn (SCDA-style selective) | "
     "bilinear (mean outer product, C(C+1)/2 values) | compact-bilinear (its Tensor Sketch, --sketch-dim values)")
    ("gem-p", defaults_to(ranged<double>(0, 100, Ends::open_low), d.pool.gem_p), "exponent of gem pooling")
    ("attn-pool", po::value<std::string>()->default_value(to_string(d.pool.attn_pool)),
     "pooling inside the attn region: avg | max | avgmax | gem | bilinear | compact-bilinear")
    ("bilinear-norm", po::value<std::string>()->default_value(to_string(d.pool.bilinear_norm)),
     "normalisation of each bilinear block, after the views (--flip, --scales) are averaged: signed-sqrt "
     "(element-wise, then L2) | matrix-sqrt (B^1/2, then L2; not for a*b or compact-bilinear) | none")
    ("sketch-dim", po::value<std::string>()->default_value(std::to_string(d.pool.sketch_dim)),
     "length of a compact-bilinear block, 16..1048576 (powers of two are fastest)")
    ("sketch-seed", po::value<std::string>()->default_value(std::to_string(d.pool.seed)),
     "seed of the compact-bilinear hash functions (recorded in the table; test features must use the training "
     "features' seed)")
    ("layer-weights", po::value<std::string>()->default_value(weights_text(d.layer_weights)),
     "weights of the layers in a fusion, e.g. 1,0.5 (default: all 1)")
    ("norm", po::value<std::string>()->default_value(to_string(d.norm)),
     "normalisation of the final vector: none | l2 | power-l2 (signed square root, then L2)")
    ("flip", po::bool_switch(), "also pass the mirrored image and merge (--flip-merge)")
    ("flip-merge", po::value<std::string>()->default_value(to_string(d.flip_merge)), "merge of image and mirror: mean | concat")
    ("augment", po::value<std::string>()->default_value(augment_text(d)),
     "extra training rows: flip (mirrored copy, key#flip), crops (4 corners + centre, key#crop-tl ...), "
     "or flip,crops (all, and their mirrors)")
    ("crop-fraction", defaults_to(ranged<double>(0, 1, Ends::open_low), d.crop_fraction),
     "side of the --augment crops as a fraction of the image's")
    ("max-pixels", ranged<std::uint64_t>(0, unbounded<std::uint64_t>())->default_value(d.max_pixels),
     "refuse images with more pixels than this, checked in the file header before decoding (0 = no limit)")
    ("conv", po::value<std::string>()->default_value(conv_choice_text(d.conv)),
     "3x3 stride-1 convolutions: auto (the model spec's conv line, the faster one for that network: "
     "winograd for VGG16, opencv for SqueezeNet; winograd without one) | winograd (F(4x4,3x3)) | "
     "opencv (OpenCV's direct convolution). The table records the one used");
  // clang-format on
}

ExtractOptions ExtractOptions::from(const po::variables_map& vm) {
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
  with("conv", [&](const std::string& v) { o.conv = parse_conv_choice(v); });
  return o;
}

}  // namespace fg
