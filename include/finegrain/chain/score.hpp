// fg-score's run: a bundle over a folder of images or a manifest -> predictions.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include <boost/program_options.hpp>

#include "finegrain/extract/run.hpp"
#include "finegrain/extract/winograd.hpp"

namespace fg {

struct ScoreOptions {
  std::size_t top_k = 1;         // classes per image, best first, 1..100000
  std::optional<ConvImpl> conv;  // the 3x3 convolutions; default: the bundle's
  RunOptions run;

  // --top-k, the run options (no --resume) and --conv.
  static void add_options(boost::program_options::options_description& options);
  static ScoreOptions from(const boost::program_options::variables_map& vm);
};

// Scores the images of `input` (images_to_score) with the bundle at
// `bundle_dir` into `output` in fg-predict's format, with ImageRun's
// bookkeeping (warnings, --skipped, outputs committed together).
RunReport score_images(const std::string& bundle_dir, const std::string& input,
                       const std::string& output, const ScoreOptions& options);
std::string score_summary(const RunReport& report, const RunOptions& run);

}  // namespace fg
