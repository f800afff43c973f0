# Common settings and helpers for the ci/ scripts (sourced, not run).

# Where tarballs, pristine trees, the working tree and build outputs live.
CACHE=${HMMWALK_CACHE:-$HOME/.cache/hmmwalk}
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# pyenv's python3 shim is a chain of shell scripts: most of a second a call
# here (ten calls: 8.2 s through the shim, 1.5 s direct, beside a make
# check). The gate and its self-tests call python3 in every step: put the
# interpreter the shim picks first on PATH, once, for every script below.
if [[ $(command -v python3) == */shims/python3 ]]; then
	PATH=$(dirname "$(python3 -c 'import sys; print(sys.executable)')"):$PATH
	export PATH
fi

# The pinned base and the other bases we know how to fetch (ci/bases).
PINNED=7.2.8
BASE=${BASE:-$PINNED}

# The working tree: the base plus a series. One path for all builds (ccache
# only hits on the same path); the gate's per-patch builds use their own
# (HMMWALK_TREE=bisect).
TREE=$CACHE/src/${HMMWALK_TREE:-linux}-$BASE

# Build directories: one set per base, so that another base does not make
# the pinned base's builds start over.
BUILD=$CACHE/build
[ "$BASE" = "$PINNED" ] || BUILD=$CACHE/build-$BASE

die() { echo "${0##*/}: error: $*" >&2; exit 1; }
note() { echo "${0##*/}: $*" >&2; }

# base_field VERSION FIELD: debian version (2) or sha256 (3) of a known base
base_field() {
	awk -v v="$1" -v f="$2" '$1 == v { print $f; found = 1 }
		END { exit !found }' "$TOP/ci/bases" ||
		die "unknown base '$1': known bases are $(awk '!/^#/ { printf "%s ", $1 }' "$TOP/ci/bases")(add it to ci/bases or use KSRC=)"
}

# need TOOL PACKAGE: fail with the install line when a tool is missing
need() {
	command -v "$1" >/dev/null 2>&1 ||
		die "'$1' not found: install it with 'apt-get install $2' (or run 'make deps' as root)"
}

# Is DIR the top of a Linux source tree?
is_kernel_tree() {
	[ -f "$1/Makefile" ] && [ -f "$1/Kbuild" ] && [ -d "$1/mm" ] &&
		grep -q '^VERSION = ' "$1/Makefile"
}

kernel_version() {
	make -s -C "$1" kernelversion 2>/dev/null
}

# The patch names of a quilt series file (comments and -pN options dropped).
series_patches() {
	sed -e 's/#.*//' "$1" | awk 'NF { print $1 }'
}

# Paths a patch touches (-p1), from its ---/+++ lines. An absolute path is
# kept whole: -p1 would quietly make "/etc/x" into "etc/x".
touched() {
	awk '/^(---|\+\+\+) / {
		p = $2; sub(/\t.*/, "", p)
		if (p == "/dev/null") next
		if (p !~ /^\//) sub(/^[^\/]*\//, "", p)
		print p }' "$1" | sort -u
}

# Why PATCH cannot be applied to a tree, if it cannot be (else nothing).
patch_problem() {
	local outside
	outside=$(touched "$1" | grep -E '(^/|(^|/)\.\.(/|$))' || true)
	if [ -n "$outside" ]; then
		echo "touches a path outside the source tree: $(echo $outside)"
	elif ! grep -qE '^(---|\+\+\+) ' "$1"; then
		echo "not a patch: no diff in it"
	fi
}

# rejects LOG PATCH: what a failed 'quilt push' of PATCH rejected, from its
# log: each failed hunk by its file and @@ header, or patch's complaint.
rejects() {
	awk -v pf="$2" -v hunk="$TOP/ci/apply/hunk.awk" '
		/^patching file / { file = $3 }
		/^Hunk #[0-9]+ FAILED/ {
			n = substr($2, 2)
			cmd = "awk -v f=\"" file "\" -v n=" n " -f \"" hunk "\" \"" pf "\""
			cmd | getline h; close(cmd)
			printf "%s%s hunk #%d %s", sep, file, n, h; sep = "; " }
		/can.t find file to patch/ { missing = 1 }
		missing && /^\|\+\+\+ / {
			p = $2; sub(/\t.*/, "", p); sub(/^[^\/]*\//, "", p)
			printf "%s%s is missing", sep, p; sep = "; "; missing = 0 }
		/Only garbage|malformed patch|unexpectedly ends|unexpected end of file/ {
			sub(/^patch: \*+ /, ""); printf "%s%s", sep, $0; sep = "; " }' "$1"
}

# allno_config SRC BUILD FRAGMENT MAKE_ARG...: configure BUILD for the tree
# SRC as allnoconfig plus the Kconfig FRAGMENT (merge_config.sh), with the
# same make arguments (ARCH=, CC=, LLVM=) for every step
allno_config() {
	local src=$1 build=$2 frag=$3
	shift 3
	make -C "$src" O="$build" "$@" allnoconfig &&
		"$src/scripts/kconfig/merge_config.sh" -m -O "$build" "$build/.config" "$frag" &&
		make -C "$src" O="$build" "$@" olddefconfig
}

# coverage_stack_id: what make coverage measures, the series and every
# patch but bench/ (a change to any of them makes docs/coverage.md stale)
coverage_stack_id() {
	{ cat "$TOP/series"
	  series_patches "$TOP/series" | grep -v '^bench/' | sed "s|^|$TOP/patches/|" | xargs cat
	} | sha256sum | cut -c1-16
}

# pushed_how LOG: how a 'quilt push' that worked went, from its log: "fuzz F
# N" (the largest fuzz F, in N hunks), "offset N" (N hunks moved) or "clean"
pushed_how() {
	local f o
	f=$(grep -oE 'with fuzz [0-9]+' "$1" | awk '{ print $3 }' | sort -n | tail -n1 || true)
	o=$(grep -cE 'offset -?[0-9]+ lines?' "$1" || true)
	if [ -n "$f" ]; then
		echo "fuzz $f $(grep -c 'with fuzz' "$1")"
	elif [ "$o" -gt 0 ]; then
		echo "offset $o"
	else
		echo clean
	fi
}

# bench_base_tree OUT_DIR: the base with only our test/ patches, in a tree
# of its own (HMMWALK_TREE=bench-base): what make bench and the perf step
# compare the stack with. Its log: OUT_DIR/base-tree.log.
bench_base_tree() {
	grep -E '^test/' "$TOP/series" > "$1/base.series"
	HMMWALK_TREE=bench-base "$TOP/ci/apply/tree.sh" "$1/base.series" > "$1/base-tree.log" 2>&1 ||
		die "the base tree could not be made: see $1/base-tree.log"
}
