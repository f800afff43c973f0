#!/bin/bash
# The gate on the posted v2 (../shared/seed/v2-1-3.mbox, patch 1/3 alone):
# its verdict must fail and name the defects known in it: the link error
# with HMM_MIRROR=n and DEVICE_MIGRATION=y, the build break of
# lib/test_hmm.c, the KUnit cases that catch its runtime defects, and the
# slowdown of plain migrate_vma_setup() (the perf step).
# A slice of the gate (HMMWALK_GATE_STEPS, default below; make check runs
# a smaller one): the defects of the steps that run must be named, and at
# least one of them must run. make gate runs all.
. "$(dirname "$0")/testlib.bash"
# The seed sits next to the repo (../shared/seed); in a clone of a local
# repo, next to the repo it was cloned from.
seed=${HMMWALK_SEED:-$TOP/../shared/seed/v2-1-3.mbox}
origin=$(git -C "$TOP" config remote.origin.url 2>/dev/null || true)
if [ ! -f "$seed" ] && [ -z "${HMMWALK_SEED:-}" ] && [ -d "$origin" ]; then
	seed=$(cd "$origin" && pwd)/../shared/seed/v2-1-3.mbox
fi
[ -f "$seed" ] || fail "no seed mbox at $seed (set HMMWALK_SEED=path/to/v2-1-3.mbox)"
export HMMWALK_GATE_STEPS=${HMMWALK_GATE_STEPS:-apply bisect matrix kunit-uml perf}
steps=" $HMMWALK_GATE_STEPS "
ran() { [[ $steps == *" $1 "* ]]; }
ran bisect || ran matrix || ran kunit-uml || ran perf ||
	fail "HMMWALK_GATE_STEPS='$HMMWALK_GATE_STEPS' runs no step that finds a defect of the seed (bisect, matrix, kunit-uml, perf)"
run "$tmp/gate.out" "$TOP/ci/gate/gate.sh" "$seed"
verdict=$CACHE/gate/$(basename "$seed")/verdict.json
[ -f "$verdict" ] || fail "no verdict: $(tail -n3 "$tmp/gate.out")"
[ $rc != 0 ] || fail "the gate passed the seed"
has WARN 'partial-series.*2/3'
! ran matrix || has FAIL 'matrix.hmm-mirror-off.*undefined.*hmm_range_fault'
! { ran bisect || ran matrix; } || has FAIL '(bisect|matrix).*test_hmm'
if ran kunit-uml; then
	for c in hmm_fault_null_notifier hmm_migrate_holes hmm_migrate_waits_for_entry \
		 hmm_migrate_rollback_sigbus hmm_migrate_rollback_eperm \
		 hmm_migrate_bad_args hmm_migrate_notifier hmm_migrate_null_notifier; do
		has FAIL "kunit-uml\..*$c"
	done
fi
! ran perf || has FAIL 'perf\.plain_setup.on.*x the base'
ok
