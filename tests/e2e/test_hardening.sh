#!/usr/bin/env bash
# Damaged, inconsistent and hostile model and data files (issue 14, defects
# 4, 7, 9, 10): each is exit 1 with one line naming the file and what is
# wrong; no NaN is written with exit 0; no header count sizes memory.
source "$(dirname "$0")/lib.sh"

# A small 3-class problem, 8 dims.
awk 'BEGIN { srand(3); printf "key,label"; for (j = 1; j <= 8; j++) printf ",f%d", j; print "";
  for (i = 0; i < 45; i++) { c = i % 3; printf "img%03d.jpg,c%d", i, c;
    for (j = 1; j <= 8; j++) printf ",%.6g", rand() + 1.5 * ((j % 3) == c); print "" } }' > t.csv
fg-convert -q --from csv t.csv t.fgt
fg-train -q t.fgt svm.model
fg-train -q --type logreg t.fgt logreg.model

# --- 4: non-finite values ------------------------------------------------------
sed '3s/,[^,]*$/,nan/' t.csv > nan.csv
expect_fail 1 "nan.csv:3: column f8: value is nan (fg-convert accepts it with --allow-nonfinite)" \
  fg-convert --from csv nan.csv out.fgt
no_file out.fgt
printf '0 1:1 2:inf\n1 1:2 2:3\n' > inf.svm
expect_fail 1 "inf.svm:1: '2:inf': value is inf" fg-convert --from libsvm inf.svm out.fgt
fg-convert -q --allow-nonfinite --from csv nan.csv nan.fgt
# Programs without the option do not recommend it for themselves.
expect_fail 1 "column 8 is nan (only fg-convert reads such values, with --allow-nonfinite)" fg-predict svm.model nan.fgt p.tsv
no_file p.tsv

# A logreg weight set to NaN (the first weight follows the scaler: find it by value).
perl -0777 -pe 'BEGIN { $nan = pack("Q<", 0x7ff8000000000000) } s/END\n\z//; $_ = substr($_, 0, length($_) - 8 * 3 - 8 * 3 * 8) . $nan . substr($_, length($_) - 8 * 3 - 8 * 3 * 8 + 8) . "END\n"' \
  logreg.model > nan-logreg.model
expect_fail 1 "nan-logreg.model: damaged classifier model: weight value 1 of 24 is nan" fg-predict nan-logreg.model t.fgt p.tsv
no_file p.tsv

# An SVM model with huge but finite numbers (issue 15): the weight vector of
# the first class pair set to 1e308 (after the kernel name: gamma f64,
# probability u32, representation u32, count u64, then the values). Its
# decision values overflow to inf, which would still cast a vote (as would
# NaN: NaN > 0 is false): an error, nothing written.
perl -0777 -pe 'BEGIN { $h = pack("d<", 1e308) x 8 } s/(\x06\x00\x00\x00linear.{24}).{64}/$1 . $h/se' \
  svm.model > huge-svm.model
cmp -s svm.model huge-svm.model && fail "huge-svm.model: the edit found no values"
expect_fail 1 "huge-svm.model: the decision value of the classes 'c0' and 'c1' is -inf for this input" \
  fg-predict huge-svm.model t.fgt p.tsv
no_file p.tsv

# A spec with an infinite mean: refused when loaded, before any image is read.
printf 'name bad\nmodel x.onnx\nmean inf\n' > bad.spec
printf 'a.jpg\tc0\n' > one.tsv
expect_fail 1 "bad.spec: line 3: 'mean' values must be finite" fg-extract --model ./bad.spec one.tsv out.fgt
no_file out.fgt

# --- 7: damaged names in models are data errors, not usage errors ---------------
perl -0777 -pe 's/\x06\x00\x00\x00linear/\x06\x00\x00\x00lineax/' svm.model > kernel.model
expect_fail 1 "kernel.model: damaged classifier model: field 'kernel' is 'lineax', expected one of linear, rbf" \
  fg-predict kernel.model t.fgt p.tsv
grep -q "Usage" "$WORK/.err" && fail "a damaged model printed the usage text"
perl -0777 -pe 's/\x06\x00\x00\x00minmax/\x06\x00\x00\x00minmix/' svm.model > scale.model
expect_fail 1 "scale.model: damaged classifier model: field 'scale' is 'minmix'" fg-predict scale.model t.fgt p.tsv
fg-mic fit -q --k 3 t.fgt mic.model
sed 's/^target classes/target klasses/' mic.model > target.model
expect_fail 1 "target.model:7: field 'target' is 'klasses', expected classes or ordinal" fg-mic apply target.model t.fgt o.fgt
sed 's/^estimator .*/estimator mic_x/' mic.model > est.model
expect_fail 1 "est.model:4: field 'estimator' is 'mic_x'" fg-mic apply est.model t.fgt o.fgt

# --- 9: header counts checked against the file size, under a memory limit -------
# A 720-byte PCA model claiming 65536 x 32768 components (16 GB).
perl -e 'print "FGPCA\n\0\0", pack("VVVCQ<d<V", 1, 65536, 32768, 0, 10, 1.0, 3), "cov", "\0" x 676' > big-pca.model
expect_eq "$(wc -c < big-pca.model)" 720 "size of the hostile PCA model"
expect_fail 1 "big-pca.model: truncated PCA model (the header says 65536 x 32768" \
  sh -c 'ulimit -v 1000000; fg-pca apply big-pca.model t.fgt o.fgt'
# A classifier model claiming 2^26 support vectors of dimension 8 (4 GB) in 2.7 KB.
# (after the kernel name: gamma f64, probability u32, representation u32, count u64)
perl -0777 -pe 's/(\x06\x00\x00\x00linear.{16}).{8}/$1 . pack("Q<", 1 << 26)/se' svm.model > big-svm.model
perl -0777 -ne 'exit(/\x06\x00\x00\x00linear.{16}(.{8})/s && unpack("Q<", $1) == 1 << 26 ? 0 : 1)' big-svm.model \
  || fail "the hostile svm model was not made"
expect_fail 1 "big-svm.model: truncated or damaged classifier model: support vector count 67108864 needs at least 4294967296 bytes" \
  sh -c 'ulimit -v 1000000; fg-predict big-svm.model t.fgt p.tsv'
# A table whose header claims 2^40 rows.
perl -0777 -pe 'substr($_, 16, 8) = pack("Q<", 1 << 40)' t.fgt > rows.fgt
expect_fail 1 "rows.fgt: header says 1099511627776 records, found 45" \
  sh -c 'ulimit -v 1000000; fg-convert rows.fgt o.fgt'

# --- 10: inconsistent models ----------------------------------------------------
# The probability flag (after the kernel name and gamma) set on a model trained without it.
perl -0777 -pe 's/(\x06\x00\x00\x00linear.{8})\x00\x00\x00\x00/$1\x01\x00\x00\x00/s' svm.model > prob.model
cmp -s svm.model prob.model && fail "the inconsistent svm model was not made"
expect_fail 1 "prob.model: damaged classifier model: probability flag set, but class pair 1 has no sigmoid" \
  fg-predict prob.model t.fgt p.tsv
# A .classes file naming one class twice.
fg-convert -q --to libsvm t.fgt t.svm
printf 'c0\nc1\nc0\n' > t.svm.classes
expect_fail 1 "t.svm.classes:3: class 'c0' repeats line 1" fg-convert --from libsvm t.svm o.fgt
# A selection model listing one column twice.
awk '!/^#/ && NF == 2 && $1 ~ /^[0-9]+$/ && !done { print; print; done = 1; next } { print }' mic.model \
  | sed 's/^output_dim 3/output_dim 4/' > dup.model
expect_fail 1 "selected twice" fg-mic apply dup.model t.fgt o.fgt
no_file o.fgt
echo "hardening: all passed"
