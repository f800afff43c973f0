#!/bin/bash
# A fake ci/test/hmm-tests.sh for the gate's self-tests (ci/tests/gate-table.sh):
# boots nothing. HMMWALK_FAKE_HMM_TESTS=fail:N makes the Nth call report a
# failed test, noboot:N makes it end with no result line, as a kernel that
# does not boot would.
#
# usage: hmm-tests.sh OUT_DIR BUILD_DIR
set -euo pipefail
out=$1
mkdir -p "$out"
: > "$out/console.log"
count=$(dirname "$out")/fake-hmm-tests.count
n=$(( $(cat "$count" 2>/dev/null || echo 0) + 1 ))
echo "$n" > "$count"
case ${HMMWALK_FAKE_HMM_TESTS:-} in
"fail:$n")	echo "hmm-tests: 34 passed, 1 failed, 41 skipped (log: $out/console.log)"; exit 1 ;;
"noboot:$n")	echo "hmm-tests.sh: error: hmm-tests did not finish (crash or hang)" >&2; exit 1 ;;
esac
echo "hmm-tests: 35 passed, 0 failed, 41 skipped (log: $out/console.log)"
