// Model specs: the conv line (what --conv auto runs), parsed, printed, shipped.
#include <doctest/doctest.h>

#include "finegrain/core/common.hpp"
#include "finegrain/extract/model_spec.hpp"
#include "test_util.hpp"

using namespace fg;

TEST_CASE("model spec: the conv line says what --conv auto runs") {
  const std::string base = "model a.onnx\ndefault-layers x\n";
  CHECK(parse_model_spec(base, "s.spec").conv == ConvImpl::winograd);  // no line: winograd
  CHECK(parse_model_spec(base + "conv opencv\n", "s.spec").conv == ConvImpl::opencv);
  CHECK(parse_model_spec(base + "conv  Winograd  # the faster here\n", "s.spec").conv ==
        ConvImpl::winograd);
  CHECK_THROWS_WITH_AS(parse_model_spec(base + "conv fft\n", "dir/s.spec"),
                       "dir/s.spec: line 3: 'conv' expects winograd or opencv, found 'fft'", Error);
  CHECK_THROWS_WITH_AS(parse_model_spec(base + "\nconv\n", "s.spec"),
                       "s.spec: line 4: 'conv' expects one value, found 0", Error);
  CHECK_THROWS_WITH_AS(parse_model_spec(base + "conv auto\n", "s.spec"),
                       "s.spec: line 3: 'conv' expects winograd or opencv, found 'auto'", Error);
  // The text form (checkpoint identities, bundles' model.spec) keeps it.
  const ModelSpec spec = parse_model_spec(base + "conv opencv\n", "s.spec");
  CHECK(spec.to_text().find("\nconv opencv\n") != std::string::npos);
  CHECK(parse_model_spec(spec.to_text(), "again.spec").conv == ConvImpl::opencv);
}

TEST_CASE("model spec: the shipped specs choose the faster convolution for their network") {
  // Measured (README, "Winograd convolution"): Winograd 2.3-3.2x faster on
  // VGG16, OpenCV's convolution 3-9 % faster on SqueezeNet.
  CHECK(load_model_spec(spec_file("squeezenet1_1_imagenet_notop")).conv == ConvImpl::opencv);
  for (const char* vgg : {"vgg16-caffe", "vgg16-onnx", "vgg16_tiny_seeded"})
    CHECK(load_model_spec(spec_file(vgg)).conv == ConvImpl::winograd);
}
