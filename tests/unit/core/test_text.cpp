// Text splitting/trimming and seeded randomness: the one way each is done.
#include <doctest/doctest.h>

#include <algorithm>
#include <numeric>

#include "finegrain/core/random.hpp"
#include "finegrain/core/text.hpp"

using namespace fg;
using Strings = std::vector<std::string>;

TEST_CASE("text: lists are trimmed and drop empty parts; fields are kept exactly") {
  CHECK(split_list(" a , b,,c ") == Strings{"a", "b", "c"});
  CHECK(split_list("conv4_3,conv5_3") == Strings{"conv4_3", "conv5_3"});
  CHECK(split_list("").empty());
  CHECK(split_list(" , ,").empty());
  CHECK(split_list("1:2", ':') == Strings{"1", "2"});
  CHECK(split_fields("a\t\tb") == Strings{"a", "", "b"});
  CHECK(split_fields("") == Strings{""});
  CHECK(split_fields(" x \t") == Strings{" x ", ""});
  CHECK(trim(" \t x y \r\n") == "x y");
  CHECK(trim(" \t\r\n").empty());
}

TEST_CASE("text: shorten cuts long text to its limit, ending in '..'") {
  CHECK(shorten("abc", 3) == "abc");
  CHECK(shorten("abcdef", 5) == "abc..");
  CHECK(shorten(std::string(6000, 'x'), 60).size() == 60);
}

TEST_CASE("random: the text hash keeps the values fg-list's splits were made with") {
  // Start 1469598103934665603, then per byte: xor, times 1099511628211 (mod 2^64).
  CHECK(fnv1a("") == 1469598103934665603ull);
  CHECK(fnv1a("a") == 4953267810257967366ull);
  CHECK(fnv1a("foobar") == 9870438755804841970ull);
  CHECK(fnv1a("daisy") != fnv1a("daisz"));
}

TEST_CASE("random: seeded shuffle is a reproducible permutation, the plain modulo draw's") {
  std::vector<int> a(50);
  std::iota(a.begin(), a.end(), 0);
  std::vector<int> b = a, plain = a;
  std::mt19937_64 r1(7), r2(7), r3(7);
  seeded_shuffle(a, r1);
  seeded_shuffle(b, r2);
  CHECK(a == b);
  // The bias rejection fires with probability < bound / 2^64, so for small
  // sizes the result is Fisher–Yates with rng() % i (the folds of earlier releases).
  for (std::size_t i = plain.size(); i > 1; --i) std::swap(plain[i - 1], plain[r3() % i]);
  CHECK(a == plain);
  std::vector<int> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  for (int i = 0; i < 50; ++i) CHECK(sorted[i] == i);
  CHECK(a != sorted);
  std::mt19937_64 r4(8);
  std::vector<int> c = sorted;
  seeded_shuffle(c, r4);
  CHECK(c != a);
}
