#!/bin/bash
# push then pop: the tree is byte for byte as before, with no .pc and none
# of the directories the stack created left behind.
. "$(dirname "$0")/testlib.bash"

fake_tree "$tmp/src"
before=$(state "$tmp/src")
run "$tmp/out" "$TOP/ci/apply/push.sh" push "$tmp/src"
[ $rc -eq 0 ] || fail "push failed: $(tr '\n' ' ' < "$tmp/out")"
says "$tmp/out" "applied clean" "a clean patch"
says "$tmp/out" "make pop KSRC=$tmp/src" "how to undo"
[ "$(state "$tmp/src")" != "$before" ] || fail "push changed nothing"
run "$tmp/out" "$TOP/ci/apply/push.sh" pop "$tmp/src"
[ $rc -eq 0 ] || fail "pop failed: $(tr '\n' ' ' < "$tmp/out")"
diff <(state "$tmp/src") <(echo "$before") > "$tmp/diff" ||
	fail "the tree differs after pop: $(tr '\n' ' ' < "$tmp/diff")"
ok
