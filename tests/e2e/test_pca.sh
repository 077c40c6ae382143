#!/usr/bin/env bash
# fg-pca fit/apply end to end: files, pipes, the variance table and plot,
# determinism, and the bad inputs a user produces.
source "$(dirname "$0")/lib.sh"

# A 300 x 32 table with three strong planted directions (three classes).
awk 'BEGIN { srand(11); printf "key,label"; for (j = 1; j <= 32; j++) printf ",f%d", j; print "";
             for (i = 0; i < 300; i++) { a = 6 * (rand() - 0.5); b = 3 * (rand() - 0.5); c = 1.5 * (rand() - 0.5);
               printf "img%03d.jpg,class%d", i, i % 3;
               for (j = 1; j <= 32; j++) printf ",%.6g", a * sin(j) + b * cos(2 * j) + c * ((j % 2) ? 1 : -1) / 4 + 0.3 * (rand() - 0.5) + j / 10;
               print "" } }' > t.csv
fg-convert -q --from csv t.csv train.fgt
head -101 t.csv > small.csv
fg-convert -q --from csv small.csv test.fgt

# --- fit: model, table, plot --------------------------------------------------
fg-pca fit --dim 3 --table var.tsv --plot var.png train.fgt pca.model 2> fit.log
grep -q "Done 300 rows: dimension 32 -> 3 components (cov), explaining " fit.log || fail "fit summary: $(cat fit.log)"
expect_eq "$(head -1 var.tsv)" "component	variance	ratio	cumulative	kept" "variance table header"
expect_eq "$(wc -l < var.tsv)" 33 "variance table lines (32 components + header)"
expect_eq "$(awk -F'\t' 'NR > 1 && $5 == 1' var.tsv | wc -l)" 3 "kept components"
# Ratios add up to 1 and the variances decrease.
awk -F'\t' 'NR > 1 { s += $3; if (NR > 2 && $2 > prev) bad = 1; prev = $2 }
            END { if (s < 0.999999 || s > 1.000001 || bad) exit 1 }' var.tsv || fail "variance table sums/order"
expect_eq "$(head -c 8 var.png | od -An -c | tr -d ' ')" "211PNG\r\n032\n" "PNG signature"
expect_eq "$(od -An -tu1 -j16 -N8 var.png | awk '{print $3*256+$4, $7*256+$8}')" "1000 650" "plot size"

# --- apply: file, and the same bytes through pipes ------------------------------
fg-pca apply pca.model test.fgt test.pca.fgt 2> apply.log
grep -q "Done 100 rows: dimension 32 -> 3" apply.log || fail "apply summary: $(cat apply.log)"
fg-convert -q --to csv test.pca.fgt test.pca.csv
expect_eq "$(head -1 test.pca.csv)" "key,label,f1,f2,f3" "projected header"
expect_eq "$(wc -l < test.pca.csv)" 101 "projected rows"
expect_eq "$(cut -d, -f1,2 test.pca.csv | md5sum)" "$(cut -d, -f1,2 small.csv | md5sum)" "keys and labels kept"
cat test.fgt | fg-pca apply -q pca.model - - > piped.fgt
fg-convert -q --to csv piped.fgt piped.csv
cmp -s piped.csv test.pca.csv || fail "apply through pipes changed the values"
# Projected training data: centred, variances as in the table.
fg-pca apply -q pca.model train.fgt train.pca.fgt
fg-convert -q --to csv train.pca.fgt train.pca.csv
awk -F, -v v1="$(sed -n 2p var.tsv | cut -f2)" 'NR > 1 { n++; s += $3; q += $3 * $3 }
  END { m = s / n; var = (q - n * m * m) / (n - 1); if (m > 1e-4 || m < -1e-4 || var / v1 > 1.0001 || var / v1 < 0.9999) exit 1 }' \
  train.pca.csv || fail "projected training data: mean 0 and the fitted variance"

# --- whiten, variance, methods, determinism -------------------------------------------
fg-pca fit -q --dim 3 --whiten train.fgt w.model
fg-pca apply -q w.model train.fgt w.fgt
fg-convert -q --to csv w.fgt w.csv
awk -F, 'NR > 1 { n++; for (j = 3; j <= 5; j++) { s[j] += $j; q[j] += $j * $j } }
  END { for (j = 3; j <= 5; j++) { m = s[j] / n; v = (q[j] - n * m * m) / (n - 1); if (v > 1.0001 || v < 0.9999) exit 1 } }' \
  w.csv || fail "whitened outputs do not have unit variance"
fg-pca fit -q --variance 0.95 train.fgt v.model --table v.tsv
expect_eq "$(awk -F'\t' '$5 == 1' v.tsv | wc -l)" "$(awk -F'\t' 'NR > 1 && !done { k++; if ($4 >= 0.95) done = 1 } END { print k }' v.tsv)" \
  "--variance 0.95 keeps the fewest components reaching 95 %"
for method in cov gram randomized; do
  fg-pca fit -q --dim 3 --method $method --seed 5 train.fgt $method.model
  fg-pca apply -q $method.model test.fgt $method.fgt
  fg-convert -q --to csv $method.fgt $method.csv
done
fg-pca fit -q --dim 3 --method randomized --seed 5 train.fgt again.model
cmp -s randomized.model again.model || fail "the same seed gave a different model"
# The three methods give the same projections to 4 decimals.
for method in gram randomized; do
  paste -d, cov.csv $method.csv | awk -F, 'NR > 1 { for (j = 3; j <= 5; j++) { d = $j - $(j + 5); if (d > 1e-4 || d < -1e-4) exit 1 } }' \
    || fail "cov and $method projections differ"
done

# --- stats: two halves' statistics fit the same model as the whole table ----------
head -151 t.csv > half1.csv
{ head -1 t.csv; tail -n +152 t.csv; } > half2.csv
fg-convert -q --from csv half1.csv half1.fgt
fg-convert -q --from csv half2.csv half2.fgt
fg-pca stats half1.fgt half1.stats 2> stats.log
grep -q "Done 150 rows of dimension 32: statistics in half1.stats" stats.log || fail "stats summary: $(cat stats.log)"
fg-pca stats -q half2.fgt half2.stats
fg-pca fit --dim 3 --table whole.tsv train.fgt whole.model 2> /dev/null
fg-pca fit --dim 3 --table merged.tsv half1.stats half2.stats merged.model 2> merged.log
grep -q "Done 300 rows: dimension 32 -> 3 components (cov)" merged.log || fail "fit from stats summary: $(cat merged.log)"
# Variances (all 32, the variance table) within 1e-9 relative; projections of the test rows within 1e-5.
paste whole.tsv merged.tsv | awk -F'\t' 'NR > 1 { d = $2 - $7; if (d < 0) d = -d; if (d > 1e-9 * $2 + 1e-12 || $5 != $10) exit 1 }' \
  || fail "variances from statistics differ from the whole table's"
expect_eq "$(wc -l < merged.tsv)" 33 "variance table from statistics"
fg-pca apply -q whole.model test.fgt whole.fgt
fg-pca apply -q merged.model test.fgt merged.fgt
fg-convert -q --to csv whole.fgt whole.csv
fg-convert -q --to csv merged.fgt merged.csv
paste -d, whole.csv merged.csv | awk -F, 'NR > 1 { for (j = 3; j <= 5; j++) { d = $j - $(j + 5); if (d > 1e-5 || d < -1e-5) exit 1 } }' \
  || fail "projections of the model from statistics differ from the whole table's"
# Merging in the other order: the same model to rounding.
fg-pca fit -q --dim 3 half2.stats half1.stats swapped.model
fg-pca apply -q swapped.model test.fgt swapped.fgt
fg-convert -q --to csv swapped.fgt swapped.csv
paste -d, whole.csv swapped.csv | awk -F, 'NR > 1 { for (j = 3; j <= 5; j++) { d = $j - $(j + 5); if (d > 1e-5 || d < -1e-5) exit 1 } }' \
  || fail "merging in the other order changed the model"
# One stats file alone is a fit too; a table among several inputs, another dimension, other methods: errors.
fg-pca fit -q --dim 3 half1.stats one.model
fg-pca fit -q --dim 3 half1.fgt one-table.model
fg-pca apply -q one.model test.fgt one.fgt
fg-pca apply -q one-table.model test.fgt one-table.fgt
fg-convert -q --to csv one.fgt one.csv
fg-convert -q --to csv one-table.fgt one-table.csv
paste -d, one.csv one-table.csv | awk -F, 'NR > 1 { for (j = 3; j <= 5; j++) { d = $j - $(j + 5); if (d > 1e-5 || d < -1e-5) exit 1 } }' \
  || fail "the model from one shard's statistics differs from the shard's own fit"
expect_fail 2 "half1.fgt: not PCA statistics" fg-pca fit --dim 3 half1.stats half1.fgt out.model
no_file out.model
head -6 t.csv | cut -d, -f1-18 > narrow.csv
fg-convert -q --from csv narrow.csv d16.fgt
fg-pca stats -q d16.fgt d16.stats
expect_fail 1 "d16.stats: dimension 16, but the statistics it is merged with have dimension 32" \
  fg-pca fit --dim 3 half1.stats d16.stats out.model
no_file out.model
expect_fail 2 "--method randomized needs the rows" fg-pca fit --dim 3 --method randomized half1.stats half2.stats out.model
expect_fail 2 "--dim is a fit option" fg-pca stats --dim 3 half1.fgt out.stats
no_file out.stats
head -c 500 half1.stats > cut.stats
expect_fail 1 "cut.stats: truncated PCA statistics" fg-pca fit --dim 3 cut.stats half2.stats out.model
no_file out.model
expect_fail 1 "d16.stats: PCA: --dim 5 is more than the data supports: min(rows - 1, dimension) = min(4, 16) = 4" \
  fg-pca fit --dim 5 d16.stats out.model

# --- bad inputs: one line, exit status, no output left behind -----------------------------
expect_fail 2 "give --dim K or --variance F" fg-pca fit train.fgt out.model
no_file out.model
expect_fail 2 "--dim: expected an integer in 0..1000000, got '-3'" fg-pca fit --dim -3 train.fgt out.model
expect_fail 2 "either --dim or --variance" fg-pca fit --dim 3 --variance 0.9 train.fgt out.model
expect_fail 2 "unknown PCA method 'svd'" fg-pca fit --dim 3 --method svd train.fgt out.model
expect_fail 2 "unknown command 'fitt'" fg-pca fitt --dim 3 train.fgt out.model
expect_fail 2 "--dim is a fit option" fg-pca apply --dim 3 pca.model test.fgt out.fgt
expect_fail 1 "more than the data supports" fg-pca fit --dim 40 train.fgt out.model
no_file out.model
awk 'BEGIN { srand(3); printf "key,label"; for (j = 1; j <= 16; j++) printf ",f%d", j; print "";
             for (i = 0; i < 5; i++) { printf "x%d,a", i; for (j = 1; j <= 16; j++) printf ",%.4f", rand(); print "" } }' > d16.csv
fg-convert -q --from csv d16.csv d16.fgt
expect_fail 1 "d16.fgt: dimension 16, but the PCA model pca.model was fitted on dimension 32" \
  fg-pca apply pca.model d16.fgt out.fgt
no_file out.fgt
expect_fail 1 "not a PCA model" fg-pca apply test.fgt test.fgt out.fgt
no_file out.fgt
head -c 300 pca.model > cut.model
expect_fail 1 "cut.model: truncated PCA model" fg-pca apply cut.model test.fgt out.fgt
no_file out.fgt
head -2 t.csv > one.csv
fg-convert -q --from csv one.csv one.fgt
expect_fail 1 "one.fgt: 1 rows; PCA needs at least 2" fg-pca fit --dim 1 one.fgt out.model
no_file out.model
expect_fail 1 "missing.fgt" fg-pca fit --dim 3 missing.fgt out.model
expect_fail 1 "" fg-pca fit --dim 3 train.fgt no-such-dir/out.model
# A truncated table in a pipe: apply fails and leaves no output.
head -c 2000 test.fgt > cut.fgt
expect_fail 1 "truncated" sh -c 'cat cut.fgt | fg-pca apply pca.model - out.fgt'
no_file out.fgt
echo "test_pca: all checks passed"
