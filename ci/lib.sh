# Common settings and helpers for the ci/ scripts (sourced, not run).

# Where tarballs, pristine trees, the working tree and build outputs live.
CACHE=${HMMWALK_CACHE:-$HOME/.cache/hmmwalk}
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# The pinned base and the other bases we know how to fetch (ci/bases).
BASE=${BASE:-7.2.8}

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
