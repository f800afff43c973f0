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
# usage: ci/bench/bench.sh [OUT_DIR]
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

out=${1:-$CACHE/results/bench}
rm -rf "$out"
mkdir -p "$out"

# Our stack: counted (step counters on), then timed (counters off)
"$TOP/ci/apply/tree.sh" "$TOP/series" > /dev/null 2>&1
"$TOP/ci/bench/boot.sh" stack x86_64 "$out"
"$TOP/ci/bench/boot.sh" time x86_64-bench-time "$out"

# 7.2.8 with only the test support patches, in its own tree
bench_base_tree "$out"
HMMWALK_TREE=bench-base "$TOP/ci/bench/boot.sh" base x86_64-bench-base "$out"

# The stack measured, for `make bench-doc` and its check
"$TOP/ci/bench/doc.sh" --id > "$out/stack.id"
"$TOP/ci/apply/tree.sh" > /dev/null 2>&1	# back to the tree the tiers share

py=python3
$py -c 'import matplotlib' 2>/dev/null || py=/usr/bin/python3
$py "$TOP/ci/bench/report.py" "$out"
