#!/bin/bash
# The QEMU accelerator for x86_64 guests on this machine, "kvm" or "tcg":
# ci/test/kvm.sh's probe, cached per QEMU version and host kernel.
#
# usage: ci/test/accel.sh KERNEL
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

[ -n "${HMMWALK_ACCEL:-}" ] && { echo "$HMMWALK_ACCEL"; exit 0; }
key=$CACHE/accel-$(qemu-system-x86_64 --version | head -n1 | tr -cd '0-9.')-$(uname -r)
[ -s "$key" ] || "$TOP/ci/test/kvm.sh" "$1" > "$key"
cat "$key"
