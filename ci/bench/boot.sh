#!/bin/bash
# Build a KUnit tier's kernel on the working tree and boot the benchmark
# (mm/tests/hmm_bench_kunit.c) on it under QEMU with -icount shift=0: the
# guest clock advances 1 ns per guest instruction, so a time is an
# instruction count. Its BENCH lines go to OUT/NAME.tsv.
#
# usage: ci/bench/boot.sh NAME TIER OUT_DIR [BUILD_DIR [KERNEL_ARG...]]
#   NAME: names the files in OUT_DIR (NAME.tsv, NAME-test.log, ...)
#   BUILD_DIR: default $BUILD/NAME
#   KERNEL_ARG: e.g. hmm_bench.plain=1 (only the calls drivers make today)
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

[ $# -ge 3 ] || die "usage: ci/bench/boot.sh NAME TIER OUT_DIR [BUILD_DIR [KERNEL_ARG...]]"
name=$1 tier=$2 out=$3 build=${4:-$BUILD/$1}
shift $(($# < 4 ? $# : 4))
mkdir -p "$out"
HMMWALK_BUILD=$build "$TOP/ci/build/kunit-kernel.sh" "$tier" > "$out/$name-build.log" 2>&1 ||
	die "the $name kernel does not build: see $out/$name-build.log"
# One CPU: with two, a call that drains the per-CPU LRU lists waits for
# work on the other CPU, and the instructions counted while it waits vary
# from boot to boot (plain_setup on "half" at 1 MiB: 2.5% between two boots)
mapfile -t args < <(HMMWALK_BUILD=$build "$TOP/ci/build/kunit-kernel.sh" --args "$tier" |
	sed 's/^--qemu_args=-smp 2$/--qemu_args=-smp 1/')
# And the same addresses on every boot: no KASLR, no random mmap base
for a in nokaslr norandmaps "$@"; do args+=(--kernel_args "$a"); done
export PATH=$TOP/ci/test/qemu:$PATH
# The benchmark prints a line every few seconds: a guest silent for two
# minutes hangs (once seen on the posted v2's kernel), stop it then
export HMMWALK_QEMU_IDLE=${HMMWALK_QEMU_IDLE:-120}
cd "$TREE"
HMMWALK_ACCEL=$("$TOP/ci/test/accel.sh" "$build/arch/x86/boot/bzImage") \
	python3 tools/testing/kunit/kunit.py exec "${args[@]}" \
	--timeout 3000 --qemu_args="-icount shift=0,sleep=off" hmm_bench \
	> "$out/$name-exec.log" 2>&1 || true
cp "$build/test.log" "$out/$name-test.log"
grep -a -oE 'BENCH .*' "$out/$name-test.log" | sed 's/^BENCH //' > "$out/$name.tsv" || true
[ -s "$out/$name.tsv" ] || die "the $name benchmark printed nothing: see $out/$name-test.log"
