#!/usr/bin/env bash
# The default build is portable: every program runs on any x86-64-v3 CPU
# (AVX2 + FMA). AVX-512 instructions (zmm registers) may appear only inside
# the kernels chosen at run time (core/cpu.hpp); the programs run with the
# AVX2 kernels forced (FG_ISA=avx2) and give the same results.
source "$(dirname "$0")/lib.sh"

built_for=$(fg-mic --version | sed -n 's/.*built for \(.*\))$/\1/p')
case "$built_for" in
  x86-64-v3*|x86-64) ;;
  *) echo "test_portable: not a portable build ($built_for; FG_NATIVE=ON): nothing to check"; exit 0 ;;
esac
command -v objdump > /dev/null || fail "objdump (binutils) is needed to inspect the programs"

# MIC's relaxation, pooling's planes, and the Winograd kernels (namespace fg::winograd::avx512).
allowed='relax_avx512|planes_avx512|winograd6avx512'
for program in fg-mic fg-extract fg-pca fg-train fg-predict fg-score fg-convert; do
  [ -x "$FG_BIN/$program" ] || fail "$program not built"
  offenders=$(objdump -d --no-show-raw-insn "$FG_BIN/$program" |
    awk '/^[0-9a-f]+ <.*>:$/ { f = $2 } /%zmm/ { print f }' | sort -u | grep -Ev "$allowed" || true)
  [ -z "$offenders" ] || fail "$program uses AVX-512 outside the dispatched kernels: $offenders"
done
# The dispatched kernel is there (so the check above looked at real code).
objdump -d --no-show-raw-insn "$FG_BIN/fg-mic" > fg-mic.dis
grep -q "relax_avx512.*>:" fg-mic.dis || fail "fg-mic has no AVX-512 MIC kernel"

# Forced AVX2 (and generic) kernels: the same scores as the best ones.
awk 'BEGIN { srand(5); printf "key,label"; for (j = 0; j < 6; j++) printf ",f%d", j; print "";
             for (i = 0; i < 300; i++) { c = i % 7; printf "r%03d,c%d", i, c;
               for (j = 0; j < 6; j++) printf ",%.5g", rand() + (j < 3 ? 0.3 * c * j : 0); print "" } }' > t.csv
fg-convert -q --from csv t.csv t.fgt
fg-mic -q scores --target ordinal t.fgt best.tsv
for isa in avx2 generic; do
  FG_ISA=$isa fg-mic -q scores --target ordinal t.fgt $isa.tsv
  cmp -s best.tsv $isa.tsv || fail "FG_ISA=$isa changed the MIC scores"
done
FG_ISA=avx2 fg-mic --version | grep -q "^kernels: avx2 " || fail "FG_ISA=avx2 not reported"
echo "test_portable: OK ($built_for)"
