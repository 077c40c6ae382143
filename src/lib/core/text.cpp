#include "finegrain/core/text.hpp"

namespace fg {

namespace {
constexpr const char* kBlanks = " \t";
constexpr const char* kWhitespace = " \t\r\n";

std::string strip(const std::string& text, const char* chars) {
  const auto begin = text.find_first_not_of(chars);
  if (begin == std::string::npos) return "";
  return text.substr(begin, text.find_last_not_of(chars) - begin + 1);
}
}  // namespace

std::vector<std::string> split_list(const std::string& text, char separator) {
  std::vector<std::string> parts;
  for (std::string& field : split_fields(text, separator)) {
    std::string part = strip(field, kBlanks);
    if (!part.empty()) parts.push_back(std::move(part));
  }
  return parts;
}

std::vector<std::string> split_fields(const std::string& line, char separator) {
  std::vector<std::string> fields;
  std::size_t start = 0;
  for (;;) {
    const std::size_t end = line.find(separator, start);
    fields.push_back(
        line.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) return fields;
    start = end + 1;
  }
}

std::string trim(const std::string& text) { return strip(text, kWhitespace); }

std::string shorten(const std::string& text, std::size_t max_chars) {
  if (text.size() <= max_chars) return text;
  return text.substr(0, max_chars < 2 ? 0 : max_chars - 2) + "..";
}

}  // namespace fg
