#!/usr/bin/env bash
# experiment.mk, fg-bundle, fg-score and fg-viz on a small real subset of
# flowers12 (15 train + 15 test images per class, SqueezeNet).
source "$(dirname "$0")/lib.sh"
mk() { make --no-print-directory -s -f "$FG_SOURCE_DIR/pipelines/experiment.mk" FG_BIN="$FG_BIN" \
         EXP=exp DATA=flowers12 PER_CLASS=15 THREADS=2 "$@"; }

mk > make.log 2>&1 || { cat make.log; fail "experiment.mk failed"; }
for f in settings.txt train.tsv test.tsv train.fgt test.fgt classifier.model predictions.tsv metrics.txt \
         metrics.json confusion.png confusion.tsv grid.png bundle/BUNDLE; do
  [ -s exp/$f ] || fail "experiment.mk did not make exp/$f"
done
expect_eq "$(wc -l < exp/train.tsv) $(wc -l < exp/test.tsv)" "180 180" "per-class subsets"
top1=$(awk '/^top-1 accuracy/ {print $3}' exp/metrics.txt)
awk -v a="$top1" 'BEGIN { exit !(a >= 90) }' || fail "top-1 on the flowers12 subset is $top1 %, expected >= 90 %"
grep -q '^POOL = avgmax$' exp/settings.txt || fail "settings not recorded"

# Incremental: a new classifier setting retrains, it does not re-extract.
before=$(stat -c %Y.%s exp/train.fgt exp/test.fgt)
sleep 1
mk CLF=logreg > make2.log 2>&1 || { cat make2.log; fail "experiment.mk with CLF=logreg failed"; }
expect_eq "$(stat -c %Y.%s exp/train.fgt exp/test.fgt)" "$before" "features after a classifier change"
grep -q "fg-extract" make2.log && fail "a classifier change re-ran extraction"
grep -q "^CLF = logreg" exp/settings.txt || fail "settings.txt not updated"

# The bundle reproduces fg-predict exactly, on the training images.
fg-predict -q --top-k 3 exp/classifier.model exp/train.fgt train.pred.tsv
fg-score -q --top-k 3 exp/bundle exp/train.tsv train.score.tsv
cmp -s train.pred.tsv train.score.tsv || { diff train.pred.tsv train.score.tsv | head; fail "fg-score differs from fg-predict"; }

# A folder with class subfolders, a loose image and bad files.
mkdir -p folder/daisy
head -3 exp/test.tsv | cut -f1 | xargs -I{} cp {} folder/daisy/
cp "$(sed -n 20p exp/test.tsv | cut -f1)" folder/loose.jpg
printf 'not an image' > folder/daisy/broken.jpg
head -c 2000 "$(sed -n 30p exp/test.tsv | cut -f1)" > folder/daisy/truncated.jpg
fg-score --skipped skipped.tsv exp/bundle folder folder.tsv 2> score.log
expect_eq "$(grep -vc '^#' folder.tsv)" 4 "scored images"
expect_eq "$(wc -l < skipped.tsv)" 1 "skipped images (truncated JPEG)"
grep -q "Done 4 images, 1 skipped" score.log || { cat score.log; fail "fg-score summary"; }
awk -F'\t' '$1 ~ /loose.jpg$/ && $2 == "" { found = 1 } END { exit !found }' folder.tsv || fail "loose image not unlabeled"

# A changed part is refused; a missing bundle says what it is.
cp -r exp/bundle tampered
printf 'x' >> tampered/classifier.model
expect_fail 1 "checksum differs" fg-score tampered folder out.tsv
no_file out.tsv
expect_fail 1 "not a bundle" fg-score exp folder out.tsv
fg-convert -q --to csv exp/train.fgt t.csv && fg-convert -q --from csv t.csv plain.fgt
expect_fail 1 "carries no extraction settings" fg-bundle --features plain.fgt --classifier exp/classifier.model b2
fg-pca fit -q --dim 8 exp/train.fgt pca.model
expect_fail 1 "dimension" fg-bundle --features exp/train.fgt --pca pca.model --classifier exp/classifier.model b3
[ ! -e b3/BUNDLE ] || fail "a refused bundle was written"

# Pictures.
fg-viz -q grid --count 12 exp/predictions.tsv sheet.png
fg-viz -q attention --pool attn "$(sed -n 1p exp/test.tsv | cut -f1)" attention.png
for png in sheet.png attention.png; do
  expect_eq "$(head -c 8 $png | od -An -c | tr -d ' ')" '211PNG\r\n032\n' "$png signature"
done
# The overlay shows the view the map came from: the first of --scales (512 px,
# so input + overlay side by side are 1024 wide), not --size.
fg-viz -q attention --pool attn --scales 512,224 "$(sed -n 1p exp/test.tsv | cut -f1)" attention512.png
expect_eq "$(od -An -tu1 -j16 -N4 attention512.png | awk '{ print $1 * 16777216 + $2 * 65536 + $3 * 256 + $4 }')" \
  1024 "attention overlay width with --scales 512,224"
echo "test_pipeline: all checks passed"
