#!/usr/bin/env bash
# fg-jobs on real engines: local processes, GNU parallel, and a real single-node Slurm
# cluster started here (munged, slurmctld, slurmd; stopped again also on failure).
# For each engine: the joined table equals one fg-extract over the whole manifest; a job
# killed mid-way (kill -9 / scancel) is redone by rerunning the same command; a job that
# cannot succeed makes the runner exit 1 naming it; SIGTERM cancels and writes nothing.
source "$(dirname "$0")/lib.sh"
FL=$ASSETS/data/flowers12/train
T0=$(date +%s.%N)
# The cluster first: a machine that cannot run it fails at once, saying what is missing.
source "$(dirname "$0")/slurm_cluster.sh"
S=$(mktemp -d /tmp/fg-slurm-XXXXXX)   # outside $WORK: munged needs a path all can traverse
trap 'slurm_down "$S"; rm -rf "$WORK"' EXIT
slurm_up "$S" || fail "$SLURM_PROBLEM"
T_UP=$(date +%s.%N)

# 48 images (4 of each of the 12 classes) behind symbolic links, so one can be swapped
# for a named pipe: a job reading it blocks until it is killed (mid-way, for certain).
mkdir imgs
for c in $(ls "$FL" | sort); do
  for f in $(ls "$FL/$c"/*.jpg | sort | sed -n 1,4p); do
    ln -s "$f" "imgs/${c}_$(basename "$f")"
    printf 'imgs/%s\t%s\n' "${c}_$(basename "$f")" "$c"
  done
done > m.tsv
expect_eq "$(wc -l < m.tsv)" 48 "manifest rows"
PIPED=$(sed -n 14p m.tsv | cut -f1)   # in job 2 of 4 (rows 13-24)
block() { rm "$PIPED"; mkfifo "$PIPED"; }
unblock() { rm "$PIPED"; ln -s "$FL/$(sed -n 14p m.tsv | cut -f2)/$(basename "$PIPED" | sed 's/^[^_]*_//')" "$PIPED"; }
[ -e "$PIPED" ] || fail "test set-up: $PIPED"

OPTS=(--batch 4)
fg-extract -q --threads 1 "${OPTS[@]}" m.tsv ref.fgt
fg-convert -q --to text ref.fgt ref.txt

# Job 3 of 4 (rows 25-36) can never succeed: none of its images can be read.
: > broken.jpg
awk -F'\t' -v OFS='\t' 'NR >= 25 && NR <= 36 { $1 = "broken.jpg" } { print }' m.tsv > broken.tsv

same_as_reference() {  # $1: a joined table
  fg-convert -q --to text "$1" "$1.txt"
  cmp -s ref.txt "$1.txt" || fail "$1 differs from one fg-extract over the manifest"
  cmp -s ref.fgt "$1" || fail "$1 is not byte-identical to one fg-extract over the manifest"
}

# wait_for COMMAND...: polls (up to 60 s) until the command succeeds.
wait_for() {
  local i
  for i in $(seq 1 600); do "$@" && return 0; sleep 0.1; done
  fail "timed out waiting for: $*"
}
job2_blocked() { pgrep -f "$1/manifest.2.tsv" > /dev/null; }

# check_engine ENGINE: the four behaviours on one engine; kill_job2 kills job 2 its way.
check_engine() {
  local e=$1 status
  # 1. Four shards joined = one process.
  fg-jobs --engine "$e" --jobs 4 extract "${OPTS[@]}" m.tsv "$e.fgt" 2> "$e.log" || { cat "$e.log"; fail "$e: fg-jobs failed"; }
  same_as_reference "$e.fgt"
  grep -q "extract: 4 jobs; running 4 on $e" "$e.log" || { cat "$e.log"; fail "$e: summary line"; }
  for j in 1 2 3 4; do grep -q "Done 12 images" "$e.fgt.jobs/log/$j.log" || fail "$e: job $j's log"; done

  # 2. Job 2 killed mid-way: the runner names it; the same command again redoes only it.
  block
  status=0
  fg-jobs --engine "$e" --jobs 4 --retries 0 extract "${OPTS[@]}" m.tsv "k$e.fgt" 2> "k$e.log" &
  local runner=$!
  wait_for job2_blocked "k$e.fgt.jobs"
  kill_job2 "k$e.fgt.jobs"
  wait $runner || status=$?
  expect_eq "$status" 1 "$e: exit status with a killed job"
  grep -qF "1 of 4 jobs failed after 1 attempt: job 2 (log $WORK/k$e.fgt.jobs/log/2.log)" "k$e.log" ||
    { cat "k$e.log"; fail "$e: the killed job is not named"; }
  no_file "k$e.fgt"
  unblock
  fg-jobs --engine "$e" --jobs 4 --retries 0 extract "${OPTS[@]}" m.tsv "k$e.fgt" 2> "k$e.log2" ||
    { cat "k$e.log2"; fail "$e: rerun failed"; }
  grep -q "extract: 4 jobs, 3 already complete; running 1 on $e" "k$e.log2" || { cat "k$e.log2"; fail "$e: rerun did not resume"; }
  same_as_reference "k$e.fgt"

  # 3. A job that cannot succeed: retried, then named with its log and its last words.
  expect_fail 1 "1 of 4 jobs failed after 2 attempts: job 3 (log $WORK/b$e.fgt.jobs/log/3.log)" \
    fg-jobs --engine "$e" --jobs 4 extract "${OPTS[@]}" broken.tsv "b$e.fgt"
  grep -q "job 3 failed: exit status 1; log .*: fg-extract: error: no image could be read" .err || { cat .err; fail "$e: reason"; }
  no_file "b$e.fgt"

  # 4. SIGTERM to the runner cancels what it started; no output.
  block
  fg-jobs --engine "$e" --jobs 4 extract "${OPTS[@]}" m.tsv "t$e.fgt" 2> "t$e.log" &
  runner=$!
  wait_for job2_blocked "t$e.fgt.jobs"
  kill -TERM $runner
  status=0; wait $runner || status=$?
  expect_eq "$status" 143 "$e: exit status after SIGTERM"
  grep -q "interrupted by SIGTERM: the jobs it started were cancelled; no output written" "t$e.log" || { cat "t$e.log"; fail "$e: message"; }
  ! job2_blocked "t$e.fgt.jobs" || fail "$e: job 2 still running after the runner was stopped"
  no_file "t$e.fgt"
  unblock
}

# --- local -----------------------------------------------------------------------------
kill_job2() { pkill -9 -f "$1/manifest.2.tsv"; }
fg-jobs --engine local --jobs 4 extract "${OPTS[@]}" m.tsv local.fgt 2> local.log || { cat local.log; fail "local"; }
same_as_reference local.fgt
# Rerun: nothing to do but the join (every shard read back and found complete).
fg-jobs --engine local --jobs 4 extract "${OPTS[@]}" m.tsv local.fgt 2> local.log2
grep -q "extract: 4 jobs, 4 already complete (work dir" local.log2 || { cat local.log2; fail "local: rerun"; }
same_as_reference local.fgt
# A damaged shard output is found by reading it, and redone.
head -c 3000 local.fgt.jobs/features.3.fgt > cut && cat cut > local.fgt.jobs/features.3.fgt
fg-jobs --engine local --jobs 4 extract "${OPTS[@]}" m.tsv local.fgt 2> local.log3
grep -q "3 already complete; running 1" local.log3 || { cat local.log3; fail "local: damaged shard not redone"; }
same_as_reference local.fgt
# Another command in the same work dir is refused.
expect_fail 2 "holds the work of another command" fg-jobs --jobs 3 --workdir local.fgt.jobs extract m.tsv other.fgt
# The runner itself killed (-9) while job 2 is blocked: the rerun cancels the orphan and redoes job 2.
block
fg-jobs --engine local --jobs 4 extract "${OPTS[@]}" m.tsv r.fgt 2> r.log &
runner=$!
wait_for job2_blocked r.fgt.jobs
others_done() { [ -e r.fgt.jobs/status/1 ] && [ -e r.fgt.jobs/status/3 ] && [ -e r.fgt.jobs/status/4 ]; }
wait_for others_done
kill -9 $runner; wait $runner || true
job2_blocked r.fgt.jobs || fail "test set-up: the orphan job is gone already"
unblock
fg-jobs --engine local --jobs 4 extract "${OPTS[@]}" m.tsv r.fgt 2> r.log2 || { cat r.log2; fail "local: rerun after kill -9"; }
grep -q "cancelled what an earlier run left running: local job process group" r.log2 || { cat r.log2; fail "orphan not cancelled"; }
grep -q "3 already complete; running 1" r.log2 || { cat r.log2; fail "local: not resumed after kill -9"; }
same_as_reference r.fgt

# score: the same predictions as one fg-score; --skipped lists are joined too.
fg-train -q --type logreg ref.fgt clf.model
fg-bundle -q --features ref.fgt --classifier clf.model bundle
cp m.tsv s.tsv; printf 'broken.jpg\tdaisy\n' >> s.tsv
fg-score -q --threads 1 --skipped one.skipped bundle s.tsv one.tsv 2> /dev/null
fg-jobs -q --jobs 3 score --skipped jobs.skipped bundle s.tsv jobs.tsv 2> /dev/null
cmp -s one.tsv jobs.tsv || fail "score: joined predictions differ from one fg-score"
cmp -s one.skipped jobs.skipped || fail "score: skipped lists differ"
# run: JOB in the log pattern and the arguments; on GNU parallel.
fg-jobs --engine parallel run JOB=1:3 logs/JOB.log sh -c 'echo $((JOB * 7)) > out.JOB' 2> /dev/null
expect_eq "$(cat out.1 out.2 out.3 | tr '\n' ' ')" "7 14 21 " "run on parallel"
T_LOCAL=$(date +%s.%N)

# --- GNU parallel ----------------------------------------------------------------------
check_engine parallel
T_PARALLEL=$(date +%s.%N)

# --- Slurm: a private single-node cluster ------------------------------------------------

kill_job2() {  # cancel array task 2 of the runner's job, the way a user (or the cluster) would
  local id; id=$(awk '$1 == "slurm" { print $2 }' "$1/running")
  [ -n "$id" ] || fail "slurm: no job id recorded in $1/running"
  scancel "${id}_2"
}
check_engine slurm
[ -z "$(squeue -h -o %i)" ] || fail "slurm: jobs left in the queue: $(squeue -h)"
T_SLURM=$(date +%s.%N)
awk -v a="$T0" -v u="$T_UP" -v b="$T_LOCAL" -v c="$T_PARALLEL" -v e="$T_SLURM" 'BEGIN {
  printf "times: Slurm start %.1f s, set-up and local %.1f s, parallel %.1f s, Slurm %.1f s\n", u - a, b - u, c - b, e - c }'
