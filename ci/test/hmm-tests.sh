#!/bin/bash
# Upstream's own tests on the working tree: lib/test_hmm.c, built into the
# x86_64-debug tier kernel (lockdep, KASAN), driven by
# tools/testing/selftests/mm/hmm-tests, built static and run by /init from a
# busybox initramfs under QEMU. Any kernel splat fails the run. The
# guest ends with "reboot -f" (QEMU -no-reboot); "poweroff -f" can hang.
#
# usage: ci/test/hmm-tests.sh [OUT_DIR [BUILD_DIR]]
#   BUILD_DIR: boot the kernel already built there (with CONFIG_TEST_HMM=y,
#   from $TREE: HMMWALK_TREE=bisect for the gate's per-patch kernels)
#   instead of building the x86_64-debug tier's.
# Last line: "hmm-tests: P passed, F failed, S skipped"
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

out=${1:-$CACHE/results/hmm-tests}
tree=$TREE
build=${2:-$BUILD/x86_64-debug}
sel=$tree/tools/testing/selftests
rm -rf "$out"
mkdir -p "$out"

if [ -z "${2:-}" ]; then
	"$TOP/ci/build/kunit-kernel.sh" x86_64-debug > "$out/build.log" 2>&1 ||
		die "the x86_64-debug kernel does not build: $(grep -m1 -E "error:|undefined" "$out/build.log" | sed "s|$tree/||")"
fi
[ -f "$build/arch/x86/boot/bzImage" ] || die "no kernel in $build: build it first"
grep -q '^CONFIG_TEST_HMM=y' "$build/.config" ||
	die "the kernel in $build has no CONFIG_TEST_HMM=y: check its config fragment"

gcc -static -O2 -I"$sel" -I"$sel/mm" -I"$tree" -I"$tree/tools/include/uapi" \
	-o "$out/hmm-tests" "$sel/mm/hmm-tests.c" "$sel/mm/vm_util.c" \
	"$sel/mm/hugepage_settings.c" -lpthread -lrt > "$out/gcc.log" 2>&1 ||
	die "hmm-tests does not build: see $out/gcc.log"

cat > "$out/init" <<'INIT'
echo "HMM-TESTS-START"
/hmm-tests
echo "HMM-TESTS-EXIT $?"
INIT
"$TOP/ci/test/guest.sh" "$build/arch/x86/boot/bzImage" "$out/init" \
	"kunit.enable=0 transparent_hugepage=madvise" "$out/console.log" "$out/hmm-tests"

totals=$(grep -a -m1 '# Totals:' "$out/console.log" || true)
[ -n "$totals" ] || die "hmm-tests did not finish (crash or hang): see $out/console.log"
field() { grep -oE " $1:[0-9]+" <<<"$totals" | cut -d: -f2; }
pass=$(field pass) fail=$(field fail) skip=$(field skip)
grep -a -E '^not ok' "$out/console.log" | head -n 20 || true
# A splat is what the KUnit judge calls one
if ! python3 "$TOP/ci/test/kunit_results.py" --splats "$out/console.log" | head -n3; then
	fail=$((fail + 1))
fi
echo "hmm-tests: $pass passed, $fail failed, $skip skipped (log: $out/console.log)"
[ "$fail" = 0 ] && [ "$pass" -gt 0 ]
