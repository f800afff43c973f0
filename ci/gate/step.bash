# The gate's step contract, sourced by every step (ci/gate/steps/NN-name).
#
# ci/gate/gate.sh runs each step as its own process, in the order of NN, with
# stdout and stderr to the step's log, under a timeout, and with:
#   GATE_OUT     the gate's output directory ($CACHE/gate/<name>)
#   GATE_INPUT   the series as given (mbox, format-patch dir, quilt dir)
#   GATE_STEP    the step's name (NN- dropped)
#   GATE_DIR     the step's own directory, empty at the start
#   GATE_LOG     the step's log (its stdout and stderr)
#   GATE_POSTED  the posted patches' series file (written by import)
#   GATE_PDIR    the patch directory the gate applies (written by apply):
#   GATE_SERIES  its series, the posted patches plus our test/ patches
#   GATE_STEPS   the steps requested (import, apply and tree not named)
#
# A step records what it found, then its one result, and exits 0:
#   check STATUS CHECK REASON [LOG [REPRODUCE]]    any number of these
#   result STATUS REASON LOG REPRODUCE             exactly once, last
# STATUS is KCIDB's: PASS, FAIL (the series is at fault), ERROR (the tool
# or the machine broke), MISS (it should have run and did not), SKIP (not
# applicable). A check may also say WARN: a PASS that stays visible as a
# warning. REPRODUCE is the exact command line that redoes the step or the
# check (the real tree, config and command).
#
# ci/gate/gate.sh judges the step, not the step's word for it: a step that exits
# non-zero, is killed by the timeout, or leaves no result is ERROR, and its
# status is never better than its worst check.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

: "${GATE_DIR:?a gate step runs under ci/gate/gate.sh, which sets GATE_DIR: run ci/gate/gate.sh SERIES}"

# The statuses, worst first (KCIDB's priority order)
STATUSES="FAIL ERROR MISS PASS SKIP"

_tsv() { local IFS=$'\t'; local a=("${@//$'\t'/ }"); a=("${a[@]//$'\n'/ }"); echo "${a[*]}"; }

check() {	# STATUS CHECK REASON [LOG [REPRODUCE]]
	local s=$1 warn=
	[ "$s" = WARN ] && s=PASS warn=warning
	[[ " $STATUSES " == *" $s "* ]] || s=ERROR
	_tsv "$s" "$2" "$3" "${4:-}" "${5:-}" "$warn" >> "$GATE_DIR/checks.tsv"
}

result() {	# STATUS REASON LOG REPRODUCE
	[[ " $STATUSES " == *" $1 "* ]] ||
		die "result: '$1' is not a status ($STATUSES): fix the step $GATE_STEP"
	_tsv "$1" "$2" "${3:-}" "${4:-}" > "$GATE_DIR/result"
	echo "$GATE_STEP: $1 $2"
}

# The worst status of the checks recorded so far (none: MISS)
worst_check() {
	local s
	for s in $STATUSES; do
		if [ -f "$GATE_DIR/checks.tsv" ] && cut -f1 "$GATE_DIR/checks.tsv" | grep -qx "$s"; then
			echo "$s"; return
		fi
	done
	echo MISS
}

# How many checks have STATUS; how many warnings
count() { _col 1 "$1"; }
warnings() { _col 6 warning; }
_col() {
	local n=0
	[ ! -f "$GATE_DIR/checks.tsv" ] || n=$(cut -f"$1" "$GATE_DIR/checks.tsv" | grep -cx "$2" || true)
	echo "$n"
}
summary() {
	local s out=
	for s in $STATUSES; do
		[ "$(count $s)" = 0 ] || out="$out${out:+, }$(count $s) ${s,,}"
	done
	[ "$(warnings)" = 0 ] || out="$out (warnings: $(warnings))"
	echo "${out:-no check}"
}

# A tool that is not installed is the machine's fault, not the series':
# lib.sh's need() says "'TOOL' not found: install it with ..."
missing_tool() {	# FILE...: the first such line in the FILEs that exist
	local f files=()
	for f in "$@"; do [ ! -f "$f" ] || files+=("$f"); done
	[ ${#files[@]} -gt 0 ] || return 1
	awk '/not found: install it/ { print; found = 1; exit } END { exit !found }' "${files[@]}"
}
