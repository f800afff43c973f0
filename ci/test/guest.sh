#!/bin/bash
# Boot an x86_64 kernel under QEMU with a busybox initramfs, plus FILEs
# copied to its /; the serial console goes to LOG. Its /init mounts proc,
# sysfs, devtmpfs, debugfs and a tmpfs on /tmp, runs the shell commands of
# the file INIT, then "reboot -f" (QEMU runs with -no-reboot; "poweroff -f"
# can hang). The guest may fail or hang (15 min at most): callers judge LOG.
#
# usage: ci/test/guest.sh KERNEL INIT CMDLINE LOG [FILE...]
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

[ $# -ge 4 ] || die "usage: ci/test/guest.sh KERNEL INIT CMDLINE LOG [FILE...]"
kernel=$1 init=$2 cmdline=$3 log=$4
shift 4
need busybox busybox-static
need cpio cpio
need qemu-system-x86_64 qemu-system-x86
dir=$(dirname "$log")/initramfs
rm -rf "$dir"
mkdir -p "$dir"/{bin,dev,proc,sys,tmp}
cp "$(command -v busybox)" "$dir/bin/busybox"
{
	cat <<'PRE'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t debugfs debugfs /sys/kernel/debug
mount -t tmpfs tmp /tmp
PRE
	cat "$init"
	echo "reboot -f"
} > "$dir/init"
chmod +x "$dir/init"
[ $# = 0 ] || cp "$@" "$dir/"
(cd "$dir" && find . | cpio -o -H newc --quiet | gzip -1) > "$dir.cpio.gz"

accel=$("$TOP/ci/test/accel.sh" "$kernel")
timeout 900 qemu-system-x86_64 -accel "$accel" -m 2048 -nodefaults -nographic \
	-no-reboot -serial stdio -kernel "$kernel" -initrd "$dir.cpio.gz" \
	-append "console=ttyS0 panic=-1 $cmdline" > "$log" 2>&1 || true
