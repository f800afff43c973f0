#!/bin/bash
# Build the working tree ($TREE) for x86_64:
# allnoconfig plus a Kconfig fragment, whole (vmlinux and modules),
# incrementally, one build at a time.
# Every line of the fragment must hold in the final .config, or the build
# says which did not (a series may make an option impossible).
#
# usage: ci/build/config-kernel.sh FRAGMENT BUILD_DIR [LOG]   (LLVM=-19 in the env: clang)
# Prints one line: "PASS <detail>" or "FAIL <first errors>".
set -uo pipefail
. "$(dirname "$0")/../lib.sh"

[ $# -ge 2 ] || die "usage: ci/build/config-kernel.sh FRAGMENT BUILD_DIR [LOG]"
frag=$1 build=$2 log=${3:-$2/build.log}
args=(ARCH=x86_64 -j"$(nproc)")
if [ -n "${LLVM:-}" ]; then
	need clang$LLVM clang$LLVM
	args+=(LLVM="$LLVM" CC="ccache clang$LLVM")
else
	args+=(CC="ccache gcc")
fi
make=(make -C "$TREE" O="$build" "${args[@]}")

# The lines of the fragment that do not hold in .config. "# CONFIG_X is not
# set" holds when X is not set: hidden symbols get no such line.
config_missing() {
	local l sym
	grep -E '^(CONFIG_|# CONFIG_)' "$frag" | while read -r l; do
		if [[ $l == "# "* ]]; then
			sym=${l#"# "}
			sym=${sym%% *}
			! grep -q "^$sym=" "$build/.config" || echo "$l"
		else
			grep -qxF "$l" "$build/.config" || echo "$l"
		fi
	done
}

mkdir -p "$build" "$(dirname "$log")"
exec 9> "$CACHE/build.lock"
flock 9
allno_config "$TREE" "$build" "$frag" "${args[@]}" > "$log" 2>&1
missing=$(config_missing)
if [ -n "$missing" ]; then
	echo "FAIL config does not hold: $(echo $missing)"
	exit 1
fi
if "${make[@]}" >> "$log" 2>&1; then
	echo "PASS $(grep -c 'warning:' "$log") warnings, log $log"
else
	echo "FAIL $(grep -m3 -E 'error:|undefined reference|undefined symbol|Error [0-9]' "$log" |
		sed "s|$TREE/||" | paste -sd' ')"
	exit 1
fi
