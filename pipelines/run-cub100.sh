#!/usr/bin/env bash
# run-cub100.sh — several configurations on cub100 (100 bird species, official
# split: train 2,999 -> test 2,903) through experiment.mk; prints the results
# table that README shows (top-1, mean per-class accuracy, seconds per stage).
#
#   pipelines/run-cub100.sh                 # all stages
#   pipelines/run-cub100.sh --stage 2       # only print the table again
#   ONLY="bilinear-flip-logreg" pipelines/run-cub100.sh   # only these configurations
#
# The bilinear rows choose C by 5-fold cross-validation on the training rows
# (CV=5; the "-c100" and "-noscale" rows widen the grid and drop the minmax
# scaling, so that those choices too are made by CV); the table also gives
# each stage's peak memory (the largest process).
#
# Experiments that share extraction settings share one features folder, so
# each set of features is extracted once.
set -euo pipefail

# ---- configuration ----------------------------------------------------------
root=$(cd "$(dirname "$0")/.." && pwd)
out=${OUT:-$root/exp/cub100}
bin=${FG_BIN:-$root/build}
stage=1
threads=0
# name | features folder | extraction settings | classifier settings
configs=(
  "avgmax-svm      | avgmax        | POOL=avgmax                                 | CLF=svm C=1"
  "avgmax-logreg   | avgmax        | POOL=avgmax                                 | CLF=logreg C=10"
  "attn-logreg     | attn          | POOL=attn                                   | CLF=logreg C=10"
  "fusion-logreg   | fusion        | POOL=avgmax LAYERS=fire8,fire9              | CLF=logreg C=10"
  "flip-svm        | flip          | POOL=avgmax FLIP=1                          | CLF=svm C=1"
  "flip-logreg     | flip          | POOL=avgmax FLIP=1                          | CLF=logreg C=10"
  "flip-fusion-logreg | flip-fusion | POOL=avgmax FLIP=1 LAYERS=fire8,fire9     | CLF=logreg C=10"
  "flip-scales-logreg | flip-scales | POOL=avgmax FLIP=1 SCALES=224,320         | CLF=logreg C=10"
  "augment-logreg  | augment       | POOL=avgmax AUGMENT=flip,crops              | CLF=logreg C=10"
  "flip-augment-logreg | flip-augment | POOL=avgmax FLIP=1 AUGMENT=crops          | CLF=logreg C=10"
  "bilinear-flip-logreg | bilinear-flip | POOL=bilinear FLIP=1 SIZE=224 EXTRACT_OPTS=--bilinear-norm=signed-sqrt | CLF=logreg CV=5 C_GRID=0.1,1,10 QUIET="
  "bilinear-msqrt-flip-logreg | bilinear-msqrt-flip | POOL=bilinear FLIP=1 SIZE=224 EXTRACT_OPTS=--bilinear-norm=matrix-sqrt | CLF=logreg CV=5 C_GRID=0.1,1,10 QUIET="
  "compact8192-flip-logreg | compact8192-flip | POOL=compact-bilinear FLIP=1 SIZE=224 EXTRACT_OPTS=--sketch-dim=8192 | CLF=logreg CV=5 C_GRID=0.1,1,10 QUIET="
  "bilinear-msqrt-flip-c100-logreg | bilinear-msqrt-flip | POOL=bilinear FLIP=1 SIZE=224 EXTRACT_OPTS=--bilinear-norm=matrix-sqrt | CLF=logreg CV=5 C_GRID=10,30,100 QUIET="
  "bilinear-msqrt-flip-noscale-logreg | bilinear-msqrt-flip | POOL=bilinear FLIP=1 SIZE=224 EXTRACT_OPTS=--bilinear-norm=matrix-sqrt | CLF=logreg CV=5 C_GRID=10,100,1000 SCALE=none QUIET="
  "bilinear-flip-scales-logreg | bilinear-flip-scales | POOL=bilinear FLIP=1 SCALES=224,320 EXTRACT_OPTS=--bilinear-norm=signed-sqrt | CLF=logreg CV=5 C_GRID=1,10,100 QUIET="
  "bilinear-msqrt-flip-scales-logreg | bilinear-msqrt-flip-scales | POOL=bilinear FLIP=1 SCALES=224,320 EXTRACT_OPTS=--bilinear-norm=matrix-sqrt | CLF=logreg CV=5 C_GRID=1,10,100 QUIET="
)
# ------------------------------------------------------------------------------
while [ $# -gt 0 ]; do
  case $1 in
    --stage) stage=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    *) echo "usage: $0 [--stage N] [--threads N]" >&2; exit 2 ;;
  esac
done
trim() { sed 's/^ *//; s/ *$//' <<< "$1"; }
mk=(make --no-print-directory -f "$root/pipelines/experiment.mk" FG_BIN="$bin" DATA=cub100 THREADS=$threads)
# timed LOG command...: runs the command with its output in LOG, prints the
# seconds it took and the peak resident memory of its largest process in MB.
timed() {
  local log=$1 start=$EPOCHREALTIME; shift
  /usr/bin/time -o "$log.rss" -f %M "$@" > "$log" 2>&1 || { echo "failed: $* (see $log)" >&2; tail -5 "$log" >&2; return 1; }
  awk -v a="$start" -v b="$EPOCHREALTIME" -v kb="$(tail -1 "$log.rss")" 'BEGIN { printf "%.1f\t%.0f", b - a, kb / 1024 }'
}

if [ $stage -le 1 ]; then
  for config in "${configs[@]}"; do
    IFS='|' read -r name feats extract classify <<< "$config"
    name=$(trim "$name"); feats=$(trim "$feats")
    [ -n "${ONLY:-}" ] && [[ " $ONLY " != *" $name "* ]] && continue
    exp=$out/$name; mkdir -p "$exp/log"
    # Finished configurations keep their results and timings (delete the folder to redo one).
    [ -f "$exp/times.tsv" ] && [ -f "$exp/metrics.txt" ] && { echo "== $name: done before"; continue; }
    args=(EXP="$exp" FEATS="$out/features/$feats" $extract $classify)
    echo "== $name: $(trim "$extract") $(trim "$classify")"
    t_extract=$(timed "$exp/log/extract.log" "${mk[@]}" "${args[@]}" "$out/features/$feats/train.fgt" "$out/features/$feats/test.fgt")
    t_train=$(timed "$exp/log/train.log" "${mk[@]}" "${args[@]}" "$exp/classifier.model")
    t_eval=$(timed "$exp/log/eval.log" "${mk[@]}" "${args[@]}" "$exp/metrics.txt")
    printf '%s\t%s\t%s\t%s\n' "$name" "$t_extract" "$t_train" "$t_eval" > "$exp/times.tsv"
  done
fi

if [ $stage -le 2 ]; then
  printf '| configuration | settings | dim | top-1 | mean per-class | extract s | train s | predict+eval s | peak MB extract / train / predict |\n'
  printf '|---|---|---|---|---|---|---|---|---|\n'
  for config in "${configs[@]}"; do
    IFS='|' read -r name feats extract classify <<< "$config"
    name=$(trim "$name"); feats=$(trim "$feats"); exp=$out/$name
    [ -n "${ONLY:-}" ] && [[ " $ONLY " != *" $name "* ]] && continue
    [ -f "$exp/metrics.json" ] || continue
    top1=$(grep -m1 '^top-1 accuracy' "$exp/metrics.txt" | awk '{print $3}')
    mpc=$(grep -m1 '^mean per-class accuracy' "$exp/metrics.txt" | awk '{print $4}')
    # the feature dimension: the u32 after "FGTABLE\n" and the version
    dim=$(od -An -tu4 -j12 -N4 "$out/features/$feats/train.fgt" 2>/dev/null | tr -d ' ')
    # times.tsv: name, then seconds (and peak MB, when measured) of extract, train, predict+eval
    IFS=$'\t' read -r -a t < "$exp/times.tsv"
    if [ ${#t[@]} -ge 7 ]; then
      secs=("${t[1]}" "${t[3]}" "${t[5]}"); peak="${t[2]} / ${t[4]} / ${t[6]}"
    else
      secs=("${t[1]}" "${t[2]}" "${t[3]}"); peak="-"
    fi
    printf '| %s | %s %s | %s | %s %% | %s %% | %s | %s | %s | %s |\n' "$name" "$(trim "$extract")" "$(trim "$classify")" \
      "${dim:--}" "$top1" "$mpc" "${secs[0]}" "${secs[1]}" "${secs[2]}" "$peak"
  done
  echo "(extract s: both tables, 0 when the features were shared with an earlier row)"
fi
echo "Succeeded"
