# Helpers for the ci/tests/*.sh self-tests (sourced, not run). Each test
# works in its own temporary directory, $tmp, removed when it exits.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

name=$(basename "$0" .sh)
tmp=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT

ok() { echo "ok $name"; exit 0; }
fail() { echo "FAIL $name: $*"; exit 1; }

# fake_tree DIR: a tiny "kernel tree", the top Makefile and Kbuild and the
# files the series touches, from the pristine base (so tests stay fast).
fake_tree() {
	local pristine=$CACHE/base/linux-$BASE f
	[ -f "$pristine/Makefile" ] || fail "no pristine tree $pristine: run ci/fetch/base.sh"
	for f in Makefile Kbuild $(series_patches "$TOP/series" |
			while read -r p; do touched "$TOP/patches/$p"; done | sort -u); do
		[ -f "$pristine/$f" ] || continue
		mkdir -p "$1/$(dirname "$f")"
		cp "$pristine/$f" "$1/$f"
	done
	chmod -R u+w "$1"
}

# state DIR: every path in DIR with its type and mode, then every file's
# sha256: equal states mean nothing was changed.
state() {
	(cd "$1" && find . -printf '%y %m %p\n' | sort &&
		find . -type f -print0 | sort -z | xargs -0r sha256sum)
}

# run OUT CMD...: run CMD with its stdout and stderr to OUT, status in $rc
run() {
	local out=$1; shift
	rc=0; "$@" > "$out" 2>&1 || rc=$?
}

# says OUT REGEX WHAT: fail unless OUT matches REGEX (extended, any case)
says() {
	grep -qiE -- "$2" "$1" || fail "the output does not name $3: $(tr '\n' ' ' < "$1")"
}

# gate INPUT: run the gate's import and apply steps on INPUT (its own cache
# dir for gate outputs), verdict.json in $verdict, status in $rc
gate() {
	export HMMWALK_GATE_STEPS=${HMMWALK_GATE_STEPS:-apply}
	run "$tmp/gate.out" "$TOP/ci/gate/gate.sh" "$1"
	verdict=${HMMWALK_CACHE:-$CACHE}/gate/$(printf %s "$(basename "$1")" | tr -c 'A-Za-z0-9._-' '_')/verdict.json
	[ -f "$verdict" ] || fail "no verdict.json: $(tail -n3 "$tmp/gate.out" | tr '\n' ' ')"
}

# has STATUS REGEX: fail unless verdict.json has a test (a step "gate.STEP"
# or a check "gate.STEP.CHECK") with STATUS whose path and comment match
# REGEX. STATUS WARN: a PASS marked as a warning.
has() {
	python3 "$TOP/ci/tests/verdict_query.py" "$verdict" has "$1" "$2" ||
		fail "no $1 record matching '$2' in $verdict"
}
