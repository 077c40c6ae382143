#!/usr/bin/env bash
# fg-train and fg-predict end to end: small tables, both classifiers, the
# predictions.tsv format, and the bad inputs a user would produce.
source "$(dirname "$0")/lib.sh"

# A small separable-but-noisy problem: 3 classes (+ an unseen one in test), 16 dims.
make_csv() {  # seed rows-per-class classes...
  local seed=$1 per=$2; shift 2
  awk -v seed="$seed" -v per="$per" -v classes="$*" 'BEGIN { srand(seed); n = split(classes, cls, " ");
    printf "key,label"; for (j = 1; j <= 16; j++) printf ",f%d", j; print "";
    for (i = 0; i < per * n; i++) { c = i % n; printf "img%04d.jpg,%s", i, cls[c + 1];
      for (j = 1; j <= 16; j++) printf ",%.6g", (rand() - 0.5) + 1.2 * ((j % 4) == c) + 0.5;
      print "" } }'
}
make_csv 1 30 daisy iris tulip > train.csv
make_csv 2 10 daisy iris tulip rose > test.csv
fg-convert -q --from csv train.csv train.fgt
fg-convert -q --from csv test.csv test.fgt

# --- svm, linear, default options -------------------------------------------------
fg-train train.fgt svm.model 2> train.log
grep -q "Done: svm linear C 1" train.log || fail "fg-train summary: $(cat train.log)"
fg-predict svm.model test.fgt pred.tsv 2> predict.log
expect_eq "$(head -1 pred.tsv)" "$(printf '#key\ttrue\tpredicted\tscore')" "predictions header"
expect_eq "$(sed -n 2p pred.tsv)" "$(printf '#classes\tdaisy\tiris\ttulip')" "predictions class line"
expect_eq "$(tail -n +3 pred.tsv | wc -l)" 40 "prediction rows"
expect_eq "$(tail -n +3 pred.tsv | awk -F'\t' 'NF != 4' | wc -l)" 0 "4 columns per row"
grep -q "10 rows have labels the model was not trained on: rose (10)" predict.log || fail "unseen labels warning: $(cat predict.log)"
expect_eq "$(awk -F'\t' '$2 == "rose"' pred.tsv | wc -l)" 10 "unseen labels passed through"
correct=$(tail -n +3 pred.tsv | awk -F'\t' '$2 == $3' | wc -l)
[ "$correct" -ge 27 ] || fail "svm: only $correct of 30 known test rows right"
grep -q "Done 40 rows; top-1 accuracy" predict.log || fail "fg-predict summary"

# Same inputs, same model bytes; --threads does not change predictions.
fg-train -q train.fgt svm2.model
cmp -s svm.model svm2.model || fail "training twice gave different models"
fg-predict -q --threads 1 svm.model test.fgt pred1.tsv
cmp -s pred.tsv pred1.tsv || fail "--threads 1 changed the predictions"

# --- logreg with top-k, and svm with probabilities + cv ------------------------------
fg-train -q --type logreg --scale standard -c 10 train.fgt lr.model
fg-predict -q --top-k 2 lr.model test.fgt lr.tsv
expect_eq "$(head -1 lr.tsv)" "$(printf '#key\ttrue\tpredicted\tscore\tpred2\tscore2')" "top-k header"
awk -F'\t' 'NR > 2 { s = $4 + $6; if (NF != 6 || $4 < $6 || s > 1.000001 || $4 < 1/3) bad++ } END { exit bad > 0 }' lr.tsv \
  || fail "logreg top-2 rows are not ordered probabilities"
fg-predict -q --top-k 9 lr.model test.fgt lr9.tsv
expect_eq "$(head -1 lr9.tsv | awk -F'\t' '{print NF}')" 8 "top-k capped at the class count"

# logreg --cv: one line per C, the chosen C in the model's description, and the
# model equals a plain fit at that C.
fg-train --type logreg --cv 3 --c-grid 0.01,1,100 train.fgt lrcv.model 2> lrcv.log
expect_eq "$(grep -c 'cv 3-fold: C' lrcv.log)" 3 "logreg cv lines"
best=$(sed -n 's/.*cv: best C \([0-9.e+-]*\):.*/\1/p' lrcv.log)
[ -n "$best" ] || fail "logreg cv best line"
grep -q "(C $best).*C by 3-fold CV" lrcv.log || fail "logreg cv: the model does not name C $best and the CV"
fg-train -q --type logreg -c "$best" train.fgt lrbest.model
fg-predict -q lrcv.model test.fgt lrcv.tsv
fg-predict -q lrbest.model test.fgt lrbest.tsv
cmp -s lrcv.tsv lrbest.tsv || fail "logreg cv: predictions differ from a plain fit at C $best"
expect_fail 2 "does not combine with --lambda" fg-train --type logreg --cv 3 --lambda 0.1 train.fgt bad.model
no_file bad.model

fg-train --type svm --kernel rbf --probability --cv 3 --c-grid 0.1,1,10 --scale minmax train.fgt rbf.model 2> cv.log
expect_eq "$(grep -c 'cv 3-fold: C' cv.log)" 15 "cv lines (3 C x 5 gamma)"
grep -q "cv: best C" cv.log || fail "cv best line"
fg-predict -q rbf.model test.fgt rbf.tsv
correct=$(tail -n +3 rbf.tsv | awk -F'\t' '$2 == $3' | wc -l)
[ "$correct" -ge 27 ] || fail "rbf: only $correct of 30 known test rows right"

# --- bad inputs -----------------------------------------------------------------------
make_csv 3 10 daisy > one.csv
fg-convert -q --from csv one.csv one.fgt
expect_fail 1 "training needs at least 2 classes with rows, found 1 (daisy)" fg-train one.fgt one.model
no_file one.model
# An empty table, byte by byte (format in table.hpp): dim 16, 0 rows, no classes, no provenance.
printf 'FGTABLE\n\002\000\000\000\020\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000E\000\000\000\000\000\000\000\000' > empty.fgt
fg-convert -q --to text empty.fgt empty.txt  # the foundation accepts it
expect_fail 1 "empty table" fg-train empty.fgt empty.model
no_file empty.model
expect_fail 1 "empty table, no predictions written" fg-predict svm.model empty.fgt empty.tsv
no_file empty.tsv
cut -d, -f1-10 test.csv > narrow.csv
fg-convert -q --from csv narrow.csv narrow.fgt
expect_fail 1 "narrow.fgt: dimension 8, but the model svm.model was trained on dimension 16" fg-predict svm.model narrow.fgt out.tsv
no_file out.tsv
expect_fail 1 "feature table (.fgt), not a classifier model" fg-predict train.fgt test.fgt out.tsv
no_file out.tsv
expect_fail 1 "not a classifier model" fg-predict train.csv test.fgt out.tsv
head -c 300 svm.model > short.model
expect_fail 1 "truncated" fg-predict short.model test.fgt out.tsv
no_file out.tsv
expect_fail 2 "unknown classifier 'forest'" fg-train --type forest train.fgt x.model
expect_fail 2 "--cost: expected a number > 0, got '0'" fg-train -c 0 train.fgt x.model
expect_fail 2 "--scale" fg-train --scale zscore train.fgt x.model
expect_fail 1 "" fg-train missing.fgt x.model
no_file x.model
echo "OK test_train"
