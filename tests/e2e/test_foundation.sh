#!/usr/bin/env bash
# fg-list and fg-convert on real data, pipes, and bad inputs.
source "$(dirname "$0")/lib.sh"

# --- fg-list ---------------------------------------------------------------
fg-list "$ASSETS/data/flowers12/train" > all.tsv 2> list.log
expect_eq "$(wc -l < all.tsv)" 720 "flowers12/train images"
expect_eq "$(cut -f2 all.tsv | sort -u | wc -l)" 12 "flowers12/train classes"
grep -q "Done 720 images in 12 classes" list.log || fail "fg-list summary line"

fg-list -q "$ASSETS/data/flowers12/train" --split 0.25 --seed 1 --train-out tr.tsv --test-out te.tsv
fg-list -q "$ASSETS/data/flowers12/train" --split 0.25 --seed 1 --train-out tr2.tsv --test-out te2.tsv
cmp -s te.tsv te2.tsv && cmp -s tr.tsv tr2.tsv || fail "the same seed gave a different split"
expect_eq "$(cut -f2 te.tsv | sort | uniq -c | awk '{print $1}' | sort -u)" 15 "test images per class"
expect_eq "$(cut -f2 tr.tsv | sort | uniq -c | awk '{print $1}' | sort -u)" 45 "train images per class"

fg-list -q "$ASSETS/data/cub100/images" --split-file "$ASSETS/data/cub100/train.txt" \
  --train-out cub-train.tsv --test-out cub-test.tsv
expect_eq "$(wc -l < cub-train.tsv) $(wc -l < cub-test.tsv)" "2999 2903" "cub100 split"
expect_eq "$(cut -f2 cub-test.tsv | sort -u | wc -l)" 100 "cub100 test classes"

expect_fail 1 "not a directory" fg-list "$WORK/missing-root" out.tsv
no_file out.tsv
expect_fail 2 "unrecognised option" fg-list --bogus "$ASSETS/data/flowers12/train"
expect_fail 2 "needs both --train-out and --test-out" fg-list "$ASSETS/data/flowers12/train" --split 0.2
expect_fail 2 "--train-flag" fg-list "$ASSETS/data/cub100/images" \
  --split-file "$ASSETS/data/cub100/train_test_split.txt" --train-out a.tsv --test-out b.tsv
no_file a.tsv

# --- fg-convert: a small real-looking table made from CSV -------------------
awk 'BEGIN { srand(7); printf "key,label"; for (j = 1; j <= 64; j++) printf ",f%d", j; print "";
             for (i = 0; i < 90; i++) { printf "img%03d.jpg,class%d", i, i % 3;
               for (j = 1; j <= 64; j++) printf ",%.6g", (j % 5 == 0) ? 0 : rand() - 0.5 + (i % 3 == j % 3); print "" } }' > t.csv
fg-convert -q --from csv t.csv t.fgt
# Through pipes, and back: the same bytes.
fg-convert -q t.fgt - | fg-convert -q - piped.fgt
cmp -s t.fgt piped.fgt || fail "table changed through a pipe"
fg-convert -q --to csv t.fgt back.csv
cmp -s t.csv back.csv || fail "csv -> fgt -> csv changed the text"
fg-convert -q --to libsvm t.fgt t.svm
fg-convert -q --from libsvm t.svm from-svm.fgt
fg-convert -q --to text from-svm.fgt from-svm.txt
fg-convert -q --to text t.fgt t.txt
expect_eq "$(cut -f2- from-svm.txt | md5sum)" "$(cut -f2- t.txt | md5sum)" "values and labels through LIBSVM"
expect_eq "$(head -1 t.svm | cut -d' ' -f1-2)" "0 1:$(sed -n 2p t.csv | cut -d, -f3)" "LIBSVM line start"
expect_eq "$(cat t.svm.classes | tr '\n' ' ')" "class0 class1 class2 " "LIBSVM class list"
# LIBSVM's own tools accept the export.
svm-train -q -t 0 t.svm t.svm.model
svm-predict t.svm t.svm.model t.svm.pred > svm.log
grep -q "Accuracy = 100%" svm.log || fail "svm-train/svm-predict on the export: $(cat svm.log)"
fg-convert -q --to npy t.fgt t.npy
expect_eq "$(head -c 6 t.npy | tail -c 5)" "NUMPY" "npy magic"
expect_eq "$(wc -l < t.keys.txt)" 90 "npy keys"

# --- bad tables: message, exit status 1, no output file ---------------------
head -c 1000 t.fgt > truncated.fgt
expect_fail 1 "truncated.fgt: record 4: truncated" fg-convert --to csv truncated.fgt out.csv
no_file out.csv
head -c $(( $(stat -c %s t.fgt) - 9 )) t.fgt > no-end.fgt
expect_fail 1 "end marker is missing" fg-convert no-end.fgt out.fgt
no_file out.fgt
expect_fail 1 "looks like a LIBSVM text file" fg-convert t.svm out.fgt
expect_fail 1 "looks like a CSV text file" fg-convert t.csv out.fgt
gzip -c t.fgt > t.fgt.gz
expect_fail 1 "looks like gzip data" fg-convert t.fgt.gz out.fgt
printf 'FGTABLE\n\x07\x00\x00\x00' > v7.fgt
expect_fail 1 "format version 7, this program reads version 2" fg-convert v7.fgt out.fgt
sed '5s/,[^,]*$//' t.csv > short.csv
expect_fail 1 "short.csv:5: 65 fields, expected 66" fg-convert --from csv short.csv out.fgt
expect_fail 1 "index beyond the dimension 10" fg-convert --from libsvm --dim 10 t.svm out.fgt
sed '7s/,[^,]*$/,nan/' t.csv > nan.csv
fg-convert -q --allow-nonfinite --from csv nan.csv nan.fgt
expect_fail 1 "nan.fgt: record 6 (img005.jpg): column 64 is nan" fg-convert nan.fgt out.fgt
fg-convert -q --allow-nonfinite nan.fgt ok.fgt
no_file out.fgt
# A failing reader in a pipe leaves no output either.
expect_fail 1 "end marker is missing" sh -c 'cat no-end.fgt | fg-convert - out.fgt'
no_file out.fgt
# --- joining shards ----------------------------------------------------------
head -31 t.csv > a.csv; (head -1 t.csv; tail -n +32 t.csv) > b.csv
fg-convert -q --from csv a.csv a.fgt; fg-convert -q --from csv b.csv b.fgt
fg-convert -q a.fgt b.fgt joined.fgt
fg-convert -q --to csv joined.fgt joined.csv
cmp -s joined.csv t.csv || fail "joined shards differ from the whole table"
awk 'BEGIN { print "key,label,f1" } { print "x" NR ",c,1" }' < /dev/null > one.csv; printf 'x1,c,1\n' >> one.csv
fg-convert -q --from csv one.csv one.fgt
expect_fail 1 "one.fgt: dimension 1, expected 64" fg-convert a.fgt one.fgt out.fgt
no_file out.fgt
echo "test_foundation: all checks passed"
