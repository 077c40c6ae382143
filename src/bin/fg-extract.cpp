// fg-extract: images of a manifest -> pooled CNN conv features (.fgt).
#include <filesystem>

#include "finegrain/core/cli.hpp"
#include "finegrain/core/common.hpp"
#include "finegrain/core/io.hpp"
#include "finegrain/core/progress.hpp"
#include "finegrain/data/manifest.hpp"
#include "finegrain/data/table.hpp"
#include "finegrain/extract/extract.hpp"

using namespace fg;
namespace fs = std::filesystem;

int main(int argc, char** argv) {
  cli::Usage usage{
      "fg-extract",
      "extract pooled CNN conv features (OpenCV DNN; VGG16, SqueezeNet, any ONNX/Caffe net) for "
      "the images of a "
      "manifest",
      "fg-extract [options] <manifest> <features-out.fgt>|-",
      "fg-extract --model vgg16-caffe --layers conv4_3,conv5_3 --pool avgmax train.tsv train.fgt",
      "fg-list, fg-convert, fg-pca, fg-mic, fg-train, fg-score",
      "All tapped layers come from one forward pass per batch; the next batch is decoded while "
      "the\n"
      "network runs. Each layer is pooled (--pool); with several layers each is L2-normalised and\n"
      "weighted (--layer-weights), then concatenated; --norm applies to the final vector.\n"
      "VGG16 specs know conv1_1 ... conv5_3 (the ReLU output after each conv) and pool1 ... "
      "pool5.\n"
      "Unreadable, truncated, empty or non-image files are warnings: counted, listed in "
      "--skipped,\n"
      "and extraction continues (exit 1 only if no image could be read). Work in progress is kept\n"
      "in <features-out>.partial (not a feature table); --resume continues it after an "
      "interruption."};
  cli::po::options_description features("Feature options (they determine the values)");
  ExtractOptions::add_options(features);
  cli::po::options_description run_options("Run options");
  // clang-format off
  run_options.add_options()
    ("batch,b", ranged<std::size_t>(1, 4096)->default_value(8), "images per forward pass")
    ("skipped", cli::po::value<std::string>(), "write the images that could not be used to this file "
     "(path<TAB>problem lines)")
    ("on-corrupt", cli::po::value<std::string>()->default_value("warn"), "an image that decodes with errors "
     "(e.g. a JPEG with corrupt data): warn (use it, with a warning naming it) | skip (leave it out like an "
     "unreadable one)")
    ("resume", cli::po::bool_switch(), "continue from <features-out>.partial left by an interrupted run "
     "with the same options, model and manifest, without recomputing it")
    ("progress", cli::po::bool_switch(), "show the progress line even when stderr is not a terminal")
    ("list-layers", cli::po::bool_switch(), "print the model's layer names (friendly, then OpenCV's) and exit");
  // clang-format on
  cli::add_threads_option(run_options);
  cli::po::options_description options;
  options.add(features).add(run_options);

  return cli::run(
      argc, argv, usage, options,
      [&](const cli::po::variables_map& vm, const std::vector<std::string>& args) {
        const ExtractOptions eo = ExtractOptions::from_variables(vm);
        cli::apply_threads(vm);
        const OnCorrupt on_corrupt = parse_on_corrupt(vm["on-corrupt"].as<std::string>());
        if (vm["list-layers"].as<bool>()) {
          cli::require_args(args, 0, 0);
          const ModelSpec spec = load_model_spec(eo.model);
          cv::dnn::Net net = cv::dnn::readNet(spec.model_path(), spec.config_path(),
                                              spec.format == "auto" ? "" : spec.format);
          const LayerMap map(spec, net);
          for (const auto& f : map.friendly())
            std::printf("%s\t%s\n", f.c_str(), map.resolve(f).c_str());
          for (const auto& r : map.raw()) std::printf("%s\n", r.c_str());
          return 0;
        }
        cli::require_args(args, 2, 2);
        const std::string& manifest_path = args[0];
        const std::string& out_path = args[1];
        const std::size_t batch = vm["batch"].as<std::size_t>();
        const bool resume = vm["resume"].as<bool>();
        // stdout, a pipe or a device: rows are written through as they come,
        // with no <out>.partial (it could not be renamed onto a pipe anyway).
        const bool to_stdout = writes_through(out_path);
        if (to_stdout && resume)
          throw UsageError("--resume needs a regular file output (it continues <out>.partial)");
        const std::string skipped_path = vm.count("skipped") ? vm["skipped"].as<std::string>() : "";

        const Manifest manifest = read_manifest(manifest_path);
        if (manifest.empty()) throw Error(cat(manifest_path, ": no images listed"));
        // Fail fast on outputs, before loading the model. The table and the
        // --skipped list replace earlier ones together, once both are written.
        OutputSet outputs;
        const std::string out_stage = outputs.add(out_path, "the feature table");
        const std::string skipped_stage =
            skipped_path.empty() ? "" : outputs.add(skipped_path, "--skipped");

        Extractor extractor(eo);  // model and layer problems are fatal here
        const std::vector<std::string> classes = manifest_classes(manifest);
        std::vector<std::string> paths;
        std::vector<int> labels;
        std::string manifest_text;
        for (const auto& e : manifest) {
          paths.push_back(e.path);
          const auto it = std::lower_bound(classes.begin(), classes.end(), e.label);
          labels.push_back(e.label.empty() ? -1 : int(it - classes.begin()));
          manifest_text += e.path + "\t" + e.label + "\n";
        }
        const std::size_t rows_per_image = extractor.rows_per_image();
        const std::size_t dim = extractor.dim();
        std::string layers;
        for (const auto& l : extractor.layers()) layers += (layers.empty() ? "" : ",") + l;
        log::detail(cat("model ", extractor.spec().name, " (", extractor.spec().model_path(),
                        "), layers ", layers, ", dim ", dim, ", rows per image ", rows_per_image));

        TableHeader header;
        header.dim = dim;
        header.classes = classes;
        // How these values were made: the options (enough for fg-score to
        // reproduce them), the model spec's name and files.
        header.provenance = cat("stage=fg-extract\n", eo.provenance_text(),
                                "model-spec-name=", extractor.spec().name, "\n");

        std::vector<std::pair<std::size_t, std::string>> skipped;
        std::size_t images_ok = 0;
        auto warn_skip = [&](std::size_t i, const std::string& problem) {
          log::warn(cat(paths[i], ": ", problem, "; skipped"));
        };

        std::unique_ptr<ExtractCheckpoint> checkpoint;
        std::unique_ptr<TableWriter> direct;
        std::vector<std::size_t> todo;
        if (to_stdout) {
          direct = std::make_unique<TableWriter>(out_stage, header);
          for (std::size_t i = 0; i < paths.size(); ++i) todo.push_back(i);
        } else {
          const std::string partial = ExtractCheckpoint::path_for(out_path);
          // (--on-corrupt decides which images have rows, so a resume keeps it.)
          const std::string identity =
              cat(eo.to_text(), on_corrupt == OnCorrupt::skip ? "on-corrupt=skip\n" : "",
                  "--spec--\n", extractor.spec().to_text(), "--manifest-fnv1a64-- ",
                  fingerprint(manifest_text), "\n");
          checkpoint =
              std::make_unique<ExtractCheckpoint>(partial, identity, dim, rows_per_image, resume);
          if (!resume && checkpoint->existed())
            log::warn(cat(partial,
                          ": replacing the work of an earlier interrupted run (use --resume to "
                          "continue it)"));
          if (resume && !checkpoint->existed())
            log::info(cat(partial, ": nothing to resume, starting afresh"));
          for (std::size_t i = 0; i < paths.size(); ++i)
            if (!checkpoint->done(i)) todo.push_back(i);
          if (checkpoint->resumed())
            log::info(cat("resuming: ", checkpoint->resumed(), " of ", paths.size(),
                          " images already done"));
        }

        auto write_rows = [&](TableWriter& writer, std::size_t i, const float* rows) {
          for (std::size_t r = 0; r < rows_per_image; ++r)
            writer.write(paths[i] + extractor.row_suffixes()[r], labels[i], rows + r * dim);
        };

        Progress progress("images", todo.size(), vm["progress"].as<bool>());
        const PipelineStats stats = extract_files(
            extractor, paths, todo, batch,
            [&](std::size_t i, const float* rows) {
              if (direct)
                write_rows(*direct, i, rows);
              else
                checkpoint->add_rows(i, rows);
            },
            [&](std::size_t i, const std::string& problem) {
              warn_skip(i, problem);
              if (!direct)
                checkpoint->add_skip(i, problem);
              else
                skipped.emplace_back(i, problem);
            },
            [&](std::size_t done) {
              if (checkpoint) checkpoint->flush();
              progress.update(done);
            },
            on_corrupt);
        progress.finish();

        if (direct) {
          images_ok = stats.images;
          if (images_ok == 0)
            throw Error(cat("no image could be read (", stats.skipped, " skipped)"));
          direct->commit();
        } else {
          std::unique_ptr<TableWriter> writer;
          checkpoint->replay(
              [&](std::size_t i, const float* rows) {
                if (!writer) writer = std::make_unique<TableWriter>(out_stage, header);
                write_rows(*writer, i, rows);
                ++images_ok;
              },
              [&](std::size_t i, const std::string& problem) { skipped.emplace_back(i, problem); });
          if (images_ok == 0) {
            checkpoint->remove();
            throw Error(cat("no image could be read (", skipped.size(), " skipped); ", out_path,
                            " not written"));
          }
          writer->commit();
        }

        if (!skipped_path.empty()) {
          AtomicOutput out(skipped_stage, false);
          for (const auto& [i, problem] : skipped)
            out.stream() << paths[i] << "\t" << problem << "\n";
          out.commit();
        }
        outputs.commit();
        if (checkpoint) checkpoint->remove();  // only now: a failed write above can still --resume

        const double rate = stats.seconds > 0 ? double(stats.images) / stats.seconds : 0;
        std::string summary = cat("Done ", images_ok, " images (", images_ok * rows_per_image,
                                  " rows of dim ", dim, ")");
        if (checkpoint && checkpoint->resumed())
          summary += cat(", ", checkpoint->resumed(), " of them resumed");
        if (stats.damaged)
          summary += cat("; ", stats.damaged, " decoded with errors (used: --on-corrupt warn)");
        summary += cat("; ", skipped.size(), " skipped");
        if (!skipped.empty())
          summary += skipped_path.empty() ? " (list them with --skipped FILE)"
                                          : cat(" (listed in ", skipped_path, ")");
        char buf[160];
        std::snprintf(buf, sizeof buf, "; %.1f images/s, %.0f%% of the time in the network", rate,
                      stats.seconds > 0 ? 100.0 * stats.forward_seconds / stats.seconds : 0.0);
        log::info(summary + buf);
        return 0;
      });
}
