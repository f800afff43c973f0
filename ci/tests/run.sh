#!/bin/bash
# Run every self-test in ci/tests/ and sum up. A test prints "ok NAME" or
# "FAIL NAME: why"; one that dies without a verdict has its output shown.
# slow-*.sh (kernel builds) are left to make check, which runs them alone.
set -uo pipefail
cd "$(dirname "$0")" || exit 1

passed=0 failed=0 fails=
for t in *.sh; do
	[ "$t" != run.sh ] || continue
	[[ $t != slow-* ]] || continue
	if out=$(bash "./$t" 2>&1); then
		echo "$out"
		passed=$((passed + 1))
	else
		rc=$?
		grep -q '^FAIL ' <<< "$out" || out+=$'\n'"FAIL ${t%.sh}: exited $rc without a verdict"
		failed=$((failed + 1))
		echo "$out"
		fails+=$(grep '^FAIL ' <<< "$out")$'\n'
	fi
done
# make check shows only the tail: name what failed there
printf %s "$fails"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
