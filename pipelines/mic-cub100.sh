#!/usr/bin/env bash
# mic-cub100.sh — does MIC feature selection keep the accuracy? On cub100's
# SqueezeNet avgmax features (2,999 train x 1,024 dims, 100 classes; made by
# pipelines/run-cub100.sh), K features chosen by fg-mic (plain, and with the
# correlation redundancy term), by variance, and at random, each followed by
# the same linear classifier: logistic regression whose C is picked by 5-fold
# cross-validation on the training rows (so no setting is tuned on the test
# set). Prints the table README shows ("On cub100").
#
#   pipelines/mic-cub100.sh                # K = 256, minmax scaling
#   K=512 SCALE=standard pipelines/mic-cub100.sh
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bin=${FG_BIN:-$root/build}
features=${FEATURES:-$root/exp/cub100/features/avgmax}
out=${OUT:-$root/exp/cub100/mic}
k=${K:-256}
scale=${SCALE:-minmax}
c_grid=${C_GRID:-0.1,0.3,1,3,10,30}
seed=${SEED:-1}

for f in train test; do
  [ -s "$features/$f.fgt" ] || { echo "$0: $features/$f.fgt missing; run pipelines/run-cub100.sh first" >&2; exit 1; }
done
mkdir -p "$out"
cd "$out"
export PATH="$bin:$PATH"

# A selection model naming the columns on stdin (the format fg-mic writes;
# only the dimensions and the columns are required).
columns_model() {
  local dim=$1
  awk -v dim="$dim" -v k="$k" 'BEGIN { print "FGMIC-SELECTION 1"; print "input_dim " dim; print "output_dim " k;
                                       print "# column (0-based input index) <TAB> score, in selection order" }
                               { print $1 "\t" $2 }'
}

# Variance of each column on the training rows (one line per column), largest first.
fg-convert -q --to csv "$features/train.fgt" - | awk -F, 'NR > 1 { n++; for (j = 3; j <= NF; j++) { s[j] += $j; q[j] += $j * $j } }
  END { for (j = 3; j <= NF; j++) { m = s[j] / n; printf "%d\t%.9g\n", j - 3, q[j] / n - m * m } }' |
  sort -t$'\t' -k2,2gr -k1,1n > variance.tsv
dim=$(wc -l < variance.tsv)
head -n "$k" variance.tsv | columns_model "$dim" > "variance-$k.model"
# K distinct columns drawn with a fixed seed.
awk -v dim="$dim" -v seed="$seed" 'BEGIN { srand(seed); for (j = 0; j < dim; j++) print rand() "\t" j }' |
  sort -g | awk -v k="$k" 'NR <= k { print $2 "\t0" }' | columns_model "$dim" > "random-$k.model"  # awk reads all: no SIGPIPE

run() {  # name, how the selection model is made (or "all")
  local name=$1 fit_seconds="-"
  if [ "$2" = all ]; then
    ln -sf "$features/train.fgt" "$name.train.fgt"
    ln -sf "$features/test.fgt" "$name.test.fgt"
  else
    if [ "$2" != given ]; then
      local start=$(date +%s.%N)
      fg-mic fit -q --k "$k" $2 "$features/train.fgt" "$name.model"
      fit_seconds=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
    fi
    fg-mic apply -q "$name.model" "$features/train.fgt" "$name.train.fgt"
    fg-mic apply -q "$name.model" "$features/test.fgt" "$name.test.fgt"
  fi
  fg-train --type logreg --scale "$scale" --cv 5 --c-grid "$c_grid" "$name.train.fgt" "$name.clf" 2> "$name.train.log"
  fg-predict -q "$name.clf" "$name.test.fgt" "$name.pred.tsv"
  fg-eval "$name.pred.tsv" > "$name.eval.txt" 2>/dev/null
  local best=$(sed -n 's/.*cv: best C \([^:]*\): accuracy \(.*\) %/\1 \2/p' "$name.train.log")
  local acc=$(awk '/top-1 accuracy/ { print $3; exit }' "$name.eval.txt")
  local used=$k
  [ "$2" = all ] && used=$dim
  printf '| %s | %s | %s | %s | %.2f %% | %s %% |\n' "$name" "$used" "$fit_seconds" "${best% *}" "${best#* }" "$acc"
}

echo "cub100 avgmax, logreg --scale $scale, C by 5-fold CV over $c_grid; K = $k"
echo
echo "| selection | dims | fit s | C | CV accuracy (train) | test top-1 |"
echo "|---|---|---|---|---|---|"
run all all
run "mic-$k" ""
run "mic-$k-corr" "--redundancy corr"
run "variance-$k" given
run "random-$k" given
