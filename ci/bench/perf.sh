#!/bin/bash
# Do the calls drivers make today get slower? Plain hmm_range_fault() and
# plain migrate_vma_setup(), in every page state and range size, on the
# working tree against the base (with only our test/ patches), one boot
# each, side by side, under QEMU -icount on one CPU (instruction counts,
# nearly the same on every boot: ci/bench/boot.sh).
# FAIL beyond 1.02x the base (ci/bench/perf_compare.py: five runs per
# call, the lower of the medians' and the fastest runs' ratios). A call
# beyond it is measured again in a second boot of each kernel, and the
# lower of the two boots is judged: now and then something else runs
# during all five runs of a call in one boot (seen: 1,100 instructions
# more, once). Under -icount a boot of the same kernel repeats the last,
# other work in some runs included (seen: 1,381 instructions in three of
# five runs, both boots): the fastest run's ratio is not moved by that.
#
# usage: ci/bench/perf.sh [OUT_DIR]
#   HMMWALK_PERF_LIMIT=R: the ratio allowed (default 1.02)
# Last line: "perf: N calls compared, worst R (...), M beyond LIMIT".
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

out=${1:-$CACHE/results/perf}
limit=${HMMWALK_PERF_LIMIT:-1.02}
rm -rf "$out"
mkdir -p "$out"

# The working tree on the KUnit x86_64 tier's kernel (already built by the
# tier). A tree with our step counters (the bench patch) is timed without
# them, as make bench does.
series() {	# NAME
	if grep -qs hmm_walk_counts "$TREE/mm/internal.h"; then
		"$TOP/ci/bench/boot.sh" "$1" x86_64-bench-time "$out" "$BUILD/time" hmm_bench.plain=1
	else
		"$TOP/ci/bench/boot.sh" "$1" x86_64 "$out" "$BUILD/x86_64" hmm_bench.plain=1
	fi
}
# The base with our test/ patches alone, in its own tree and build (kept
# across runs: it changes only with the test patches)
base() {	# NAME
	HMMWALK_TREE=bench-base "$TOP/ci/bench/boot.sh" "$1" x86_64-bench-base "$out" \
		"$BUILD/base" hmm_bench.plain=1
}

# Both kernels boot side by side: each guest is one host thread, and
# -icount makes the counts independent of what else the host runs
both() {	# SUFFIX
	local rc1=0 rc2=0
	series "series$1" 2> "$out/series$1.err" & local p1=$!
	base "base$1" 2> "$out/base$1.err" & local p2=$!
	wait $p1 || rc1=$?
	wait $p2 || rc2=$?
	# the series' error last: the gate's step reads the last line
	[ $rc2 = 0 ] || { cat "$out/base$1.err" >&2; exit $rc2; }
	[ $rc1 = 0 ] || { cat "$out/series$1.err" >&2; exit $rc1; }
}
bench_base_tree "$out"
both ""
rc=0
python3 "$TOP/ci/bench/perf_compare.py" "$out/base.tsv" "$out/series.tsv" --limit "$limit" \
	> "$out/first.txt" || rc=$?
if [ $rc = 1 ]; then
	note "$(tail -n1 "$out/first.txt"); measuring both kernels again"
	both 2
	python3 "$TOP/ci/bench/perf_compare.py" "$out/base.tsv,$out/base2.tsv" \
		"$out/series.tsv,$out/series2.tsv" --limit "$limit"
else
	cat "$out/first.txt"
	exit $rc
fi
