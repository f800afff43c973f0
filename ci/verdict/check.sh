#!/bin/bash
# make check: the project's checks, one line each, then "N passed, N
# failed". A check that fails does not stop the others.
#
# usage: ci/verdict/check.sh [full]
#   make check (CI): a slice for a cold run on a new two-core machine,
#   where a kernel built cold takes 6 to 15 minutes: three kernels, UML,
#   the x86_64 tier's and the gate's per-patch one (which boots upstream's
#   hmm-tests after each patch); the seed slice on UML alone.
#   make check-full (full): every step of the gate on our stack (the build
#   matrix, the debug tier and upstream's hmm-tests on it, i386,
#   uml-nomigrate, perf), six mutants, and slow-gate-seed.sh's own slice
#   of the gate on the posted v2 (bisect, matrix, kunit-uml, perf).
set -uo pipefail
. "$(dirname "$0")/../lib.sh"

passed=0 failed=0
log=$CACHE/results/check
mkdir -p "$log"

check() {	# name command...
	local name=$1 start=$SECONDS rc
	shift
	"$@" > "$log/$name.log" 2>&1
	rc=$?
	if [ $rc = 0 ]; then
		passed=$((passed + 1))
		printf 'PASS %-26s %4ds  %s\n' "$name" $((SECONDS - start)) "$(tail -n1 "$log/$name.log")"
	else
		failed=$((failed + 1))
		printf 'FAIL %-26s %4ds  see %s\n' "$name" $((SECONDS - start)) "$log/$name.log"
		tail -n 15 "$log/$name.log" | sed 's/^/     | /'
	fi
}

# The gate on our own stack, one line per step: the KUnit tiers, the build
# matrix, hmm-tests and the rest run there, on the tree the mutants built
gate_steps() {	# gate's steps.tsv
	local name req status reason rlog repro secs left=
	while IFS=$'\t' read -r name req status reason rlog repro secs; do
		[ "$req" = yes ] || { left+=" $name"; continue; }
		if [ "$status" = PASS ]; then
			passed=$((passed + 1))
			printf 'PASS %-26s %4ds  %s\n' "gate/$name" "$secs" "$reason"
		else
			failed=$((failed + 1))
			printf 'FAIL %-26s %4ds  %s\n' "gate/$name" "$secs" "$status: $reason"
			echo "     | log: $rlog"
			echo "     | reproduce: $repro"
		fi
	done < "$1"
	[ -z "$left" ] || echo "     (gate steps not in this run:$left; make check-full runs them)"
}
gate_steps_of() {
	if [ -f "$1" ]; then
		gate_steps "$1"
	else
		failed=$((failed + 1))
		echo "FAIL gate/steps                     0s  the gate wrote no $1"
	fi
}

if [ "${1:-}" = full ]; then
	# empty: the gate's every step, slow-gate-seed.sh's default slice
	mutants=6 own_steps= seed_steps=
else
	[ -z "${1:-}" ] || die "unknown argument '$1': ci/verdict/check.sh [full]"
	mutants=3 own_steps="apply checkpatch bisect kunit-uml kunit-x86_64 kunit-swap"
	seed_steps="apply kunit-uml"
fi

cd "$TOP"
check stack-applies-clean ci/apply/zero-fuzz.sh
check kunit-patch-in-sync ci/apply/kunit-sync.sh
check checkpatch ci/build/checkpatch.sh
check bench-doc-current ci/bench/doc.sh --check
check coverage-doc-current ci/test/coverage.sh --check
check selftests ci/tests/run.sh
# UML first, then x86_64 for what UML cannot reach (THP, device memory).
# Mutants drawn past the known survivors (ci/test/mutants-alive); seed 7
# draws six the suite kills today, the slice takes the first three (seed
# 1 drew a ZONE_DEVICE-only one once the walker grew): the full run (make
# mutants) is the measure, this catches a suite that stops killing them
check mutants-slice env TIERS="uml x86_64" ci/test/mutants.py --max $mutants --seed 7 --min-rate 100
# Our upstream patches as a maintainer gets them: one mbox (make
# series-mbox), judged by the gate as any resend (own_steps empty: all)
check series-mbox ci/apply/series_mbox.py . "$CACHE/series-v3.mbox"
check gate-own-stack env HMMWALK_GATE_STEPS="$own_steps" ci/gate/gate.sh "$CACHE/series-v3.mbox"
gate_steps_of "$CACHE/gate/series-v3.mbox/steps.tsv"
check gate-finds-seed-defects env HMMWALK_GATE_STEPS="$seed_steps" ci/tests/slow-gate-seed.sh
ci/apply/tree.sh > /dev/null 2>&1	# leave the working tree on our stack
echo "$passed passed, $failed failed"
[ $failed = 0 ]
