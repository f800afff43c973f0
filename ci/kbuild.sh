#!/bin/bash
# Configure and build the kernel of a KUnit tier with kunit.py, on the
# working tree, into $BUILD/<tier>, with ccache, one build at a time.
#
# usage: ci/kbuild.sh TIER          build
#        ci/kbuild.sh --args TIER   print the kunit.py options of TIER
set -euo pipefail
. "$(dirname "$0")/lib.sh"

print=
[ "$1" = --args ] && { print=1; shift; }
tier=$1
build=${HMMWALK_BUILD:-$BUILD/$tier}
args=(--build_dir="$build" --make_options "CC=ccache gcc")
case $tier in
uml|uml-nomigrate)
	args+=(--kunitconfig="$TOP/kconfigs/$tier.kunitconfig") ;;
x86_64)
	args+=(--arch=x86_64 --qemu_args="-smp 2"
	       --kunitconfig="$TOP/kconfigs/x86_64.kunitconfig") ;;
x86_64-gcov)	# kconfigs/x86_64-gcov.config; counters for the walker's files only
	args+=(--arch=x86_64 --qemu_args="-smp 2"
	       --kunitconfig="$TOP/kconfigs/x86_64.kunitconfig"
	       --kunitconfig="$TOP/kconfigs/$tier.config"
	       --make_options GCOV_PROFILE_hmm.o=y
	       --make_options GCOV_PROFILE_migrate_device.o=y) ;;
x86_64-*)	# the x86_64 tier plus kconfigs/<tier>.config
	[ -f "$TOP/kconfigs/$tier.config" ] || die "unknown tier '$tier': no kconfigs/$tier.config"
	args+=(--arch=x86_64 --qemu_args="-smp 2"
	       --kunitconfig="$TOP/kconfigs/x86_64.kunitconfig"
	       --kunitconfig="$TOP/kconfigs/$tier.config") ;;
*)
	die "unknown tier '$tier': uml, uml-nomigrate, x86_64 or x86_64-<name> (kconfigs/x86_64-<name>.config)" ;;
esac
if [ -n "$print" ]; then
	printf '%s\n' "${args[@]}"
	exit 0
fi

tree=$TREE
[ -f "$tree/.hmmwalk-files" ] || die "no working tree at $tree: run ci/tree.sh (make tree) first"
need ccache ccache
[[ $tier == uml* ]] || need qemu-system-x86_64 qemu-system-x86
mkdir -p "$BUILD"
exec 9> "$CACHE/build.lock"
flock 9
cd "$tree"
python3 tools/testing/kunit/kunit.py config "${args[@]}"
python3 tools/testing/kunit/kunit.py build "${args[@]}" --jobs "$(nproc)"
