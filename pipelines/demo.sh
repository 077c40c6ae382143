#!/usr/bin/env bash
# make demo: the whole chain on flowers12 (12 flower species) with SqueezeNet
# (ImageNet-trained), through pipelines/experiment.mk: list, extract, train a
# linear SVM, predict, evaluate, draw the confusion matrix and a contact
# sheet, bundle the fitted chain and score the test folder with it.
# A few minutes on 2 cores.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
assets=${FINEGRAIN_ASSETS:-$root/../shared}
[ -d "$assets" ] && assets=$(cd "$assets" && pwd)
export FINEGRAIN_ASSETS=$assets
exp=${EXP:-$root/exp/demo}
bin=${FG_BIN:-$root/build}

missing=()
for need in data/flowers12/train data/flowers12/test models/squeezenet1_1_imagenet_notop.onnx; do
  [ -e "$assets/$need" ] || missing+=("$need")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "make demo: missing in FINEGRAIN_ASSETS=$assets: ${missing[*]}" >&2
  echo "  set FINEGRAIN_ASSETS to the folder holding data/ and models/, or fetch them:" >&2
  echo "  (data/fetch.sh flowers17 fetches Oxford 17 Flowers; SqueezeNet notop is in the project's shared assets)" >&2
  exit 1
fi

echo "== finegrain demo: flowers12, SqueezeNet v1.1 (ImageNet), avg+max pooled fire9, linear SVM"
start=$(date +%s)
make --no-print-directory -f "$root/pipelines/experiment.mk" FG_BIN="$bin" EXP="$exp" DATA=flowers12 \
  MODEL=squeezenet1_1_imagenet_notop POOL=avgmax CLF=svm C=10 QUIET=
echo "== scoring the test folder with the bundle (fg-score)"
"$bin/fg-score" --top-k 3 "$exp/bundle" "$assets/data/flowers12/test" "$exp/scored.tsv"
echo
grep -E "^(top-1 accuracy|mean per-class accuracy)" "$exp/metrics.txt"
echo "confusion matrix: $exp/confusion.png"
echo "contact sheet:    $exp/grid.png"
echo "fitted chain:     $exp/bundle (fg-score $exp/bundle <folder> out.tsv)"
echo "Succeeded in $(( $(date +%s) - start )) s"
