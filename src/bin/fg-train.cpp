// fg-train: fit a classifier (LIBSVM SVM or logistic regression) on a feature table.
#include "finegrain/classify/classifier.hpp"
#include "finegrain/core/cli.hpp"
#include "finegrain/core/common.hpp"
#include "finegrain/core/io.hpp"
#include "finegrain/core/memory.hpp"
#include "finegrain/data/table.hpp"

int main(int argc, char** argv) {
  namespace po = fg::cli::po;
  fg::cli::Usage usage;
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
  po::options_description options("Options");
  fg::TrainOptions::register_options(options);
  fg::cli::add_threads_option(options);
  return fg::cli::run(
      argc, argv, usage, options,
      [](const po::variables_map& vm, const std::vector<std::string>& args) {
        fg::cli::require_args(args, 2, 2);
        fg::cli::apply_threads(vm);
        const fg::TrainOptions train_options = fg::TrainOptions::from(vm);
        fg::check_writable(args[1]);
        if (args[0] != "-") {
          // Before reading anything big: will the table and the training fit in memory?
          const fg::TableReader reader(args[0]);
          const fg::TableHeader& h = reader.header();
          if (h.rows)
            fg::check_memory(fg::Classifier::memory_bytes(
                                 *h.rows, h.dim, static_cast<int>(h.classes.size()), train_options),
                             args[0],
                             fg::cat("training ", fg::to_string(train_options.type), " on ",
                                     *h.rows, " rows x ", h.dim, " dims"));
        }
        const fg::FeatureTable table = fg::read_table(args[0]);
        const fg::Classifier classifier = fg::Classifier::train(table, train_options, args[0]);
        classifier.save(args[1]);
        fg::log::info(fg::cat("Done: ", classifier.info()));
        return 0;
      });
}
