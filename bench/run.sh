#!/usr/bin/env bash
# make bench: every benchmark, figures on stdout. Not part of make test.
# Usage: bench/run.sh <build-dir>   (configured with -DFG_BUILD_BENCH=ON)
set -euo pipefail
BUILD=$(cd "${1:-build}" && pwd)
export FINEGRAIN_ASSETS=${FINEGRAIN_ASSETS:-$(cd "$(dirname "$0")/../.." && pwd)/shared}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/fg-bench-XXXXXX")
trap 'rm -rf "$TMP"' EXIT
export TMPDIR=$TMP
# OpenBLAS's kernels as OpenBLAS picks them for this CPU, on both sides: some
# machines set these (this workplace sets OPENBLAS_CORETYPE=Haswell), and they
# change the kernels of fg-pca and of numpy alike (on an AVX-512 CPU, AVX2 ones).
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
echo "# finegrain benchmarks, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
grep -m1 'model name' /proc/cpuinfo | sed 's/.*: /# CPU: /'

echo; echo "## Extraction: Winograd vs OpenCV's convolution vs PyTorch CPU, and fg-extract's pipeline vs bare forward"
# The PyTorch peer (bench/peer-torch.py) needs Debian's python3-torch and
# python3-torchvision; without them its column says "-" and one line says why.
PYTHON=${FG_PYTHON:-$([ -x /usr/bin/python3 ] && echo /usr/bin/python3 || echo python3)}
PEER=(--peer "$(dirname "$0")/peer-torch.py" --python "$PYTHON")
# VGG16 passes take several seconds each: three batch sizes per side.
"$BUILD/bench-extract" --models vgg16 --batches 1,4,16 --images 16 --reps 3 "${PEER[@]}"
"$BUILD/bench-extract" --models vgg16 --batches 1,4,16 --images 16 --size 448 --reps 3 "${PEER[@]}"
# SqueezeNet's passes alternate every 96 images (about a second each): the
# machine's speed drifts less between neighbours than between whole passes.
"$BUILD/bench-extract" --models squeezenet --batches 1,2,4,8,16 --chunk 96 --reps 3 "${PEER[@]}"
# Second-order pooling against avgmax on the same images, passes interleaved.
"$BUILD/bench-extract" --models squeezenet --batches 8 --chunk 96 --reps 3 \
  --pools avgmax,bilinear,bilinear:matrix-sqrt,compact-bilinear

# Peers from scikit-learn (Debian: python3-sklearn, on OpenBLAS with
# libopenblas0-pthread), skipped with one line when not installed.
HERE=$(cd "$(dirname "$0")" && pwd)
peer() { /usr/bin/python3 "$HERE/peer-sklearn.py" "$@"; }
SKLEARN=1
if ! [ -x /usr/bin/python3 ] || ! peer blas > "$TMP/peer.txt" 2>&1; then
  SKLEARN=0
  echo "# scikit-learn peers skipped: $(tail -1 "$TMP/peer.txt" 2>/dev/null || echo 'no /usr/bin/python3')"
else
  echo "# peer: $(cat "$TMP/peer.txt")"
fi
# median of the numbers on stdin
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# seconds of the lines starting with "$1" in file $2, one per line
times_of() { awk -v key="$1" 'index($0, key) == 1 { for (i = 1; i < NF; i++) if ($(i + 1) == "s") { print $i; break } }' "$2"; }
# CPU seconds ("(CPU 1.23 s)") of those lines
cpu_of() { awk -v key="$1" 'index($0, key) == 1 { for (i = 1; i < NF; i++) if ($i == "(CPU") { print $(i + 1); break } }' "$2"; }

echo; echo "## PCA fit, 6,000 x 4,096 -> 256 components, fg-pca and scikit-learn on the same data"
"$BUILD/bench-pca" 6000 4096 256 --save "$TMP/pca.f32"
: > "$TMP/pca.log"
for rep in 1 2 3; do  # interleaved; medians of 3
  "$BUILD/bench-pca" 6000 4096 256 cov,randomized --load "$TMP/pca.f32" | tee -a "$TMP/pca.log"
  if [ $SKLEARN = 1 ]; then
    for solver in full randomized; do peer pca "$TMP/pca.f32" 6000 4096 256 $solver | tee -a "$TMP/pca.log"; done
  fi
done
echo "load after the PCA runs: $(cut -d' ' -f1-3 /proc/loadavg)"
for pair in "cov full" "randomized randomized"; do
  set -- $pair
  fg=$(times_of "fg-pca $1 " "$TMP/pca.log" | median)
  fg_cpu=$(cpu_of "fg-pca $1 " "$TMP/pca.log" | median)
  if [ $SKLEARN = 1 ]; then
    sk=$(times_of "sklearn-pca $2 " "$TMP/pca.log" | median)
    sk_cpu=$(cpu_of "sklearn-pca $2 " "$TMP/pca.log" | median)
    awk -v a="$fg" -v b="$sk" -v ac="$fg_cpu" -v bc="$sk_cpu" -v m="$1" -v s="$2" \
      'BEGIN { printf "PCA median: fg-pca %s %.2f s (CPU %.2f s), scikit-learn %s %.2f s (CPU %.2f s): fg-pca %.2fx faster wall, %.2fx CPU\n", m, a, ac, s, b, bc, b / a, bc / ac }'
  else
    echo "PCA median: fg-pca $1 $fg s (CPU $fg_cpu s)"
  fi
done
rm -f "$TMP/pca.f32"
echo; echo "## PCA fit, 3,000 x 1,024 -> 256 (cub100's shape): exact covariance vs randomized"
"$BUILD/bench-pca" 3000 1024 256 cov,randomized

echo; echo "## Classifier training, 6,000 x 512, 200 classes, against LIBSVM's svm-train and scikit-learn"
"$BUILD/bench-train" --save "$TMP/train" | tee "$TMP/train.log"
if [ $SKLEARN = 1 ]; then
  for clf in logreg linearsvc; do peer train "$TMP/train/train.svm" "$TMP/train/test.svm" $clf | tee -a "$TMP/train.log"; done
  fg_lr=$(times_of "fg logreg" "$TMP/train.log"); fg_svm=$(times_of "fg svm" "$TMP/train.log")
  sk_lr=$(times_of "sklearn-logreg" "$TMP/train.log"); sk_svm=$(times_of "sklearn-linearsvc" "$TMP/train.log")
  awk -v a="$fg_lr" -v b="$sk_lr" 'BEGIN { printf "fg-train logreg %.2f s, scikit-learn LogisticRegression %.2f s: %.1fx faster\n", a, b, b / a }'
  awk -v a="$fg_svm" -v b="$sk_svm" 'BEGIN { printf "fg-train svm linear %.2f s, scikit-learn LinearSVC %.2f s: %.1fx faster\n", a, b, b / a }'
fi

echo; echo "## MIC, 6,000 x 4,096 features, 200-class label, alpha 0.6, c 15"
"$BUILD/bench-mic" --threads "$(nproc)"
"$BUILD/bench-mic" --threads "$(nproc)" --check 0 --targets classes --write "$TMP/mic-bench.fgt"
for target in ordinal classes; do
  /usr/bin/time -f "fg-mic fit --target $target: %e s wall" \
    "$BUILD/fg-mic" fit -q --threads "$(nproc)" --target $target --k 256 "$TMP/mic-bench.fgt" "$TMP/mic-bench.model"
done
echo; echo "Succeeded"
