#!/bin/bash
# make bench: time and count every way to fault and prepare a range for
# migration (mm/tests/hmm_bench_kunit.c) on our stack, and the existing
# calls on 7.2.8 too, each in its own boot under QEMU; then a table
# (Markdown and CSV) and a plot. Three boots: our stack with the step
# counters (the counts), without them (the times), and 7.2.8. QEMU runs
# with -icount shift=0: the guest clock advances 1 ns per guest
# instruction, so a "time" is an instruction count, the same on every run
# and on every host.
#
# usage: ci/bench.sh [OUT_DIR]
set -euo pipefail
. "$(dirname "$0")/lib.sh"

out=${1:-$CACHE/results/bench}
rm -rf "$out"
mkdir -p "$out"

# run NAME TIER: build TIER on $TREE into $BUILD/NAME and run the
# benchmark there; its BENCH lines go to $out/NAME.tsv
run() {
	local name=$1 tier=$2 build=$BUILD/$1 args
	HMMWALK_BUILD=$build "$TOP/ci/kbuild.sh" "$tier" > "$out/$name-build.log" 2>&1 ||
		die "the $name kernel does not build: see $out/$name-build.log"
	mapfile -t args < <(HMMWALK_BUILD=$build "$TOP/ci/kbuild.sh" --args "$tier")
	export PATH=$TOP/ci/qemu:$PATH
	HMMWALK_ACCEL=$("$TOP/ci/accel.sh" "$build/arch/x86/boot/bzImage") \
		python3 "$TREE/tools/testing/kunit/kunit.py" exec "${args[@]}" \
		--timeout 3000 --qemu_args="-icount shift=0,sleep=off" hmm_bench \
		> "$out/$name-exec.log" 2>&1 || true
	cp "$build/test.log" "$out/$name-test.log"
	grep -a -oE 'BENCH .*' "$out/$name-test.log" | sed 's/^BENCH //' > "$out/$name.tsv"
	[ -s "$out/$name.tsv" ] || die "the $name benchmark printed nothing: see $out/$name-test.log"
}

# Our stack: counted (step counters on), then timed (counters off)
"$TOP/ci/tree.sh" > /dev/null 2>&1
(cd "$TREE" && run stack x86_64)
(cd "$TREE" && run time x86_64-bench-time)

# 7.2.8 with only the test support patches, in its own tree
grep -E '^test/' "$TOP/series" > "$out/base.series"
HMMWALK_TREE=bench-base "$TOP/ci/tree.sh" "$out/base.series" > /dev/null 2>&1
(export HMMWALK_TREE=bench-base; . "$TOP/ci/lib.sh"; cd "$TREE" && run base x86_64-bench-base)

# The stack measured, for `make bench-doc` and its check
"$TOP/ci/bench-doc.sh" --id > "$out/stack.id"

py=python3
$py -c 'import matplotlib' 2>/dev/null || py=/usr/bin/python3
$py "$TOP/ci/bench_report.py" "$out"
