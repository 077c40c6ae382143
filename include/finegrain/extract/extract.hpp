// CNN feature extraction: images -> pooled conv features, with OpenCV DNN.
//
// An Extractor is built from a model spec and ExtractOptions; every tapped
// layer comes from one forward pass per batch. ExtractOptions round-trip
// through text (key=value lines), so a fitted bundle can record them and
// reproduce the same features later (fg-score).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <boost/program_options.hpp>
#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>

#include "finegrain/extract/bilinear.hpp"
#include "finegrain/extract/image.hpp"
#include "finegrain/extract/model_spec.hpp"
#include "finegrain/extract/pooling.hpp"
#include "finegrain/extract/winograd.hpp"

namespace fg {

enum class Merge { mean, concat };
Merge parse_merge(const std::string& name);  // mean | concat
std::string to_string(Merge m);

// Everything that determines the feature values (not speed knobs).
struct ExtractOptions {
  std::string model = "squeezenet1_1_imagenet_notop";  // spec name or path
  std::vector<std::string>
      layers;               // empty: the spec's default layers; "a*b": a cross-layer bilinear block
  int size = 0;             // input side; 0: the spec's
  std::vector<int> scales;  // several sides, pooled per scale then merged; empty: {size}
  ResizeMode resize = ResizeMode::warp;
  PoolOptions pool;
  std::vector<double> layer_weights;  // one per layer (fusion); empty: all 1
  Norm norm = Norm::l2;               // on the final vector
  bool flip = false;                  // also the mirrored image, merged per flip_merge
  Merge flip_merge = Merge::mean;
  Merge scale_merge = Merge::mean;
  bool augment_flip = false;     // extra rows: mirrored copy
  bool augment_crops = false;    // extra rows: 4 corner + centre crops
  double crop_fraction = 0.875;  // side of augmentation crops, fraction of the image's
  std::uint64_t max_pixels = kDefaultMaxPixels;
  // How 3x3 stride-1 convolutions run: the same features to ~1e-6 either
  // way, recorded so that a table says how it was made.
  ConvImpl conv = ConvImpl::winograd;

  // key=value lines, one per option, in a fixed order ("C" locale numbers).
  std::string to_text() const;
  // Parses to_text() output; unknown keys or bad values are an Error
  // naming `origin`. Missing keys keep their defaults.
  static ExtractOptions from_text(const std::string& text, const std::string& origin = "options");

  // The same as "extract.<key>=value" lines, for a feature table's
  // provenance (other stages add their own lines after them), and back:
  // lines without the prefix are ignored.
  std::string provenance_text() const;
  static ExtractOptions from_provenance(const std::string& text,
                                        const std::string& origin = "provenance");

  // The command-line options of fg-extract (and fg-score) for these fields.
  static void add_options(boost::program_options::options_description& options);
  static ExtractOptions from_variables(const boost::program_options::variables_map& vm);
};

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

// Pipelined extraction over image files: a producer thread decodes and
// prepares batch k+1 while the network runs batch k. Results arrive in
// index order on the calling thread: on_rows(index, rows) with
// rows_per_image x dim floats, or on_skip(index, problem) for an image that
// could not be used. `todo` lists the indexes into `paths` to process.
// An image that decoded with errors is, by `on_corrupt`, used with a warning
// naming it (counted in `damaged`) or passed to on_skip.
struct PipelineStats {
  std::size_t images = 0;
  std::size_t skipped = 0;
  std::size_t damaged = 0;     // of `images`: decoded with errors, used (OnCorrupt::warn)
  double seconds = 0;          // wall time of the whole loop
  double forward_seconds = 0;  // in the network (setInput + forward)
};
PipelineStats extract_files(Extractor& extractor, const std::vector<std::string>& paths,
                            const std::vector<std::size_t>& todo, std::size_t batch_size,
                            const std::function<void(std::size_t, const float*)>& on_rows,
                            const std::function<void(std::size_t, const std::string&)>& on_skip,
                            const std::function<void(std::size_t)>& on_progress = {},
                            OnCorrupt on_corrupt = OnCorrupt::warn);

// The work file beside an output (<output>.partial) that makes an
// interrupted extraction resumable. It is not a feature table (own magic,
// no end marker), so nothing mistakes it for finished output. Records are
// appended and flushed per batch; a torn last record is dropped on resume.
class ExtractCheckpoint {
 public:
  static std::string path_for(const std::string& output) { return output + ".partial"; }
  // Opens `path`. With resume and a file made with the same `identity`
  // (options, model, manifest), keeps its records; a different identity is
  // an Error saying so. Without resume, starts a new file. The file is
  // locked (flock) while this object lives: a second run on the same output
  // fails with an Error naming the running one's pid.
  ExtractCheckpoint(const std::string& path, const std::string& identity, std::size_t dim,
                    std::size_t rows_per_image, bool resume);
  ~ExtractCheckpoint();
  std::size_t resumed() const { return resumed_; }
  // Whether a partial file (of an earlier run) was there before.
  bool existed() const { return existed_; }
  bool done(std::size_t index) const { return records_.count(index) != 0; }
  void add_rows(std::size_t index, const float* rows);
  void add_skip(std::size_t index, const std::string& problem);
  void flush();
  // Every record, in index order.
  void replay(const std::function<void(std::size_t, const float*)>& on_rows,
              const std::function<void(std::size_t, const std::string&)>& on_skip);
  void remove();
  const std::string& path() const { return path_; }

 private:
  struct Impl;
  void lock();
  std::string path_;
  std::size_t dim_, rows_per_image_;
  std::size_t resumed_ = 0;
  bool existed_ = false;
  std::map<std::size_t, std::uint64_t> records_;  // index -> file offset
  std::unique_ptr<Impl> impl_;
};

// A 64-bit FNV-1a fingerprint of text (manifest identity for checkpoints).
std::uint64_t fingerprint(const std::string& text);

}  // namespace fg
