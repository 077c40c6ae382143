// fg-eval: accuracy, per-class metrics and the confusion matrix of a predictions file.
#include <cstdio>
#include <iostream>

#include "finegrain/core/cli.hpp"
#include "finegrain/core/common.hpp"
#include "finegrain/core/io.hpp"
#include "finegrain/eval/metrics.hpp"

using namespace fg;

int main(int argc, char** argv) {
  cli::Usage usage{
      "fg-eval",
      "top-1/top-k accuracy, per-class precision/recall/F1 and the confusion matrix of predictions",
      "fg-eval [options] <predictions.tsv>",
      "fg-eval --confusion confusion.tsv --plot confusion.png test.pred.tsv",
      "fg-predict, fg-score",
      "Reads the predictions.tsv that fg-predict and fg-score write ('-' = stdin) and\n"
      "prints a report on stdout (--json: one JSON object instead). Rows with an empty\n"
      "true label are skipped and counted; true labels the model never saw count as\n"
      "errors and are listed. Definitions follow scikit-learn: macro averages over the\n"
      "labels that occur (true or predicted), weighted F1 by support, micro F1 = top-1\n"
      "accuracy, mean per-class accuracy = mean recall over the true labels."};
  cli::po::options_description options("Options");
  options.add_options()("json", cli::po::bool_switch(),
                        "print the metrics as one JSON object on stdout instead of the report")(
      "json-out", cli::po::value<std::string>()->default_value(""),
      "also write the metrics as JSON to this file (the report still goes to stdout)")(
      "brief", cli::po::bool_switch(), "report without the per-class table")(
      "confusion", cli::po::value<std::string>()->default_value(""),
      "write the confusion matrix (counts; rows = true, columns = predicted) as TSV here")(
      "plot", cli::po::value<std::string>()->default_value(""),
      "write the confusion matrix as a heat map (PNG) here")(
      "title", cli::po::value<std::string>()->default_value(""),
      "title of the heat map (default: the metrics)");

  return cli::run(
      argc, argv, usage, options,
      [&](const cli::po::variables_map& vm, const std::vector<std::string>& args) {
        cli::require_args(args, 1, 1);
        const std::string confusion = vm["confusion"].as<std::string>();
        const std::string plot = vm["plot"].as<std::string>();
        const std::string json_out = vm["json-out"].as<std::string>();
        if (plot == "-") throw UsageError("--plot needs a file name");
        // The files replace earlier ones together, once all were written.
        OutputSet outputs;
        const std::string confusion_stage =
            confusion.empty() ? "" : outputs.add(confusion, "--confusion");
        const std::string json_stage = json_out.empty() ? "" : outputs.add(json_out, "--json-out");
        const std::string plot_stage = plot.empty() ? "" : outputs.add(plot, "--plot");
        const std::string source = args[0] == "-" ? "<stdin>" : args[0];
        const Predictions predictions = read_predictions(args[0]);
        const Metrics metrics = evaluate(predictions, source);
        if (!confusion.empty()) write_confusion_tsv(confusion_stage, metrics);
        if (!plot.empty()) write_confusion_plot(plot_stage, metrics, vm["title"].as<std::string>());
        if (!json_out.empty()) {
          AtomicOutput out(json_stage, false);
          out.stream() << metrics_json(metrics);
          out.commit();
        }
        outputs.commit();
        std::cout << (vm["json"].as<bool>() ? metrics_json(metrics)
                                            : metrics_report(metrics, vm["brief"].as<bool>()));
        std::cout.flush();
        if (!std::cout) throw Error("could not write the report to stdout");
        if (metrics.unseen_rows > 0)
          log::warn(cat(metrics.unseen_rows,
                        " rows have true labels the model never saw (counted as errors)"));
        char top1[32];
        std::snprintf(top1, sizeof top1, "%.2f %%", 100 * metrics.top1);
        log::info(cat("Done ", metrics.rows, " rows: ", metrics.evaluated, " evaluated, ",
                      metrics.unlabeled, " unlabeled skipped; top-1 ", top1));
        return 0;
      });
}
