#!/bin/bash
# Can QEMU run an x86_64 guest with KVM here? Boot KERNEL with KVM only and
# look for the kernel's banner on the serial console. Prints "kvm" or "tcg".
# /dev/kvm may exist and still fail (nested virtualisation: the guest hangs
# or dies with an emulation failure), so it is tried, not assumed.
#
# usage: ci/test/kvm.sh KERNEL     (HMMWALK_ACCEL=kvm|tcg overrides the probe)
set -uo pipefail
. "$(dirname "$0")/../lib.sh"

if [ -n "${HMMWALK_ACCEL:-}" ]; then
	echo "$HMMWALK_ACCEL"
	exit 0
fi
kernel=$1
if [ ! -w /dev/kvm ]; then
	echo tcg
	exit 0
fi
out=$(timeout 20 qemu-system-x86_64 -accel kvm -nodefaults -m 512 -nographic \
	-no-reboot -serial stdio -kernel "$kernel" \
	-append 'console=ttyS0 panic=-1 kunit.enable=0' 2>&1 | head -c 200000)
if grep -aq 'Linux version' <<<"$out"; then
	echo kvm
else
	note "KVM is present but a guest does not boot with it: using TCG"
	echo tcg
fi
