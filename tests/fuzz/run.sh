#!/usr/bin/env bash
# Runs the libFuzzer targets built in <build-dir> (cmake -DFG_FUZZ=ON, see `make fuzz`).
#
#   run.sh <build-dir>           campaign: FUZZ_RUNS executions per target (default 1000000),
#                                or FUZZ_SECONDS seconds per target when set; the corpus
#                                grows in <build-dir>/corpus/<target> and is kept between runs
#   run.sh <build-dir> --brief   regression check for `make test`: replays every input in
#                                tests/fuzz/regressions/<target>/, then FUZZ_BRIEF_RUNS
#                                (default 3000) executions from the seeds
#
# FUZZ_TARGETS="fuzz_pca fuzz_mic" picks targets. Limits for every run: 2048 MB resident,
# 512 MB in one allocation, 30 s per input (wall clock, on a shared machine); any crash, leak, timeout or limit fails the run.
# The last line of each target's log (<build-dir>/fuzz-logs/<target>.log) is libFuzzer's
# final "#N DONE cov: ... ft: ..." line; a summary table is printed at the end.
#
# Without the fuzz programs in <build-dir>, --brief (the ctest fuzz_brief) exits 77, which
# ctest shows as skipped, with the reason; in CI (CI=true) that is a failure instead.
set -euo pipefail
build=${1:?usage: run.sh <build-dir> [--brief]}
mode=${2:-campaign}
here=$(cd "$(dirname "$0")" && pwd)
source_dir=$(cd "$here/../.." && pwd)
targets=${FUZZ_TARGETS:-$( (cd "$build" 2>/dev/null && ls fuzz_* 2>/dev/null) | grep -v '\.' | sort | tr '\n' ' ' || true)}
if [ -z "$targets" ] || [ ! -x "$build/fuzz-seeds" ]; then
  if [ "$mode" = --brief ] && [ "${CI:-}" != true ]; then
    echo "SKIPPED: no fuzz programs in $build (make fuzz-build, or make test, builds them with clang-14)"
    exit 77
  fi
  echo "FAIL: no fuzz programs in $build: build them with make fuzz-build (clang-14)" >&2
  exit 1
fi
build=$(cd "$build" && pwd)

seeds=$build/seeds
rm -rf "$seeds"
"$build/fuzz-seeds" "$source_dir" "$seeds" >/dev/null
logs=$build/fuzz-logs
mkdir -p "$logs"

limits=(-rss_limit_mb=2048 -malloc_limit_mb=512 -timeout=30 -print_final_stats=1)
# OpenCV's own pixel limit (default 2^30), for the formats whose headers
# decode_image does not read: OpenCV allocates before our limit can refuse.
# It reads the variable when it is loaded, so it must be in the environment.
export OPENCV_IO_MAX_IMAGE_PIXELS=1048576
extra_for() {
  case $1 in
    fuzz_text_table) echo "-max_len=1024" ;;   # dense rows of up to 2^20 values each
    *) echo "" ;;
  esac
}

status=0
summary=""
for target in $targets; do
  program=$build/$target
  [ -x "$program" ] || { echo "run.sh: $program missing" >&2; exit 1; }
  log=$logs/$target.log
  regressions=$here/regressions/$target
  if [ "$mode" = --brief ]; then
    if [ -d "$regressions" ] && [ -n "$(ls -A "$regressions")" ]; then
      if ! "$program" "${limits[@]}" "$regressions"/* > "$log.replay" 2>&1; then
        echo "FAIL: $target: a regression input fails again (see $log.replay)" >&2
        tail -20 "$log.replay" >&2
        status=1
        continue
      fi
    fi
    corpus=$(mktemp -d)
    cp "$seeds/$target"/* "$corpus"/
    bound=(-runs="${FUZZ_BRIEF_RUNS:-3000}")
  else
    corpus=$build/corpus/$target
    mkdir -p "$corpus"
    cp -n "$seeds/$target"/* "$corpus"/ 2>/dev/null || true
    [ -d "$regressions" ] && cp -n "$regressions"/* "$corpus"/ 2>/dev/null || true
    if [ -n "${FUZZ_SECONDS:-}" ]; then bound=(-max_total_time="$FUZZ_SECONDS")
    else bound=(-runs="${FUZZ_RUNS:-1000000}"); fi
  fi
  started=$(date +%s.%N)
  # shellcheck disable=SC2046
  if (cd "$logs" && "$program" "${limits[@]}" $(extra_for "$target") "${bound[@]}" "$corpus") > "$log" 2>&1; then
    seconds=$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }')
    # "#1000000 DONE cov: 812 ft: 2203 corp: 143/9842b ... exec/s: 2531 rss: 61Mb"
    summary+=$(awk -v t="$target" -v s="$seconds" -v peak="$(grep -o 'peak_rss_mb: *[0-9]*' "$log" | grep -o '[0-9]*$')" '
      /^#[0-9]+[[:space:]]+DONE/ { line = $0 }
      END { n = split(line, w, /[[:space:]]+/); execs = substr(w[1], 2)
            for (i = 1; i < n; i++) { if (w[i] == "cov:") cov = w[i+1]; if (w[i] == "ft:") ft = w[i+1];
                                      if (w[i] == "corp:") { split(w[i+1], c, "/"); corp = c[1] } }
            printf "%-16s %9s %6s %6s %6s %7s %7s\n", t, execs, cov, ft, corp, s, peak }' "$log")$'\n'
  else
    echo "FAIL: $target (see $log; the input that failed is in $logs)" >&2
    grep -E 'ERROR|SUMMARY|fuzz check|error:|terminate' "$log" | head -10 >&2 || true
    status=1
  fi
  [ "$mode" = --brief ] && rm -rf "$corpus"
done
if [ -n "$summary" ]; then
  printf '%-16s %9s %6s %6s %6s %7s %7s\n' target execs cov ft corpus seconds peak_mb
  printf '%s' "$summary"
fi
exit $status
