#!/bin/bash
# push onto a tree where mm/hmm.c differs, so that a hunk of the first patch
# touching it fails: that patch and hunk are named, every patch pushed before
# it is popped again, and the tree is exactly as before.
. "$(dirname "$0")/testlib.bash"

fake_tree "$tmp/src"
for p in $(series_patches "$TOP/series"); do
	touched "$TOP/patches/$p" | grep -qx mm/hmm.c && break
done
# A line the patch needs in mm/hmm.c that fuzz cannot skip: a removed line,
# or the context line just before an added one. Change it everywhere.
line=$(awk '/^\+\+\+ / { f = ($2 == "b/mm/hmm.c"); next }
	f && /^@@/ { ctx = "" }
	f && /^-/ { print substr($0, 2); exit }
	f && /^\+/ && ctx ~ /[^ \t]/ { print ctx; exit }
	f && /^ / { ctx = substr($0, 2) }' "$TOP/patches/$p")
[ -n "$line" ] || fail "found no line of $p to change in mm/hmm.c"
awk -v l="$line" '$0 == l { $0 = "/* changed by the test */" } 1' \
	"$tmp/src/mm/hmm.c" > "$tmp/hmm.c"
cp "$tmp/hmm.c" "$tmp/src/mm/hmm.c"

before=$(state "$tmp/src")
run "$tmp/out" "$TOP/ci/apply/push.sh" push "$tmp/src"
[ $rc -ne 0 ] || fail "exit status 0"
says "$tmp/out" "${p//./\\.} +FAILED: mm/hmm\.c hunk #[0-9]+ @@ -[0-9]" "the patch and the hunk"
says "$tmp/out" "error: ${p//./\\.} does not apply.*the tree is as before" "what happened"
says "$tmp/out" "rebase" "the fix"
[ "$(state "$tmp/src")" = "$before" ] || fail "the tree was changed"
ok
