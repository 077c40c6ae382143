#!/usr/bin/env bash
# fg-mic: minepy's reference values from `pairs`; fit/apply/scores on a small
# table, through pipes; bad inputs.
source "$(dirname "$0")/lib.sh"

REF="$ASSETS/reference/mic"

# --- pairs: every statistic of every case within 1e-9 of minepy's ----------
for est in mic_approx mic_e; do
  for params in "0.6 15" "0.5 5"; do
    set -- $params
    fg-mic -q pairs --est "$est" --alpha "$1" --c "$2" "$REF/mic_ref_public.vectors.tsv" > got.tsv
    expect_eq "$(head -1 got.tsv)" "$(printf 'case\tmic\tmas\tmev\tmcn\tmcn_general\ttic')" "pairs header"
    awk -F'\t' -v est="$est" -v alpha="$1" -v c="$2" '
      NR == FNR { if (FNR > 1 && $3 == est && $4 + 0 == alpha + 0 && $5 + 0 == c + 0)
                    for (i = 6; i <= 11; i++) want[$1, i - 5] = $i
                  next }
      FNR > 1 { rows++
                for (i = 2; i <= 7; i++) {
                  if (!(($1, i - 1) in want)) { print "no reference for case " $1; bad++; continue }
                  d = $i - want[$1, i - 1]; if (d < 0) d = -d
                  if (d > 1e-9) { print "case " $1 " column " i ": " $i " vs " want[$1, i - 1]; bad++ } } }
      END { if (rows != 24) { print rows " cases, expected 24"; bad++ } exit bad > 0 }' \
      "$REF/mic_ref_public.expected.tsv" got.tsv || fail "pairs $est alpha $1 c $2 differ from minepy"
  done
done

# --- fit / apply / scores on a small planted table -------------------------
# 6 classes x 40 rows, 12 features: 0, 3 and 7 carry the class, the rest noise.
awk 'BEGIN { srand(11); printf "key,label"; for (j = 0; j < 12; j++) printf ",f%d", j; print "";
             for (i = 0; i < 240; i++) { c = i % 6; printf "r%03d,class%d", i, c;
               for (j = 0; j < 12; j++) {
                 v = rand() + rand() + rand();
                 if (j == 0) v += 2 * c; if (j == 3) v += 3 * (c % 3); if (j == 7) v -= 2.5 * (c % 2);
                 printf ",%.6g", v }
               print "" } }' > t.csv
fg-convert -q --from csv t.csv t.fgt
fg-mic fit --k 3 --scores scores.tsv t.fgt sel.model 2> fit.log
grep -q "Done: selected 3 of 12 features (240 rows, 6 classes" fit.log || { cat fit.log; fail "fit summary line"; }
head -1 sel.model | grep -q "^FGMIC-SELECTION 1$" || fail "model magic"
expect_eq "$(grep -v '^#' sel.model | awk 'NF == 2 && $1 ~ /^[0-9]+$/ && $2 ~ /\./ {print $1}' | sort -n | tr '\n' ' ')" "0 3 7 " "selected columns"
expect_eq "$(wc -l < scores.tsv)" 13 "scores lines"
expect_eq "$(awk -F'\t' '$3 <= 3 && NR > 1 {print $1}' scores.tsv | sort -n | tr '\n' ' ')" "0 3 7 " "ranks 1-3"

fg-mic -q apply sel.model t.fgt sel.fgt
fg-convert -q --to csv sel.fgt sel.csv
# The applied table holds exactly the selected columns, in selection order.
cols=$(grep -v '^#' sel.model | awk 'NF == 2 && $1 ~ /^[0-9]+$/ {printf "%s%d", sep, $1 + 3; sep = " "}')
awk -F, -v cols="$cols" 'BEGIN { OFS = ","; n = split(cols, c, " ") }
  { line = $1 OFS $2; for (i = 1; i <= n; i++) line = line OFS $(c[i]); print line }' t.csv | tail -n +2 > want.csv
tail -n +2 sel.csv > got.csv
cmp -s want.csv got.csv || fail "applied values are not the selected columns"
expect_eq "$(wc -l < sel.csv)" 241 "applied rows"
expect_eq "$(head -1 sel.csv | tr ',' '\n' | wc -l)" 5 "applied columns (key, label, 3 features)"

# Pipes: table in and out on stdin/stdout give the same rows.
cat t.fgt | fg-mic -q apply sel.model - - | fg-convert -q --to csv - piped.csv
cmp -s sel.csv piped.csv || fail "apply through pipes changed the output"
# Outputs that are not regular files are written through, never replaced: a
# named pipe stays a pipe, a link stays a link (and its file gets the data).
mkfifo out.pipe
timeout 60 sh -c 'exec fg-convert -q --to csv - piped2.csv < out.pipe' &  # bounded: a replaced pipe has no writer
fg-mic -q apply sel.model t.fgt out.pipe
wait $! || fail "reading from the named pipe failed"
[ -p out.pipe ] || fail "apply replaced the named pipe with a file"
cmp -s sel.csv piped2.csv || fail "apply into a named pipe changed the output"
fg-mic -q scores t.fgt /dev/stdout | cmp -s - scores.tsv || fail "scores to /dev/stdout"
[ -L /dev/stdout ] || [ -c /dev/stdout ] || fail "/dev/stdout was replaced"
: > real.fgt; ln -s real.fgt link.fgt
fg-mic -q apply sel.model t.fgt link.fgt
[ -L link.fgt ] || fail "apply replaced the symbolic link"
cmp -s real.fgt sel.fgt || fail "apply did not write through the link"

# The ordinal (minepy) target, mic_e, --min-score, mRMR.
fg-mic -q fit --target ordinal --est mic_e --k 3 t.fgt ord.model
grep -q "^target ordinal$" ord.model || fail "ordinal target not recorded"
fg-mic -q fit --min-score 0.2 t.fgt thr.model
n_thr=$(awk '/^output_dim/ {print $2}' thr.model)
expect_eq "$(awk -F'\t' 'NR > 1 && $2 >= 0.2' scores.tsv | wc -l)" "$n_thr" "--min-score count"
fg-mic -q fit --k 3 --redundancy mic t.fgt mrmr.model
grep -q "^redundancy mic$" mrmr.model || fail "mRMR not recorded"
fg-mic -q fit --k 3 --redundancy corr --redundancy-weight 0.5 t.fgt corr.model
grep -q "^redundancy corr$" corr.model || fail "corr redundancy not recorded"
grep -q "^redundancy_weight 0.5$" corr.model || fail "corr weight not recorded"
# Models written before the corr form (redundancy 0/1) still apply; nonsense does not.
sed 's/^redundancy mic$/redundancy 1/' mrmr.model > old.model
fg-mic -q apply old.model t.fgt old.fgt
sed 's/^redundancy mic$/redundancy maybe/' mrmr.model > bad-red.model
expect_fail 1 "bad-red.model:8: redundancy must be none, mic or corr, got 'maybe'" fg-mic apply bad-red.model t.fgt x.fgt
no_file x.fgt
fg-mic -q scores --threads 1 t.fgt s1.tsv
fg-mic -q scores --threads 2 t.fgt s2.tsv
cmp -s s1.tsv s2.tsv || fail "scores depend on the thread count"
cmp -s s1.tsv scores.tsv || fail "fit --scores and scores differ"

# --- bad inputs -------------------------------------------------------------
expect_fail 2 "give --k N or --min-score T" fg-mic fit t.fgt x.model
no_file x.model
expect_fail 2 "only 12 features" fg-mic fit --k 20 t.fgt x.model
no_file x.model
expect_fail 2 "alpha must be" fg-mic fit --k 2 --alpha 2 t.fgt x.model
expect_fail 2 "estimator must be" fg-mic pairs --est mine "$REF/mic_ref_public.vectors.tsv"
expect_fail 2 "target must be" fg-mic fit --k 2 --target numbers t.fgt x.model
expect_fail 2 "redundancy must be none, mic or corr" fg-mic fit --k 2 --redundancy pearson t.fgt x.model
expect_fail 2 "redundancy-weight must be" fg-mic fit --k 2 --redundancy corr --redundancy-weight -1 t.fgt x.model
expect_fail 2 "unknown subcommand" fg-mic select t.fgt x.model
# NaN: named column and row.
awk -F, 'BEGIN { OFS = "," } NR == 6 { $7 = "nan" } { print }' t.csv > nan.csv
fg-convert -q --from csv nan.csv nan.fgt 2> /dev/null || fg-convert -q --from csv nan.csv nan.fgt --allow-nonfinite 2>/dev/null || true
if [ -s nan.fgt ]; then
  expect_fail 1 "column 5 row 5" fg-mic fit --k 2 nan.fgt x.model
  no_file x.model
fi
# A single class; fewer than 4 rows.
awk -F, 'BEGIN { OFS = "," } NR > 1 { $2 = "only" } { print }' t.csv > one.csv
fg-convert -q --from csv one.csv one.fgt
expect_fail 1 "at least two classes" fg-mic fit --k 2 one.fgt x.model
head -4 t.csv > few.csv
fg-convert -q --from csv few.csv few.fgt
expect_fail 1 "at least 4 samples" fg-mic fit --k 2 few.fgt x.model
# Dimension mismatch on apply names both dimensions; not a model.
fg-convert -q --from csv few.csv - | fg-mic -q apply sel.model - ok.fgt
cut -d, -f1-8 t.csv > narrow.csv
fg-convert -q --from csv narrow.csv narrow.fgt
expect_fail 1 "dimension 6, but the selection model was fitted on dimension 12" fg-mic apply sel.model narrow.fgt x.fgt
no_file x.fgt
expect_fail 1 "not a MIC selection model" fg-mic apply t.csv t.fgt x.fgt
expect_fail 1 "" fg-mic apply missing.model t.fgt x.fgt
expect_fail 1 "value 3: not a number" fg-mic pairs <(printf 'a\tk\t3\tx\t1\t2\tzz\n')

echo "test_mic: OK"
