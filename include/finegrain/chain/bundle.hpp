// A fitted chain in one folder, so one program (fg-score) can turn images
// into predictions exactly as the stage programs did:
//
//   BUNDLE            "finegrain-bundle 1", then one line per part:
//                     "<file> <sha256>", and "network <sha256> <path>" for
//                     each network file the model spec names
//   extract.txt       the extraction settings (fg-extract's record in the
//                     training features' provenance), augmentation off
//   model.spec        the model spec (network files stay where they are)
//   pca.model         optional
//   mic.model         optional
//   classifier.model
//
// BUNDLE is written last, so a folder without it is not a bundle. Loading
// verifies every checksum, and the dimensions from stage to stage.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "finegrain/classify/classifier.hpp"
#include "finegrain/extract/model_spec.hpp"
#include "finegrain/extract/options.hpp"
#include "finegrain/reduce/mic.hpp"
#include "finegrain/reduce/pca.hpp"

namespace fg {

inline constexpr int kBundleVersion = 1;

struct BundleParts {
  std::string features;    // training features written by fg-extract (for its settings)
  std::string pca;         // optional
  std::string mic;         // optional
  std::string classifier;  // required
};

class Bundle {
 public:
  // Checks that the parts fit together, then writes the folder.
  static void create(const std::string& dir, const BundleParts& parts);
  static Bundle load(const std::string& dir);

  const ExtractOptions& extract_options() const { return extract_; }
  const ModelSpec& spec() const { return spec_; }
  const Classifier& classifier() const { return classifier_; }
  bool has_pca() const { return pca_.has_value(); }
  bool has_mic() const { return mic_.has_value(); }
  // The feature dimension the chain takes (what the extractor must give).
  std::size_t input_dim() const;
  // A one-line description of the chain, for logs.
  std::string describe() const;

  // One extracted feature row -> the classifier's input (PCA, then MIC
  // selection, with the same arithmetic as fg-pca apply / fg-mic apply).
  // `work` is scratch space reused between calls.
  const float* transform(const float* features, std::vector<float>& work) const;
  std::vector<Prediction> predict(const float* features, std::size_t topk,
                                  std::vector<float>& work) const;

 private:
  ExtractOptions extract_;
  ModelSpec spec_;
  std::optional<PcaModel> pca_;
  std::optional<mic::SelectionModel> mic_;
  Classifier classifier_;
};

}  // namespace fg
