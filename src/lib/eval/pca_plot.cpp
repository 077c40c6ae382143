#include "finegrain/eval/pca_plot.hpp"

#include <algorithm>

#include "finegrain/core/common.hpp"

namespace fg {

plot::LineChart pca_variance_chart(const PcaFitReport& report) {
  plot::LineChart chart;
  chart.title = cat("PCA: cumulative explained variance (", pca_method_name(report.method), ")");
  chart.x_label = "number of components";
  chart.y_label = "cumulative explained variance (%)";
  plot::Series cumulative;
  cumulative.color = plot::kBlue;
  double sum = 0.0;
  cumulative.x.push_back(0);
  cumulative.y.push_back(0);
  for (std::size_t k = 0; k < report.spectrum.size(); ++k) {
    const double ratio =
        report.total_variance > 0 ? report.spectrum[k] / report.total_variance : 0.0;
    sum += ratio;
    cumulative.x.push_back(static_cast<double>(k + 1));
    cumulative.y.push_back(100.0 * sum);
  }
  chart.x_min = 0;
  chart.x_max = std::max<double>(1.0, static_cast<double>(report.spectrum.size()));
  chart.y_min = 0;
  chart.y_max = 100;
  chart.series = {cumulative};
  if (report.kept > 0 && report.kept <= cumulative.y.size() - 1) {
    plot::Marker marker;
    marker.x = static_cast<double>(report.kept);
    marker.text = cat("K = ", report.kept, ": ", plot::format_percent(cumulative.y[report.kept]));
    chart.markers.push_back(marker);
  }
  if (!report.complete) chart.note = "only the computed components are shown (randomized method)";
  return chart;
}

void write_pca_variance_plot(const std::string& path, const PcaFitReport& report) {
  plot::write_png(path, plot::draw(pca_variance_chart(report)));
}

}  // namespace fg
