#!/bin/bash
# The swap run: swap entries, swap cache folios and KSM folios exist only
# once the system has swap and ksmd runs, which no KUnit boot has. The
# x86_64 tier's kernel (zram, loop and KSM built in) boots a busybox
# initramfs whose /init makes zram swap and starts ksmd, runs the hmm_swap
# suite again through debugfs (at boot it skipped), then swaps on a loop
# device instead (a device whose swap-in keeps the swap cache, as a disk's
# does: zram's bypasses it) and runs hmm_swapcache. Their results are
# judged against kunit/expected/swap.expected, with the console (test.log)
# for splats.
#
# usage: ci/test/swap.sh [OUT_DIR]
# Last line: kunit_results.py's "cases: ..." summary.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

out=${1:-$CACHE/results/swap}
build=$BUILD/x86_64
rm -rf "$out"
mkdir -p "$out"
if ! "$TOP/ci/build/kunit-kernel.sh" x86_64 > "$out/build.log" 2>&1; then
	echo "kunit swap: BUILD FAILED (log: $out/build.log)"
	exit 1
fi

cat > "$out/init" <<'INIT'
echo 256M > /sys/block/zram0/disksize
mkswap /dev/zram0 > /dev/null && swapon /dev/zram0 && echo "SWAP-ON zram"
echo 20 > /sys/kernel/mm/ksm/sleep_millisecs
echo 1 > /sys/kernel/mm/ksm/run
run() {
	echo run > /sys/kernel/debug/kunit/$1/run
	echo "HMM-SWAP-RESULTS $1"
	cat /sys/kernel/debug/kunit/$1/results
	echo "HMM-SWAP-END"
}
run hmm_swap
# A swap device that keeps the swap cache at swap-in: a loop device
swapoff /dev/zram0
dd if=/dev/zero of=/tmp/swap bs=1M count=64 2> /dev/null
losetup /dev/loop0 /tmp/swap && mkswap /dev/loop0 > /dev/null &&
	swapon /dev/loop0 && echo "SWAP-ON loop"
run hmm_swapcache
INIT
# A case that hangs stops the guest after 30 s of silence (the longest
# wait in the suite: ksmd, 10 s at most), not guest.sh's 15 minutes
PATH=$TOP/ci/test/qemu:$PATH HMMWALK_QEMU_IDLE=30 \
	"$TOP/ci/test/guest.sh" "$build/arch/x86/boot/bzImage" "$out/init" \
		"kunit.enable=1 kunit.filter_glob=hmm_swap*" "$out/test.log"
for dev in zram loop; do
	grep -aq "^SWAP-ON $dev" "$out/test.log" ||
		die "the guest made no $dev swap (mkswap, swapon): see $out/test.log"
done
jsons=()
for suite in hmm_swap hmm_swapcache; do
	sed -n "/^HMM-SWAP-RESULTS $suite\r\?\$/,/^HMM-SWAP-END/p" "$out/test.log" |
		sed '1d;$d' | tr -d '\r' > "$out/$suite.ktap"
	(cd "$TREE" && python3 tools/testing/kunit/kunit.py parse \
		--json="$out/$suite.json" "$out/$suite.ktap") >> "$out/parse.log" 2>&1 || true
	jsons+=("$out/$suite.json")
done
python3 "$TOP/ci/test/kunit_results.py" "$TOP/kunit/expected/swap.expected" \
	"$out/test.log" "${jsons[@]}"
