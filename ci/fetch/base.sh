#!/bin/bash
# Print the path of the pristine tree of a known base, fetching, verifying
# and extracting it into the cache on first use. The tree is made read-only:
# work happens on copies.
#
# usage: ci/fetch/base.sh [VERSION]
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

ver=${1:-$BASE}
debver=$(base_field "$ver" 2)
sum=$(base_field "$ver" 3)
tree=$CACHE/base/linux-$ver

if [ ! -f "$tree/.hmmwalk-pristine" ]; then
	"$TOP/ci/fetch/tarball.sh" "$ver" "$debver" "$sum" "$CACHE/dl" >&2
	rm -rf "$tree" "$tree.tmp"
	mkdir -p "$tree.tmp"
	note "extracting linux_$ver.orig.tar.xz"
	tar -C "$tree.tmp" -xf "$CACHE/dl/linux_$ver.orig.tar.xz" ||
		die "cannot extract $CACHE/dl/linux_$ver.orig.tar.xz"
	mv "$tree.tmp/linux-$ver" "$tree"
	rmdir "$tree.tmp"
	is_kernel_tree "$tree" || die "$tree is not a kernel tree after extraction"
	touch "$tree/.hmmwalk-pristine"
	chmod -R a-w "$tree"
fi
echo "$tree"
