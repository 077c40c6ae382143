// fg-predict: apply a trained classifier to a feature table, write predictions.tsv.
#include "finegrain/classify/classifier.hpp"
#include "finegrain/classify/predictions.hpp"
#include "finegrain/core/cli.hpp"
#include "finegrain/core/common.hpp"

using namespace fg;

int main(int argc, char** argv) {
  cli::Usage usage;
  usage.name = "fg-predict";
  usage.purpose = "Predict the classes of a feature table with a model from fg-train.";
  usage.usage = "fg-predict [options] <classifier.model> <features.fgt> <predictions.tsv>";
  usage.example = "fg-predict --top-k 5 svm.model test.fgt predictions.tsv";
  usage.see_also = "fg-train, fg-eval, fg-score";
  usage.details =
      "predictions.tsv: line 1 '#key<TAB>true<TAB>predicted<TAB>score' (plus predN/scoreN\n"
      "pairs with --top-k), line 2 '#classes<TAB>...' (the model's classes), then one row per\n"
      "record: key, true label name (empty if unlabelled; passed through when the model never\n"
      "saw it), predicted class, score (probability, or SVM votes/(classes-1)).";
  cli::po::options_description options("Options");
  PredictOptions::add_options(options);
  cli::add_threads_option(options);
  return cli::run(argc, argv, usage, options,
                  [](const cli::po::variables_map& vm, const std::vector<std::string>& args) {
                    cli::require_args(args, 3, 3);
                    const PredictOptions predict = PredictOptions::from(vm);
                    cli::apply_threads(vm);
                    const Classifier model = Classifier::load(args[0]);
                    const PredictSummary done =
                        predict_table(model, args[1], args[2], predict.top_k);
                    if (done.unseen) log::warn(done.unseen_warning());
                    log::info(done.summary());
                    return 0;
                  });
}
