// The chart of a PCA fit: cumulative explained variance against the number
// of components, with the kept K marked (fg-pca fit --plot).
#pragma once

#include <string>

#include "finegrain/core/plot.hpp"
#include "finegrain/reduce/pca.hpp"

namespace fg {

// The chart write_pca_variance_plot draws (exposed for tests).
plot::LineChart pca_variance_chart(const PcaFitReport& report);
// The chart as a PNG.
void write_pca_variance_plot(const std::string& path, const PcaFitReport& report);

}  // namespace fg
