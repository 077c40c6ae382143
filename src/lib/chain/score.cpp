// fg-score's run: extraction, the fitted chain and the predictions file, image by image.
#include "finegrain/chain/score.hpp"

#include <cmath>

#include "finegrain/chain/bundle.hpp"
#include "finegrain/core/common.hpp"
#include "finegrain/core/io.hpp"
#include "finegrain/core/option_range.hpp"
#include "finegrain/data/manifest.hpp"

namespace po = boost::program_options;

namespace fg {

void ScoreOptions::add_options(po::options_description& options) {
  const ScoreOptions d;
  options.add_options()("top-k", ranged<std::size_t>(1, 100000)->default_value(d.top_k),
                        "classes per image, best first");
  RunOptions::add_options(options, false);
  options.add_options()("conv", po::value<std::string>(),
                        "3x3 stride-1 convolutions: winograd | opencv (default: the bundle's, as "
                        "its features were extracted; the values agree to ~1e-6 either way)");
}

ScoreOptions ScoreOptions::from(const po::variables_map& vm) {
  ScoreOptions o;
  o.top_k = vm["top-k"].as<std::size_t>();
  if (vm.count("conv")) o.conv = parse_conv_impl(vm["conv"].as<std::string>());
  o.run = RunOptions::from(vm);
  return o;
}

RunReport score_images(const std::string& bundle_dir, const std::string& input,
                       const std::string& output, const ScoreOptions& options) {
  const Manifest manifest = images_to_score(input);
  // Both outputs are staged now (an unwritable one fails at once).
  ImageRun run(output, "the predictions", options.run);
  AtomicOutput out(run.output_stage(), false);

  const Bundle bundle = Bundle::load(bundle_dir);
  ExtractOptions extract_options = bundle.extract_options();
  if (options.conv) extract_options.conv = *options.conv;
  Extractor extractor(bundle.spec(), extract_options);
  if (extractor.dim() != bundle.input_dim())
    throw Error(cat(bundle_dir, ": the extractor gives dimension ", extractor.dim(),
                    ", the chain takes ", bundle.input_dim()));
  log::detail(cat("chain: ", bundle.describe()));

  const auto& classes = bundle.classifier().classes();
  out.stream() << predictions_header(classes, options.top_k);
  std::vector<std::string> paths;
  for (const auto& entry : manifest) paths.push_back(entry.path);
  std::vector<float> work;
  return run.run(
      extractor, paths,
      [&](std::size_t i, const float* features) {
        out.stream() << prediction_line(manifest[i].path, manifest[i].label,
                                        bundle.predict(features, options.top_k, work), classes);
      },
      [&] { out.commit(); });
}

std::string score_summary(const RunReport& report, const RunOptions& run) {
  const PipelineStats& s = report.stats;
  return cat("Done ", report.images, " images",
             s.damaged ? cat(" (", s.damaged, " decoded with errors)") : "", ", ",
             skipped_note(report.skipped, run), "; ",
             format_double(s.seconds > 0 ? std::round(10 * report.images / s.seconds) / 10 : 0),
             " images/s");
}

}  // namespace fg
