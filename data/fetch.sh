#!/usr/bin/env bash
# Downloads the real public assets that do not ship with finegrain, and
# verifies each file's SHA-256 before installing it. Nothing unverified is
# ever installed: a mismatch deletes the download and exits 1.
#
#   data/fetch.sh [--dest DIR] [--keep-archive] TARGET...
#
# Targets:
#   vgg16-caffe  VGG_ILSVRC_16_layers deploy prototxt + caffemodel (528 MiB),
#                Simonyan & Zisserman, CC BY 4.0  -> DIR/models/
#   vgg16-onnx   ONNX model zoo vgg16-7.onnx (528 MiB), Apache-2.0 -> DIR/models/
#   flowers17    Oxford 17 Category Flower Dataset, 17flowers.tgz (58 MiB),
#                Nilsback & Zisserman -> DIR/data/flowers17/<class>/image_NNNN.jpg
#   all          all of the above
#
# DIR defaults to $FINEGRAIN_ASSETS, else ../shared beside the project (the
# place fg-extract's model specs look in). Needs curl or wget, and sha256sum.
#
# Checksums and where they come from:
#   VGG16 Caffe: OpenVINO Open Model Zoo, models/public/vgg16/model.yml
#   vgg16-7.onnx: the Git LFS pointer of onnx/models
#                 (vision/classification/vgg/model/vgg16-7.onnx)
#   17flowers.tgz: intel/dffml examples/flower17/dataset.sh (SHA-256), and
#                 MD5 b59a65d8d1a99cd66944d474e1289eab as published with
#                 torchvision-style Flowers17 loaders
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
dest=${FINEGRAIN_ASSETS:-$(cd "$here/../.." && pwd)/shared}
keep_archive=0
targets=()

usage() { sed -n '2,27p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
  case $1 in
    --dest) dest=${2:?--dest needs a folder}; shift 2 ;;
    --dest=*) dest=${1#--dest=}; shift ;;
    --keep-archive) keep_archive=1; shift ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "fetch.sh: error: unknown option $1" >&2; usage >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || { echo "fetch.sh: error: name a target (vgg16-caffe, vgg16-onnx, flowers17, all)" >&2; exit 2; }

command -v sha256sum > /dev/null || { echo "fetch.sh: error: sha256sum not found (coreutils)" >&2; exit 1; }
if command -v curl > /dev/null; then
  download() { curl -fL --retry 3 --connect-timeout 30 -C - -o "$2" "$1"; }
elif command -v wget > /dev/null; then
  download() { wget -c -O "$2" "$1"; }
else
  echo "fetch.sh: error: neither curl nor wget found" >&2; exit 1
fi

# fetch URL... SHA256 TARGET-PATH: downloads to TARGET-PATH.part (resuming a
# previous attempt), verifies, renames. The first URL that works is used.
fetch() {
  local target=${*: -1} sum=${*: -2:1}
  local urls=("${@:1:$#-2}")
  if [ -f "$target" ] && echo "$sum  $target" | sha256sum -c --status; then
    echo "fetch.sh: $target already present and verified"
    return 0
  fi
  mkdir -p "$(dirname "$target")"
  local part=$target.part ok=0
  for url in "${urls[@]}"; do
    echo "fetch.sh: downloading $url"
    if download "$url" "$part"; then ok=1; break; fi
    echo "fetch.sh: warning: $url failed, trying the next source" >&2
    rm -f "$part"
  done
  [ $ok = 1 ] || { echo "fetch.sh: error: could not download $(basename "$target")" >&2; exit 1; }
  local got
  got=$(sha256sum "$part" | cut -d' ' -f1)
  if [ "$got" != "$sum" ]; then
    rm -f "$part"
    echo "fetch.sh: error: $(basename "$target"): SHA-256 $got, expected $sum; download deleted, nothing installed" >&2
    exit 1
  fi
  mv "$part" "$target"
  echo "fetch.sh: $target verified (SHA-256 $sum)"
}

fetch_vgg16_caffe() {
  fetch https://gist.githubusercontent.com/ksimonyan/211839e770f7b538e2d8/raw/0067c9b32f60362c74f4c445a080beed06b07eb3/VGG_ILSVRC_16_layers_deploy.prototxt \
    9fdb04e3f5b9224af473e82441b05b76368dfa6dc841e80655303823e9770962 \
    "$dest/models/VGG_ILSVRC_16_layers_deploy.prototxt"
  fetch https://www.robots.ox.ac.uk/~vgg/software/very_deep/caffe/VGG_ILSVRC_16_layers.caffemodel \
    http://www.robots.ox.ac.uk/~vgg/software/very_deep/caffe/VGG_ILSVRC_16_layers.caffemodel \
    a6196bc498e45ea4cb2637114ae8db9410cf1556fd60a55ae93272371beba197 \
    "$dest/models/VGG_ILSVRC_16_layers.caffemodel"
}

fetch_vgg16_onnx() {
  fetch https://media.githubusercontent.com/media/onnx/models/main/validated/vision/classification/vgg/model/vgg16-7.onnx \
    https://github.com/onnx/models/raw/main/validated/vision/classification/vgg/model/vgg16-7.onnx \
    https://github.com/onnx/models/raw/main/vision/classification/vgg/model/vgg16-7.onnx \
    f20805a3ecccaa88647bbab4ad011ff2412a9838485ea844de0fcbce349820b9 \
    "$dest/models/vgg16-7.onnx"
}

fetch_flowers17() {
  local archive=$dest/downloads/17flowers.tgz out=$dest/data/flowers17
  fetch https://www.robots.ox.ac.uk/~vgg/data/flowers/17/17flowers.tgz \
    fe38a60f8b4a95e657551247d3e7d799a3fafcdbc595be504b12839967823d70 "$archive"
  # 1360 images, 80 per class in this order (the dataset's README).
  local classes=(daffodil snowdrop lily-valley bluebell crocus iris tigerlily tulip fritillary
                 sunflower daisy colts-foot dandelion cowslip buttercup windflower pansy)
  local tmp
  tmp=$(mktemp -d "$dest/data/.flowers17-XXXXXX")
  tar -xzf "$archive" -C "$tmp"
  local n
  for n in $(seq 1 1360); do
    local c=${classes[$(( (n - 1) / 80 ))]} f
    f=$(printf 'image_%04d.jpg' "$n")
    mkdir -p "$tmp/classes/$c"
    mv "$tmp/jpg/$f" "$tmp/classes/$c/$f"
  done
  rm -rf "$out"
  mv "$tmp/classes" "$out"
  rm -rf "$tmp"
  [ $keep_archive = 1 ] || rm -f "$archive"
  echo "fetch.sh: flowers17 in $out (17 class folders x 80 images); list it with: fg-list $out"
}

for t in "${targets[@]}"; do
  case $t in
    vgg16-caffe) fetch_vgg16_caffe ;;
    vgg16-onnx) fetch_vgg16_onnx ;;
    flowers17) fetch_flowers17 ;;
    all) fetch_vgg16_caffe; fetch_vgg16_onnx; fetch_flowers17 ;;
    *) echo "fetch.sh: error: unknown target '$t' (vgg16-caffe, vgg16-onnx, flowers17, all)" >&2; exit 2 ;;
  esac
done
echo "fetch.sh: Succeeded"
