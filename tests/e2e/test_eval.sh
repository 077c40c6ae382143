#!/usr/bin/env bash
# fg-eval end to end: report, JSON, confusion TSV and heat map, stdin, bad input.
source "$(dirname "$0")/lib.sh"

# The hand-computed case of tests/unit/test_metrics.cpp: top-1 4/8, top-2 6/8,
# one unlabeled row, one row with a label the model never saw (d).
printf '#key\ttrue\tpredicted\tscore\tpred2\tscore2\n#classes\ta\tb\tc\te\n' > p.tsv
printf 'r1\ta\ta\t0.9\tb\t0.1\nr2\ta\tb\t0.6\ta\t0.4\nr3\ta\ta\t0.7\tc\t0.2\nr4\tb\tb\t0.8\ta\t0.1\n' >> p.tsv
printf 'r5\tb\tc\t0.5\tb\t0.3\nr6\tc\tc\t1\ta\t0\nr7\tc\ta\t0.5\tb\t0.25\nr8\t\ta\t0.5\tb\t0.25\n' >> p.tsv
printf 'r9\td\ta\t2.5e-05\tb\t1e-06\n' >> p.tsv

fg-eval --confusion c.tsv --plot c.png p.tsv > report.txt 2> eval.log
grep -q "top-1 accuracy            50.00 %  (4 / 8)" report.txt || fail "top-1 line: $(cat report.txt)"
grep -q "top-2 accuracy            75.00 %" report.txt || fail "top-2 line"
grep -q "mean per-class accuracy   41.67 %" report.txt || fail "mean per-class line"
grep -q "macro F1                 0.3929" report.txt || fail "macro F1 line"
grep -q "weighted F1              0.4643" report.txt || fail "weighted F1 line"
grep -q "^d (unseen) *1  *0.0000" report.txt || fail "unseen label row"
grep -q "1 rows have true labels the model never saw" eval.log || fail "unseen warning"
grep -q "Done 9 rows: 8 evaluated, 1 unlabeled skipped; top-1 50.00 %" eval.log || fail "summary line"
expect_eq "$(cat c.tsv)" "$(printf 'true\\predicted\ta\tb\tc\te\na\t2\t1\t0\t0\nb\t0\t1\t1\t0\nc\t1\t0\t1\t0\ne\t0\t0\t0\t0\nd\t1\t0\t0\t0')" "confusion TSV"
expect_eq "$(head -c 8 c.png | od -An -c | tr -d ' ')" "211PNG\r\n032\n" "PNG signature"
# Width and height from the IHDR chunk: a few hundred pixels for 4 classes.
read -r width height < <(od -An -tu1 -j16 -N8 c.png | awk '{print $3*256+$4, $7*256+$8}')
[ "$width" -ge 500 ] && [ "$width" -le 1500 ] && [ "$height" -ge 300 ] && [ "$height" -le 1500 ] \
  || fail "heat map size ${width}x${height}"

# JSON on stdout, and from stdin.
fg-eval -q --json p.tsv > m.json
grep -q '"top1_accuracy": 0.5,' m.json || fail "JSON top-1"
grep -q '"topk_accuracy": {"1": 0.5, "2": 0.75}' m.json || fail "JSON top-k"
grep -q '"unseen_labels": \["d"\]' m.json || fail "JSON unseen labels"
grep -q '"macro_precision": 0.375,' m.json || fail "JSON macro precision"
if command -v python3 > /dev/null; then python3 -m json.tool m.json > /dev/null || fail "invalid JSON"; fi
cat p.tsv | fg-eval -q --json - > m2.json
cmp -s m.json m2.json || fail "stdin gave other metrics"
fg-eval -q --json-out m3.json p.tsv > report3.txt
cmp -s m.json m3.json || fail "--json-out wrote other metrics"
cmp -s report.txt report3.txt || fail "--json-out changed the report"
fg-eval -q --brief p.tsv > brief.txt
! grep -q "support" brief.txt || fail "--brief still prints the per-class table"

# 100 classes: the heat map grows so that names stay readable (>= 18 px per cell).
awk 'BEGIN { printf "#key\ttrue\tpredicted\tscore\n#classes"; for (c = 0; c < 100; c++) printf "\tspecies_%03d", c; print "";
             for (i = 0; i < 1000; i++) { t = i % 100; p = (i % 7 == 0) ? (t + 1) % 100 : t;
               printf "k%d\tspecies_%03d\tspecies_%03d\t0.5\n", i, t, p } }' > p100.tsv
fg-eval -q --plot c100.png --confusion c100.tsv p100.tsv > r100.txt
grep -q "top-1 accuracy            85.70 %  (857 / 1000)" r100.txt || fail "100-class top-1: $(head -3 r100.txt)"
expect_eq "$(wc -l < c100.tsv)" 101 "100-class confusion rows"
read -r width height < <(od -An -tu1 -j16 -N8 c100.png | awk '{print $3*256+$4, $7*256+$8}')
[ "$width" -ge 1800 ] && [ "$height" -ge 1800 ] || fail "100-class heat map only ${width}x${height}"

# --- bad inputs -------------------------------------------------------------------
printf '1 1:0.5 2:0.25\n' > x.svm
expect_fail 1 "x.svm:1: not a predictions file" fg-eval x.svm
head -2 p.tsv > header-only.tsv
expect_fail 1 "no prediction rows" fg-eval header-only.tsv
printf '#key\ttrue\tpredicted\tscore\n#classes\ta\nk\t\ta\t1\n' > unlabeled.tsv
expect_fail 1 "none of the 1 rows has a true label" fg-eval unlabeled.tsv
sed '4s/\t0.6\t/\t/' p.tsv > short.tsv
expect_fail 1 "short.tsv:4: 5 fields, expected 6" fg-eval --confusion out.tsv --plot out.png short.tsv
no_file out.tsv
no_file out.png
expect_fail 1 "missing.tsv" fg-eval missing.tsv
expect_fail 2 "unrecognised option" fg-eval --bogus p.tsv
echo "test_eval: all checks passed"
