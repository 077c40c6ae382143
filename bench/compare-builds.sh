#!/usr/bin/env bash
# Portable vs native (or any two builds) in the same run: the stages that
# matter (MIC, pooling, PCA, logistic regression / SVM training; CPU seconds
# for MIC and PCA, which a shared machine distorts least), the two
# builds interleaved, REPS rounds, median seconds and the ratio B / A.
# Usage: bench/compare-builds.sh <build-A> <build-B> [reps=3]
#   e.g. cmake -S . -B build-native -DFG_NATIVE=ON -DFG_BUILD_BENCH=ON && cmake --build build-native
#        bench/compare-builds.sh build-native build
set -euo pipefail
A=$(cd "$1" && pwd)
B=$(cd "$2" && pwd)
REPS=${3:-3}
THREADS=$(nproc)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/fg-compare-XXXXXX")
trap 'rm -rf "$TMP"' EXIT
echo "# $A (A) vs $B (B), $REPS rounds, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# A: $("$A/fg-mic" --version | tail -n 1)"
echo "# B: $("$B/fg-mic" --version | tail -n 1)"

# name | command (in the build dir $D) | awk program printing seconds from its output
stages=(
  "mic ordinal 6000 rows|\$D/bench-mic --threads $THREADS --features ${MIC_FEATURES:-1024} --check 0 --targets ordinal|/target ordinal:/ {print \$11}"
  "mic classes 6000x4096|\$D/bench-mic --threads $THREADS --check 0 --targets classes|/target classes:/ {print \$11}"
  "pooling vgg16 448|\$D/bench-pool 100|/at 448/ {t=\$(NF-6)} END {print t / 1e6}"
  "pca randomized 6000x4096->256|\$D/bench-pca 6000 4096 256 randomized|/^fg-pca randomized/ {gsub(/[)]/, \"\", \$6); print \$6; exit}"
  "pca cov 3000x1024->256|\$D/bench-pca 3000 1024 256 cov|/^fg-pca cov/ {gsub(/[)]/, \"\", \$6); print \$6; exit}"
  "train svm+logreg 6000x512x200|\$D/bench-train --no-libsvm|/fg svm linear/ {s=\$6} /fg logreg/ {l=\$5} END {print s + l}"
)
median() { sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }
printf '%-32s %10s %10s %8s\n' stage "A s" "B s" "B/A"
for stage in "${stages[@]}"; do
  IFS='|' read -r name command program <<<"$stage"
  : >"$TMP/a"; : >"$TMP/b"
  for ((r = 0; r < REPS; r++)); do
    for side in a b; do
      D=$A; [ $side = b ] && D=$B
      eval "$command" 2>/dev/null | awk "$program" >>"$TMP/$side"
    done
  done
  ma=$(median <"$TMP/a"); mb=$(median <"$TMP/b")
  printf '%-32s %10.4g %10.4g %8.3f\n' "$name" "$ma" "$mb" "$(awk -v a="$ma" -v b="$mb" 'BEGIN {print b / a}')"
done
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
