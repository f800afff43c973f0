#!/bin/bash
# A hung KUnit case under QEMU costs seconds, not kunit.py's whole-run
# timeout: the QEMU wrapper stops a guest that goes silent
# (HMMWALK_QEMU_IDLE) and keeps one that prints.
. "$(dirname "$0")/testlib.bash"

# A fake QEMU after ci/test/qemu on PATH: the wrapper execs it as the real one
mkdir "$tmp/bin"
cat > "$tmp/bin/qemu-system-x86_64" <<'FAKE'
#!/bin/bash
for i in 1 2 3; do echo "line $i"; sleep 0.4; done
[ "${FAKE_HANG:-}" ] && sleep 30
echo "last line"
FAKE
chmod +x "$tmp/bin/qemu-system-x86_64"
export PATH=$TOP/ci/test/qemu:$tmp/bin:$PATH

t0=$SECONDS
FAKE_HANG=1 HMMWALK_QEMU_IDLE=2 run "$tmp/hang" qemu-system-x86_64 -kernel x
[ $rc = 124 ] || fail "a silent guest: exit $rc, expected 124"
[ $((SECONDS - t0)) -lt 15 ] || fail "a silent guest was stopped after $((SECONDS - t0)) s, not 2"
says "$tmp/hang" '^line 3$' "the output before the hang"
says "$tmp/hang" 'no output for 2 s: the guest hangs' "why it was stopped"
! grep -q 'last line' "$tmp/hang" || fail "the silent guest was not stopped"

HMMWALK_QEMU_IDLE=2 run "$tmp/talks" qemu-system-x86_64 -kernel x
[ $rc = 0 ] || fail "a guest that prints: exit $rc"
says "$tmp/talks" '^last line$' "a guest that prints runs to its end"

ok
