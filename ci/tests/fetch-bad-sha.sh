#!/bin/bash
# fetch when the tarball is already there but its sha256 is wrong: says so,
# deletes it, fails, and does not try to download.
. "$(dirname "$0")/testlib.bash"

mkdir "$tmp/dl"
echo junk > "$tmp/dl/linux_$BASE.orig.tar.xz"
bogus=$(printf '0%.0s' $(seq 64))
export MIRROR=http://127.0.0.1:9/debian	# in case it tries anyway
run "$tmp/log" timeout 60 "$TOP/ci/fetch/tarball.sh" "$BASE" "$BASE-1" "$bogus" "$tmp/dl"
[ $rc -ne 0 ] || fail "exit status 0"
says "$tmp/log" "has sha256 [0-9a-f]{64}, expected $bogus" "the cause"
says "$tmp/log" 'deleting it \(re-run to download again\)' "the fix"
! grep -q downloading "$tmp/log" || fail "it tried to download"
[ ! -e "$tmp/dl/linux_$BASE.orig.tar.xz" ] || fail "the bad file was kept"
ok
