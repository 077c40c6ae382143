// fg-predict: apply a trained classifier to a feature table, write predictions.tsv.
#include <algorithm>
#include <map>
#include <vector>

#include "finegrain/classify/classifier.hpp"
#include "finegrain/core/cli.hpp"
#include "finegrain/core/common.hpp"
#include "finegrain/core/io.hpp"
#include "finegrain/data/table.hpp"

int main(int argc, char** argv) {
  namespace po = fg::cli::po;
  fg::cli::Usage usage;
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
  po::options_description options("Options");
  options.add_options()("top-k,k", fg::ranged<std::size_t>(1, 100000)->default_value(1),
                        "also write the next best classes: pred2 score2 ... predK scoreK");
  fg::cli::add_threads_option(options);
  return fg::cli::run(
      argc, argv, usage, options,
      [](const po::variables_map& vm, const std::vector<std::string>& args) {
        fg::cli::require_args(args, 3, 3);
        fg::cli::apply_threads(vm);
        const std::size_t topk = vm["top-k"].as<std::size_t>();
        const fg::Classifier model = fg::Classifier::load(args[0]);
        fg::TableReader reader(args[1]);
        const std::vector<int> to_model = model.map_classes(reader.header(), reader.name());
        const auto& table_classes = reader.header().classes;
        fg::AtomicOutput out(args[2], false);
        std::ostream& os = out.stream();
        os << fg::predictions_header(model.classes(), topk);

        std::map<std::string, std::size_t> unseen;
        std::size_t rows = 0, labelled = 0, correct = 0;
        // Rows are read and predicted in batches of about 64 MB (1024 rows of
        // 1,024 dims, 127 rows of bilinear pooling's 131,328), so memory stays
        // flat whatever the table's size.
        const std::size_t batch =
            std::clamp<std::size_t>((std::size_t(64) << 20) / (4 * model.dim() + 1), 16, 1024);
        std::vector<fg::TableRow> buffer(batch);
        std::vector<std::vector<fg::Prediction>> predictions(batch);
        for (bool more = true; more;) {
          std::size_t m = 0;
          while (m < batch && (more = reader.next(buffer[m]))) ++m;
          std::string error;  // an exception must not leave the parallel loop
#pragma omp parallel for schedule(dynamic, 16)
          for (std::size_t i = 0; i < m; ++i) {
            try {
              predictions[i] = model.predict_row(buffer[i].values.data(), topk);
            } catch (const std::exception& e) {
#pragma omp critical
              if (error.empty())
                error = fg::cat(e.what(), " (row ", buffer[i].key, " of ", reader.name(), ")");
            }
          }
          if (!error.empty()) throw fg::Error(error);
          for (std::size_t i = 0; i < m; ++i) {
            const int label = buffer[i].label;
            std::string truth;
            if (label >= 0 && static_cast<std::size_t>(label) < table_classes.size()) {
              truth = table_classes[label];
              ++labelled;
              if (to_model[label] < 0)
                ++unseen[truth];
              else if (to_model[label] == predictions[i][0].cls)
                ++correct;
            }
            os << fg::prediction_line(buffer[i].key, truth, predictions[i], model.classes());
          }
          rows += m;
        }
        if (rows == 0)
          throw fg::Error(fg::cat(reader.name(), ": empty table, no predictions written"));
        if (!unseen.empty()) {
          std::string names;
          std::size_t count = 0;
          for (const auto& [name, c] : unseen)
            names += fg::cat(names.empty() ? "" : ", ", name, " (", c, ")"), count += c;
          fg::log::warn(fg::cat(count, " rows have labels the model was not trained on: ", names,
                                "; they are written as they are and count as errors in fg-eval"));
        }
        out.commit();
        if (labelled)
          fg::log::info(fg::cat("Done ", rows, " rows; top-1 accuracy ",
                                100.0 * double(correct) / double(labelled), " % on ", labelled,
                                " labelled rows"));
        else
          fg::log::info(fg::cat("Done ", rows, " rows (unlabelled)"));
        return 0;
      });
}
