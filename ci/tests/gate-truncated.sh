#!/bin/bash
# The gate on a truncated diff: apply fails and says the patch ends early.
. "$(dirname "$0")/testlib.bash"
p=$(ls "$TOP"/patches/0003-*.patch)
# Cut inside a hunk of mm/hmm.c (a cut between two files' diffs applies)
n=$(grep -n '^diff --git a/mm/hmm.c' "$p" | cut -d: -f1)
[ -n "$n" ] || fail "0003 has no mm/hmm.c diff to cut"
head -n $((n + 40)) "$p" > "$tmp/truncated.patch"
mkdir "$tmp/dir" && mv "$tmp/truncated.patch" "$tmp/dir/"
gate "$tmp/dir"
[ $rc != 0 ] || fail "gate passed a truncated patch"
has FAIL 'apply.*(unexpected|malformed|ends|does not apply)'
ok
