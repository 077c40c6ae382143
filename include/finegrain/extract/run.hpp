// Runs over image files: a whole extraction to a feature table (fg-extract),
// and the bookkeeping every run over images shares (fg-extract, fg-score):
// outputs staged before the work, unusable images as warnings and in the
// --skipped list, the progress line, a resumable checkpoint, and all outputs
// committed together at the end.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include "finegrain/core/io.hpp"
#include "finegrain/data/manifest.hpp"
#include "finegrain/extract/checkpoint.hpp"
#include "finegrain/extract/extractor.hpp"
#include "finegrain/extract/options.hpp"
#include "finegrain/extract/pipeline.hpp"

namespace fg {

// The settings of a run that do not change the values.
struct RunOptions {
  std::size_t batch = 8;  // images per forward pass, 1..4096
  std::string skipped;    // where to list the images that could not be used ("" = nowhere)
  bool progress = false;  // the progress line even when stderr is not a terminal
  bool resume = false;    // extract_table: continue <output>.partial of an interrupted run
  // An image that decodes with errors (a JPEG with corrupt data): used with a
  // warning naming it, or left out like an unreadable one.
  OnCorrupt on_corrupt = OnCorrupt::warn;

  // --batch, --skipped, --on-corrupt, --progress and, if `resumable`, --resume.
  static void add_options(boost::program_options::options_description& options, bool resumable);
  static RunOptions from(const boost::program_options::variables_map& vm);
};

// What a run did.
struct RunReport {
  std::size_t images = 0;   // images used, resumed ones included
  std::size_t resumed = 0;  // of those, done by an earlier run (--resume)
  std::size_t skipped = 0;  // images that could not be used
  std::size_t rows = 0;     // extract_table: rows written (images x augmentation rows)
  std::size_t dim = 0;      // extract_table: their dimension
  PipelineStats stats;      // this run's own work
};

// The outputs of one run over images: its main output and the --skipped
// list, staged at construction (an unwritable one fails before any model is
// loaded) and committed together by run().
class ImageRun {
 public:
  // `what` names the main output in messages ("the feature table").
  ImageRun(const std::string& output, const std::string& what, const RunOptions& options);
  // Where to write the main output: a stage beside it, or the output itself
  // when it is written through (stdout, a pipe, a device).
  const std::string& output_stage() const { return output_stage_; }
  bool writes_through() const { return writes_through_; }

  // Runs `extractor` over the image files `paths` (those `checkpoint` has
  // not done yet), batch by batch. on_rows(index, rows) receives every used
  // image's rows_per_image x dim floats in index order: as they come, or,
  // with a checkpoint, from it once all are done (earlier runs' too). An
  // unusable image is a warning, recorded in the checkpoint and listed in
  // --skipped. No image used is an Error (the checkpoint is removed: there is
  // nothing to resume). Then finish_output() completes the main output, the
  // --skipped list is written, both replace earlier ones, and the checkpoint
  // is removed.
  RunReport run(Extractor& extractor, const std::vector<std::string>& paths,
                const std::function<void(std::size_t, const float*)>& on_rows,
                const std::function<void()>& finish_output,
                ExtractCheckpoint* checkpoint = nullptr);

 private:
  RunOptions options_;
  std::string output_;
  bool writes_through_ = false;
  OutputSet outputs_;
  std::string output_stage_, skipped_stage_;
};

// fg-extract: the images of the manifest at `manifest_path` into a feature
// table at `output` (a file, or written through to stdout/a pipe): labels by
// the manifest's sorted class list, the extraction record as provenance,
// with a file output the work kept in <output>.partial (resumable with
// run.resume) and the partial locked against a second run. The closing line
// is extraction_summary().
RunReport extract_table(const ExtractOptions& options, const std::string& manifest_path,
                        const std::string& output, const RunOptions& run);
std::string extraction_summary(const RunReport& report, const RunOptions& run);
// "N skipped" and where they are listed, for a closing line.
std::string skipped_note(std::size_t skipped, const RunOptions& run);

// The identity of an extraction's partial file: what decides its rows, so
// --resume refuses the partial of a different run. The settings in canonical
// form (a spelled-out default resumes), the model spec, the manifest,
// --on-corrupt (it decides which images have rows), and
// OpenCV's thread count and the batch size: OpenCV DNN's layers (and so the
// values, in the last bits) depend on that combination. Measured on
// SqueezeNet fire9 at 8 flowers12 images: --threads 2 --batch 1 differs from
// --threads 1 in 5,402 of 8,192 values (at most 1.7e-3 relative, on small
// values), --threads 2 or 4 --batch 8 not at all.
std::string checkpoint_identity(const ExtractOptions& options, const ModelSpec& spec,
                                const Manifest& manifest, const RunOptions& run);

}  // namespace fg
