#!/usr/bin/env bash
# bench/jobs.sh BUILD [JOBS...]: wall time of fg-jobs extract over all of flowers12 (960
# images, SqueezeNet, defaults) with 1, 2 and 4 jobs on each engine (local, GNU parallel,
# and a private single-node Slurm cluster started here: needs root), next to one
# fg-extract with all cores, interleaved, one pass each (the load is printed with them).
set -euo pipefail
BUILD=$(cd "${1:-build}" && pwd); shift || true
JOBS=${*:-1 2 4}
export PATH="$BUILD:$PATH" LC_ALL=C
export FINEGRAIN_ASSETS=${FINEGRAIN_ASSETS:-$(cd "$(dirname "$0")/../.." && pwd)/shared}
W=$(mktemp -d /tmp/fg-bench-jobs-XXXXXX)
source "$(dirname "$0")/../tests/e2e/slurm_cluster.sh"
S=$(mktemp -d /tmp/fg-slurm-XXXXXX)
trap 'slurm_down "$S"; rm -rf "$W"' EXIT
slurm_up "$S" || { echo "bench/jobs.sh: $SLURM_PROBLEM" >&2; exit 1; }
cd "$W"
fg-list -q "$FINEGRAIN_ASSETS/data/flowers12/train" tr.tsv
fg-list -q "$FINEGRAIN_ASSETS/data/flowers12/test" te.tsv
cat tr.tsv te.tsv > all.tsv
seconds() { local t0 t1; t0=$(date +%s.%N); "$@" 2> /dev/null; t1=$(date +%s.%N); awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }'; }
echo "# $(wc -l < all.tsv) images, SqueezeNet 224 avgmax; $(nproc) cores; $(date -u '+%F %T UTC')"
echo "# one fg-extract (all cores): $(seconds fg-extract -q all.tsv one.fgt) s   load: $(cut -d' ' -f1-3 /proc/loadavg)"
for j in $JOBS; do
  for e in local parallel slurm; do
    rm -rf "$e$j.fgt" "$e$j.fgt.jobs"
    t=$(seconds fg-jobs --engine $e --jobs "$j" extract all.tsv "$e$j.fgt")
    cmp -s one.fgt "$e$j.fgt" && same=identical || same=DIFFERENT
    echo "$e jobs=$j: $t s ($same to one fg-extract)   load: $(cut -d' ' -f1-3 /proc/loadavg)"
  done
done
