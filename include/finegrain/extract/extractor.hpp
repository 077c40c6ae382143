// The Extractor: a network (OpenCV DNN) built from a model spec and
// ExtractOptions; every tapped layer comes from one forward pass per batch,
// each pooled, fused and normalised into one feature row per image view.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>

#include "finegrain/extract/bilinear.hpp"
#include "finegrain/extract/model_spec.hpp"
#include "finegrain/extract/options.hpp"
#include "finegrain/extract/pooling.hpp"

namespace fg {

// A batch of images prepared for the network: one NCHW blob per scale,
// holding rows_per_image x flips views of each image.
struct PreparedBatch {
  std::vector<cv::Mat> blobs;
  std::size_t images = 0;
};

class Extractor {
 public:
  // Loads the network and checks layers/options. Every problem (missing
  // model file, load failure, unknown layer with the valid names, bad
  // weights count) is an Error thrown here, before any image is read.
  Extractor(const ModelSpec& spec, const ExtractOptions& options);
  explicit Extractor(const ExtractOptions& options);  // spec from options.model
  // Around a network built in memory (benchmarks, tests): the spec gives
  // preprocessing and names; its model files are not read.
  Extractor(const ModelSpec& spec, cv::dnn::Net net, const ExtractOptions& options);
  ~Extractor();

  const ModelSpec& spec() const { return spec_; }
  // The options as run: resolved for the spec (conv never auto).
  const ExtractOptions& options() const { return options_; }
  // Feature blocks as the user named them (a layer, or "a*b" for a
  // cross-layer product), and the tapped layers as OpenCV names them (each
  // once, in order of first use).
  const std::vector<std::string>& layers() const { return layers_; }
  const std::vector<std::string>& layer_nodes() const { return nodes_; }
  const LayerMap& layer_map() const { return map_; }
  // Length of one feature row.
  std::size_t dim() const { return dim_; }
  // Rows written per image (augmentation) and their key suffixes; the
  // first is "" (the image as it is), then "#flip", "#crop-tl", ...
  std::size_t rows_per_image() const { return suffixes_.size(); }
  const std::vector<std::string>& row_suffixes() const { return suffixes_; }
  // Network input pixels per image: views (flips, crops) x sum of scale^2.
  std::size_t input_pixels_per_image() const;

  // Stage 1, thread-safe (no network): resize/crop/mirror into blobs.
  // The blobs of `reuse` are written over when their shape fits, so a
  // pipeline can recycle batches instead of faulting in fresh memory.
  PreparedBatch prepare(const std::vector<cv::Mat>& images, PreparedBatch reuse = {}) const;
  // Stage 2: one forward pass per scale, pooling, merging. `out` receives
  // images x rows_per_image rows of dim() floats.
  void compute(const PreparedBatch& batch, std::vector<float>& out);
  // Both, for in-process callers.
  std::vector<float> extract(const std::vector<cv::Mat>& images);

  // The attn activation map and kept region of one image at one layer
  // (default: the first tapped layer), at the first scale, no flip. `view`,
  // if given, receives the network's view of the image the map belongs to.
  AttentionMap attention(const cv::Mat& image, const std::string& layer = "",
                         cv::Mat* view = nullptr);

  // Seconds spent in the network so far (setInput, which copies the blob,
  // and forward).
  double forward_seconds() const { return forward_seconds_; }

 private:
  struct View {
    int row;  // augmentation row
    bool mirror;
    int crop;  // -1 none, 0..4 tl, tr, bl, br, centre
  };
  cv::Mat make_view(const cv::Mat& image, const View& v, int side) const;
  // One block of the feature vector: a tapped layer pooled, or the
  // second-order product of two tapped layers (a == b for one layer).
  struct Block {
    std::size_t a, b;
    std::size_t dim, offset;  // in a view vector
  };
  // Pools every block of batch item `item` into view[0 .. view_dim_). For
  // matrix-sqrt, the scaled map columns go to factors[block] instead.
  void pool_item(const std::vector<cv::Mat>& outs, std::size_t item, float* view,
                 double view_weight, MatrixRowF* factors) const;
  // Second-order blocks are normalised (and weighted) once their views are
  // merged: one merged slot of a row, with (matrix-sqrt) the factors of the
  // views merged into each block.
  void finish_second_order(float* slot,
                           const std::vector<std::vector<const MatrixRowF*>>& factors) const;
  void load_net();
  void setup();

  ModelSpec spec_;
  ExtractOptions options_;
  cv::dnn::Net net_;
  LayerMap map_;
  std::vector<std::string> layers_, nodes_;
  std::vector<std::size_t> channels_;  // per tapped layer
  std::vector<Block> blocks_;
  std::vector<TensorSketch> sketches_;  // per block, for compact-bilinear
  std::size_t view_dim_ = 0;            // all layers of one view
  std::size_t dim_ = 0;
  std::vector<int> scales_;
  std::vector<View> views_;  // per image, per scale
  std::vector<std::string> suffixes_;
  double forward_seconds_ = 0;
};

// The layer names of a model (a spec name or path) for --list-layers: the
// friendly names with the OpenCV layer each stands for ("name<TAB>opencv"),
// then every OpenCV layer name, one per line.
std::string layer_listing(const std::string& model);

}  // namespace fg
