#!/bin/bash
# pop on a tree that has a .pc of someone else's quilt stack: refused,
# nothing removed.
. "$(dirname "$0")/testlib.bash"

fake_tree "$tmp/src"
mkdir "$tmp/src/.pc"
echo 2 > "$tmp/src/.pc/.version"
echo their.patch > "$tmp/src/.pc/applied-patches"
before=$(state "$tmp/src")
run "$tmp/out" "$TOP/ci/apply/push.sh" pop "$tmp/src"
[ $rc -ne 0 ] || fail "exit status 0"
says "$tmp/out" '\.pc is not ours' "the cause"
says "$tmp/out" 'use quilt itself' "the fix"
[ "$(state "$tmp/src")" = "$before" ] || fail "the tree was changed"
ok
