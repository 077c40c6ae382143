// Splitting and trimming text: the one place for it.
#pragma once

#include <string>
#include <vector>

namespace fg {

// " a , b,,c " -> {"a", "b", "c"}: lists in options and settings. Each part is
// trimmed of blanks (space, tab); empty parts are dropped.
std::vector<std::string> split_list(const std::string& text, char separator = ',');

// "a\t\tb" -> {"a", "", "b"}: the fields of a record, exactly (nothing trimmed,
// empty fields kept), so a TSV column can be empty.
std::vector<std::string> split_fields(const std::string& line, char separator = '\t');

// The text without leading and trailing whitespace (space, tab, CR, LF).
std::string trim(const std::string& text);

// The text cut to `max_chars` bytes, ending in ".." when cut: what a chart
// label or an error message quotes of a long field (a CSV line read as
// LIBSVM is one 6,000-character token).
std::string shorten(const std::string& text, std::size_t max_chars);

}  // namespace fg
