// Model specs whose preprocessing would make every feature NaN or constant
// are refused when parsed (issue 14.4).
#include <doctest/doctest.h>

#include "finegrain/core/common.hpp"
#include "finegrain/extract/model_spec.hpp"

using namespace fg;

TEST_CASE("model spec: infinite or huge means and tiny or huge stds are refused") {
  const std::string base = "model a.onnx\ndefault-layers x\n";
  CHECK_THROWS_WITH_AS(parse_model_spec(base + "mean inf\n", "s.spec"),
                       "s.spec: line 3: 'mean' values must be finite, within +-10000", Error);
  CHECK_THROWS_WITH_AS(parse_model_spec(base + "mean 1 nan 3\n", "s.spec"),
                       "s.spec: line 3: 'mean' values must be finite, within +-10000", Error);
  CHECK_THROWS_WITH_AS(parse_model_spec(base + "std 1e-300\n", "s.spec"),
                       "s.spec: line 3: 'std' values must be in [0.001, 10000] (pixel units)",
                       Error);
  CHECK_THROWS_WITH_AS(parse_model_spec(base + "std 1 1 inf\n", "s.spec"),
                       "s.spec: line 3: 'std' values must be in [0.001, 10000] (pixel units)",
                       Error);
  const ModelSpec ok =
      parse_model_spec(base + "mean 123.675 116.28 103.53\nstd 58.395 57.12 57.375\n", "s.spec");
  CHECK(ok.std[2] == 57.375);
}

// Found by fuzz_spec (issue 14): a line of only a form feed or vertical tab
// (white space to the word splitter, not to trim) read a word that was not there.
TEST_CASE("model spec: a line of only other white space is blank") {
  const ModelSpec spec =
      parse_model_spec("model a.onnx\n\f\ndefault-layers x\n\v # note\n\f\v\n", "s.spec");
  CHECK(spec.model == "a.onnx");
  CHECK(spec.default_layers == std::vector<std::string>{"x"});
}
