#!/usr/bin/env bash
# The chain at dim >> rows (second-order pooling's shape): fg-train's basis
# solver gives the primal solver's predictions, --cv agrees between them, and
# stages that would not fit in memory say so before they start.
source "$(dirname "$0")/lib.sh"

# 12 classes, 20,000 dims: class means on a few shared coordinates plus noise
# on all of them; 16 training and 6 test rows per class.
make_csv() {  # seed rows-per-class
  awk -v seed="$1" -v per="$2" -v d=20000 'BEGIN { srand(seed);
    printf "key,label"; for (j = 1; j <= d; j++) printf ",f%d", j; print "";
    for (i = 0; i < per * 12; i++) { c = i % 12; printf "r%04d,c%02d", i, c;
      for (j = 1; j <= d; j++) printf ",%.4f", rand() - 0.5 + 0.18 * ((j % 24) == c) - 0.18 * ((j % 24) == c + 12);
      print "" } }'
}
make_csv 1 16 > train.csv
make_csv 2 6 > test.csv
fg-convert -q --from csv train.csv train.fgt
fg-convert -q --from csv test.csv test.fgt
rm train.csv test.csv

# The same model by both routes: identical predictions, scores within solver tolerance.
fg-train --type logreg --solver primal --tol 1e-9 -c 1 train.fgt primal.model 2> primal.log
fg-train --type logreg --tol 1e-9 -c 1 train.fgt basis.model 2> basis.log
grep -q "fitted in a 192-dim row basis" basis.log || fail "auto did not take the basis route: $(cat basis.log)"
grep -q "row basis" primal.log && fail "--solver primal used the basis"
fg-predict -q primal.model test.fgt primal.tsv
fg-predict -q basis.model test.fgt basis.tsv
expect_eq "$(cut -f1-3 basis.tsv | md5sum)" "$(cut -f1-3 primal.tsv | md5sum)" "basis vs primal predicted classes"
max_diff=$(paste primal.tsv basis.tsv | tail -n +3 | awk -F'\t' '{ d = $4 - $8; if (d < 0) d = -d; if (d > m) m = d } END { printf "%.2g", m }')
awk -v m="$max_diff" 'BEGIN { exit !(m < 1e-3) }' || fail "basis vs primal probabilities differ by $max_diff"
correct=$(tail -n +3 basis.tsv | awk -F'\t' '$2 == $3' | wc -l)
[ "$correct" -ge 50 ] || fail "basis route: only $correct of 72 test rows right"

# --cv: the basis route works from the Gram matrix alone and scores the grid as the primal does.
fg-train --type logreg --cv 2 --c-grid 0.01,1 --solver primal train.fgt cvp.model 2> cvp.log
fg-train --type logreg --cv 2 --c-grid 0.01,1 train.fgt cvb.model 2> cvb.log
expect_eq "$(grep '^fg-train: cv' cvb.log)" "$(grep '^fg-train: cv' cvp.log)" "cv grid, basis vs primal"

# A stage that would not fit says so before it starts, in one line, and writes nothing.
FG_MAX_MEMORY=20M expect_fail 1 "train.fgt: training logreg on 192 rows x 20000 dims needs about" \
  fg-train --type logreg train.fgt small.model
grep -q "only 21 MB available" "$WORK/.err" || fail "memory message: $(cat "$WORK/.err")"
no_file small.model
FG_MAX_MEMORY=lots expect_fail 2 "FG_MAX_MEMORY: expected a size" fg-train --type logreg train.fgt small.model
echo "OK"
