#!/usr/bin/env bash
# Library text on stderr and corrupt images (issue 14, defect 13): libjpeg's
# "Corrupt JPEG data", libpng's errors and TBB's warnings never reach stderr
# as they are; every line there has the fg-xxx: format. A JPEG that decodes
# with errors is a warning naming it, and --on-corrupt decides whether it is
# used (warn, the default) or skipped (skip, then it is in the skipped list).
source "$(dirname "$0")/lib.sh"

# only_fg_lines PROGRAM FILE: every line of FILE starts with "PROGRAM: ".
only_fg_lines() {
  local other
  other=$(grep -v "^$1: " "$2" || true)
  [ -z "$other" ] || { cat "$2" >&2; fail "$2: lines not in the $1 format: $other"; }
}

F=$ASSETS/data/flowers12/train/bluebell
B=$ASSETS/data/flowers12/train/buttercup
# A real JPEG with eight bytes of its entropy-coded data (the scan starts at
# byte 349) replaced at a fixed offset: libjpeg decodes it and warns.
cp "$F/image_0241.jpg" corrupt.jpg
chmod u+w corrupt.jpg
printf '\xfe\xfe\xfe\xfe\xfe\xfe\xfe\xfe' | dd of=corrupt.jpg bs=1 seek=400 conv=notrunc status=none
cmp -s corrupt.jpg "$F/image_0241.jpg" && fail "corrupt.jpg is not changed"
# A PNG of a real image (an attention overlay), cut in half.
fg-viz -q attention "$F/image_0242.jpg" whole.png
head -c $(($(stat -c %s whole.png) / 2)) whole.png > cut.png
{
  for i in 0244 0245 0246; do printf '%s\tbluebell\n' "$F/image_$i.jpg"; done
  for i in 1121 1124; do printf '%s\tbuttercup\n' "$B/image_$i.jpg"; done
  printf '%s\tbluebell\n' "$WORK/corrupt.jpg" "$WORK/cut.png"
} > m.tsv

# --- warn (default): used, one warning naming it, counted --------------------
# (--threads above the cores: TBB used to print a raw "TBB Warning" then.)
fg-extract --threads 1024 --skipped warn.skipped m.tsv warn.fgt 2> warn.err ||
  { cat warn.err >&2; fail "fg-extract --on-corrupt warn failed"; }
only_fg_lines fg-extract warn.err
expect_eq "$(grep -c "^fg-extract: warning: " warn.err)" 2 "warnings (corrupt JPEG, cut PNG)"
grep -qxF "fg-extract: warning: $WORK/corrupt.jpg: decoded with errors (Corrupt JPEG data: premature end of data segment); used as decoded (--on-corrupt skip leaves such images out)" warn.err ||
  { cat warn.err >&2; fail "no warning naming corrupt.jpg"; }
grep -qF "fg-extract: warning: $WORK/cut.png: cannot decode (damaged or unsupported PNG data: libpng error: " warn.err ||
  { cat warn.err >&2; fail "no warning naming cut.png with libpng's reason"; }
grep -qF "Done 6 images (6 rows of dim 1024); 1 decoded with errors (used: --on-corrupt warn); 1 skipped (listed in warn.skipped)" warn.err ||
  { cat warn.err >&2; fail "summary of the warn run"; }
expect_eq "$(cut -f1 warn.skipped)" "$WORK/cut.png" "skipped list of the warn run"
fg-convert -q --to text warn.fgt warn.txt
expect_eq "$(grep -v '^#' warn.txt | cut -f1 | tr '\n' ' ')" \
  "$F/image_0244.jpg $F/image_0245.jpg $F/image_0246.jpg $B/image_1121.jpg $B/image_1124.jpg $WORK/corrupt.jpg " \
  "rows of the warn run"

# --- skip: left out like an unreadable image, in the skipped list ------------
fg-extract --on-corrupt skip --skipped skip.skipped m.tsv skip.fgt 2> skip.err ||
  { cat skip.err >&2; fail "fg-extract --on-corrupt skip failed"; }
only_fg_lines fg-extract skip.err
grep -qxF "fg-extract: warning: $WORK/corrupt.jpg: decoded with errors (Corrupt JPEG data: premature end of data segment), --on-corrupt skip; skipped" skip.err ||
  { cat skip.err >&2; fail "no skip warning naming corrupt.jpg"; }
grep -qF "Done 5 images (5 rows of dim 1024); 2 skipped (listed in skip.skipped)" skip.err ||
  { cat skip.err >&2; fail "summary of the skip run"; }
expect_eq "$(cut -f1 skip.skipped | tr '\n' ' ')" "$WORK/corrupt.jpg $WORK/cut.png " "skipped list of the skip run"
fg-convert -q --to text skip.fgt skip.txt
# The other rows are the same values either way.
expect_eq "$(grep -v '^#' skip.txt | md5sum)" "$(grep -v '^#' warn.txt | grep -v corrupt.jpg | md5sum)" \
  "rows of the skip run"
expect_fail 2 "--on-corrupt: unknown 'ignore' (warn, skip)" fg-extract --on-corrupt ignore m.tsv o.fgt
no_file o.fgt

# --- fg-score: the same policy ----------------------------------------------
fg-train -q skip.fgt svm.model
fg-bundle -q --features skip.fgt --classifier svm.model bundle
fg-score bundle m.tsv scored.tsv 2> score.err || { cat score.err >&2; fail "fg-score failed"; }
only_fg_lines fg-score score.err
grep -qxF "fg-score: warning: $WORK/corrupt.jpg: decoded with errors (Corrupt JPEG data: premature end of data segment); used as decoded (--on-corrupt skip leaves such images out)" score.err ||
  { cat score.err >&2; fail "fg-score: no warning naming corrupt.jpg"; }
grep -qF "Done 6 images (1 decoded with errors), 1 skipped" score.err || { cat score.err >&2; fail "fg-score summary"; }
expect_eq "$(cut -f1 scored.tsv | grep -c corrupt.jpg)" 1 "corrupt.jpg scored"
fg-score --on-corrupt skip --skipped score.skipped bundle m.tsv scored2.tsv 2> score2.err
only_fg_lines fg-score score2.err
expect_eq "$(cut -f1 score.skipped | tr '\n' ' ')" "$WORK/corrupt.jpg $WORK/cut.png " "fg-score skipped list"
expect_eq "$(grep -c corrupt.jpg scored2.tsv || true)" 0 "corrupt.jpg scored with --on-corrupt skip"

# --- fg-viz warns too ---------------------------------------------------------
fg-viz attention corrupt.jpg overlay.png 2> viz.err || { cat viz.err >&2; fail "fg-viz failed"; }
only_fg_lines fg-viz viz.err
grep -qxF "fg-viz: warning: corrupt.jpg: decoded with errors (Corrupt JPEG data: premature end of data segment); used as decoded" viz.err ||
  { cat viz.err >&2; fail "fg-viz: no warning naming corrupt.jpg"; }
expect_fail 1 "cut.png: cannot decode (damaged or unsupported PNG data: libpng error: " \
  fg-viz attention cut.png overlay2.png
only_fg_lines fg-viz .err
echo "ok"
