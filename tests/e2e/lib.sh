# Shared by the end-to-end tests: strict mode, a scratch folder, checks.
# CTest sets FG_BIN (the build folder), FG_SOURCE_DIR and FG_DEFAULT_ASSETS.
set -euo pipefail
export LC_ALL=C
FG_BIN=${FG_BIN:?run through ctest (FG_BIN unset)}
ASSETS=${FINEGRAIN_ASSETS:-$FG_DEFAULT_ASSETS}
[ -d "$ASSETS/data" ] || { echo "FAIL: assets not found in $ASSETS: set FINEGRAIN_ASSETS to the folder holding data/ and models/" >&2; exit 1; }
export FINEGRAIN_ASSETS=$ASSETS
export PATH="$FG_BIN:$PATH"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/fg-e2e-XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

fail() { echo "FAIL: $*" >&2; exit 1; }

# expect_fail STATUS MESSAGE-PART command...: the command must exit with
# STATUS and print MESSAGE-PART on stderr, in one line.
expect_fail() {
  local status=$1 message=$2; shift 2
  local got=0
  "$@" > "$WORK/.out" 2> "$WORK/.err" || got=$?
  [ "$got" = "$status" ] || { cat "$WORK/.err" >&2; fail "$* exited $got, expected $status"; }
  grep -qF -- "$message" "$WORK/.err" || { cat "$WORK/.err" >&2; fail "$*: message lacks '$message'"; }
  if grep -q "terminate called\|Aborted\|core dumped" "$WORK/.err"; then fail "$*: crashed"; fi
}

# expect_eq ACTUAL EXPECTED WHAT
expect_eq() { [ "$1" = "$2" ] || fail "$3: got '$1', expected '$2'"; }

# no_file PATH: the file must not exist, nor any temporary beside it.
no_file() {
  [ ! -e "$1" ] || fail "$1 exists after a failed run"
  local dir; dir=$(dirname "$1")
  ! compgen -G "$dir/.$(basename "$1").tmp*" > /dev/null || fail "a temporary of $1 was left behind"
}
