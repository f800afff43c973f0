#!/bin/bash
# The gate's KUnit tier steps (steps/6N-kunit-TIER run this): build the
# tier's kernel on the working tree and run the suite (ci/test/kunit.sh, a crash
# or hang re-run case by case), then judge it.
#   FAIL: the kernel or our suite does not build against the series; a case
#         fails, crashes, hangs, splats or does not run; the kernel panics.
#   ERROR: a tool is missing, kunit.py ran no case at all without a panic
#          (the harness, not the series), or ci/test/kunit.sh judged nothing.
#
# usage: ci/gate/kunit-step.sh TIER   (run by ci/gate/gate.sh, the contract: ci/gate/step.bash)
#   TIER: a tier of kunit/tiers.tsv, or swap (ci/test/swap.sh)
. "$(dirname "$0")/step.bash"

[ $# = 1 ] || die "usage: ci/gate/kunit-step.sh TIER: one of $("$TOP/ci/tiers.sh" | paste -sd" ") swap"
tier=$1
# swap: the x86_64 kernel booted with swap and ksmd (ci/test/swap.sh)
run=(ci/test/kunit.sh "$tier")
[ "$tier" != swap ] || run=(ci/test/swap.sh)
res=$GATE_DIR/out
log=$GATE_DIR/kunit.txt
repro="ci/apply/tree.sh $GATE_SERIES $GATE_PDIR 2 && ${run[*]}"
rc=0
HMMWALK_ISOLATE=1 "$TOP/${run[0]}" "${run[@]:1}" "$res" > "$log" 2>&1 || rc=$?

if tool=$(missing_tool "$log" "$res/build.log"); then
	result ERROR "a tool is missing: $tool" "$log" "$repro"
	exit 0
fi
if grep -q 'BUILD FAILED' "$log"; then
	err=$(grep -m1 -E 'error:|undefined' "$res/build.log" | sed "s|$TREE/||" || true)
	if grep -q 'mm/tests/' <<<"$err"; then
		check FAIL build "the suite does not build against this API: $err" "$res/build.log" "$repro"
	else
		check FAIL build "the kernel does not build: ${err:-$(tail -n1 "$res/build.log")}" "$res/build.log" "$repro"
	fi
	result FAIL "build failed" "$res/build.log" "$repro"
	exit 0
fi

# kunit_results.py's summary: "cases: N run, ..."
summary_line=$(grep -m1 '^cases: ' "$log" || true)
ran=$(sed -nE 's/^cases: ([0-9]+) run.*/\1/p' <<<"$summary_line")
if [ -z "$summary_line" ]; then
	result ERROR "ci/test/kunit.sh stopped before judging the run (exit $rc): $(tail -n1 "$log")" "$log" "$repro"
	exit 0
fi
if [ "$ran" = 0 ]; then
	panic=$(grep -a -m1 -E 'Kernel panic|kernel BUG at|Oops' "$res/test.log" 2>/dev/null || true)
	if [ -n "$panic" ]; then
		result FAIL "no case ran: the kernel panicked at boot: $panic" "$res/test.log" "$repro"
	else
		result ERROR "kunit.py ran zero cases and the kernel did not panic: see $res/test.log" "$res/test.log" "$repro"
	fi
	exit 0
fi
python3 "$TOP/ci/test/kunit_results.py" --gate-records "$res/results.tsv" \
	"$tier" "$res/test.log" "$repro" "$summary_line" >> "$GATE_DIR/checks.tsv"
status=$(worst_check)
# kunit.sh and its judge must agree: a failed run with no failed case is not a pass
if [ $rc != 0 ] && [ "$status" = PASS ]; then
	result ERROR "ci/test/kunit.sh failed (exit $rc) but no case failed: $(tail -n1 "$log")" "$log" "$repro"
	exit 0
fi
# name what failed in the one line a maintainer reads first
failed=$(sed -nE 's/^  FAIL ([^:]+):.*/\1/p' "$log" | head -n3 | paste -sd, - | sed 's/,/, /g')
result "$status" "$summary_line${failed:+; failed: $failed}" "$res/test.log" "$repro"
