#!/bin/sh
# man-page.sh HELP2MAN PROGRAM PAGE: a man page from the program's --help, named
# by the purpose line the help starts with ("fg-pca: fit a PCA ...").
set -eu
help2man=$1 program=$2 page=$3
purpose=$("$program" --help | sed -n "1s/^[^:]*: //p")
exec "$help2man" --no-info --no-discard-stderr --section 1 --name "$purpose" --output "$page" "$program"
