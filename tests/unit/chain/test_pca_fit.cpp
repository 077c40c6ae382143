#include <doctest/doctest.h>

#include <filesystem>
#include <sstream>

#include "finegrain/chain/pca_fit.hpp"
#include "finegrain/core/common.hpp"
#include "finegrain/data/table.hpp"
#include "test_util.hpp"

using namespace fg;

TEST_CASE("pca fit: the model, the variance table and the chart are written together") {
  TempDir dir;
  write_table(dir.file("t.fgt"), random_table(40, 8, 2, 3));
  PcaFitOptions options;
  options.dim = 3;
  options.method = "cov";
  const PcaReportOptions reports{dir.file("pca.tsv"), dir.file("pca.png")};
  const std::string summary =
      fit_pca_files({dir.file("t.fgt")}, dir.file("pca.model"), options, reports);
  CHECK(summary.rfind("Done 40 rows: dimension 8 -> 3 components (cov), explaining ", 0) == 0);
  const PcaModel model = PcaModel::load(dir.file("pca.model"));
  CHECK(model.output_dim() == 3);
  // One line per computed component (all 8 with cov), the first 3 kept.
  std::istringstream table(read_bytes(dir.file("pca.tsv")));
  std::string line;
  std::getline(table, line);
  CHECK(line == "component\tvariance\tratio\tcumulative\tkept");
  std::vector<std::string> kept;
  while (std::getline(table, line)) kept.push_back(line.substr(line.rfind('\t') + 1));
  CHECK(kept == std::vector<std::string>{"1", "1", "1", "0", "0", "0", "0", "0"});
  CHECK(read_bytes(dir.file("pca.png")).substr(1, 3) == "PNG");

  // A report that cannot be written fails before the fit; the earlier model stays.
  const std::string before = read_bytes(dir.file("pca.model"));
  options.dim = 2;
  CHECK_THROWS_AS(fit_pca_files({dir.file("t.fgt")}, dir.file("pca.model"), options,
                                {"", dir.file("no such folder/pca.png")}),
                  Error);
  CHECK(read_bytes(dir.file("pca.model")) == before);
  CHECK_THROWS_AS(fit_pca_files({dir.file("t.fgt")}, "-", options, {}), UsageError);
}
