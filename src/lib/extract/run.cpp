// Runs over image files: fg-extract's whole run, and what fg-score shares with it.
#include "finegrain/extract/run.hpp"

#include <algorithm>
#include <cstdio>

#include <opencv2/core/utility.hpp>

#include "finegrain/core/common.hpp"
#include "finegrain/core/option_range.hpp"
#include "finegrain/core/progress.hpp"
#include "finegrain/core/random.hpp"
#include "finegrain/data/table.hpp"

namespace po = boost::program_options;

namespace fg {

void RunOptions::add_options(po::options_description& options, bool resumable) {
  const RunOptions d;
  // clang-format off
  options.add_options()
    ("batch,b", ranged<std::size_t>(1, 4096)->default_value(d.batch), "images per forward pass")
    ("skipped", po::value<std::string>(), "write the images that could not be used to this file "
     "(path<TAB>problem lines)")
    ("on-corrupt", po::value<std::string>()->default_value(to_string(d.on_corrupt)),
     "an image that decodes with errors (e.g. a JPEG with corrupt data): warn (use it, with a "
     "warning naming it) | skip (leave it out like an unreadable one)");
  if (resumable)
    options.add_options()
      ("resume", po::bool_switch(), "continue from <features-out>.partial left by an interrupted run "
       "with the same options, model and manifest, without recomputing it");
  options.add_options()
    ("progress", po::bool_switch(), "show the progress line even when stderr is not a terminal");
  // clang-format on
}

RunOptions RunOptions::from(const po::variables_map& vm) {
  RunOptions o;
  o.batch = vm["batch"].as<std::size_t>();
  if (vm.count("skipped")) o.skipped = vm["skipped"].as<std::string>();
  o.progress = vm["progress"].as<bool>();
  o.on_corrupt = parse_on_corrupt(vm["on-corrupt"].as<std::string>());
  o.resume = vm.count("resume") && vm["resume"].as<bool>();
  return o;
}

ImageRun::ImageRun(const std::string& output, const std::string& what, const RunOptions& options)
    : options_(options), output_(output), writes_through_(fg::writes_through(output)) {
  output_stage_ = outputs_.add(output, what);
  if (!options_.skipped.empty()) skipped_stage_ = outputs_.add(options_.skipped, "--skipped");
}

RunReport ImageRun::run(Extractor& extractor, const std::vector<std::string>& paths,
                        const std::function<void(std::size_t, const float*)>& on_rows,
                        const std::function<void()>& finish_output, ExtractCheckpoint* checkpoint) {
  std::vector<std::size_t> todo;
  for (std::size_t i = 0; i < paths.size(); ++i)
    if (!checkpoint || !checkpoint->done(i)) todo.push_back(i);
  RunReport report;
  std::vector<std::pair<std::size_t, std::string>> skipped;
  auto use = [&](std::size_t i, const float* rows) {
    on_rows(i, rows);
    ++report.images;
  };
  Progress progress("images", todo.size(), options_.progress);
  report.stats = extract_files(
      extractor, paths, todo, options_.batch,
      [&](std::size_t i, const float* rows) {
        if (checkpoint)
          checkpoint->add_rows(i, rows);
        else
          use(i, rows);
      },
      [&](std::size_t i, const std::string& problem) {
        log::warn(cat(paths[i], ": ", problem, "; skipped"));
        if (checkpoint)
          checkpoint->add_skip(i, problem);
        else
          skipped.emplace_back(i, problem);
      },
      [&](std::size_t done) {
        if (checkpoint) checkpoint->flush();
        progress.update(done);
      },
      options_.on_corrupt);
  progress.finish();
  if (checkpoint) {
    report.resumed = checkpoint->resumed();
    checkpoint->replay(
        use, [&](std::size_t i, const std::string& problem) { skipped.emplace_back(i, problem); });
  }
  report.skipped = skipped.size();
  if (report.images == 0) {
    if (checkpoint) checkpoint->remove();
    throw Error(cat("no image could be read (", skipped.size(), " skipped)",
                    writes_through_ ? "" : cat("; ", output_, " not written")));
  }
  finish_output();
  if (!options_.skipped.empty()) {
    AtomicOutput list(skipped_stage_, false);
    for (const auto& [i, problem] : skipped) list.stream() << paths[i] << '\t' << problem << '\n';
    list.commit();
  }
  outputs_.commit();
  if (checkpoint) checkpoint->remove();  // only now: a failed write above can still --resume
  return report;
}

std::string skipped_note(std::size_t skipped, const RunOptions& run) {
  std::string note = cat(skipped, " skipped");
  if (skipped)
    note += run.skipped.empty() ? " (list them with --skipped FILE)"
                                : cat(" (listed in ", run.skipped, ")");
  return note;
}

std::string checkpoint_identity(const ExtractOptions& options, const ModelSpec& spec,
                                const Manifest& manifest, const RunOptions& run) {
  std::string manifest_text;
  for (const auto& e : manifest) manifest_text += e.path + "\t" + e.label + "\n";
  return cat(options.canonical(spec).to_text(), "--spec--\n", spec.to_text(),
             "--manifest-fnv1a64-- ", fnv1a(manifest_text), "\n--threads ", cv::getNumThreads(),
             " --batch ", run.batch, run.on_corrupt == OnCorrupt::skip ? " --on-corrupt skip" : "",
             "\n");
}

namespace {
// The partial file of a run to `output`, with what the user should know about it.
std::unique_ptr<ExtractCheckpoint> open_checkpoint(const std::string& output,
                                                   const std::string& identity,
                                                   const Extractor& extractor, std::size_t images,
                                                   bool resume) {
  const std::string partial = ExtractCheckpoint::path_for(output);
  auto checkpoint = std::make_unique<ExtractCheckpoint>(partial, identity, extractor.dim(),
                                                        extractor.rows_per_image(), resume);
  if (!resume && checkpoint->existed())
    log::warn(cat(partial,
                  ": replacing the work of an earlier interrupted run (use --resume to continue "
                  "it)"));
  if (resume && !checkpoint->existed())
    log::info(cat(partial, ": nothing to resume, starting afresh"));
  if (checkpoint->resumed())
    log::info(cat("resuming: ", checkpoint->resumed(), " of ", images, " images already done"));
  return checkpoint;
}
}  // namespace

RunReport extract_table(const ExtractOptions& options, const std::string& manifest_path,
                        const std::string& output, const RunOptions& run) {
  // A stream, pipe or device gets its rows as they come, with no <out>.partial
  // (it could not be renamed onto a pipe anyway).
  if (writes_through(output) && run.resume)
    throw UsageError("--resume needs a regular file output (it continues <out>.partial)");
  const Manifest manifest = read_manifest(manifest_path);
  if (manifest.empty()) throw Error(cat(manifest_path, ": no images listed"));
  // Fail fast on outputs, before loading the model.
  ImageRun image_run(output, "the feature table", run);

  Extractor extractor(options);  // model and layer problems are fatal here
  const std::vector<std::string> classes = manifest_classes(manifest);
  std::vector<std::string> paths;
  std::vector<int> labels;
  for (const auto& e : manifest) {
    paths.push_back(e.path);
    const auto it = std::lower_bound(classes.begin(), classes.end(), e.label);
    labels.push_back(e.label.empty() ? -1 : int(it - classes.begin()));
  }
  const std::size_t rows_per_image = extractor.rows_per_image(), dim = extractor.dim();
  std::string layers;
  for (const auto& l : extractor.layers()) layers += (layers.empty() ? "" : ",") + l;
  log::detail(cat("model ", extractor.spec().name, " (", extractor.spec().model_path(),
                  "), layers ", layers, ", dim ", dim, ", rows per image ", rows_per_image));

  TableHeader header;
  header.dim = dim;
  header.classes = classes;
  // The options as the extractor runs them: the concrete --conv, never auto,
  // so that fg-score reproduces exactly what was extracted.
  const ExtractOptions& ran = extractor.options();
  header.provenance = ExtractionRecord{ran, extractor.spec().name}.provenance();
  std::unique_ptr<ExtractCheckpoint> checkpoint;
  if (!image_run.writes_through())
    checkpoint = open_checkpoint(output, checkpoint_identity(ran, extractor.spec(), manifest, run),
                                 extractor, paths.size(), run.resume);
  TableWriter writer(image_run.output_stage(), header);
  RunReport report = image_run.run(
      extractor, paths,
      [&](std::size_t i, const float* rows) {
        for (std::size_t r = 0; r < rows_per_image; ++r)
          writer.write(paths[i] + extractor.row_suffixes()[r], labels[i], rows + r * dim);
      },
      [&] { writer.commit(); }, checkpoint.get());
  report.rows = report.images * rows_per_image;
  report.dim = dim;
  return report;
}

std::string extraction_summary(const RunReport& report, const RunOptions& run) {
  std::string summary =
      cat("Done ", report.images, " images (", report.rows, " rows of dim ", report.dim, ")");
  if (report.resumed) summary += cat(", ", report.resumed, " of them resumed");
  const PipelineStats& s = report.stats;
  if (s.damaged) summary += cat("; ", s.damaged, " decoded with errors (used: --on-corrupt warn)");
  char rate[160];
  std::snprintf(rate, sizeof rate, "; %.1f images/s, %.0f%% of the time in the network",
                s.seconds > 0 ? double(s.images) / s.seconds : 0.0,
                s.seconds > 0 ? 100.0 * s.forward_seconds / s.seconds : 0.0);
  return summary + "; " + skipped_note(report.skipped, run) + rate;
}

}  // namespace fg
