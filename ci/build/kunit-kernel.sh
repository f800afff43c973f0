#!/bin/bash
# Configure and build the kernel of a KUnit tier with kunit.py, on the
# working tree, into $BUILD/<tier>, with ccache, one build at a time. The
# tiers and their configs: kunit/tiers.tsv (ci/tiers.sh).
#
# usage: ci/build/kunit-kernel.sh TIER          build
#        ci/build/kunit-kernel.sh --args TIER   print the kunit.py options of TIER
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

print=
[ $# -ge 1 ] || die "usage: ci/build/kunit-kernel.sh [--args] TIER"
[ "$1" = --args ] && { print=1; shift; }
tier=$1
build=${HMMWALK_BUILD:-$BUILD/$tier}
args=(--build_dir="$build" --make_options "CC=ccache gcc")
arch=$("$TOP/ci/tiers.sh" "$tier" arch)
# x86_64 under QEMU with two CPUs: threads of a case really run at once
[ "$arch" = um ] || args+=(--arch="$arch" --qemu_args="-smp 2")
for f in $("$TOP/ci/tiers.sh" "$tier" configs | tr + ' '); do
	args+=(--kunitconfig="$TOP/kconfigs/$f")
done
for m in $("$TOP/ci/tiers.sh" "$tier" make | tr + ' '); do
	[ "$m" = - ] || args+=(--make_options "$m")
done
if [ -n "$print" ]; then
	printf '%s\n' "${args[@]}"
	exit 0
fi

tree=$TREE
[ -f "$tree/.hmmwalk-files" ] || die "no working tree at $tree: run ci/apply/tree.sh (make tree) first"
need ccache ccache
[ "$arch" = um ] || need qemu-system-x86_64 qemu-system-x86
mkdir -p "$BUILD"
exec 9> "$CACHE/build.lock"
flock 9
cd "$tree"
python3 tools/testing/kunit/kunit.py config "${args[@]}"
python3 tools/testing/kunit/kunit.py build "${args[@]}" --jobs "$(nproc)"
