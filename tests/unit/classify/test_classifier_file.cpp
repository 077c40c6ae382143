// The classifier model reader on hand-made files: every damaged or
// inconsistent model is an Error (exit 1) naming the file and the field,
// never a usage error, a NaN score or a huge allocation.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "finegrain/classify/classifier.hpp"
#include "finegrain/core/binary.hpp"
#include "finegrain/core/common.hpp"
#include "test_util.hpp"

using namespace fg;

namespace {

struct HandPair {
  std::uint32_t a, b;
  double rho, prob_a = 0, prob_b = 0;
  std::vector<std::uint32_t> sv;
  std::vector<double> coef;
};

// A 3-class linear SVM of dimension 2 on support vectors, written field by
// field as the format says (classifier.hpp): SVs (1,0), (0,1), (-1,-1).
struct HandSvm {
  std::string type = "svm", scale = "none", kernel = "linear";
  std::vector<std::string> classes = {"a", "b", "c"};
  std::uint32_t probability = 0;
  std::vector<double> sv = {1, 0, 0, 1, -1, -1};
  std::vector<HandPair> pairs = {{0, 1, 0.0, 0, 0, {0, 1}, {1, -1}},
                                 {0, 2, 0.0, 0, 0, {0, 2}, {1, -1}},
                                 {1, 2, 0.0, 0, 0, {1, 2}, {1, -1}}};
  std::uint64_t sv_count_override = 0;  // 0: the real count

  std::string bytes() const {
    std::ostringstream s;
    BinaryWriter o(s);
    o.bytes("FGCLSFR\n", 8);
    o.u32(kClassifierVersion);
    o.str(type);
    o.str("hand-made");
    o.str("stage=fg-extract\n");
    o.u64(2);
    o.u32(static_cast<std::uint32_t>(classes.size()));
    for (const auto& c : classes) o.str(c);
    o.str(scale);
    o.f64(-1);
    o.f64(1);
    o.vec({});
    o.vec({});
    o.str(kernel);
    o.f64(0.5);
    o.u32(probability);
    o.u32(0);  // support vectors, not weights
    o.u64(sv_count_override ? sv_count_override : sv.size() / 2);
    o.f64s(sv.data(), sv.size());
    o.u64(pairs.size());
    for (const auto& p : pairs) {
      o.u32(p.a);
      o.u32(p.b);
      o.f64(p.rho);
      o.f64(p.prob_a);
      o.f64(p.prob_b);
      o.u64(p.sv.size());
      for (auto i : p.sv) o.u32(i);
      o.f64s(p.coef.data(), p.coef.size());
    }
    o.bytes("END\n", 4);
    return s.str();
  }
};

// "usage: <message>" for a UsageError, "error: <message>" for an Error.
std::string load_failure(const std::string& path) {
  try {
    Classifier::load(path);
  } catch (const UsageError& e) {
    return std::string("usage: ") + e.what();
  } catch (const Error& e) {
    return std::string("error: ") + e.what();
  }
  return "loaded";
}

std::string save(const TempDir& dir, const std::string& name, const std::string& bytes) {
  write_bytes(dir.file(name), bytes);
  return dir.file(name);
}

}  // namespace

TEST_CASE("classifier file: the hand-made model loads and votes as written") {
  TempDir dir;
  const Classifier c = Classifier::load(save(dir, "ok.model", HandSvm{}.bytes()));
  CHECK(c.classes() == std::vector<std::string>{"a", "b", "c"});
  // x = (2, 0): pair (0,1) decides 2 > 0 -> a; (0,2) 2 - (-2) > 0 -> a; (1,2) 0 + 2 > 0 -> b.
  const float x[2] = {2, 0};
  const auto top = c.predict_row(x, 3);
  CHECK(top[0].cls == 0);
  CHECK(top[0].score == doctest::Approx(1.0));
  CHECK(top[1].cls == 1);
  CHECK(top[1].score == doctest::Approx(0.5));
}

TEST_CASE("classifier file: damaged names are data errors naming the file and field (issue 14.7)") {
  TempDir dir;
  HandSvm type, scale, kernel;
  type.type = "sxm";
  scale.scale = "minmux";
  kernel.kernel =
      "lin\x01"
      "ar";
  CHECK(load_failure(save(dir, "t.model", type.bytes())) ==
        "error: " + dir.file("t.model") +
            ": damaged classifier model: field 'type' is 'sxm', expected one of svm, logreg");
  CHECK(load_failure(save(dir, "s.model", scale.bytes())) ==
        "error: " + dir.file("s.model") +
            ": damaged classifier model: field 'scale' is 'minmux', expected one of none, l2, "
            "standard, minmax");
  CHECK(load_failure(save(dir, "k.model", kernel.bytes())) ==
        "error: " + dir.file("k.model") +
            ": damaged classifier model: field 'kernel' is 'lin\\x01ar', expected one of linear, "
            "rbf");
}

TEST_CASE("classifier file: inconsistent structure is refused (issue 14.10)") {
  TempDir dir;
  auto failure = [&](const HandSvm& m) { return load_failure(save(dir, "m.model", m.bytes())); };
  SUBCASE("probability flag on a model without sigmoids") {
    HandSvm m;
    m.probability = 1;
    CHECK(failure(m) ==
          "error: " + dir.file("m.model") +
              ": damaged classifier model: probability flag set, but class pair 1 has no sigmoid");
  }
  SUBCASE("sigmoids without the flag") {
    HandSvm m;
    m.pairs[1].prob_a = -2;
    CHECK(failure(m).find("class pair 2 has a probability sigmoid, but the flag is not set") !=
          std::string::npos);
  }
  SUBCASE("a repeated pair (and so a missing one)") {
    HandSvm m;
    m.pairs[2].a = 0;
    m.pairs[2].b = 1;
    CHECK(failure(m) == "error: " + dir.file("m.model") +
                            ": damaged classifier model: class pair 3 is (0,1), expected (1,2) "
                            "(pairs missing or repeated)");
  }
  SUBCASE("a support vector listed twice in one pair") {
    HandSvm m;
    m.pairs[0].sv = {1, 1};
    CHECK(failure(m).find("class pair 1: support vector 1 listed twice") != std::string::npos);
  }
  SUBCASE("duplicate class names") {
    HandSvm m;
    m.classes = {"a", "b", "a"};
    CHECK(failure(m).find("class 3 'a' repeats class 1") != std::string::npos);
  }
  SUBCASE("with sigmoids and the flag, it loads") {
    HandSvm m;
    m.probability = 1;
    for (auto& p : m.pairs) p.prob_a = -3, p.prob_b = 0.1;
    CHECK(failure(m) == "loaded");
  }
}

TEST_CASE(
    "classifier file: non-finite numbers are refused, overflowing scores are errors (issue 14.4)") {
  TempDir dir;
  HandSvm nan_sv;
  nan_sv.sv[3] = std::numeric_limits<double>::quiet_NaN();
  CHECK(load_failure(save(dir, "n.model", nan_sv.bytes())) ==
        "error: " + dir.file("n.model") +
            ": damaged classifier model: support vector value 4 of 6 is nan");
  HandSvm inf_rho;
  inf_rho.pairs[0].rho = std::numeric_limits<double>::infinity();
  CHECK(load_failure(save(dir, "r.model", inf_rho.bytes())).find("class pair 1: non-finite rho") !=
        std::string::npos);
}

TEST_CASE(
    "classifier file: counts are checked against the file size before allocating (issue 14.9)") {
  TempDir dir;
  HandSvm m;
  m.sv_count_override = 40'000'000;  // 40e6 x 2 doubles = 640 MB claimed by a file of ~400 bytes
  const std::string failure = load_failure(save(dir, "big.model", m.bytes()));
  CHECK(failure ==
        "error: " + dir.file("big.model") +
            ": truncated or damaged classifier model: support vector count 40000000 needs at least "
            "640000000 bytes, the file has " +
            std::to_string(m.bytes().size() - 154) + " left");
}
