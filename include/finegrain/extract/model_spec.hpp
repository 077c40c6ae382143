// Model specs: which network file, how to prepare its input, what its layers
// are called. A spec is a small text file in data/models/ (see README):
//
//   # comment
//   name        vgg16-caffe
//   format      caffe                      (caffe | onnx | tensorflow | darknet | torch | auto)
//   model       models/VGG_ILSVRC_16_layers.caffemodel
//   config      models/VGG_ILSVRC_16_layers_deploy.prototxt   (Caffe/Darknet/TF text part)
//   input       data                       (input blob name; may be empty)
//   size        224                        (default input side)
//   channels    bgr                        (order fed to the net: bgr | rgb)
//   mean        103.939 116.779 123.68     (subtracted, 0-255 units, in `channels` order)
//   std         1 1 1                      (divided by, after the mean, same order)
//   names       vgg16                      (friendly names by topology:
//                                           conv1_1..conv5_3, pool1..pool5)
//   layer       fire9 onnx_node!/fire9/Concat   (friendly name -> OpenCV's node name)
//   default-layers conv5_3
//   conv        winograd                   (3x3 convolutions under --conv auto:
//                                           winograd | opencv; default winograd)
//
// Paths are resolved relative to the spec's folder first, then under the
// assets root (FINEGRAIN_ASSETS, see assets.hpp).
#pragma once

#include <array>
#include <map>
#include <string>
#include <vector>

#include <opencv2/dnn.hpp>

#include "finegrain/extract/winograd.hpp"

namespace fg {

enum class ChannelOrder { bgr, rgb };

struct ModelSpec {
  std::string name;             // short name, e.g. "vgg16-caffe"
  std::string origin;           // the spec file it came from ("" if built in code)
  std::string format = "auto";  // caffe | onnx | tensorflow | darknet | torch | auto
  std::string model;            // weights file as written in the spec
  std::string config;           // text/topology file as written (may be empty)
  std::string input;            // input blob name (empty: the net's only input)
  int size = 224;
  ChannelOrder channels = ChannelOrder::bgr;
  std::array<double, 3> mean{0, 0, 0};        // in `channels` order, 0-255 units
  std::array<double, 3> std{1, 1, 1};         // divisor, same order
  std::string names;                          // topology naming scheme ("vgg16" or "")
  std::map<std::string, std::string> layers;  // friendly name -> OpenCV layer name
  std::vector<std::string> default_layers;
  // What --conv auto runs: Winograd wins on wide 3x3 layers (VGG16, 2-3x);
  // on small ones (SqueezeNet's expand3x3) OpenCV's direct convolution does.
  ConvImpl conv = ConvImpl::winograd;

  // Resolved paths of the model files (throws Error if they don't exist,
  // naming the spec and, for known downloadable models, the fetch command).
  std::string model_path() const;
  std::string config_path() const;
  // A text form of the spec (parseable again), for records and messages.
  std::string to_text() const;
};

// Parses spec text; `origin` names it in messages and anchors relative paths.
ModelSpec parse_model_spec(const std::string& text, const std::string& origin);

// Loads a spec by path (anything with '/' or ending in .spec), by bare name
// (looked up as <name>.spec in model_spec_dirs()), or builds one around a
// bare network file (.onnx, .caffemodel, .pb, .t7, .weights) with the VGG
// Caffe preprocessing (BGR, mean 103.939 116.779 123.68, 224).
ModelSpec load_model_spec(const std::string& name_or_path);

// Where bare spec names are looked up, in order: $FINEGRAIN_MODELS, the
// folder beside the installed programs (../share/finegrain/models), the
// source tree's data/models (../data/models from a build dir).
std::vector<std::string> model_spec_dirs();
// The names of the specs found there (for messages and --help).
std::vector<std::string> available_model_specs();

// The 13 conv (ReLU outputs) and 5 pool friendly names of VGG16, in order.
const std::vector<std::string>& vgg16_friendly_names();

// Maps friendly names of a loaded net to OpenCV layer names: the spec's
// `layer` lines, plus the topology scheme (`names vgg16`: the k-th ReLU
// layer is the k-th VGG conv, the k-th pooling layer is pool k).
class LayerMap {
 public:
  LayerMap() = default;
  LayerMap(const ModelSpec& spec, cv::dnn::Net& net);
  // A friendly name, or a raw OpenCV layer name, to the OpenCV layer name.
  // Unknown: an Error listing the valid names.
  std::string resolve(const std::string& name) const;
  bool contains(const std::string& name) const;
  // Friendly names in network order, then "raw" OpenCV names.
  const std::vector<std::string>& friendly() const { return friendly_; }
  const std::vector<std::string>& raw() const { return raw_; }
  std::string describe_valid() const;

 private:
  std::string spec_name_;
  std::map<std::string, std::string> map_;
  std::vector<std::string> friendly_;
  std::vector<std::string> raw_;
};

}  // namespace fg
