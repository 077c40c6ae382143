// The Extractor: a network, its tapped layers, and the pooling of their maps into rows.
#include "finegrain/extract/extractor.hpp"

#include <algorithm>
#include <chrono>
#include <set>

#include <Eigen/Core>
#include <opencv2/imgproc.hpp>

#include "finegrain/core/common.hpp"
#include "finegrain/core/text.hpp"

namespace fg {

namespace {

const char* const kCropNames[5] = {"tl", "tr", "bl", "br", "c"};

// Eigen's products single-threaded while the pooling runs on OpenCV's
// threads (one map per thread already keeps both cores busy).
struct EigenSingleThread {
  int saved = Eigen::nbThreads();
  EigenSingleThread() { Eigen::setNbThreads(1); }
  ~EigenSingleThread() { Eigen::setNbThreads(saved); }
};

// Positions (H x W) of a conv output, and its shape for messages.
std::size_t map_positions(const cv::Mat& o) {
  return std::size_t(o.dims >= 3 ? o.size[2] : 1) * std::size_t(o.dims >= 4 ? o.size[3] : 1);
}
std::string map_shape(const cv::Mat& o) {
  return cat(o.dims >= 2 ? o.size[1] : 1, "x", o.dims >= 3 ? o.size[2] : 1, "x",
             o.dims >= 4 ? o.size[3] : 1);
}
}  // namespace

Extractor::Extractor(const ExtractOptions& options)
    : Extractor(load_model_spec(options.model), options) {}

// OpenCV DNN creates the layers while reading the model and at the first
// forward pass (in setup): options.conv, resolved for the spec (auto: the
// spec's), decides their convolutions then.
Extractor::Extractor(const ModelSpec& spec, const ExtractOptions& options)
    : spec_(spec), options_(options.resolved(spec)) {
  ConvImplScope conv(*options_.conv);
  load_net();
  setup();
}

Extractor::Extractor(const ModelSpec& spec, cv::dnn::Net net, const ExtractOptions& options)
    : spec_(spec), options_(options.resolved(spec)), net_(std::move(net)) {
  ConvImplScope conv(*options_.conv);
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

std::string layer_listing(const std::string& model) {
  const ModelSpec spec = load_model_spec(model);
  cv::dnn::Net net = cv::dnn::readNet(spec.model_path(), spec.config_path(),
                                      spec.format == "auto" ? "" : spec.format);
  const LayerMap map(spec, net);
  std::string text;
  for (const auto& f : map.friendly()) text += cat(f, "\t", map.resolve(f), "\n");
  for (const auto& r : map.raw()) text += r + "\n";
  return text;
}

}  // namespace fg
