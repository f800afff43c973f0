#!/bin/bash
# The CI gate for a posted series: import it, apply it to the base with our
# KUnit patches on top, build it patch by patch, check it, build the matrix,
# run the KUnit tiers and upstream's hmm-tests, compare the calls drivers
# make today against the base (instruction counts), and give a verdict.
#
# usage: ci/gate/gate.sh SERIES          (make gate SERIES=... [BASE=7.1.8])
#   SERIES: an mbox (a b4 thread too), a directory of format-patch files, a
#   quilt directory, or a quilt series file (our own stack: ci/gate/gate.sh series).
#   HMMWALK_GATE_STEPS: the steps to run (default: all of them, in order):
#     apply bisect checkpatch matrix kunit-x86_64-debug hmm-tests kunit-uml
#     kunit-uml-nomigrate kunit-x86_64 kunit-i386 kunit-swap perf
#   import and apply always run; tree runs when a later step needs it.
#   HMMWALK_GATE_STEP_TIMEOUT=S: seconds one step may take (default 7200)
#   HMMWALK_GATE_STEPDIR=DIR: the step scripts (default ci/gate/steps; the
#     self-tests put broken steps there)
#
# Each step is a script ci/gate/steps/NN-name (the contract: ci/gate/step.bash)
# that records one status, PASS, FAIL, ERROR, MISS or SKIP, with its reason,
# log and reproduce command. A step that exits non-zero, times out or leaves
# no result is ERROR; a step whose prerequisite did not pass is MISS.
# Writes $CACHE/gate/<name>/verdict.md and verdict.json (KCIDB's I/O schema,
# checked against ci/gate/verdict.schema.json). The verdict is PASS only if
# every requested step ran and passed. Exit status: 0 PASS, 1 FAIL, 2 ERROR
# or MISS (the gate could not judge the series).
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

usage="usage: ci/gate/gate.sh SERIES   (an mbox, a format-patch dir, a quilt dir or a series file)"
[ $# = 1 ] && [ -n "$1" ] || die "no series given: $usage, or make gate SERIES=path"
input=$(realpath -m "$1")
stepdir=${HMMWALK_GATE_STEPDIR:-$TOP/ci/gate/steps}
limit=${HMMWALK_GATE_STEP_TIMEOUT:-7200}
[[ $limit =~ ^[0-9]+$ ]] || die "HMMWALK_GATE_STEP_TIMEOUT=$limit is not a number of seconds"

# The steps there are, in order, by name
mapfile -t files < <(find "$stepdir" -maxdepth 1 -name '[0-9][0-9]-*' \( -type f -o -type l \) | sort)
[ ${#files[@]} -gt 0 ] || die "no step in $stepdir: expected files named NN-step"
all=
for f in "${files[@]}"; do all="$all ${f##*/[0-9][0-9]-}"; done
optional=$(tr ' ' '\n' <<<"$all" | grep -vxE 'import|apply|tree|' | paste -sd' ')
requested=${HMMWALK_GATE_STEPS:-$optional}
for s in $requested; do
	[[ " $all " == *" $s "* ]] ||
		die "HMMWALK_GATE_STEPS names '$s', which is no step: choose from $optional"
done
want() { [[ " import apply $requested " == *" $1 "* ]]; }
wants_tree() { [[ " $requested " =~ \ (matrix|kunit-[^ ]*|hmm-tests|perf)\  ]]; }

name=$(printf %s "$(basename "$input")" | tr -c 'A-Za-z0-9._-' '_')
out=$CACHE/gate/$name
rm -rf "$out"
mkdir -p "$out/logs" "$out/steps"
steps=$out/steps.tsv
: > "$steps"
start=$SECONDS
export GATE_OUT=$out GATE_INPUT=$input
export GATE_POSTED=$out/import/patches/series
export GATE_PDIR=$out/all GATE_SERIES=$out/all/series
export GATE_STEPS=$requested
echo "gate: $input on Linux $BASE; steps: $(for s in $all; do want "$s" && printf '%s ' "$s"; done)"

# A step's prerequisite: the step whose result it builds on
needs() {
	case $1 in
	import)	;;
	apply)	echo import ;;
	bisect|checkpatch|tree) echo apply ;;
	*)	echo tree ;;
	esac
}
status_of() { awk -F'\t' -v s="$1" '$1 == s { print $3 }' "$steps"; }
record() {	# step requested status reason log reproduce seconds
	local IFS=$'\t'
	echo "$*" >> "$steps"
	[ "$2" = no ] || printf '%-6s %-20s %s\n' "$3" "$1" "$4"
}

run_step() {	# file name
	local f=$1 s=$2 dir=$out/steps/$2 log=$out/logs/$2.log t0=$SECONDS rc=0
	local status reason rlog repro worst tail
	mkdir -p "$dir"
	GATE_STEP=$s GATE_DIR=$dir GATE_LOG=$log \
		timeout --kill-after=30 "$limit" "$f" > "$log" 2>&1 < /dev/null || rc=$?
	tail=$(grep -v '^$' "$log" | tail -n1 | cut -c1-200 || true)
	if [ -f "$dir/result" ]; then
		IFS=$'\t' read -r status reason rlog repro < "$dir/result" || true
	else
		status= reason= rlog=$log repro=
	fi
	[ -n "$rlog" ] || rlog=$log
	[ -n "$repro" ] || repro="GATE_STEP=$s GATE_DIR=$dir ... $f (see ci/gate/gate.sh)"
	if [ $rc = 124 ] || [ $rc = 137 ]; then
		status=ERROR reason="timed out after $limit s (HMMWALK_GATE_STEP_TIMEOUT) and was killed; ${reason:-no result}"
	elif [ $rc != 0 ]; then
		status=ERROR reason="the step crashed (exit $rc): ${tail:-no output}"
	elif [ -z "$status" ]; then
		status=ERROR reason="the step exited 0 and left no result: ${tail:-no output}"
	elif [[ " FAIL ERROR MISS PASS SKIP " != *" $status "* ]]; then
		status=ERROR reason="the step's status '$status' is not one of PASS FAIL ERROR MISS SKIP: $reason"
	fi
	# never better than its worst check
	if [ -f "$dir/checks.tsv" ]; then
		for worst in FAIL ERROR MISS; do
			cut -f1 "$dir/checks.tsv" | grep -qx $worst || continue
			case $status in
			FAIL) ;;
			ERROR) [ $worst = FAIL ] && status=FAIL ;;
			*) status=$worst ;;
			esac
			break
		done
	fi
	record "$s" "$(want "$s" || [ "$s" = tree ] && echo yes || echo no)" "$status" "$reason" "$rlog" "$repro" $((SECONDS - t0))
}

# A step marked "# gate: side by side" reads no tree or build a later step
# changes (it has its own, or boots kernels already built): it runs
# alongside the steps after it, and the gate waits for it before the
# verdict. Its QEMU guests (one host thread each) then overlap the builds,
# which stay one at a time ($CACHE/build.lock).
side=()
for f in "${files[@]}"; do
	s=${f##*/[0-9][0-9]-}
	if ! want "$s" && { [ "$s" != tree ] || ! wants_tree; }; then
		record "$s" no SKIP "not requested (HMMWALK_GATE_STEPS)" "" "" 0
		continue
	fi
	pre=$(needs "$s")
	prestatus=$([ -z "$pre" ] || status_of "$pre")
	# import lets apply run when it found patches (a message that is not
	# a patch fails import; the gate still tests the patches it found)
	if [ -n "$pre" ] && [ "$prestatus" != PASS ] &&
	   ! { [ "$pre" = import ] && [ -s "$GATE_POSTED" ]; }; then
		record "$s" yes MISS "not run: ${pre} ended ${prestatus:-unrun}" "" "" 0
		continue
	fi
	if grep -qx '# gate: side by side' "$f"; then
		run_step "$f" "$s" &
		side+=($!)
	else
		run_step "$f" "$s"
	fi
done
[ ${#side[@]} = 0 ] || wait "${side[@]}"
# steps.tsv in the order of the steps, whichever ended first
for s in $all; do awk -F'\t' -v s="$s" '$1 == s' "$steps"; done > "$steps.sorted"
mv "$steps.sorted" "$steps"

rc=0
python3 "$TOP/ci/gate/verdict.py" "$out" "$input" "$BASE" $((SECONDS - start)) || rc=$?
if ! "$TOP/ci/gate/validate.py" "$TOP/ci/gate/verdict.schema.json" "$out/verdict.json"; then
	echo "gate: verdict.json does not follow ci/gate/verdict.schema.json: the verdict above is not to be trusted"
	[ $rc = 1 ] || rc=2
fi
exit $rc
