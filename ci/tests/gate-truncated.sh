#!/bin/bash
# The gate on a truncated diff: apply fails and says the patch ends early.
. "$(dirname "$0")/testlib.bash"
p=$(ls "$TOP"/patches/0003-*.patch)
head -n 200 "$p" > "$tmp/truncated.patch"
mkdir "$tmp/dir" && mv "$tmp/truncated.patch" "$tmp/dir/"
gate "$tmp/dir"
[ $rc != 0 ] || fail "gate passed a truncated patch"
has FAIL 'apply.*(unexpected|malformed|ends|does not apply)'
ok
