#!/bin/bash
# W=1 and sparse (C=2) on the C files the series touches, in an x86_64
# config that builds them all (kconfigs/matrix/test-hmm-clang.config, with
# gcc). A diagnostic counts when it is new relative to the base: compared as
# "file: message" records, without line numbers, so a warning that only
# moved is not new. The base's records are computed once and cached.
#
# usage: ci/build/warnings.sh      (first line: a one-line verdict; then >> lines)
set -uo pipefail
. "$(dirname "$0")/../lib.sh"

tree=$TREE
pristine=$("$TOP/ci/fetch/base.sh")
frag=$TOP/kconfigs/matrix/test-hmm-clang.config
need sparse sparse
exec 9> "$CACHE/build.lock"
flock 9

# configure SRC BUILD: x86_64 allnoconfig + the fragment
configure() {
	[ -f "$2/.config" ] && [ "$2/.config" -nt "$frag" ] && return 0
	mkdir -p "$2"
	allno_config "$1" "$2" "$frag" ARCH=x86_64 > /dev/null 2>&1 ||
		die "cannot configure $2"
}

# diagnostics SRC BUILD OBJ...: "file:line:col: message" lines; objects are
# removed first, as W=1 and sparse only report on a compile
diagnostics() {
	local src=$1 build=$2 o
	shift 2
	for o in "$@"; do rm -f "$build/$o"; done
	make -C "$src" O="$build" ARCH=x86_64 -j"$(nproc)" CC="ccache gcc" \
		W=1 C=2 "$@" 2>&1 | sed "s|$src/||" |
		grep -E '^[^ :]+\.[ch]:[0-9]+(:[0-9]+)?: (warning|error)' || true
}
# The same without line numbers: records that survive code moving around
records() { sed -E 's/^([^:]+):[0-9]+(:[0-9]+)?: /\1: /' | sort; }

objs=$(grep -E '\.c$' "$tree/.hmmwalk-files" | sed 's/\.c$/.o/')
[ -n "$objs" ] || { echo "no C file touched"; exit 0; }

configure "$tree" "$BUILD/warnings"
located=$(diagnostics "$tree" "$BUILD/warnings" $objs)
tip=$(records <<<"$located")

# The pristine base, in its own build dir (the base tree is read-only:
# everything is written to O=); cached, it never changes
base_objs=$(for o in $objs; do [ -f "$pristine/${o%.o}.c" ] && echo "$o"; done)
key=$CACHE/results/warnings-base-$BASE-$(echo $base_objs | cat - "$frag" | sha1sum | cut -c1-12)
if [ ! -f "$key" ]; then
	configure "$pristine" "$BUILD/warnings-base"
	mkdir -p "$(dirname "$key")"
	{ [ -z "$base_objs" ] || diagnostics "$pristine" "$BUILD/warnings-base" $base_objs | records; } > "$key"
fi

new=$(comm -13 "$key" <(echo "$tip") | grep . || true)
if [ -z "$new" ]; then
	echo "no new W=1/sparse diagnostic in $(echo $objs | wc -w) objects"
	exit 0
fi
echo "$(echo "$new" | wc -l) new W=1/sparse diagnostics"
while read -r rec; do
	f=${rec%%: *} msg=${rec#*: }
	grep -F -- "$msg" <<<"$located" | grep -m1 "^$f:" | sed 's/^/>> /'
done <<<"$new"
exit 1
