// fg-bundle's checks: the classifier must have been trained on features
// extracted the way the bundle will extract them (issue 14.6).
#include <doctest/doctest.h>

#include <filesystem>

#include "finegrain/chain/bundle.hpp"
#include "finegrain/core/assets.hpp"
#include "finegrain/core/common.hpp"
#include "test_util.hpp"

using namespace fg;

namespace {
// A spec naming a stand-in network file: bundles checksum it, never load it.
std::string stand_in_spec(const TempDir& dir) {
  write_bytes(dir.file("net.onnx"), "stand-in network\n");
  write_bytes(dir.file("seed.spec"), "name seed\nformat onnx\nmodel " + dir.file("net.onnx") +
                                         "\nsize 224\ndefault-layers feat\n");
  return dir.file("seed.spec");
}

std::string provenance(const ExtractOptions& o) {
  return "stage=fg-extract\n" + o.provenance_text() + "model-spec-name=seed\n";
}

FeatureTable with_provenance(FeatureTable t, const std::string& p) {
  t.provenance = p;
  return t;
}

std::string trained_on(const TempDir& dir, const FeatureTable& t, const std::string& name) {
  log::set_level(log::Level::quiet);
  Classifier::train(t, TrainOptions{}, name).save(dir.file(name + ".model"));
  log::set_level(log::Level::normal);
  return dir.file(name + ".model");
}
}  // namespace

TEST_CASE(
    "bundle: a classifier trained on other extraction settings is refused, same dimension or not") {
  TempDir dir;
  ExtractOptions extract;
  extract.model = stand_in_spec(dir);
  const FeatureTable table = random_table(12, 6, 2, 3);
  write_table(dir.file("train.fgt"), with_provenance(table, provenance(extract)));

  ExtractOptions other = extract;
  other.norm = Norm::none;
  other.size = 320;
  const std::string wrong = trained_on(dir, with_provenance(table, provenance(other)), "other");
  CHECK_THROWS_WITH_AS(
      Bundle::create(dir.file("b"), {dir.file("train.fgt"), "", "", wrong}),
      (wrong + ": trained on features extracted with other settings than " + dir.file("train.fgt") +
       " (size=320 vs size=0); extract the training features again or retrain")
          .c_str(),
      Error);
  CHECK_FALSE(std::filesystem::exists(dir.file("b/BUNDLE")));

  // No extraction record at all: it cannot be checked, so it is refused too.
  const std::string unknown = trained_on(dir, with_provenance(table, ""), "unknown");
  CHECK_THROWS_WITH_AS(
      Bundle::create(dir.file("b"), {dir.file("train.fgt"), "", "", unknown}),
      doctest::Contains("records no extraction settings for its training features"), Error);

  // The same settings, spelled differently (the spec by path, augmentation
  // on for training), are the same features: accepted.
  ExtractOptions same = extract;
  same.augment_flip = true;
  const std::string right = trained_on(dir, with_provenance(table, provenance(same)), "right");
  Bundle::create(dir.file("b"), {dir.file("train.fgt"), "", "", right});
  CHECK(Bundle::load(dir.file("b")).classifier().dim() == 6);
}

TEST_CASE("bundle: a record without conv (auto) is its spec's conv; the bundle keeps it concrete") {
  TempDir dir;
  write_bytes(dir.file("net.onnx"), "stand-in network\n");
  write_bytes(dir.file("seed.spec"), "name seed\nformat onnx\nmodel " + dir.file("net.onnx") +
                                         "\nsize 224\ndefault-layers feat\nconv opencv\n");
  ExtractOptions automatic;  // as a table older than --conv reads: no conv line
  automatic.model = dir.file("seed.spec");
  const FeatureTable table = random_table(12, 6, 2, 3);
  write_table(dir.file("train.fgt"), with_provenance(table, provenance(automatic)));
  ExtractOptions winograd = automatic, opencv = automatic;
  winograd.conv = ConvImpl::winograd;
  opencv.conv = ConvImpl::opencv;
  const std::string wrong = trained_on(dir, with_provenance(table, provenance(winograd)), "w");
  CHECK_THROWS_WITH_AS(Bundle::create(dir.file("b"), {dir.file("train.fgt"), "", "", wrong}),
                       doctest::Contains("(conv=winograd vs conv=opencv)"), Error);
  const std::string right = trained_on(dir, with_provenance(table, provenance(opencv)), "o");
  Bundle::create(dir.file("b"), {dir.file("train.fgt"), "", "", right});
  CHECK(Bundle::load(dir.file("b")).extract_options().conv == ConvImpl::opencv);
  CHECK(read_bytes(dir.file("b/extract.txt")).find("\nconv=opencv\n") != std::string::npos);
}

TEST_CASE("bundle: loading checks that the parts still fit together") {
  TempDir dir;
  ExtractOptions extract;
  extract.model = stand_in_spec(dir);
  const FeatureTable table = with_provenance(random_table(12, 6, 2, 3), provenance(extract));
  write_table(dir.file("train.fgt"), table);
  PcaFitOptions pca_options;
  pca_options.dim = 3;
  const PcaModel pca = PcaModel::fit(table, pca_options);
  pca.save(dir.file("pca.model"));
  FeatureTable reduced = table;
  reduced.dim = 3;
  reduced.values.assign(table.rows() * 3, 0.0f);
  for (std::size_t i = 0; i < table.rows(); ++i) pca.apply_row(table.row(i), reduced.row(i));
  Bundle::create(dir.file("b"), {dir.file("train.fgt"), dir.file("pca.model"), "",
                                 trained_on(dir, reduced, "ok")});
  CHECK(Bundle::load(dir.file("b")).input_dim() == 6);
  // A classifier of another dimension put in with a matching checksum: the
  // PCA's 3 outputs would be read as 5 inputs.
  const std::string other =
      trained_on(dir, with_provenance(random_table(12, 5, 2, 3), provenance(extract)), "narrow");
  std::filesystem::copy_file(other, dir.file("b/classifier.model"),
                             std::filesystem::copy_options::overwrite_existing);
  std::string index = read_bytes(dir.file("b/BUNDLE"));
  const auto at = index.find("classifier.model ") + 17;
  index.replace(at, 64, sha256_file(dir.file("b/classifier.model")));
  write_bytes(dir.file("b/BUNDLE"), index);
  CHECK_THROWS_WITH_AS(Bundle::load(dir.file("b")),
                       (dir.file("b/classifier.model") +
                        ": classifier of dimension 5, but the bundle's chain before it gives 3")
                           .c_str(),
                       Error);
}
