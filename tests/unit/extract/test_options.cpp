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

TEST_CASE("options: defaults spelled out have the canonical form of the defaults") {
  ModelSpec spec;
  spec.size = 224;
  spec.default_layers = {"fire9"};
  const ExtractOptions defaults;
  ExtractOptions spelled;
  spelled.model = "/elsewhere/squeezenet1_1_imagenet_notop.spec";
  spelled.size = 224;
  spelled.layers = {"fire9"};
  spelled.layer_weights = {1};
  CHECK(spelled.to_text() != defaults.to_text());
  CHECK(spelled.canonical(spec).to_text() == defaults.canonical(spec).to_text());
  ExtractOptions one_scale;  // --scales 224: the same as --size 224
  one_scale.scales = {224};
  one_scale.scale_merge = Merge::concat;
  CHECK(one_scale.canonical(spec).to_text() == defaults.canonical(spec).to_text());
  // What changes the values changes the canonical form.
  ExtractOptions other = spelled;
  other.size = 320;
  CHECK(other.canonical(spec).to_text() != defaults.canonical(spec).to_text());
  other = spelled;
  other.layers = {"fire8"};
  CHECK(other.canonical(spec).to_text() != defaults.canonical(spec).to_text());
  other = spelled;
  other.pool.pooling = Pooling::gem;
  CHECK(other.canonical(spec).to_text() != defaults.canonical(spec).to_text());
}

TEST_CASE("options: provenances compare by canonical settings, other stages' lines as text") {
  ExtractOptions spelled;
  spelled.size = 224;  // the spec's default (squeezenet1_1_imagenet_notop)
  spelled.layers = {"fire9"};
  const std::string spec = "squeezenet1_1_imagenet_notop";
  const std::string a = ExtractionRecord{ExtractOptions(), spec}.provenance();
  const std::string b = ExtractionRecord{spelled, spec}.provenance();
  CHECK(a != b);
  CHECK(same_provenance(a, b));
  CHECK(same_provenance(a + "stage=fg-pca\npca.dim=64\n", b + "stage=fg-pca\npca.dim=64\n"));
  CHECK_FALSE(same_provenance(a + "stage=fg-pca\npca.dim=64\n", b + "stage=fg-pca\npca.dim=32\n"));
  ExtractOptions bigger = spelled;
  bigger.size = 320;
  CHECK_FALSE(same_provenance(a, ExtractionRecord{bigger, spec}.provenance()));
  CHECK_FALSE(same_provenance(a, ExtractionRecord{ExtractOptions(), "vgg16-caffe"}.provenance()));
  CHECK_FALSE(same_provenance(a, "stage=other\n"));
  // The record is found by its stage line; a table without one has none.
  const auto found = ExtractionRecord::find(b + "stage=fg-pca\n");
  REQUIRE(found);
  CHECK(found->spec_name == spec);
  CHECK(found->options.to_text() == spelled.to_text());
  CHECK_FALSE(ExtractionRecord::find("extract.size=224\n"));
}

TEST_CASE("options: --conv auto resolves to the spec's conv, and is the same settings as it") {
  ModelSpec opencv_spec, winograd_spec;
  opencv_spec.conv = ConvImpl::opencv;
  winograd_spec.conv = ConvImpl::winograd;
  const ExtractOptions automatic;  // the default
  CHECK_FALSE(automatic.conv);
  CHECK(automatic.to_text().find("\nconv=auto\n") != std::string::npos);
  CHECK(automatic.resolved(opencv_spec).conv == ConvImpl::opencv);
  CHECK(automatic.resolved(winograd_spec).conv == ConvImpl::winograd);
  // A value given is kept whatever the spec says.
  ExtractOptions winograd, opencv;
  winograd.conv = ConvImpl::winograd;
  opencv.conv = ConvImpl::opencv;
  CHECK(winograd.resolved(opencv_spec).conv == ConvImpl::winograd);
  CHECK(opencv.resolved(winograd_spec).conv == ConvImpl::opencv);
  // Nothing else changes.
  ExtractOptions other = automatic;
  other.size = 320;
  other.layers = {"fire8"};
  ExtractOptions other_resolved = other.resolved(opencv_spec);
  other_resolved.conv.reset();
  CHECK(other_resolved.to_text() == other.to_text());
  // Canonical (--resume identity, joins): auto is its concrete value.
  opencv_spec.default_layers = winograd_spec.default_layers = {"fire9"};
  const std::string auto_canon = automatic.canonical(opencv_spec).to_text();
  CHECK(auto_canon.find("\nconv=opencv\n") != std::string::npos);
  CHECK(auto_canon == opencv.canonical(opencv_spec).to_text());
  CHECK(auto_canon != winograd.canonical(opencv_spec).to_text());
  CHECK(automatic.canonical(winograd_spec).to_text() ==
        winograd.canonical(winograd_spec).to_text());
}

TEST_CASE("options: conv in text and provenance: auto, winograd, opencv; others are errors") {
  CHECK_FALSE(ExtractOptions::from_text("conv=auto\n").conv);
  CHECK(ExtractOptions::from_text("conv=opencv\n").conv == ConvImpl::opencv);
  // Tables made before auto say conv=winograd: they still read, as winograd.
  CHECK(ExtractOptions::from_provenance("stage=fg-extract\nextract.conv=winograd\n").conv ==
        ConvImpl::winograd);
  CHECK_THROWS_WITH_AS(
      ExtractOptions::from_text("size=224\nconv=fft\n", "t.fgt"),
      "t.fgt: line 2: conv=fft: unknown convolution 'fft' (auto, winograd, opencv)", Error);
  // A record with the concrete value is the same as one with auto for the
  // real squeezenet spec (conv opencv), not one with the other value.
  const std::string spec = "squeezenet1_1_imagenet_notop";
  ExtractOptions winograd, opencv;
  winograd.conv = ConvImpl::winograd;
  opencv.conv = ConvImpl::opencv;
  const std::string automatic = ExtractionRecord{ExtractOptions(), spec}.provenance();
  CHECK(same_provenance(automatic, ExtractionRecord{opencv, spec}.provenance()));
  CHECK_FALSE(same_provenance(automatic, ExtractionRecord{winograd, spec}.provenance()));
  CHECK_FALSE(same_provenance(ExtractionRecord{opencv, spec}.provenance(),
                              ExtractionRecord{winograd, spec}.provenance()));
}
