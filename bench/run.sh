#!/usr/bin/env bash
# make bench: every benchmark, figures on stdout. Not part of make test.
# Usage: bench/run.sh <build-dir>   (configured with -DFG_BUILD_BENCH=ON)
set -euo pipefail
BUILD=$(cd "${1:-build}" && pwd)
export FINEGRAIN_ASSETS=${FINEGRAIN_ASSETS:-$(cd "$(dirname "$0")/../.." && pwd)/shared}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/fg-bench-XXXXXX")
trap 'rm -rf "$TMP"' EXIT
export TMPDIR=$TMP
echo "# finegrain benchmarks, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
grep -m1 'model name' /proc/cpuinfo | sed 's/.*: /# CPU: /'

echo; echo "## Extraction (fg-extract's pipeline vs bare net.forward())"
# VGG16 passes take 8 s each: three batch sizes.
"$BUILD/bench-extract" --models vgg16 --batches 1,4,16 --reps 3
"$BUILD/bench-extract" --models squeezenet --batches 1,2,4,8,16 --reps 3
# Second-order pooling against avgmax on the same images, passes interleaved.
"$BUILD/bench-extract" --models squeezenet --batches 8 --reps 3 \
  --pools avgmax,bilinear,bilinear:matrix-sqrt,compact-bilinear

echo; echo "## PCA fit, 6,000 x 4,096 -> 256 components"
"$BUILD/bench-pca" 6000 4096 256 randomized
echo; echo "## PCA fit, 3,000 x 1,024 -> 256 (cub100's shape): exact covariance vs randomized"
"$BUILD/bench-pca" 3000 1024 256 cov,randomized

echo; echo "## Classifier training, 6,000 x 512, 200 classes, against LIBSVM's svm-train"
"$BUILD/bench-train"

echo; echo "## MIC, 6,000 x 4,096 features, 200-class label, alpha 0.6, c 15"
"$BUILD/bench-mic" --threads "$(nproc)"
"$BUILD/bench-mic" --threads "$(nproc)" --check 0 --targets classes --write "$TMP/mic-bench.fgt"
for target in ordinal classes; do
  /usr/bin/time -f "fg-mic fit --target $target: %e s wall" \
    "$BUILD/fg-mic" fit -q --threads "$(nproc)" --target $target --k 256 "$TMP/mic-bench.fgt" "$TMP/mic-bench.model"
done
echo; echo "Succeeded"
