#!/bin/bash
# push onto a tree that has a .pc of someone else's quilt stack: refused,
# nothing written.
. "$(dirname "$0")/testlib.bash"

fake_tree "$tmp/src"
mkdir "$tmp/src/.pc"
echo 2 > "$tmp/src/.pc/.version"
echo their.patch > "$tmp/src/.pc/applied-patches"
before=$(state "$tmp/src")
run "$tmp/out" "$TOP/ci/apply/push.sh" push "$tmp/src"
[ $rc -ne 0 ] || fail "exit status 0"
says "$tmp/out" '\.pc exists and is not ours' "the cause"
says "$tmp/out" 'pop that stack' "the fix"
[ "$(state "$tmp/src")" = "$before" ] || fail "the tree was changed"
ok
