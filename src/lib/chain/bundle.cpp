#include "finegrain/chain/bundle.hpp"

#include <fcntl.h>
#include <stdio.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "finegrain/core/assets.hpp"
#include "finegrain/core/common.hpp"
#include "finegrain/core/io.hpp"
#include "finegrain/data/table.hpp"

namespace fs = std::filesystem;

namespace fg {

namespace {
const char* kIndex = "BUNDLE";

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(cat(path, ": cannot open"));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void write_text(const std::string& path, const std::string& text) {
  AtomicOutput out(path);
  out.stream() << text;
  out.commit();
}

void copy_file(const std::string& from, const std::string& to) { write_text(to, read_text(from)); }

// A folder being built beside its final place: removed unless put there.
struct BuildFolder {
  std::string path;
  bool placed = false;
  explicit BuildFolder(std::string p) : path(std::move(p)) {}
  ~BuildFolder() {
    std::error_code ignored;
    if (!placed) fs::remove_all(path, ignored);
  }
  // Replaces `target` (an earlier bundle, or an empty folder) by this folder
  // in one rename: RENAME_EXCHANGE swaps the two, then the old one is removed.
  void put_in_place(const std::string& target, bool replacing) {
    if (::renameat2(AT_FDCWD, path.c_str(), AT_FDCWD, target.c_str(),
                    replacing ? RENAME_EXCHANGE : RENAME_NOREPLACE) != 0)
      throw Error(cat(target, ": cannot put the new bundle in place (", std::strerror(errno), ")"));
    placed = !replacing;
    if (replacing) {
      std::error_code ignored;
      fs::remove_all(path, ignored);  // now the earlier bundle
      placed = true;
    }
  }
};

// The network files a spec names, resolved, with their checksums.
std::vector<std::pair<std::string, std::string>> network_files(const ModelSpec& spec) {
  std::vector<std::pair<std::string, std::string>> files;
  for (const std::string& path : {spec.model_path(), spec.config_path()})
    if (!path.empty()) files.emplace_back(path, sha256_file(path));
  return files;
}
// The settings that decide the feature values, in one canonical text:
// parsed and printed again, so the spelling of the record does not matter.
// Augmentation (extra rows) and the pixel limit do not change a row's values;
// a record without a conv line (older than --conv) means the spec's conv.
std::string value_settings(const ExtractionRecord& record, const ModelSpec& spec) {
  ExtractOptions options = record.options.resolved(spec);
  // The model is compared by its spec's name below (a name or a path to the same spec).
  options.model.clear();
  options.augment_flip = options.augment_crops = false;
  options.crop_fraction = ExtractOptions().crop_fraction;
  options.max_pixels = ExtractOptions().max_pixels;
  return options.to_text() + "model-spec-name=" + record.spec_name + "\n";
}

// The classifier records the provenance of its training table (fg-train
// keeps it): its extraction settings must be those of `features`, or the
// bundle would feed it values of another kind (same dimension, other numbers).
void check_same_extraction(const Classifier& classifier, const std::string& classifier_path,
                           const ExtractionRecord& features, const std::string& features_path,
                           const ModelSpec& spec) {
  const auto trained = ExtractionRecord::find(classifier.provenance(), classifier_path);
  if (!trained)
    throw Error(cat(classifier_path,
                    ": records no extraction settings for its training features (trained on a "
                    "table not made by fg-extract?), so fg-bundle cannot check that it fits ",
                    features_path));
  const std::string want = value_settings(features, spec);
  const std::string got = value_settings(*trained, spec);
  if (want == got) return;
  // Name the first setting that differs.
  std::istringstream a(got), b(want);
  std::string line_a, line_b;
  while (std::getline(a, line_a) && std::getline(b, line_b) && line_a == line_b) {}
  throw Error(cat(classifier_path, ": trained on features extracted with other settings than ",
                  features_path, " (", line_a, " vs ", line_b,
                  "); extract the training features again or retrain"));
}
}  // namespace

void Bundle::create(const std::string& dir, const BundleParts& parts) {
  if (parts.features.empty() || parts.classifier.empty())
    throw UsageError(
        "a bundle needs the training features (--features) and a classifier (--classifier)");
  // The extraction settings come from the features themselves, so the bundle
  // cannot disagree with what the classifier was trained on.
  TableReader features(parts.features);
  const auto record = ExtractionRecord::find(features.header().provenance, parts.features);
  if (!record)
    throw Error(
        cat(parts.features, ": carries no extraction settings (was it written by fg-extract?)"));
  ModelSpec spec = load_model_spec(record->options.model);
  ExtractOptions extract = record->options.resolved(spec);  // extract.txt: the concrete conv
  extract.augment_flip = extract.augment_crops = false;     // training rows only
  std::size_t dim = features.header().dim;

  std::optional<PcaModel> pca;
  std::optional<mic::SelectionModel> mic;
  if (!parts.pca.empty()) {
    pca = PcaModel::load(parts.pca);
    pca->check_input_dim(dim, parts.features, parts.pca);
    dim = pca->output_dim();
  }
  if (!parts.mic.empty()) {
    mic = mic::SelectionModel::load(parts.mic);
    mic->check_input_dim(dim, parts.mic);
    dim = mic->output_dim();
  }
  Classifier classifier = Classifier::load(parts.classifier);
  if (classifier.dim() != dim)
    throw Error(cat(parts.classifier, ": classifier of dimension ", classifier.dim(),
                    ", but the chain before it gives ", dim, pca || mic ? " (after PCA/MIC)" : "",
                    " — was it trained on these features?"));
  check_same_extraction(classifier, parts.classifier, *record, parts.features, spec);

  // The bundle is built in a hidden folder beside `dir` and then put in its
  // place in one step, so a failure (a full disk) leaves an earlier bundle
  // as it was. An existing folder that is not a bundle is not replaced.
  fs::path final_dir = fs::path(dir).lexically_normal();
  if (final_dir.filename().empty()) final_dir = final_dir.parent_path();  // "bundle/"
  if (final_dir.empty() || final_dir == "." || final_dir == "..")
    final_dir = fs::weakly_canonical(final_dir);
  std::error_code error;
  const bool replacing = fs::exists(final_dir, error);
  if (replacing) {
    if (!fs::is_directory(final_dir, error)) throw Error(cat(dir, ": exists and is not a folder"));
    if (!fs::exists(final_dir / kIndex, error) && !fs::is_empty(final_dir, error))
      throw Error(cat(dir, ": exists and is not a bundle (no ", kIndex,
                      " file); give a new or empty folder"));
  } else if (final_dir.has_parent_path() && !fs::is_directory(final_dir.parent_path(), error)) {
    fs::create_directories(final_dir.parent_path(), error);
    if (error) throw Error(cat(dir, ": cannot create the bundle folder (", error.message(), ")"));
  }
  BuildFolder build(temp_path_beside(final_dir.string()));
  fs::create_directory(build.path, error);
  if (error)
    throw Error(cat(dir, ": cannot create the bundle folder beside it (", error.message(), ")"));
  std::vector<std::pair<std::string, std::string>> written;  // file, sha256
  auto put = [&](const std::string& name, const std::string& from_file, const std::string& text) {
    std::string path = (fs::path(build.path) / name).string();
    if (from_file.empty())
      write_text(path, text);
    else
      copy_file(from_file, path);
    written.emplace_back(name, sha256_file(path));
  };
  put("extract.txt", "", extract.to_text());
  put("model.spec", "", spec.to_text());
  if (pca) put("pca.model", parts.pca, "");
  if (mic) put("mic.model", parts.mic, "");
  put("classifier.model", parts.classifier, "");

  std::ostringstream index;
  index << "finegrain-bundle " << kBundleVersion << "\n";
  for (const auto& [name, sum] : written) index << name << ' ' << sum << '\n';
  for (const auto& [path, sum] : network_files(spec))
    index << "network " << sum << ' ' << fs::weakly_canonical(path).string() << '\n';
  write_text((fs::path(build.path) / kIndex).string(), index.str());
  build.put_in_place(final_dir.string(), replacing);
}

Bundle Bundle::load(const std::string& dir) {
  fs::path root(dir);
  std::string index_path = (root / kIndex).string();
  if (!fs::exists(index_path))
    throw Error(cat(dir, ": not a bundle (no ", kIndex, " file; make one with fg-bundle)"));
  std::vector<std::string> lines = read_lines(index_path);
  if (lines.empty() || lines[0].rfind("finegrain-bundle ", 0) != 0)
    throw Error(cat(index_path, ": not a finegrain bundle index"));
  if (lines[0] != cat("finegrain-bundle ", kBundleVersion))
    throw Error(cat(index_path, ": bundle format '", lines[0].substr(17),
                    "', this program reads version ", kBundleVersion));
  std::map<std::string, std::string> sums;
  std::vector<std::string> network_sums;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    std::istringstream line(lines[i]);
    std::string name, sum;
    if (!(line >> name >> sum) || sum.size() != 64)
      throw Error(cat(index_path, ":", i + 1, ": expected '<file> <sha256>'"));
    static const std::set<std::string> kParts = {"extract.txt", "model.spec", "pca.model",
                                                 "mic.model", "classifier.model"};
    if (name == "network")
      network_sums.push_back(sum);
    else if (!kParts.count(name))
      throw Error(
          cat(index_path, ":", i + 1, ": '", name.substr(0, 80), "' is not a part of a bundle"));
    else if (!sums.emplace(name, sum).second)
      throw Error(cat(index_path, ":", i + 1, ": ", name, " listed twice"));
  }
  for (const auto& [name, sum] : sums) {
    std::string path = (root / name).string();
    if (!fs::exists(path)) throw Error(cat(path, ": missing from the bundle"));
    if (sha256_file(path) != sum)
      throw Error(cat(path, ": checksum differs from ", index_path,
                      " (the part changed after the bundle was made)"));
  }
  for (const char* required : {"extract.txt", "model.spec", "classifier.model"})
    if (!sums.count(required)) throw Error(cat(index_path, ": lists no ", required));

  Bundle bundle;
  std::string spec_path = (root / "model.spec").string();
  bundle.spec_ = parse_model_spec(read_text(spec_path), spec_path);
  std::vector<std::string> actual;
  for (const auto& [path, sum] : network_files(bundle.spec_)) actual.push_back(sum);
  if (actual != network_sums)
    throw Error(cat(dir, ": the network files of ", bundle.spec_.name,
                    " differ from those the bundle was made with (other weights?)"));
  bundle.extract_ = ExtractOptions::from_text(read_text((root / "extract.txt").string()),
                                              (root / "extract.txt").string());
  bundle.extract_.model = spec_path;
  if (sums.count("pca.model")) bundle.pca_ = PcaModel::load((root / "pca.model").string());
  if (sums.count("mic.model"))
    bundle.mic_ = mic::SelectionModel::load((root / "mic.model").string());
  bundle.classifier_ = Classifier::load((root / "classifier.model").string());
  // The parts must still fit together: transform() relies on it.
  std::size_t dim = bundle.input_dim();
  if (bundle.pca_) dim = bundle.pca_->output_dim();
  if (bundle.mic_) {
    bundle.mic_->check_input_dim(dim, (root / "mic.model").string());
    dim = bundle.mic_->output_dim();
  }
  if (bundle.classifier_.dim() != dim)
    throw Error(cat((root / "classifier.model").string(), ": classifier of dimension ",
                    bundle.classifier_.dim(), ", but the bundle's chain before it gives ", dim));
  return bundle;
}

std::string Bundle::describe() const {
  std::string layers;
  for (const auto& layer : extract_.layers) layers += (layers.empty() ? "" : ",") + layer;
  return cat(spec_.name, layers.empty() ? "" : " " + layers,
             pca_ ? cat(" -> PCA ", pca_->output_dim()) : "",
             mic_ ? cat(" -> MIC ", mic_->output_dim()) : "", " -> ", classifier_.info());
}

std::size_t Bundle::input_dim() const {
  if (pca_) return pca_->input_dim();
  if (mic_) return mic_->input_dim;
  return classifier_.dim();
}

const float* Bundle::transform(const float* features, std::vector<float>& work) const {
  const float* x = features;
  std::size_t pca_dim = pca_ ? pca_->output_dim() : 0;
  std::size_t mic_dim = mic_ ? mic_->output_dim() : 0;
  work.resize(pca_dim + mic_dim);
  if (pca_) {
    pca_->apply_row(x, work.data());
    x = work.data();
  }
  if (mic_) {
    mic_->apply_row(x, work.data() + pca_dim);
    x = work.data() + pca_dim;
  }
  return x;
}

std::vector<Prediction> Bundle::predict(const float* features, std::size_t topk,
                                        std::vector<float>& work) const {
  return classifier_.predict_row(transform(features, work), topk);
}

}  // namespace fg
