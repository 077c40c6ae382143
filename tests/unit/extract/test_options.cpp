// ExtractOptions: text and provenance round trips, the extraction record.
#include <doctest/doctest.h>

#include "finegrain/core/common.hpp"
#include "finegrain/extract/options.hpp"

using namespace fg;

TEST_CASE("options: round trip through text") {
  ExtractOptions o;
  o.model = "vgg16-caffe";
  o.layers = {"conv4_3", "conv5_3"};
  o.size = 448;
  o.scales = {224, 448};
  o.resize = ResizeMode::crop;
  o.pool.pooling = Pooling::gem;
  o.pool.gem_p = 2.5;
  o.layer_weights = {1, 0.25};
  o.norm = Norm::power_l2;
  o.flip = true;
  o.flip_merge = Merge::concat;
  o.augment_crops = true;
  o.crop_fraction = 0.8;
  o.max_pixels = 12345;
  const std::string text = o.to_text();
  const ExtractOptions back = ExtractOptions::from_text(text);
  CHECK(back.to_text() == text);
  CHECK(back.layers == o.layers);
  CHECK(back.pool.gem_p == 2.5);
  CHECK_THROWS_WITH_AS(ExtractOptions::from_text("pooling=median\n", "bundle/extract.txt"),
                       doctest::Contains("bundle/extract.txt: line 1"), Error);
}

TEST_CASE("options: round trip through a table's provenance") {
  ExtractOptions o;
  o.pool.pooling = Pooling::attn;
  o.layers = {"fire8", "fire9"};
  const std::string prov =
      "stage=fg-extract\n" + o.provenance_text() + "model-spec-name=x\nstage=fg-pca\npca.dim=64\n";
  CHECK(ExtractOptions::from_provenance(prov).to_text() == o.to_text());
}

