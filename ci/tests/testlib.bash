# Helpers for the ci/tests/*.sh self-tests (sourced, not run). Each test
# works in its own temporary directory, $tmp, removed when it exits.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

name=$(basename "$0" .sh)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ok() { echo "ok $name"; exit 0; }
fail() { echo "FAIL $name: $*"; exit 1; }

# fake_tree DIR: a tiny "kernel tree", the top Makefile and Kbuild and the
# files the series touches, from the pristine base (so tests stay fast).
fake_tree() {
	local pristine=$CACHE/base/linux-$BASE f
	[ -f "$pristine/Makefile" ] || fail "no pristine tree $pristine: run ci/base.sh"
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
	export HMMWALK_GATE_STEPS=apply
	run "$tmp/gate.out" "$TOP/ci/gate.sh" "$1"
	verdict=$CACHE/gate/$(printf %s "$(basename "$1")" | tr -c 'A-Za-z0-9._-' '_')/verdict.json
	[ -f "$verdict" ] || fail "no verdict.json: $(tail -n3 "$tmp/gate.out" | tr '\n' ' ')"
}

# has STATUS CHECK-REGEX: fail unless verdict.json has such a record
has() {
	python3 - "$verdict" "$1" "$2" <<'PY' || fail "no $1 record matching '$2' in $verdict"
import json, re, sys
doc = json.load(open(sys.argv[1]))
sys.exit(0 if any(t['status'] == sys.argv[2] and re.search(sys.argv[3], t['path'] + ' ' + t['reason'])
                  for t in doc['tests']) else 1)
PY
}
