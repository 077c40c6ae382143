// ExtractOptions: everything that determines the feature values (not speed
// knobs). They round-trip through text (key=value lines), so a feature
// table's provenance and a fitted bundle can record them and reproduce the
// same features later (fg-score).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

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
  // way, recorded so that a table says how it was made. Empty ("auto"): the
  // model spec's `conv` line, the faster one for that network (resolved()).
  std::optional<ConvImpl> conv;

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

  // The settings with the choices left to the model spec made: conv auto
  // becomes the spec's conv. The one place auto is resolved: the Extractor
  // runs (and fg-extract records) these, canonical() starts from them.
  ExtractOptions resolved(const ModelSpec& spec) const;

  // The same settings in canonical form for the model spec they run with:
  // resolved(spec), its defaults spelled out (size, layers), one-scale lists as a size,
  // all-1 layer weights dropped, settings that do not apply reset (gem-p
  // without gem, attn-pool without attn, flip-merge without flip,
  // scale-merge with one scale, crop-fraction without crops), and the
  // model left out (name or path: the spec says which). Two settings that
  // make the same values have the same canonical to_text().
  ExtractOptions canonical(const ModelSpec& spec) const;

  // The command-line options of fg-extract (and fg-score) for these fields.
  static void add_options(boost::program_options::options_description& options);
  static ExtractOptions from(const boost::program_options::variables_map& vm);
};

// The record of an extraction that heads a feature table's provenance
// (fg-extract writes it; later stages append their own lines after it):
//
//   stage=fg-extract
//   extract.<key>=<value>   one per option, as ExtractOptions::provenance_text()
//   model-spec-name=<name>  the model spec the values came from
struct ExtractionRecord {
  ExtractOptions options;  // fg-extract writes Extractor::options(): conv concrete, never auto
  std::string spec_name;

  std::string provenance() const;
  // The record in `provenance`, or nothing when it holds none (a table not
  // made by fg-extract, or converted from LIBSVM/CSV). A damaged record is
  // an Error naming `origin`.
  static std::optional<ExtractionRecord> find(const std::string& provenance,
                                              const std::string& origin = "provenance");
};

// Whether two feature tables' provenances say their values were made the
// same way: their extraction records compared in canonical form (with the
// model spec, when it can be found), every other line as text. For joining
// tables (fg-convert, fg-jobs) and the like.
bool same_provenance(const std::string& a, const std::string& b);

}  // namespace fg
