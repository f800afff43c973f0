#!/bin/bash
# push twice: the second push is refused and changes nothing.
. "$(dirname "$0")/testlib.bash"

fake_tree "$tmp/src"
run "$tmp/out" "$TOP/ci/apply/push.sh" push "$tmp/src"
[ $rc -eq 0 ] || fail "the first push failed: $(tr '\n' ' ' < "$tmp/out")"
pushed=$(state "$tmp/src")
run "$tmp/out" "$TOP/ci/apply/push.sh" push "$tmp/src"
[ $rc -ne 0 ] || fail "exit status 0"
says "$tmp/out" 'already pushed' "the cause"
says "$tmp/out" 'pop it first' "the fix"
[ "$(state "$tmp/src")" = "$pushed" ] || fail "the second push changed the tree"
ok
