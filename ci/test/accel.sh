#!/bin/bash
# The QEMU accelerator for x86_64 guests on this machine: prints "kvm" or
# "tcg". /dev/kvm may exist and still fail (nested virtualisation: the guest
# hangs or dies with an emulation failure), so KVM is tried, not assumed:
# KERNEL is booted with KVM only and its banner looked for on the serial
# console. The answer is cached per QEMU version and host kernel.
#
# usage: ci/test/accel.sh KERNEL   (HMMWALK_ACCEL=kvm|tcg skips the probe)
set -uo pipefail
. "$(dirname "$0")/../lib.sh"

[ $# = 1 ] || die "usage: ci/test/accel.sh KERNEL"
if [ -n "${HMMWALK_ACCEL:-}" ]; then
	echo "$HMMWALK_ACCEL"
	exit 0
fi

probe() {
	local out
	if [ ! -w /dev/kvm ]; then
		echo tcg
		return
	fi
	out=$(timeout 20 qemu-system-x86_64 -accel kvm -nodefaults -m 512 -nographic \
		-no-reboot -serial stdio -kernel "$1" \
		-append 'console=ttyS0 panic=-1 kunit.enable=0' 2>&1 | head -c 200000)
	if grep -aq 'Linux version' <<<"$out"; then
		echo kvm
	else
		note "KVM is present but a guest does not boot with it: using TCG"
		echo tcg
	fi
}

key=$CACHE/accel-$(qemu-system-x86_64 --version | head -n1 | tr -cd '0-9.')-$(uname -r)
[ -s "$key" ] || probe "$1" > "$key"
cat "$key"
