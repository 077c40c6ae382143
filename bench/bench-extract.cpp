// bench-extract: images/s of feature extraction for the full-width VGG16
// topology (conv1_1 ... pool5, built in memory with fixed He-initialised
// weights: no download) and the real SqueezeNet 1.1, at batch 1..16: the
// bare net.forward() with Winograd and with OpenCV's own convolution, the
// PyTorch CPU peer (bench/peer-torch.py, same topology, batch, size and
// threads), and fg-extract's pipeline end to end (decode + preprocess in the
// producer thread, forward, pooling), all interleaved in one run.
//
//   bench-extract [--models vgg16,squeezenet] [--batches 1,2,4,8,16]
//                 [--images N] [--size 224] [--threads N] [--reps 3]
//                 [--peer bench/peer-torch.py] [--python python3]
//
// Prints one line per (model, batch): the four images/s, the ratios
// Winograd/OpenCV, bare/PyTorch and end-to-end/PyTorch, end-to-end/bare, and
// the share of the end-to-end wall time spent outside setInput + forward.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>

#include "finegrain/core/assets.hpp"
#include "finegrain/core/common.hpp"
#include "finegrain/core/io.hpp"
#include "finegrain/extract/extract.hpp"
#include "finegrain/extract/image.hpp"
#include "finegrain/extract/model_spec.hpp"
#include "finegrain/extract/winograd.hpp"

using namespace fg;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

// VGG16 configuration D, convolutional part: conv-ReLU blocks of
// (2, 2, 3, 3, 3) convs with 64, 128, 256, 512, 512 channels, each block
// followed by a 2x2 max-pool.
cv::dnn::Net build_vgg16(unsigned seed) {
  cv::dnn::Net net;
  net.setInputsNames({"data"});
  cv::RNG rng(seed);
  const int blocks[5] = {2, 2, 3, 3, 3};
  const int widths[5] = {64, 128, 256, 512, 512};
  int in_channels = 3;
  for (int b = 0; b < 5; ++b) {
    for (int k = 0; k < blocks[b]; ++k) {
      const std::string id = std::to_string(b + 1) + "_" + std::to_string(k + 1);
      const int out = widths[b];
      cv::dnn::LayerParams conv;
      conv.set("kernel_size", 3);
      conv.set("pad", 1);
      conv.set("stride", 1);
      conv.set("num_output", out);
      conv.set("bias_term", true);
      cv::Mat w(std::vector<int>{out, in_channels, 3, 3}, CV_32F);
      rng.fill(w, cv::RNG::NORMAL, 0.0, std::sqrt(2.0 / (9.0 * in_channels)));
      cv::Mat bias(out, 1, CV_32F);
      rng.fill(bias, cv::RNG::UNIFORM, -0.01, 0.01);
      conv.blobs = {w, bias};
      conv.name = "conv" + id;
      conv.type = "Convolution";
      net.addLayerToPrev(conv.name, conv.type, conv);
      cv::dnn::LayerParams relu;
      relu.name = "relu" + id;
      relu.type = "ReLU";
      net.addLayerToPrev(relu.name, relu.type, relu);
      in_channels = out;
    }
    cv::dnn::LayerParams pool;
    pool.set("pool", "max");
    pool.set("kernel_size", 2);
    pool.set("stride", 2);
    pool.name = "pool" + std::to_string(b + 1);
    pool.type = "Pooling";
    net.addLayerToPrev(pool.name, pool.type, pool);
  }
  return net;
}

std::vector<int> parse_list(const std::string& s) {
  std::vector<int> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    const auto comma = s.find(',', start);
    const std::string part =
        s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!part.empty()) out.push_back(std::atoi(part.c_str()));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

// The PyTorch peer (bench/peer-torch.py) as a child process that runs one
// pass per "pass" line, so that its passes interleave with ours.
class Peer {
 public:
  Peer(const std::string& python, const std::string& script, const std::string& model, int batch,
       int size, int threads, int images) {
    int to[2], from[2];
    if (pipe(to) != 0 || pipe(from) != 0) throw Error("pipe failed");
    pid_ = fork();
    if (pid_ < 0) throw Error("fork failed");
    if (pid_ == 0) {
      dup2(to[0], 0);
      dup2(from[1], 1);
      close(to[1]);
      close(from[0]);
      const std::string b = std::to_string(batch), s = std::to_string(size),
                        t = std::to_string(threads), n = std::to_string(images);
      execlp(python.c_str(), python.c_str(), script.c_str(), "--model", model.c_str(), "--batch",
             b.c_str(), "--size", s.c_str(), "--threads", t.c_str(), "--images", n.c_str(),
             (char*)nullptr);
      std::printf("skip: cannot run %s\n", python.c_str());
      std::_Exit(0);
    }
    close(to[0]);
    close(from[1]);
    in_ = fdopen(to[1], "w");
    out_ = fdopen(from[0], "r");
    status_ = read_line();
    ok_ = status_.rfind("ready", 0) == 0;
  }
  ~Peer() {
    if (in_) {
      std::fputs("quit\n", in_);
      std::fclose(in_);
    }
    if (out_) std::fclose(out_);
    if (pid_ > 0) waitpid(pid_, nullptr, 0);
  }
  bool ok() const { return ok_; }
  const std::string& status() const { return status_; }
  double pass() {
    std::fputs("pass\n", in_);
    std::fflush(in_);
    const std::string line = read_line();
    double v = 0;
    if (!parse_double(line, v)) throw Error(cat("PyTorch peer: unexpected output '", line, "'"));
    return v;
  }

 private:
  std::string read_line() {
    char buf[512];
    if (!std::fgets(buf, sizeof buf, out_)) return "skip: the peer exited";
    std::string line(buf);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    return line;
  }
  pid_t pid_ = -1;
  FILE* in_ = nullptr;
  FILE* out_ = nullptr;
  bool ok_ = false;
  std::string status_;
};

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

struct Result {
  double wino_ips = 0, opencv_ips = 0, torch_ips = 0, e2e_ips = 0, outside_share = 0;
};

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Bare passes of both convolutions, the peer's pass and the end-to-end pass
// alternate `reps` times after one unmeasured pass of each (first-touch
// memory, thread start-up); the medians are reported, as a shared machine's
// speed drifts by several percent between passes.
Result measure(Extractor& wino, cv::dnn::Net& wino_net, Extractor& own, cv::dnn::Net& own_net,
               const ModelSpec& spec, const std::vector<std::string>& paths, std::size_t batch,
               int reps, Peer* peer) {
  // The same batches, decoded and prepared beforehand for the bare runs.
  std::vector<PreparedBatch> batches;
  for (std::size_t i = 0; i < paths.size(); i += batch) {
    std::vector<cv::Mat> imgs;
    for (std::size_t k = i; k < std::min(paths.size(), i + batch); ++k) {
      std::string problem;
      imgs.push_back(load_image(paths[k], kDefaultMaxPixels, problem));
      if (!problem.empty()) throw Error(cat(paths[k], ": ", problem));
    }
    batches.push_back(wino.prepare(imgs));
  }
  std::vector<cv::Mat> outs;
  auto bare_pass = [&](Extractor& ex, cv::dnn::Net& net) {
    const auto t0 = Clock::now();
    for (const auto& b : batches) {
      net.setInput(b.blobs[0], spec.input);
      net.forward(outs, ex.layer_nodes());
    }
    return double(paths.size()) / std::chrono::duration<double>(Clock::now() - t0).count();
  };
  std::vector<std::size_t> todo(paths.size());
  for (std::size_t i = 0; i < todo.size(); ++i) todo[i] = i;
  double checksum = 0;
  auto e2e_pass = [&] {
    return extract_files(
        wino, paths, todo, batch, [&](std::size_t, const float* row) { checksum += row[0]; },
        [&](std::size_t i, const std::string& p) { throw Error(cat(paths[i], ": ", p)); });
  };
  bare_pass(wino, wino_net);
  bare_pass(own, own_net);
  e2e_pass();
  std::vector<double> w, o, t, e2e, outside;
  for (int r = 0; r < reps; ++r) {
    w.push_back(bare_pass(wino, wino_net));
    o.push_back(bare_pass(own, own_net));
    if (peer) t.push_back(peer->pass());
    const PipelineStats st = e2e_pass();
    e2e.push_back(double(st.images) / st.seconds);
    outside.push_back(1.0 - st.forward_seconds / st.seconds);
  }
  if (!(checksum == checksum)) std::printf("(nan)\n");
  return {median(w), median(o), median(t), median(e2e), median(outside)};
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::vector<std::string> models{"vgg16", "squeezenet"};
    std::vector<int> batch_sizes{1, 2, 4, 8, 16};
    int images = 0, size = 224, threads = 0, reps = 3;
    std::string peer_script, python = "python3";
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      auto next = [&]() -> std::string {
        if (i + 1 >= argc) throw UsageError(cat(a, " needs a value"));
        return argv[++i];
      };
      if (a == "--models") {
        models.clear();
        std::string v = next();
        for (std::size_t s = 0, c; s <= v.size(); s = c + 1) {
          c = v.find(',', s);
          if (c == std::string::npos) c = v.size();
          if (c > s) models.push_back(v.substr(s, c - s));
        }
      } else if (a == "--batches")
        batch_sizes = parse_list(next());
      else if (a == "--images")
        images = std::atoi(next().c_str());
      else if (a == "--size")
        size = std::atoi(next().c_str());
      else if (a == "--threads")
        threads = std::atoi(next().c_str());
      else if (a == "--reps")
        reps = std::max(1, std::atoi(next().c_str()));
      else if (a == "--peer")
        peer_script = next();
      else if (a == "--python")
        python = next();
      else if (a == "-h" || a == "--help") {
        std::printf(
            "usage: bench-extract [--models vgg16,squeezenet] [--batches 1,2,4,8,16] [--images N] "
            "[--size 224] [--threads N] [--reps 3] [--peer bench/peer-torch.py] [--python "
            "python3]\n");
        return 0;
      } else
        throw UsageError(cat("unknown option ", a));
    }
    if (threads > 0) cv::setNumThreads(threads);
    // Real JPEGs: flowers12 (train and test), all classes, sorted.
    std::vector<std::string> all;
    for (const char* part : {"data/flowers12/train", "data/flowers12/test"})
      for (const auto& d : fs::directory_iterator(asset_path(part)))
        for (const auto& f : fs::directory_iterator(d.path())) all.push_back(f.path().string());
    std::sort(all.begin(), all.end());

    std::printf(
        "# bench-extract: %d threads (OpenCV), input %dx%d, pooling avgmax, JPEGs from flowers12, "
        "median of %d interleaved passes; Winograd kernels: %s\n",
        cv::getNumThreads(), size, size, reps, to_string(best_winograd_isa()).c_str());
    std::printf(
        "# bare = setInput + forward on prepared blobs; e2e = fg-extract's pipeline (decode, "
        "resize, "
        "forward, pooling) with --conv winograd; torch = PyTorch CPU, same "
        "topology/batch/threads\n");
    std::printf("%-10s %5s %6s %10s %10s %10s %10s %9s %9s %9s %8s %8s\n", "model", "batch",
                "images", "winograd", "opencv", "torch", "e2e", "wino/ocv", "bare/pt", "e2e/pt",
                "e2e/bare", "outside");
    for (const auto& m : models) {
      ModelSpec spec;
      int n = images;
      cv::dnn::Net wino_net, own_net;
      if (m == "vgg16") {
        spec.name = "vgg16-in-memory";
        spec.input = "data";
        spec.mean = {103.939, 116.779, 123.68};
        spec.names = "vgg16";
        spec.default_layers = {"conv5_3"};
        wino_net = build_vgg16(42);
        own_net = build_vgg16(42);
        if (!n) n = 32;
      } else if (m == "squeezenet") {
        spec = parse_model_spec(
            "name squeezenet\nformat onnx\nmodel models/squeezenet1_1_imagenet_notop.onnx\ninput "
            "data\n"
            "mean 103.939 116.779 123.68\nlayer fire9 onnx_node!/fire9/Concat\ndefault-layers "
            "fire9\n",
            "squeezenet.spec");
        {
          ConvImplScope scope(ConvImpl::winograd);  // the ONNX reader creates the layers
          wino_net = cv::dnn::readNet(asset_path("models/squeezenet1_1_imagenet_notop.onnx"));
        }
        {
          ConvImplScope scope(ConvImpl::opencv);
          own_net = cv::dnn::readNet(asset_path("models/squeezenet1_1_imagenet_notop.onnx"));
        }
        if (!n) n = 960;
      } else {
        throw UsageError(cat("unknown model ", m, " (vgg16, squeezenet)"));
      }
      ExtractOptions o;
      o.size = size;
      o.conv = ConvImpl::winograd;
      Extractor wino(spec, wino_net, o);
      o.conv = ConvImpl::opencv;
      Extractor own(spec, own_net, o);
      std::vector<std::string> paths(
          all.begin(), all.begin() + std::min<std::size_t>(all.size(), std::size_t(n)));
      for (int b : batch_sizes) {
        std::unique_ptr<Peer> peer;
        if (!peer_script.empty()) {
          peer = std::make_unique<Peer>(python, peer_script, m, b, size, cv::getNumThreads(),
                                        int(paths.size()));
          if (!peer->ok()) {
            std::printf("# PyTorch peer skipped: %s\n", peer->status().c_str());
            peer_script.clear();
            peer.reset();
          }
        }
        const Result r =
            measure(wino, wino_net, own, own_net, spec, paths, std::size_t(b), reps, peer.get());
        auto ratio = [](double a, double b) {
          return b > 0 ? cat(fixed(a / b, 2), "x") : std::string("-");
        };
        std::printf("%-10s %5d %6zu %10.2f %10.2f %10s %10.2f %9s %9s %9s %7.1f%% %7.1f%%\n",
                    m.c_str(), b, paths.size(), r.wino_ips, r.opencv_ips,
                    r.torch_ips > 0 ? fixed(r.torch_ips, 2).c_str() : "-", r.e2e_ips,
                    ratio(r.wino_ips, r.opencv_ips).c_str(), ratio(r.wino_ips, r.torch_ips).c_str(),
                    ratio(r.e2e_ips, r.torch_ips).c_str(), 100.0 * r.e2e_ips / r.wino_ips,
                    100.0 * r.outside_share);
        std::fflush(stdout);
      }
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench-extract: error: %s\n", e.what());
    return 1;
  }
}
