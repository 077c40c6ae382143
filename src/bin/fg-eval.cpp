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
  EvalOptions::add_options(options);
  return cli::run(
      argc, argv, usage, options,
      [&](const cli::po::variables_map& vm, const std::vector<std::string>& args) {
        cli::require_args(args, 1, 1);
        const EvalOptions eval = EvalOptions::from(vm);
        EvalFiles files(eval);
        const Metrics metrics =
            evaluate(read_predictions(args[0]), args[0] == "-" ? "<stdin>" : args[0]);
        files.write(metrics);
        std::cout << (eval.json ? metrics_json(metrics) : metrics_report(metrics, eval.brief));
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
