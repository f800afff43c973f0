#!/bin/bash
# Install the Debian packages the project needs (as root), or print the one
# apt-get line to run. Idempotent: installed packages are skipped.
#
# usage: ci/fetch/deps.sh [all]   (default: what `make` needs; all: `make check` too)
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

base_pkgs="make gcc bc flex bison libelf-dev libssl-dev python3 quilt ccache
	xz-utils rsync cpio patch diffutils git util-linux"
check_pkgs="qemu-system-x86 busybox-static sparse clang-19 lld-19 llvm-19
	lcov b4 gcovr python3-matplotlib python3-jsonschema"
[ "${1:-}" = all ] && pkgs="$base_pkgs $check_pkgs" || pkgs=$base_pkgs

missing=()
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "missing packages: ${missing[*]}" >&2
	echo "run as root: apt-get install -y ${missing[*]}" >&2
	exit 1
fi
note "installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null 2>&1 ||
	die "apt-get update failed (no network or no apt mirror?): fix apt, then run 'apt-get install -y ${missing[*]}'"
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
	die "apt-get install ${missing[*]} failed: see 'apt-get install ${missing[*]}' output"
