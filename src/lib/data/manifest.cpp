#include "finegrain/data/manifest.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <unordered_map>

#include <sys/stat.h>

#include <opencv2/imgcodecs.hpp>

#include "finegrain/core/common.hpp"
#include "finegrain/core/io.hpp"
#include "finegrain/core/random.hpp"
#include "finegrain/core/text.hpp"

namespace fs = std::filesystem;

namespace fg {

Manifest read_manifest(const std::string& path) {
  std::vector<std::string> lines = read_lines(path);
  std::string name = path == "-" ? "<stdin>" : path;
  Manifest manifest;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    if (line.empty() || line[0] == '#') continue;
    auto tab = line.find('\t');
    ManifestEntry entry;
    entry.path = line.substr(0, tab);
    if (tab != std::string::npos) {
      entry.label = line.substr(tab + 1);
      if (entry.label.find('\t') != std::string::npos)
        throw Error(cat(name, ":", i + 1, ": expected path<TAB>label, found more than two fields"));
    }
    if (entry.path.empty()) throw Error(cat(name, ":", i + 1, ": empty path"));
    // One CR of a CRLF line end is dropped; one more would end up inside the
    // path or label, and no manifest could say so again (a "\r\r\n" file).
    const bool path_cr = entry.path.back() == '\r';
    if (path_cr || (!entry.label.empty() && entry.label.back() == '\r'))
      throw Error(cat(name, ":", i + 1, ": a carriage return at the end of the ",
                      path_cr ? "path" : "label", " (line ends \\r\\r\\n?)"));
    manifest.push_back(std::move(entry));
  }
  if (manifest.empty()) throw Error(cat(name, ": no images listed"));
  return manifest;
}

void write_manifest(const std::string& path, const Manifest& manifest) {
  AtomicOutput out(path, false);
  // Readers drop one UTF-8 byte-order mark at the start of the text: a first
  // path that begins with those bytes gets one written before it, to drop.
  if (!manifest.empty() && manifest[0].path.compare(0, 3, "\xEF\xBB\xBF") == 0)
    out.stream() << "\xEF\xBB\xBF";
  for (const auto& entry : manifest) {
    out.stream() << entry.path;
    if (!entry.label.empty()) out.stream() << '\t' << entry.label;
    out.stream() << '\n';
  }
  out.commit();
}

std::vector<std::string> manifest_classes(const Manifest& manifest) {
  std::set<std::string> names;
  for (const auto& entry : manifest)
    if (!entry.label.empty()) names.insert(entry.label);
  return {names.begin(), names.end()};
}

bool looks_like_image(const std::string& path) {
  // OpenCV asks each of its decoders whether the first bytes are its format,
  // so exactly the formats this build can decode count as images.
  try {
    return cv::haveImageReader(path);
  } catch (const cv::Exception&) {
    return false;  // unreadable: not listed as an image
  }
}

namespace {
bool hidden(const fs::path& path) {
  std::string name = path.filename().string();
  return !name.empty() && name[0] == '.';
}

// A folder's identity, so a folder reached again (through a symbolic link)
// is recognised whatever path leads to it.
using FolderId = std::pair<dev_t, ino_t>;
bool folder_id(const fs::path& dir, FolderId& id) {
  struct stat info {};
  if (::stat(dir.c_str(), &info) != 0) return false;
  id = {info.st_dev, info.st_ino};
  return true;
}

// Lists the files under `dir` recursively, as paths relative to `base`.
// Links are followed, to files and to folders, but each folder is listed
// once: a link back to a folder already listed (`ln -s . loop`) is warned
// about, counted and skipped, so a loop cannot list images again or for ever.
void walk(const fs::path& dir, const fs::path& base, std::vector<std::string>& files,
          ListReport& report, std::set<FolderId>& listed) {
  std::error_code error;
  FolderId id;
  if (folder_id(dir, id) && !listed.insert(id).second) {
    log::warn(cat(dir.string(), ": a link to a folder already listed (",
                  fs::canonical(dir, error).string(), "), skipped"));
    ++report.link_loops;
    return;
  }
  fs::directory_iterator it(dir, error);
  if (error) {
    log::warn(cat(dir.string(), ": cannot list (", error.message(), "), skipped"));
    ++report.unreadable_dirs;
    return;
  }
  for (; it != fs::directory_iterator(); it.increment(error)) {
    if (error) break;
    const fs::path& path = it->path();
    if (hidden(path)) continue;
    if (it->is_directory(error)) {
      walk(path, base, files, report, listed);
    } else if (it->is_regular_file(error)) {
      files.push_back(path.lexically_relative(base).generic_string());
    }
  }
  if (error) {
    log::warn(cat(dir.string(), ": listing failed part-way (", error.message(), ")"));
    ++report.unreadable_dirs;
  }
}

bool has_tab_or_newline(const std::string& text) {
  return text.find_first_of("\t\n\r") != std::string::npos;
}
}  // namespace

Manifest list_images(const std::string& root, ListReport& report, bool keep_loose) {
  std::error_code error;
  if (!fs::is_directory(root, error))
    throw Error(cat(root, ": not a directory (expected an image folder root/<class>/<image>)"));
  std::vector<std::string> classes, loose;
  fs::directory_iterator it(root, error);
  if (error) throw Error(cat(root, ": cannot list (", error.message(), ")"));
  for (; it != fs::directory_iterator(); it.increment(error)) {
    if (error) throw Error(cat(root, ": listing failed (", error.message(), ")"));
    if (hidden(it->path())) continue;
    if (it->is_directory(error)) {
      classes.push_back(it->path().filename().string());
    } else {
      ++report.loose_files;
      loose.push_back(it->path().string());
    }
  }
  std::sort(loose.begin(), loose.end());
  Manifest manifest;
  if (keep_loose) {
    for (const auto& path : loose) {
      if (looks_like_image(path) && !has_tab_or_newline(path))
        manifest.push_back({path, ""});
      else
        ++report.non_images;
    }
    report.loose_files = 0;
  }
  if (report.loose_files)
    log::warn(cat(root, ": ", report.loose_files,
                  " file(s) directly under the root ignored (not in a class folder)"));
  std::sort(classes.begin(), classes.end());

  for (const auto& cls : classes) {
    if (has_tab_or_newline(cls)) {
      log::warn(cat(root, ": class folder name with a tab or newline skipped: ", cls));
      continue;
    }
    fs::path class_dir = fs::path(root) / cls;
    std::vector<std::string> files;
    std::set<FolderId> listed;  // per class: a folder linked from two classes is listed in both
    FolderId root_id;
    if (folder_id(root, root_id))
      listed.insert(root_id);  // a link back to the root lists every class
    walk(class_dir, class_dir, files, report, listed);
    std::sort(files.begin(), files.end());
    std::size_t kept = 0;
    for (const auto& file : files) {
      std::string path = (class_dir / file).string();
      if (has_tab_or_newline(path)) {
        log::warn(cat(path, ": a tab or newline in the path cannot be listed, skipped"));
        ++report.non_images;
        continue;
      }
      if (!looks_like_image(path)) {
        log::warn(cat(path, ": not an image (by content), skipped"));
        ++report.non_images;
        continue;
      }
      manifest.push_back({path, cls});
      ++kept;
    }
    if (kept == 0) {
      log::warn(cat(class_dir.string(), ": class has no images, skipped"));
      ++report.empty_classes;
    } else {
      ++report.classes;
    }
  }
  report.images = manifest.size();
  return manifest;
}

Manifest images_to_score(const std::string& folder_or_manifest) {
  if (!fs::is_directory(folder_or_manifest)) return read_manifest(folder_or_manifest);
  ListReport report;
  Manifest manifest = list_images(folder_or_manifest, report, true);
  if (manifest.empty()) throw Error(cat(folder_or_manifest, ": no images found"));
  return manifest;
}

void split_stratified(const Manifest& all, double test_fraction, std::uint64_t seed,
                      Manifest& train, Manifest& test) {
  if (!(test_fraction > 0.0 && test_fraction < 1.0))
    throw UsageError(cat("--split must be a fraction between 0 and 1, got ", test_fraction));
  std::map<std::string, std::vector<std::size_t>> by_class;
  for (std::size_t i = 0; i < all.size(); ++i) by_class[all[i].label].push_back(i);
  std::vector<bool> is_test(all.size(), false);
  for (auto& [label, members] : by_class) {
    auto count = static_cast<std::size_t>(std::llround(test_fraction * members.size()));
    std::vector<std::size_t> order = members;
    std::mt19937_64 rng(seed ^ fnv1a(label));
    seeded_shuffle(order, rng);
    for (std::size_t k = 0; k < count; ++k) is_test[order[k]] = true;
  }
  train.clear();
  test.clear();
  for (std::size_t i = 0; i < all.size(); ++i) (is_test[i] ? test : train).push_back(all[i]);
}

namespace {
// "12, value" or "12 value" -> (12, "value"); false if the line is not that.
bool parse_id_line(const std::string& line, long long& id, std::string& value) {
  auto space = line.find_first_of(" \t,");
  if (space == std::string::npos || !parse_int(line.substr(0, space), id)) return false;
  auto start = line.find_first_not_of(" \t,", space);
  if (start == std::string::npos) return false;
  value = line.substr(start);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.pop_back();
  return !value.empty();
}
}  // namespace

void split_by_file(const Manifest& all, const std::string& root, const std::string& split_file,
                   int train_flag, Manifest& train, Manifest& test) {
  // Each listed image is known by its path relative to the root: <class>/<file>.
  std::unordered_map<std::string, std::size_t> by_relative;
  for (std::size_t i = 0; i < all.size(); ++i)
    by_relative[fs::path(all[i].path).lexically_relative(root).generic_string()] = i;
  // A list line matches an image if it ends with that image's <class>/<file>.
  auto find = [&](const std::string& listed) -> long long {
    std::string rest = fs::path(listed).lexically_normal().generic_string();
    while (!rest.empty()) {
      auto hit = by_relative.find(rest);
      if (hit != by_relative.end()) return static_cast<long long>(hit->second);
      auto slash = rest.find('/');
      if (slash == std::string::npos) break;
      rest = rest.substr(slash + 1);
    }
    return -1;
  };

  std::vector<std::string> lines = read_lines(split_file);
  std::vector<bool> selected(all.size(), false);
  long long id = 0;
  std::string value;
  std::string first;
  for (const auto& line : lines)
    if (!trim(line).empty()) {
      first = trim(line);
      break;
    }
  bool flags_format = parse_id_line(first, id, value) && (value == "0" || value == "1");

  if (flags_format) {
    if (train_flag != 0 && train_flag != 1)
      throw UsageError(cat(split_file,
                           ": is an 'id, flag' split file: say which flag means train with "
                           "--train-flag 0|1 (CUB-200-2011 uses 1; the cub100 subset uses 0)"));
    std::string images_txt = (fs::path(split_file).parent_path() / "images.txt").string();
    if (!fs::exists(images_txt))
      throw Error(
          cat(split_file,
              ": an 'id, flag' split file needs images.txt beside it, not found: ", images_txt));
    std::unordered_map<long long, std::size_t> image_of_id;
    std::vector<std::string> image_lines = read_lines(images_txt);
    for (std::size_t i = 0; i < image_lines.size(); ++i) {
      if (trim(image_lines[i]).empty()) continue;
      if (!parse_id_line(image_lines[i], id, value))
        throw Error(cat(images_txt, ":", i + 1, ": expected 'id, path', found: ", image_lines[i]));
      long long index = find(value);
      if (index < 0)
        throw Error(
            cat(images_txt, ":", i + 1, ": ", value, " is not among the images under ", root));
      image_of_id[id] = static_cast<std::size_t>(index);
    }
    for (std::size_t i = 0; i < lines.size(); ++i) {
      if (trim(lines[i]).empty()) continue;
      if (!parse_id_line(lines[i], id, value) || (value != "0" && value != "1"))
        throw Error(cat(split_file, ":", i + 1, ": expected 'id, 0|1', found: ", lines[i]));
      auto hit = image_of_id.find(id);
      if (hit == image_of_id.end())
        throw Error(cat(split_file, ":", i + 1, ": image id ", id, " is not in ", images_txt));
      if (std::stoi(value) == train_flag) selected[hit->second] = true;
    }
  } else {
    for (std::size_t i = 0; i < lines.size(); ++i) {
      std::string listed = trim(lines[i]);
      if (listed.empty() || listed[0] == '#') continue;
      long long index = find(listed);
      if (index < 0)
        throw Error(
            cat(split_file, ":", i + 1, ": ", listed, " is not among the images under ", root));
      selected[static_cast<std::size_t>(index)] = true;
    }
  }
  train.clear();
  test.clear();
  for (std::size_t i = 0; i < all.size(); ++i) (selected[i] ? train : test).push_back(all[i]);
}

}  // namespace fg
