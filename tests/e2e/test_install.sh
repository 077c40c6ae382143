#!/usr/bin/env bash
# make install as a user of the library sees it: headers, libfinegrain.a, the
# CMake package and the pkg-config file build an outside program that works;
# man pages and bash completion are installed and answer.
source "$(dirname "$0")/lib.sh"

prefix=$WORK/prefix
cmake --install "$FG_BIN" --prefix "$prefix" > install.log

# A small table to read (90 rows, 64 columns, 3 classes).
awk 'BEGIN { srand(3); printf "key,label"; for (j = 1; j <= 64; j++) printf ",f%d", j; print "";
             for (i = 0; i < 90; i++) { printf "img%03d.jpg,class%d", i, i % 3;
               for (j = 1; j <= 64; j++) printf ",%.6g", rand() - 0.5; print "" } }' > t.csv
fg-convert -q --from csv t.csv t.fgt

# The outside program: reads a table through the library, says what it holds,
# and writes it back (byte-identical when the library works).
mkdir -p outside
cat > outside/main.cpp <<'CPP'
#include <cstdio>
#include "finegrain/data/table.hpp"
int main(int argc, char** argv) {
  if (argc != 3) return 2;
  const fg::FeatureTable t = fg::read_table(argv[1]);
  std::printf("%zu rows, %zu dims, %zu classes, first %s\n", t.rows(), t.dim, t.classes.size(),
              t.label_name(0).c_str());
  fg::write_table(argv[2], t);
  return 0;
}
CPP
cat > outside/CMakeLists.txt <<'CMAKE'
cmake_minimum_required(VERSION 3.18)
project(outside LANGUAGES CXX)
set(CMAKE_CXX_STANDARD 17)
find_package(finegrain 0.1 REQUIRED)
add_executable(outside main.cpp)
target_link_libraries(outside PRIVATE finegrain::finegrain)
CMAKE
cmake -S outside -B outside/build -DCMAKE_PREFIX_PATH="$prefix" > cmake.log ||
  { cat cmake.log >&2; fail "find_package(finegrain) failed"; }
cmake --build outside/build > build.log 2>&1 || { cat build.log >&2; fail "outside program did not build"; }
expect_eq "$(outside/build/outside t.fgt back.fgt)" "90 rows, 64 dims, 3 classes, first class0" \
  "outside program (CMake package)"
cmp -s t.fgt back.fgt || fail "the outside program's table differs from the original"

# The same program through pkg-config.
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
# shellcheck disable=SC2046
g++ -std=c++17 -O1 outside/main.cpp -o outside-pc $(pkg-config --cflags --libs finegrain) 2> pc.log ||
  { cat pc.log >&2; fail "outside program did not build with pkg-config"; }
expect_eq "$(./outside-pc t.fgt back2.fgt)" "90 rows, 64 dims, 3 classes, first class0" \
  "outside program (pkg-config)"
cmp -s t.fgt back2.fgt || fail "the pkg-config program's table differs from the original"

# A man page for every installed program, named by the program's purpose line.
for prog in "$prefix"/bin/fg-*; do
  name=$(basename "$prog")
  page="$prefix/share/man/man1/$name.1"
  [ -s "$page" ] || fail "no man page for $name"
  purpose=$("$prog" --help | sed -n '1{s/^[^:]*: //; s/ .*//; p}')
  grep -q "^$name \\\\- $purpose" "$page" || fail "$page: NAME line does not give the purpose"
done

# Bash completion: sub-commands and options, read from the programs' own help.
completions=$prefix/share/bash-completion/completions
[ -f "$completions/fg-extract" ] || fail "no bash completion installed for fg-extract"
complete_words() {  # complete_words PROGRAM WORD...: the completions of the last word
  PATH="$prefix/bin:$PATH" bash -c 'source "$0"; prog=$1; shift; COMP_WORDS=("$prog" "$@")
    COMP_CWORD=$#; _fg_complete "$prog"; echo "${COMPREPLY[*]}"' "$completions/$1" "$@"
}
expect_eq "$(complete_words fg-pca '')" "apply fit stats" "fg-pca sub-commands"
expect_eq "$(complete_words fg-mic '')" "apply fit pairs scores" "fg-mic sub-commands"
expect_eq "$(complete_words fg-extract --po)" "--pool" "fg-extract --po"
expect_eq "$(complete_words fg-train --c-)" "--c-grid" "fg-train --c-"
echo "install: OK"
