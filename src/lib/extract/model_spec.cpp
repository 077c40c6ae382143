#include "finegrain/extract/model_spec.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "finegrain/core/assets.hpp"
#include "finegrain/core/common.hpp"
#include "finegrain/core/io.hpp"
#include "finegrain/core/text.hpp"

namespace fs = std::filesystem;

namespace fg {

namespace {

// Plausible preprocessing constants (0-255 pixel units): beyond them the
// network input overflows or every value is the same.
constexpr double kMaxMean = 1e4;
constexpr double kMinStd = 1e-3;
constexpr double kMaxStd = 1e4;

std::vector<std::string> words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  std::string w;
  while (in >> w) out.push_back(w);
  return out;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Which fetch.sh target provides a file, for the "how to get it" hint.
std::string fetch_hint(const std::string& file) {
  const std::string base = fs::path(file).filename().string();
  if (base.rfind("VGG_ILSVRC_16_layers", 0) == 0) return "data/fetch.sh vgg16-caffe";
  if (base.rfind("vgg16-", 0) == 0 && ends_with(base, ".onnx")) return "data/fetch.sh vgg16-onnx";
  return "";
}

// A regular file (or a link to one): a device, a pipe or a folder named as a
// network file would be read forever or fail later. No exceptions: a
// damaged spec may name an impossible path.
bool is_file(const fs::path& path) {
  std::error_code error;
  return fs::is_regular_file(path, error);
}

std::string resolve_file(const ModelSpec& spec, const std::string& file, const char* what) {
  if (file.empty()) return "";
  std::vector<std::string> tried;
  fs::path p(file);
  if (p.is_absolute()) {
    if (is_file(p)) return p.string();
    tried.push_back(p.string());
  } else {
    if (!spec.origin.empty()) {
      const fs::path beside = fs::path(spec.origin).parent_path() / p;
      if (is_file(beside)) return beside.string();
      tried.push_back(beside.string());
    }
    const std::string root = assets_root();
    if (!root.empty()) {
      const fs::path under = fs::path(root) / p;
      if (is_file(under)) return under.string();
      tried.push_back(under.string());
    } else {
      tried.push_back("(FINEGRAIN_ASSETS not set, no ../shared found)");
    }
    if (is_file(p)) return p.string();
  }
  std::string msg = cat(spec.origin.empty() ? spec.name : spec.origin, ": ", what, " file '", file,
                        "' not found (looked in");
  for (std::size_t i = 0; i < tried.size(); ++i) msg += cat(i ? ", " : " ", tried[i]);
  msg += ")";
  const std::string hint = fetch_hint(file);
  if (!hint.empty())
    msg += cat("; download it with: ", hint);
  else
    msg += "; set FINEGRAIN_ASSETS to the folder holding it";
  throw Error(msg);
}

std::string self_dir() {
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "";
  buf[n] = 0;
  return fs::path(buf).parent_path().string();
}

}  // namespace

std::string ModelSpec::model_path() const { return resolve_file(*this, model, "model"); }
std::string ModelSpec::config_path() const { return resolve_file(*this, config, "config"); }

std::string ModelSpec::to_text() const {
  std::ostringstream out;
  out.imbue(std::locale::classic());
  out << "name " << name << "\nformat " << format << "\nmodel " << model << "\n";
  if (!config.empty()) out << "config " << config << "\n";
  if (!input.empty()) out << "input " << input << "\n";
  out << "size " << size << "\nchannels " << (channels == ChannelOrder::bgr ? "bgr" : "rgb")
      << "\n";
  out << "mean " << format_double(mean[0]) << " " << format_double(mean[1]) << " "
      << format_double(mean[2]) << "\n";
  out << "std " << format_double(std[0]) << " " << format_double(std[1]) << " "
      << format_double(std[2]) << "\n";
  if (!names.empty()) out << "names " << names << "\n";
  for (const auto& [k, v] : layers) out << "layer " << k << " " << v << "\n";
  if (!default_layers.empty()) {
    out << "default-layers ";
    for (std::size_t i = 0; i < default_layers.size(); ++i)
      out << (i ? "," : "") << default_layers[i];
    out << "\n";
  }
  out << "conv " << to_string(conv) << "\n";
  return out.str();
}

ModelSpec parse_model_spec(const std::string& text, const std::string& origin) {
  ModelSpec spec;
  spec.origin = origin;
  spec.name = fs::path(origin).stem().string();
  std::istringstream in(text);
  std::string line;
  int lineno = 0;
  bool have_model = false;
  auto fail = [&](const std::string& what) {
    throw Error(cat(origin, ": line ", lineno, ": ", what));
  };
  auto parse_triple = [&](const std::vector<std::string>& w, std::array<double, 3>& out) {
    if (w.size() == 2) {
      double v;
      if (!parse_double(w[1], v)) fail(cat("'", w[0], "' expects numbers, found '", w[1], "'"));
      out = {v, v, v};
      return;
    }
    if (w.size() != 4) fail(cat("'", w[0], "' expects 1 or 3 numbers, found ", w.size() - 1));
    for (int i = 0; i < 3; ++i)
      if (!parse_double(w[i + 1], out[i]))
        fail(cat("'", w[0], "' expects numbers, found '", w[i + 1], "'"));
  };
  while (std::getline(in, line)) {
    ++lineno;
    const auto hash = line.find('#');
    if (hash != std::string::npos) line = line.substr(0, hash);
    line = trim(line);
    if (line.empty()) continue;
    const auto w = words(line);
    if (w.empty()) continue;  // only other white space (\f, \v), which trim() leaves
    const std::string& key = w[0];
    auto one = [&]() -> const std::string& {
      if (w.size() != 2) fail(cat("'", key, "' expects one value, found ", w.size() - 1));
      return w[1];
    };
    if (key == "name") {
      spec.name = one();
    } else if (key == "format") {
      spec.format = lower(one());
      static const std::set<std::string> known{"auto",       "caffe",   "onnx",
                                               "tensorflow", "darknet", "torch"};
      if (!known.count(spec.format))
        fail(cat("unknown format '", spec.format,
                 "' (caffe, onnx, tensorflow, darknet, torch, auto)"));
    } else if (key == "model") {
      spec.model = one();
      have_model = true;
    } else if (key == "config") {
      spec.config = one();
    } else if (key == "input") {
      spec.input = one();
    } else if (key == "size") {
      long long v;
      if (!parse_int(one(), v) || v < 16 || v > 8192)
        fail(cat("'size' expects 16..8192, found '", w[1], "'"));
      spec.size = static_cast<int>(v);
    } else if (key == "channels") {
      const std::string v = lower(one());
      if (v == "bgr")
        spec.channels = ChannelOrder::bgr;
      else if (v == "rgb")
        spec.channels = ChannelOrder::rgb;
      else
        fail(cat("'channels' expects bgr or rgb, found '", v, "'"));
    } else if (key == "mean") {
      // In 0-255 pixel units: far outside that range is a damaged spec, and
      // an infinite mean would make every feature NaN.
      parse_triple(w, spec.mean);
      for (double v : spec.mean)
        if (!(std::fabs(v) <= kMaxMean))
          fail(cat("'mean' values must be finite, within +-", kMaxMean));
    } else if (key == "std") {
      parse_triple(w, spec.std);
      for (double v : spec.std)
        if (!(v >= kMinStd && v <= kMaxStd))
          fail(cat("'std' values must be in [", kMinStd, ", ", kMaxStd, "] (pixel units)"));
    } else if (key == "names") {
      spec.names = lower(one());
      if (spec.names != "vgg16")
        fail(cat("unknown naming scheme '", spec.names, "' (known: vgg16)"));
    } else if (key == "layer") {
      if (w.size() != 3) fail("'layer' expects: layer <friendly-name> <opencv-layer-name>");
      spec.layers[w[1]] = w[2];
    } else if (key == "default-layers") {
      spec.default_layers.clear();
      std::string all;
      for (std::size_t i = 1; i < w.size(); ++i) all += w[i] + ",";
      std::string part;
      std::istringstream parts(all);
      while (std::getline(parts, part, ','))
        if (!part.empty()) spec.default_layers.push_back(part);
    } else if (key == "conv") {
      const std::string v = lower(one());
      if (v == "winograd")
        spec.conv = ConvImpl::winograd;
      else if (v == "opencv")
        spec.conv = ConvImpl::opencv;
      else
        fail(cat("'conv' expects winograd or opencv, found '", w[1], "'"));
    } else {
      fail(cat("unknown key '", key,
               "' (name, format, model, config, input, size, channels, mean, std, names, layer, "
               "default-layers, conv)"));
    }
  }
  if (!have_model) throw Error(cat(origin, ": no 'model' line: a spec must name the network file"));
  if (spec.default_layers.empty())
    throw Error(
        cat(origin, ": no 'default-layers' line: say which layer(s) to extract by default"));
  return spec;
}

std::vector<std::string> model_spec_dirs() {
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("FINEGRAIN_MODELS"); env && *env) dirs.push_back(env);
  const std::string self = self_dir();
  if (!self.empty()) {
    dirs.push_back(
        (fs::path(self) / ".." / "share" / "finegrain" / "models").lexically_normal().string());
    dirs.push_back((fs::path(self) / ".." / "data" / "models").lexically_normal().string());
  }
  return dirs;
}

std::vector<std::string> available_model_specs() {
  std::set<std::string> names;
  for (const auto& d : model_spec_dirs()) {
    std::error_code ec;
    for (fs::directory_iterator it(d, ec), end; !ec && it != end; it.increment(ec))
      if (it->path().extension() == ".spec") names.insert(it->path().stem().string());
  }
  return {names.begin(), names.end()};
}

ModelSpec load_model_spec(const std::string& name_or_path) {
  const std::string ext = lower(fs::path(name_or_path).extension().string());
  static const std::set<std::string> net_ext{".onnx", ".caffemodel", ".pb",
                                             ".t7",   ".net",        ".weights"};
  if (net_ext.count(ext)) {
    if (!fs::exists(name_or_path)) throw Error(cat(name_or_path, ": no such model file"));
    ModelSpec spec;
    spec.name = fs::path(name_or_path).stem().string();
    spec.model = fs::absolute(name_or_path).string();
    spec.mean = {103.939, 116.779, 123.68};
    spec.default_layers = {};
    return spec;
  }
  std::string path;
  if (name_or_path.find('/') != std::string::npos || ends_with(name_or_path, ".spec")) {
    path = name_or_path;
    if (!fs::exists(path)) throw Error(cat(path, ": no such model spec"));
  } else {
    for (const auto& d : model_spec_dirs()) {
      const fs::path p = fs::path(d) / (name_or_path + ".spec");
      if (fs::exists(p)) {
        path = p.string();
        break;
      }
    }
    if (path.empty()) {
      std::string msg = cat("unknown model '", name_or_path, "'");
      const auto known = available_model_specs();
      if (!known.empty()) {
        msg += " (known:";
        for (const auto& k : known) msg += " " + k;
        msg += ")";
      } else {
        msg += " (no model specs found; pass a path to a .spec file, or set FINEGRAIN_MODELS)";
      }
      throw Error(msg);
    }
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(cat(path, ": cannot read model spec"));
  std::ostringstream text;
  text << in.rdbuf();
  return parse_model_spec(text.str(), path);
}

const std::vector<std::string>& vgg16_friendly_names() {
  static const std::vector<std::string> names{"conv1_1", "conv1_2", "pool1",   "conv2_1", "conv2_2",
                                              "pool2",   "conv3_1", "conv3_2", "conv3_3", "pool3",
                                              "conv4_1", "conv4_2", "conv4_3", "pool4",   "conv5_1",
                                              "conv5_2", "conv5_3", "pool5"};
  return names;
}

LayerMap::LayerMap(const ModelSpec& spec, cv::dnn::Net& net) : spec_name_(spec.name) {
  const std::vector<std::string> names = net.getLayerNames();  // in network order
  std::set<std::string> present(names.begin(), names.end());
  if (spec.names == "vgg16") {
    // Friendly names by topology: VGG16 is conv-ReLU x (2,2,3,3,3) with a
    // max-pool after each block. The k-th ReLU is the k-th conv's output
    // (what users mean by conv5_3), the k-th pooling layer is pool k.
    std::vector<std::string> relus, pools;
    for (const auto& n : names) {
      const auto layer = net.getLayer(net.getLayerId(n));
      if (layer->type == "ReLU" && relus.size() < 13 && pools.size() < 5)
        relus.push_back(n);
      else if (layer->type == "Pooling" && pools.size() < 5)
        pools.push_back(n);
    }
    if (relus.size() != 13 || pools.size() != 5)
      throw Error(cat(spec.origin.empty() ? spec.name : spec.origin,
                      ": 'names vgg16' but the network has ", relus.size(), " ReLU and ",
                      pools.size(),
                      " pooling layers before its classifier, expected 13 and 5: is it a VGG16?"));
    std::size_t r = 0, p = 0;
    for (const auto& f : vgg16_friendly_names()) {
      const std::string& node = f.rfind("pool", 0) == 0 ? pools[p++] : relus[r++];
      map_[f] = node;
      friendly_.push_back(f);
    }
  }
  for (const auto& [friendly, node] : spec.layers) {
    if (!present.count(node))
      throw Error(cat(spec.origin.empty() ? spec.name : spec.origin, ": layer '", friendly,
                      "' maps to '", node, "', which the network does not have"));
    if (!map_.count(friendly)) friendly_.push_back(friendly);
    map_[friendly] = node;
  }
  raw_ = names;
  // Friendly names in network order (the order users read a net in).
  std::map<std::string, std::size_t> position;
  for (std::size_t i = 0; i < names.size(); ++i) position[names[i]] = i;
  std::stable_sort(friendly_.begin(), friendly_.end(),
                   [&](const std::string& a, const std::string& b) {
                     return position[map_[a]] < position[map_[b]];
                   });
}

bool LayerMap::contains(const std::string& name) const {
  if (map_.count(name)) return true;
  return std::find(raw_.begin(), raw_.end(), name) != raw_.end();
}

std::string LayerMap::resolve(const std::string& name) const {
  if (auto it = map_.find(name); it != map_.end()) return it->second;
  if (std::find(raw_.begin(), raw_.end(), name) != raw_.end()) return name;
  throw Error(
      cat("model ", spec_name_, ": no layer '", name, "'; valid names: ", describe_valid()));
}

std::string LayerMap::describe_valid() const {
  std::string out;
  for (const auto& f : friendly_) out += (out.empty() ? "" : " ") + f;
  // Raw names can be many (SqueezeNet: 62): point to the full list.
  out += cat(out.empty() ? "" : "; ", "or any of the ", raw_.size(),
             " OpenCV layer names (fg-extract --model ", spec_name_, " --list-layers)");
  return out;
}

}  // namespace fg
