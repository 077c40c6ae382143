// fuzz-seeds <source-dir> <out-dir>: small valid inputs for every fuzz
// target, made with the library's own writers (so they follow the formats
// as they are today): <out-dir>/<target>/<seed>.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>

#include "finegrain/chain/bundle.hpp"
#include "finegrain/classify/classifier.hpp"
#include "finegrain/core/common.hpp"
#include "finegrain/data/convert.hpp"
#include "finegrain/data/manifest.hpp"
#include "finegrain/data/table.hpp"
#include "finegrain/extract/options.hpp"
#include "finegrain/reduce/mic.hpp"
#include "finegrain/reduce/pca.hpp"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

namespace fs = std::filesystem;
using namespace fg;

namespace {
std::string out_root;

std::string seed_path(const std::string& target, const std::string& name) {
  fs::create_directories(fs::path(out_root) / target);
  return (fs::path(out_root) / target / name).string();
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

// 3 classes x 8 rows of dimension `dim`, separable, seeded.
FeatureTable small_table(std::size_t dim, const std::string& provenance) {
  FeatureTable t;
  t.dim = dim;
  t.classes = {"daisy", "rose", "tulip"};
  t.provenance = provenance;
  std::mt19937 random(7);
  std::normal_distribution<float> noise(0.0f, 0.3f);
  std::vector<float> row(dim);
  for (int i = 0; i < 24; ++i) {
    const int label = i % 3;
    for (std::size_t j = 0; j < dim; ++j)
      row[j] = (j % 3 == std::size_t(label) ? 1.0f : 0.0f) + noise(random);
    t.add("img" + std::to_string(i) + ".jpg", label, row.data());
  }
  return t;
}

Classifier train(const FeatureTable& t, ClassifierType type, KernelType kernel, bool probability) {
  TrainOptions o;
  o.type = type;
  o.svm.kernel = kernel;
  o.svm.probability = probability;
  return Classifier::train(t, o, "seed table");
}

// The bundle archive format of fuzz_bundle.cpp.
std::string pack(const std::string& dir, bool make_index) {
  const char* files[] = {"BUNDLE",           "extract.txt", "model.spec",
                         "classifier.model", "pca.model",   "mic.model"};
  std::string out(1, make_index ? '\1' : '\0');
  for (int f = 0; f < 6; ++f) {
    if (make_index && f == 0) continue;
    const std::string path = dir + "/" + files[f];
    if (!fs::exists(path)) continue;
    const std::string bytes = read_bytes(path);
    const auto length = static_cast<std::uint32_t>(bytes.size());
    out += static_cast<char>(f);
    out.append(reinterpret_cast<const char*>(&length), 4);
    out += bytes;
  }
  return out;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: fuzz-seeds <source-dir> <out-dir>\n";
    return 2;
  }
  const std::string source = argv[1];
  out_root = fs::absolute(argv[2]).string();
  log::set_level(log::Level::quiet);
  try {
    fs::create_directories(out_root);
    const std::string work = out_root + "/work";
    fs::create_directories(work);

    // A model spec naming a stand-in network file (bundles checksum it, never load it).
    write_bytes(work + "/net.onnx", "stand-in network for the fuzz seeds\n");
    write_bytes(work + "/seed.spec",
                "name seed\nformat onnx\nmodel " + work +
                    "/net.onnx\nsize 32\nchannels rgb\nmean 1 2 3\nstd 50 60 70\n"
                    "layer feat onnx_node!/feat\ndefault-layers feat\n");
    ExtractOptions extract;
    extract.model = work + "/seed.spec";
    const std::string provenance =
        "stage=fg-extract\n" + extract.provenance_text() + "model-spec-name=seed\n";

    const FeatureTable table = small_table(6, provenance);
    write_table(seed_path("fuzz_table", "small.fgt"), table);
    write_table(seed_path("fuzz_table", "unlabelled.fgt"), [&] {
      FeatureTable t = small_table(2, "");
      t.classes.clear();
      for (int& l : t.labels) l = -1;
      return t;
    }());

    train(table, ClassifierType::svm, KernelType::linear, false)
        .save(seed_path("fuzz_classifier", "linear.model"));
    train(table, ClassifierType::svm, KernelType::rbf, false)
        .save(seed_path("fuzz_classifier", "rbf.model"));
    train(table, ClassifierType::svm, KernelType::rbf, true)
        .save(seed_path("fuzz_classifier", "rbf-prob.model"));
    train(table, ClassifierType::logreg, KernelType::linear, false)
        .save(seed_path("fuzz_classifier", "logreg.model"));

    PcaFitOptions pca_options;
    pca_options.dim = 3;
    const PcaModel pca = PcaModel::fit(table, pca_options);
    pca.save(seed_path("fuzz_pca", "pca3.model"));
    pca_options.whiten = true;
    PcaModel::fit(table, pca_options).save(seed_path("fuzz_pca", "pca3-whiten.model"));

    mic::SelectionModel selection;
    selection.input_dim = 3;
    selection.columns = {2, 0};
    selection.scores = {0.75, 0.5};
    selection.samples = 24;
    selection.classes = 3;
    selection.save(seed_path("fuzz_mic", "two.model"));

    for (const auto& entry : fs::directory_iterator(source + "/data/models"))
      if (entry.path().extension() == ".spec")
        fs::copy_file(entry.path(), seed_path("fuzz_spec", entry.path().filename().string()),
                      fs::copy_options::overwrite_existing);

    write_manifest(
        seed_path("fuzz_manifest", "train.tsv"),
        {{"flowers/daisy/1.jpg", "daisy"}, {"flowers/rose/2.jpg", "rose"}, {"loose.jpg", ""}});

    // Images: a colour, a grey and a progressive JPEG, one with an EXIF
    // orientation (rotate 90 degrees), and a PNG with alpha.
    {
      cv::Mat colour(12, 16, CV_8UC3);
      cv::randu(colour, 0, 256);
      cv::GaussianBlur(colour, colour, cv::Size(5, 5), 0);
      auto encoded = [](const std::string& ext, const cv::Mat& m, std::vector<int> params = {}) {
        std::vector<unsigned char> out;
        cv::imencode(ext, m, out, params);
        return std::string(out.begin(), out.end());
      };
      const std::string jpeg = encoded(".jpg", colour);
      write_bytes(seed_path("fuzz_image", "colour.jpg"), jpeg);
      cv::Mat grey;
      cv::cvtColor(colour, grey, cv::COLOR_BGR2GRAY);
      write_bytes(seed_path("fuzz_image", "grey.jpg"), encoded(".jpg", grey));
      write_bytes(seed_path("fuzz_image", "progressive.jpg"),
                  encoded(".jpg", colour, {cv::IMWRITE_JPEG_PROGRESSIVE, 1}));
      const std::string exif = std::string(
          "Exif\0\0MM\0*\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01\0\x06\0\0\0\0\0\0", 32);
      const std::size_t length = exif.size() + 2;
      write_bytes(seed_path("fuzz_image", "rotated.jpg"),
                  jpeg.substr(0, 2) + "\xFF\xE1" + char(length >> 8) + char(length & 255) + exif +
                      jpeg.substr(2));
      cv::Mat rgba;
      cv::cvtColor(colour, rgba, cv::COLOR_BGR2BGRA);
      write_bytes(seed_path("fuzz_image", "alpha.png"), encoded(".png", rgba));
    }

    write_libsvm(work + "/t.svm", table);
    write_bytes(seed_path("fuzz_text_table", "t.svm"),
                std::string(1, '\0') + read_bytes(work + "/t.svm"));
    write_csv(work + "/t.csv", table);
    write_bytes(seed_path("fuzz_text_table", "t.csv"),
                std::string(1, '\1') + read_bytes(work + "/t.csv"));

    // Bundles: classifier alone, and PCA -> MIC -> classifier.
    write_table(work + "/train.fgt", table);
    Classifier(train(table, ClassifierType::svm, KernelType::linear, false))
        .save(work + "/direct.model");
    Bundle::create(work + "/b1", {work + "/train.fgt", "", "", work + "/direct.model"});
    write_table(work + "/train.pca.fgt", [&] {
      FeatureTable t = table;
      t.dim = 3;
      t.values.assign(t.rows() * 3, 0.0f);
      for (std::size_t i = 0; i < t.rows(); ++i) pca.apply_row(table.row(i), t.row(i));
      return t;
    }());
    mic::SelectionModel after_pca = selection;
    after_pca.save(work + "/mic.model");
    const FeatureTable reduced = after_pca.apply(read_table(work + "/train.pca.fgt"));
    train(reduced, ClassifierType::logreg, KernelType::linear, false).save(work + "/chain.model");
    pca.save(work + "/pca.model");
    Bundle::create(work + "/b2", {work + "/train.fgt", work + "/pca.model", work + "/mic.model",
                                  work + "/chain.model"});
    for (const char* b : {"b1", "b2"})
      for (bool index : {false, true})
        write_bytes(seed_path("fuzz_bundle", std::string(b) + (index ? "-index" : "-files")),
                    pack(work + "/" + b, index));
    Bundle::load(work + "/b2");  // the seeds themselves must load
  } catch (const std::exception& e) {
    std::cerr << "fuzz-seeds: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
