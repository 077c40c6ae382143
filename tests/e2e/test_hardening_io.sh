#!/usr/bin/env bash
# Hostile but realistic use (issue 14), outputs and options: named pipes as outputs, failed runs
# beside earlier outputs, option ranges, two runs on one output, temporaries
# of killed runs, symbolic link loops, byte-order marks. Every command that
# could hang if a defect came back runs under `timeout`.
source "$(dirname "$0")/lib.sh"
T=60  # seconds before a would-be hang counts as a failure

# A 90 x 24 table, three classes.
awk 'BEGIN { srand(5); printf "key,label"; for (j = 1; j <= 24; j++) printf ",f%d", j; print "";
             for (i = 0; i < 90; i++) { printf "img%03d.jpg,class%d", i, i % 3;
               for (j = 1; j <= 24; j++) printf ",%.6g", rand() - 0.5 + 2 * (i % 3 == j % 3); print "" } }' > t.csv
fg-convert -q --from csv t.csv t.fgt
# Twelve images of four classes.
fg-list -q "$ASSETS/data/flowers12/train" all.tsv
awk -F'\t' 'seen[$2]++ < 3' all.tsv | head -12 > good.tsv
expect_eq "$(wc -l < good.tsv)" 12 "images picked"

# --- 1. named pipes as outputs are written through, once --------------------
# via_fifo REFERENCE command...: the command writes the FIFO "ff"; what a
# reader gets must be REFERENCE's bytes, and the writer must end.
via_fifo() {
  local reference=$1; shift
  rm -f ff got; mkfifo ff
  timeout $T "$@" & local writer=$!
  timeout $T cat ff > got || true
  local status=0; wait $writer || status=$?
  [ "$status" = 0 ] || fail "$* into a named pipe exited $status (124 = hung)"
  cmp -s got "$reference" || fail "$*: the reader of the pipe got $(wc -c < got) bytes, not $reference's $(wc -c < "$reference")"
}
fg-train -q t.fgt ref.model
via_fifo ref.model fg-train -q t.fgt ff
fg-pca fit -q --dim 3 --table ref-var.tsv t.fgt ref.pca
via_fifo ref.pca fg-pca fit -q --dim 3 t.fgt ff
via_fifo ref-var.tsv fg-pca fit -q --dim 3 --table ff t.fgt pca2.model
cmp -s pca2.model ref.pca || fail "fg-pca fit model beside a --table pipe"
fg-mic fit -q --k 5 --scores ref-scores.tsv t.fgt ref.mic
via_fifo ref.mic fg-mic fit -q --k 5 t.fgt ff
via_fifo ref-scores.tsv fg-mic fit -q --k 5 --scores ff t.fgt mic2.model
via_fifo ref-scores.tsv fg-mic scores -q t.fgt ff
fg-predict -q ref.model t.fgt p.tsv
fg-eval -q --json-out ref.json p.tsv > /dev/null
via_fifo ref.json sh -c 'fg-eval -q --json-out ff p.tsv > /dev/null'
fg-extract -q --skipped ref-skipped.txt good.tsv - > ref.fgt
via_fifo ref.fgt fg-extract -q good.tsv ff
[ ! -e ff.partial ] || fail "fg-extract into a pipe left ff.partial"
printf 'missing.jpg\tx\n' | cat - good.tsv > with-missing.tsv
printf 'missing.jpg\tcannot open (missing or no permission)\n' > ref-skipped.txt
via_fifo ref-skipped.txt fg-extract -q --skipped ff with-missing.tsv e.fgt
# A failed run releases a reader already waiting on the pipe (empty output).
rm -f ff; mkfifo ff
timeout $T fg-train -q missing.fgt ff 2> /dev/null & writer=$!
expect_eq "$(timeout $T cat ff | wc -c)" 0 "bytes from a failed run"
wait $writer && fail "fg-train of a missing table succeeded"

# --- 5. a failed run leaves every earlier output as it was -------------------
# same_files FILE...: each FILE still has the bytes saved in FILE.before.
save() { for f in "$@"; do cp "$f" "$f.before"; done; }
same_files() {
  for f in "$@"; do cmp -s "$f" "$f.before" || fail "$f was replaced by a failed run"; done
  compgen -G ".*.tmp.*" > /dev/null && fail "temporaries left: $(ls -a | grep '\.tmp\.')"
  return 0
}
fg-pca fit -q --dim 3 --table var.tsv --plot var.png t.fgt pca.model
save pca.model var.tsv var.png
expect_fail 1 "/dev/full: write failed" fg-pca fit --dim 4 --table /dev/full --plot var.png t.fgt pca.model
same_files pca.model var.png
expect_fail 1 "/dev/full: write failed" fg-pca fit --dim 4 --table var.tsv --plot /dev/full t.fgt pca.model
same_files pca.model var.tsv
fg-mic fit -q --k 5 --scores scores.tsv t.fgt mic.model
save mic.model
expect_fail 1 "/dev/full: write failed" fg-mic fit --k 6 --scores /dev/full t.fgt mic.model
same_files mic.model
fg-eval -q --confusion c.tsv --plot c.png --json-out m.json p.tsv > /dev/null
save c.tsv c.png m.json
head -40 p.tsv > p-part.tsv
expect_fail 1 "/dev/full: write failed" fg-eval --confusion c.tsv --plot c.png --json-out /dev/full p-part.tsv
same_files c.tsv c.png
expect_fail 1 "/dev/full: write failed" fg-eval --confusion /dev/full --plot c.png --json-out m.json p-part.tsv
same_files c.png m.json
expect_fail 1 "/dev/full: write failed" fg-eval --confusion c.tsv --plot /dev/full --json-out m.json p-part.tsv
same_files c.tsv m.json
save e.fgt
expect_fail 1 "/dev/full: write failed" fg-extract --pool max --skipped /dev/full with-missing.tsv e.fgt
same_files e.fgt
[ -s e.fgt.partial ] || fail "the work of the failed run is gone (it could --resume)"
rm e.fgt.partial
expect_fail 1 "/dev/full: write failed" fg-list "$ASSETS/data/flowers12/train" --split 0.5 --train-out tr.tsv --test-out /dev/full
no_file tr.tsv
expect_fail 2 "given for two outputs" fg-pca fit --dim 3 --table pca.model t.fgt pca.model
same_files pca.model
# A bundle over an earlier one, on a "full disk" (a 4 KiB file size limit):
# the earlier bundle stays complete and loadable.
fg-extract -q good.tsv feat.fgt
fg-train -q feat.fgt svm.model
fg-train -q --type logreg feat.fgt logreg.model
fg-bundle -q --features feat.fgt --classifier svm.model bundle
fg-score -q bundle good.tsv scored.tsv
cp -r bundle bundle.before
status=0; (trap '' XFSZ; ulimit -f 4; fg-bundle --features feat.fgt --classifier logreg.model bundle) 2> b.err || status=$?
[ "$status" = 1 ] || fail "fg-bundle on a full disk exited $status: $(cat b.err)"
grep -q "write failed" b.err || fail "fg-bundle on a full disk: $(cat b.err)"
diff -r bundle bundle.before > /dev/null || fail "a failed fg-bundle changed the earlier bundle"
fg-score -q bundle good.tsv scored2.tsv
cmp -s scored.tsv scored2.tsv || fail "the earlier bundle scores differently after a failed fg-bundle"
compgen -G ".bundle.tmp.*" > /dev/null && fail "the bundle's build folder was left behind"
fg-bundle -q --features feat.fgt --classifier logreg.model bundle
diff -q bundle/classifier.model logreg.model > /dev/null || fail "fg-bundle did not replace the earlier bundle"
mkdir other; echo keep > other/notes.txt
expect_fail 1 "exists and is not a bundle" fg-bundle --features feat.fgt --classifier svm.model other
expect_eq "$(cat other/notes.txt)" keep "a folder that is not a bundle"

# --- 11. every numeric option has a range; outside it: exit 2 ----------------
expect_fail 2 "--max-pixels: expected an integer >= 0, got '-5'" fg-extract --max-pixels -5 good.tsv o.fgt
expect_fail 2 "--min-score: expected a number in [0, 1], got '2'" fg-mic fit --k 0 --min-score 2 t.fgt o.model
expect_fail 1 "no feature scores at least --min-score 1" fg-mic fit --min-score 1 t.fgt o.model
expect_fail 2 "--top-k: expected an integer in 1..100000, got '-1'" fg-predict --top-k -1 ref.model t.fgt o.tsv
expect_fail 2 "--top-k: expected an integer in 1..100000, got '-1'" fg-score --top-k -1 bundle good.tsv o.tsv
expect_fail 2 "--cost: expected a number > 0, got 'inf'" fg-train -c inf t.fgt o.model
expect_fail 2 "--gamma: not a finite number: 'inf'" fg-train --kernel rbf --gamma inf t.fgt o.model
expect_fail 2 "--max-iter: expected an integer in 1..10000000, got '-1'" fg-train --type logreg --max-iter -1 t.fgt o.model
expect_fail 2 "--tol: expected a number > 0, got '-1'" fg-train --type logreg --tol -1 t.fgt o.model
expect_fail 2 "--count: expected an integer in 1..10000, got '-1'" fg-viz grid --count -1 p.tsv o.png
expect_fail 2 "--thumb: expected an integer in 32..1024, got '100000'" fg-viz grid --thumb 100000 p.tsv o.png
expect_fail 2 "--power-iterations: expected an integer in -1..100, got '100000'" fg-pca fit --dim 3 --method randomized --power-iterations 100000 t.fgt o.model
expect_fail 2 "--dim: expected an integer in 0..100000000, got '-1'" fg-convert --from libsvm --dim -1 t.csv o.fgt
expect_fail 2 "--batch: expected an integer in 1..4096, got '0'" fg-extract --batch 0 good.tsv o.fgt
expect_fail 2 "--seed: expected an integer >= 0, got '-3'" fg-list "$ASSETS/data/flowers12/train" --split 0.2 --seed -3 --train-out a --test-out b
expect_fail 2 "--split: expected a number in (0, 1), got '1'" fg-list "$ASSETS/data/flowers12/train" --split 1 --train-out a --test-out b
expect_fail 2 "--crop-fraction: expected a number in (0, 1], got 'nan'" fg-extract --crop-fraction nan good.tsv o.fgt
expect_fail 2 "--alpha: expected a number in (0, 1e+09], got 'x'" fg-mic scores --alpha x t.fgt o.tsv
expect_fail 2 "--size: expected 0 (the spec's) or 16..8192, got 8" fg-extract --size 8 good.tsv o.fgt
# A size the network cannot take: one line naming the model, no OpenCV text.
head -1 good.tsv > one.tsv
expect_fail 2 "--size 16 is too small for squeezenet1_1_imagenet_notop" fg-extract --size 16 one.tsv o.fgt
expect_eq "$(grep -vc "^Usage\|^Try" .err)" 1 "error lines on stderr for --size 16"
no_file o.fgt

# --- 3. --threads is bounded (TBB crashed above 65,536) ----------------------
expect_fail 2 "--threads: expected an integer in 0..1024, got '70000'" fg-train --threads 70000 t.fgt o.model
expect_fail 2 "--threads: expected an integer in 0..1024, got '70000'" fg-extract --threads 70000 good.tsv o.fgt
no_file o.model
# fg-jobs' counts were plain numbers ("-1" became 2^64 - 1 jobs).
expect_fail 2 "--jobs: expected an integer in 1..10000, got '-1'" fg-jobs --jobs -1 extract good.tsv o.fgt
expect_fail 2 "--retries: expected an integer in 0..100, got '1000'" fg-jobs --retries 1000 extract good.tsv o.fgt
expect_fail 2 "--max-running: expected an integer in 0..10000, got '1e9'" fg-jobs --max-running 1e9 extract good.tsv o.fgt
expect_fail 2 "--layer-weights: 'inf' is not a finite weight >= 0" fg-extract --layer-weights inf good.tsv o.fgt
no_file o.fgt

# --- 12. a second run on the same output is refused while the first runs ----
# The first run's first image is a FIFO, so it waits there, holding its lock.
mkfifo wait.jpg
printf 'wait.jpg\tx\n' | cat - good.tsv > lock.tsv
fg-extract -q lock.tsv locked.fgt 2> first.err & first=$!
for _ in $(seq 600); do [ -s locked.fgt.partial ] && break; sleep 0.1; done
[ -s locked.fgt.partial ] || fail "the first run did not start"
expect_fail 1 "locked.fgt.partial: another run (pid $first) is extracting to this output now" \
  timeout $T fg-extract lock.tsv locked.fgt
: > wait.jpg &  # lets the first run go on (that image is then skipped)
wait $first || fail "the first run failed after the second was refused: $(cat first.err)"
expect_eq "$(fg-convert -q --to text locked.fgt - | grep -vc "^#")" 12 "rows of the first run"
[ ! -e locked.fgt.partial ] || fail "the partial file stayed after the run"

# --- 15. temporaries of killed runs are cleaned by the next run --------------
sleep 0 & dead=$!; wait $dead
head -c 100000 /dev/zero > ".out.fgt.tmp.$HOSTNAME.$dead.0badf00d"   # a kill -9'd fg-convert
head -c 10 /dev/zero > ".out.fgt.tmp.$HOSTNAME.$$.0badf00d"          # a live process's: kept
head -c 10 /dev/zero > ".out.fgt.tmp.otherhost.$dead.0badf00d"      # another machine's: kept
fg-convert -v t.fgt out.fgt 2> conv.log
[ ! -e ".out.fgt.tmp.$HOSTNAME.$dead.0badf00d" ] || fail "a dead run's temporary was not removed"
grep -q "removed, the temporary of a run that died (pid $dead)" conv.log || fail "no word of the removal: $(cat conv.log)"
[ -e ".out.fgt.tmp.$HOSTNAME.$$.0badf00d" ] || fail "a live process's temporary was removed"
[ -e ".out.fgt.tmp.otherhost.$dead.0badf00d" ] || fail "another host's temporary was removed"
rm -f .out.fgt.tmp.*
# A real kill -9: fg-pca fit waits on its input (a FIFO) with its outputs staged.
mkfifo slow.fgt
fg-pca fit -q --dim 3 --table k.tsv slow.fgt k.model & victim=$!
for _ in $(seq 600); do compgen -G ".k.model.tmp.*" > /dev/null && break; sleep 0.1; done
compgen -G ".k.model.tmp.*" > /dev/null || fail "fg-pca fit staged no output"
kill -9 $victim; wait $victim 2> /dev/null || true
compgen -G ".k.tsv.tmp.*" > /dev/null || fail "kill -9 left no temporary (the test needs one)"
fg-pca fit -q --dim 3 --table k.tsv t.fgt k.model
compgen -G ".k*.tmp.*" > /dev/null && fail "stale temporaries of a killed run stayed: $(ls -a | grep tmp)"
rm -f slow.fgt

# --- 2. symbolic link loops in an image folder -------------------------------
mkdir -p loops/a loops/b
cp "$(sed -n 1p good.tsv | cut -f1)" loops/a/1.jpg
cp "$(sed -n 2p good.tsv | cut -f1)" loops/b/2.jpg
ln -s . loops/a/loop1; ln -s . loops/a/loop2; ln -s ../a loops/b/up; ln -s 1.jpg loops/a/alias.jpg
timeout $T fg-list loops loops.tsv 2> loops.log || fail "fg-list on link loops: $(tail -3 loops.log)"
expect_eq "$(cut -f1 loops.tsv | tr '\n' ' ')" "loops/a/1.jpg loops/a/alias.jpg loops/b/2.jpg loops/b/up/1.jpg loops/b/up/alias.jpg " "images listed"
expect_eq "$(grep -c "a link to a folder already listed" loops.log)" 4 "loop warnings"
grep -q "4 links to folders already listed" loops.log || fail "loop count in the summary: $(tail -1 loops.log)"
timeout $T fg-score -q bundle loops scored-loops.tsv || fail "fg-score on a folder with link loops"
expect_eq "$(grep -vc '^#' scored-loops.tsv)" 5 "images scored in the folder with loops"

# --- 8. a UTF-8 byte-order mark at the start of a manifest -------------------
printf '\xef\xbb\xbf' | cat - good.tsv > bom.tsv
fg-extract -v bom.tsv bom.fgt 2> bom.log
grep -q "bom.tsv: UTF-8 byte-order mark at the start ignored" bom.log || fail "no word of the BOM with -v"
cmp -s bom.fgt feat.fgt || fail "the manifest with a BOM gave other features (first image dropped?)"

echo "hardening: all checks passed"
