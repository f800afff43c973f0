#!/bin/bash
# Build and run one KUnit tier on the working tree, then judge the results
# against kunit/expected/<tier>.expected.
#
# usage: ci/test/kunit.sh TIER [OUT_DIR]
#   TIER: a KUnit tier of kunit/tiers.tsv (ci/tiers.sh lists them)
#   HMMWALK_KUNIT_TIMEOUT=S: seconds a whole run may take (default per tier)
#   HMMWALK_ISOLATE=1: re-run, one boot per case, the cases a crash or a hang
#   kept from running (the gate uses it; our own stack never needs it).
#
# Needs the working tree (ci/apply/tree.sh). Builds go to $BUILD/<tier>,
# with ccache, one at a time ($CACHE/build.lock). Results go to OUT_DIR
# (default $CACHE/results/<tier>): results.json, test.log, results.tsv.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

[ $# -ge 1 ] || die "usage: ci/test/kunit.sh TIER [OUT_DIR]; TIER: $("$TOP/ci/tiers.sh" | paste -sd' ')"
tier=$1
[ "$("$TOP/ci/tiers.sh" "$tier" expected)" = yes ] ||
	die "$tier is no KUnit tier (no expected results in kunit/tiers.tsv): one of $("$TOP/ci/tiers.sh" | paste -sd' ')"
out=${2:-$CACHE/results/$tier}
tree=$TREE
build=$BUILD/$tier
mapfile -t args < <("$TOP/ci/build/kunit-kernel.sh" --args "$tier")
# Seconds for a whole run, and for one isolated case (kunit/tiers.tsv): a
# hung case costs its timeout once in the run and once isolated. Under QEMU
# it costs 45 s: the guest prints a line every 5 s at most on an idle host,
# but a race case was seen silent for over 20 s on a loaded one (two
# builds beside it), and is stopped after 45 s without one
# (ci/test/qemu/idle-watch.py).
timeout=$("$TOP/ci/tiers.sh" "$tier" run)
case_timeout=$("$TOP/ci/tiers.sh" "$tier" case)
timeout=${HMMWALK_KUNIT_TIMEOUT:-$timeout}	# make mutants: hangs are kills
export HMMWALK_QEMU_IDLE=${HMMWALK_QEMU_IDLE:-45}

rm -rf "$out"
mkdir -p "$out"
kunit() { python3 tools/testing/kunit/kunit.py "$@"; }
if ! "$TOP/ci/build/kunit-kernel.sh" "$tier" > "$out/build.log" 2>&1; then
	grep -m5 -E 'error:|Error [0-9]|undefined reference|ERROR:' "$out/build.log" >&2 || tail -n 20 "$out/build.log" >&2
	echo "kunit $tier: BUILD FAILED (log: $out/build.log)"
	exit 1
fi
cd "$tree"
export PATH=$TOP/ci/test/qemu:$PATH
boot=()
if [ "$("$TOP/ci/tiers.sh" "$tier" arch)" != um ]; then
	export HMMWALK_ACCEL=$("$TOP/ci/test/accel.sh" "$build/arch/x86/boot/bzImage")
	# The PS/2 keyboard and mouse register from a workqueue, and their
	# "input: ..." lines can land inside the KTAP output, which kunit.py
	# then cannot parse (an i386 run failed so): no PS/2 ports.
	boot=(--kernel_args i8042.nokbd --kernel_args i8042.noaux)
fi

run() {	# json-file [case]
	# --filter: the benchmark (a very slow case) is for make bench only; the slow
	# cases (over a second) run
	local t=$timeout
	[ -z "${2:-}" ] || t=$case_timeout
	kunit exec "${args[@]}" "${boot[@]}" --timeout "$t" \
		--filter 'speed>very_slow' --json="$1" ${2:+"$2"} \
		>> "$out/exec.log" 2>&1 || true
	cat "$build/test.log" >> "$out/test.log" 2>/dev/null || true
}
run "$out/results.json"

# A crash or hang stops the boot: run what it kept from running, one by one
if [ -n "${HMMWALK_ISOLATE:-}" ]; then
	kunit exec "${args[@]}" --filter 'speed>very_slow' --list_tests 2>/dev/null |
		grep -E '^[a-z0-9_]+\.[a-z0-9_]+$' > "$out/cases" || true
	python3 "$TOP/ci/test/kunit_results.py" --not-run "$out/cases" "$out/results.json" > "$out/rerun"
	n=0
	while read -r case; do
		n=$((n + 1))
		run "$out/isolated-$n.json" "$case"
	done < "$out/rerun"
fi

jsons=("$out"/results.json)
compgen -G "$out/isolated-*.json" >/dev/null && jsons+=("$out"/isolated-*.json)
python3 "$TOP/ci/test/kunit_results.py" "$TOP/kunit/expected/$tier.expected" "$out/test.log" "${jsons[@]}"
