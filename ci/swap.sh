#!/bin/bash
# The swap run: swap entries and KSM folios exist only once the system has
# swap and ksmd runs, which no KUnit boot has. The x86_64 tier's kernel
# (zram and KSM built in) boots a busybox initramfs whose /init makes zram
# swap and starts ksmd, then runs the hmm_swap suite again through debugfs
# (at boot it skipped). Its results are judged against
# kunit/expected/swap.expected, with the console (test.log) for splats.
#
# usage: ci/swap.sh [OUT_DIR]
# Last line: kunit_results.py's "cases: ..." summary.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

out=${1:-$CACHE/results/swap}
build=$BUILD/x86_64
rm -rf "$out"
mkdir -p "$out"
if ! "$TOP/ci/kbuild.sh" x86_64 > "$out/build.log" 2>&1; then
	echo "kunit swap: BUILD FAILED (log: $out/build.log)"
	exit 1
fi

cat > "$out/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t debugfs debugfs /sys/kernel/debug
echo 256M > /sys/block/zram0/disksize
mkswap /dev/zram0 > /dev/null && swapon /dev/zram0 && echo "SWAP-ON"
echo 20 > /sys/kernel/mm/ksm/sleep_millisecs
echo 1 > /sys/kernel/mm/ksm/run
echo run > /sys/kernel/debug/kunit/hmm_swap/run
echo "HMM-SWAP-RESULTS"
cat /sys/kernel/debug/kunit/hmm_swap/results
echo "HMM-SWAP-END"
reboot -f
INIT
# A case that hangs stops the guest after 30 s of silence (the longest
# wait in the suite: ksmd, 10 s at most), not guest.sh's 15 minutes
PATH=$TOP/ci/qemu:$PATH HMMWALK_QEMU_IDLE=30 \
	"$TOP/ci/guest.sh" "$build/arch/x86/boot/bzImage" "$out/init" \
		"kunit.enable=1 kunit.filter_glob=hmm_swap" "$out/test.log"
grep -aq '^SWAP-ON' "$out/test.log" ||
	die "the guest made no swap (zram, mkswap, swapon): see $out/test.log"
sed -n '/^HMM-SWAP-RESULTS/,/^HMM-SWAP-END/p' "$out/test.log" | sed '1d;$d' | tr -d '\r' > "$out/results.ktap"
(cd "$TREE" && python3 tools/testing/kunit/kunit.py parse --json="$out/results.json" \
	"$out/results.ktap") > "$out/parse.log" 2>&1 || true
python3 "$TOP/ci/kunit_results.py" "$TOP/kunit/expected/swap.expected" \
	"$out/test.log" "$out/results.json"
