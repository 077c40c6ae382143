// fg-train: fit a classifier (LIBSVM SVM or logistic regression) on a feature table.
#include "finegrain/classify/classifier.hpp"
#include "finegrain/core/cli.hpp"
#include "finegrain/core/common.hpp"
#include "finegrain/core/io.hpp"
#include "finegrain/data/table.hpp"

using namespace fg;

int main(int argc, char** argv) {
  cli::Usage usage;
  usage.name = "fg-train";
  usage.purpose =
      "Train a classifier (LIBSVM C-SVC or multinomial logistic regression) on a feature table.";
  usage.usage = "fg-train [options] <features.fgt> <classifier.model>";
  usage.example = "fg-train --type svm --kernel linear -c 1 train.fgt svm.model";
  usage.see_also = "fg-predict, fg-eval, fg-extract, fg-pca, fg-score";
  usage.details =
      "The input scaling (--scale) is fitted on the training rows and stored in the model, so\n"
      "fg-predict applies exactly the training transform. Rows without a label are skipped.\n"
      "svm trains LIBSVM's one-vs-one C-SVC (all pairs in parallel on a precomputed kernel);\n"
      "logreg minimises the mean cross-entropy + lambda/2 |W|^2 with L-BFGS (lambda = 1/(C n)).";
  cli::po::options_description options("Options");
  TrainOptions::add_options(options);
  cli::add_threads_option(options);
  return cli::run(argc, argv, usage, options,
                  [](const cli::po::variables_map& vm, const std::vector<std::string>& args) {
                    cli::require_args(args, 2, 2);
                    cli::apply_threads(vm);
                    const TrainOptions train_options = TrainOptions::from(vm);
                    check_writable(args[1]);
                    check_training_memory(args[0], train_options);
                    const FeatureTable table = read_table(args[0]);
                    const Classifier classifier = Classifier::train(table, train_options, args[0]);
                    classifier.save(args[1]);
                    log::info(cat("Done: ", classifier.info()));
                    return 0;
                  });
}
