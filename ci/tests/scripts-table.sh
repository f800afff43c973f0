#!/bin/bash
# The apply, push/pop, fetch and checkpatch scripts judged by table, one row
# per bad input or misuse: each must exit as the row says, name the cause
# and the fix, and leave the tree as it found it. No kernel is built.
#
# usage: ci/tests/scripts-table.sh [ROW...]    (no ROW: every row)
. "$(dirname "$0")/testlib.bash"

S=$tmp/src P=$tmp/patches
first=$(series_patches "$TOP/series" | head -n1)

# Setup words, run in order before the command
setup() {
	case $1 in
	tree) fake_tree "$S" ;;
	notree) mkdir "$S" && echo hello > "$S/README" ;;
	foreign-pc)	# someone else's quilt stack
		mkdir "$S/.pc" && echo 2 > "$S/.pc/.version" &&
			echo their.patch > "$S/.pc/applied-patches" ;;
	missing)	# a series naming a patch that does not exist
		mkdir -p "$P" && echo nothere.patch > "$tmp/series" ;;
	junk)		# a "patch" that is not a diff at all
		mkdir -p "$P" && echo junk.patch > "$tmp/series" &&
			printf 'Hello,\n\nplease apply the walker.\n' > "$P/junk.patch" ;;
	abs)		# writes an absolute path (-p1 must not make it relative)
		mkdir -p "$P" && echo abs.patch > "$tmp/series" &&
			printf -- '--- /dev/null\n+++ %s/abs-x\n@@ -0,0 +1 @@\n+escaped\n' "$tmp" > "$P/abs.patch" ;;
	dotdot)		# writes ../x
		mkdir -p "$P" && echo up.patch > "$tmp/series" &&
			printf -- '--- /dev/null\n+++ b/../x\n@@ -0,0 +1 @@\n+escaped\n' > "$P/up.patch" ;;
	cut)		# cut off in the middle of its first hunk
		mkdir -p "$P" && echo cut.patch > "$tmp/series" &&
			head -n $(($(grep -n -m1 '^@@' "$TOP/patches/$first" | cut -d: -f1) + 2)) \
				"$TOP/patches/$first" > "$P/cut.patch" ;;
	noquilt)	# a PATH with what report.sh runs before it looks for quilt
		mkdir "$tmp/bin" && ln -s "$(command -v dirname)" "$tmp/bin/dirname" ;;
	hunk)		# mm/hmm.c changed where the first patch touching it needs it
		hunk_breaks ;;
	pushed) "$TOP/ci/apply/push.sh" push "$S" > /dev/null 2>&1 || fail "the first push failed" ;;
	dl-junk)	# a tarball already there, with the wrong sha256
		mkdir "$tmp/dl" && echo junk > "$tmp/dl/linux_$BASE.orig.tar.xz" ;;
	fake-cp)	# a cache whose base has a checkpatch.pl that warns
		fake_tree "$tmp/cache/base/linux-$BASE"
		install -D "$TOP/ci/tests/fake/checkpatch.pl" "$tmp/cache/base/linux-$BASE/scripts/checkpatch.pl"
		touch "$tmp/cache/base/linux-$BASE/.hmmwalk-pristine" ;;
	stale-coverage)	# docs/coverage.md measured on another stack
		sed 's/on stack [0-9a-f]*/on stack 0123456789abcdef/' "$TOP/docs/coverage.md" > "$tmp/coverage.md" ;;
	mutant-run)	# a cache whose tree a mutant run holds (its lock taken)
		mkdir -p "$tmp/cache" && ln -s "$CACHE/base" "$tmp/cache/base" &&
			ln -s "$CACHE/dl" "$tmp/cache/dl"
		flock "$tmp/cache/mutants.lock" sleep 60 &
		holder=$!
		sleep 0.5 ;;
	*) fail "unknown setup word '$1'" ;;
	esac
}

# A line the patch needs in mm/hmm.c that fuzz cannot skip: a removed line,
# or the context line just before an added one, changed everywhere
hunk_breaks() {
	local p line
	for p in $(series_patches "$TOP/series"); do
		touched "$TOP/patches/$p" | grep -qx mm/hmm.c && break
	done
	hunk_patch=$p
	line=$(awk '/^\+\+\+ / { f = ($2 == "b/mm/hmm.c"); next }
		f && /^@@/ { ctx = "" }
		f && /^-/ { print substr($0, 2); exit }
		f && /^\+/ && ctx ~ /[^ \t]/ { print ctx; exit }
		f && /^ / { ctx = substr($0, 2) }' "$TOP/patches/$p")
	[ -n "$line" ] || fail "found no line of $p to change in mm/hmm.c"
	awk -v l="$line" '$0 == l { $0 = "/* changed by the test */" } 1' \
		"$S/mm/hmm.c" > "$tmp/hmm.c"
	cp "$tmp/hmm.c" "$S/mm/hmm.c"
}

command_of() {
	local zeros
	case $1 in
	report) echo "$TOP/ci/apply/report.sh $S $tmp/series $P $tmp/out" ;;
	report-stack) echo "$TOP/ci/apply/report.sh $S $TOP/series $TOP/patches $tmp/out" ;;
	report-noquilt) echo "env PATH=$tmp/bin $TOP/ci/apply/report.sh $S $TOP/series $TOP/patches $tmp/out" ;;
	push|pop) echo "$TOP/ci/apply/push.sh $1 $S" ;;
	fetch-bad-sha)
		zeros=$(printf '0%.0s' $(seq 64))
		echo "env MIRROR=http://127.0.0.1:9/debian timeout 60 $TOP/ci/fetch/tarball.sh $BASE $BASE-1 $zeros $tmp/dl" ;;
	fetch-no-network)	# nothing listens on port 9
		echo "env MIRROR=http://127.0.0.1:9/debian timeout 120 $TOP/ci/fetch/tarball.sh $BASE $(base_field "$BASE" 2) $(base_field "$BASE" 3) $tmp/dl" ;;
	checkpatch-warns)
		echo "env HMMWALK_CACHE=$tmp/cache HMMWALK_FAKE_CHECKPATCH=warning $TOP/ci/build/checkpatch.sh" ;;
	tree) echo "env HMMWALK_CACHE=$tmp/cache $TOP/ci/apply/tree.sh" ;;
	coverage-check) echo "env HMMWALK_COVERAGE_DOC=$tmp/coverage.md $TOP/ci/test/coverage.sh --check" ;;
	*) fail "unknown command '$1'" ;;
	esac
}

# One row: name | setup words | command | exit (fail: non-zero, but not a
# timeout) | what the output must say: ";"-separated extended regexes, any
# case (@P: the patch hunk_breaks changed) | what must hold after it:
# same (the tree as before), no-out (no $tmp/out), none:NAME (no file NAME
# under $tmp), no-dl (nothing left in $tmp/dl), changed (the tree changed)
table="
apply-missing-patch   | tree missing  | report         | fail | nothere\\.patch, which does not exist;fix the series or add the patch | same no-out
apply-no-quilt        | tree noquilt  | report-noquilt | fail | 'quilt' not found;apt-get install quilt | no-out
apply-not-a-patch     | tree junk     | report         | fail | junk\\.patch +failed \\(not a patch: no diff in it\\) | same tsv-failed
apply-not-a-tree      | notree        | report-stack   | fail | is not a Linux source tree;top directory of a kernel source tree | same no-out
apply-outside-abs     | tree abs      | report         | fail | abs\\.patch +failed \\(touches a path outside the source tree: /.*/abs-x\\) | same none:abs-x
apply-outside-dotdot  | tree dotdot   | report         | fail | up\\.patch +failed \\(touches a path outside the source tree: \\.\\./x\\) | same none:x
apply-truncated       | tree cut      | report         | fail | cut\\.patch +failed \\(.*unexpected(ly)? end | same
fetch-bad-sha         | dl-junk       | fetch-bad-sha  | fail | has sha256 [0-9a-f]{64}, expected 0{64};deleting it \\(re-run to download again\\) | no-download no-dl
fetch-no-network      | -             | fetch-no-network | fail | apt-get update of http://127\\.0\\.0\\.1:9/debian unstable failed \\(no network or mirror down\\?\\);fix the network, set MIRROR= | no-dl
push-not-a-tree       | notree        | push           | fail | is not a Linux source tree;KSRC to the top directory | same
push-foreign-pc       | tree foreign-pc | push         | fail | \\.pc exists and is not ours;pop that stack | same
pop-foreign-pc        | tree foreign-pc | pop          | fail | \\.pc is not ours;use quilt itself | same
push-hunk-fails       | tree hunk     | push           | fail | @P +FAILED: mm/hmm\\.c hunk #[0-9]+ @@ -[0-9];error: @P does not apply.*the tree is as before;rebase | same
push-twice            | tree pushed   | push           | fail | already pushed;pop it first | same
push-pop-identical    | tree          | push pop       | ok   | applied clean;make pop KSRC=;popped our stack | same
checkpatch-warns      | fake-cp       | checkpatch-warns | fail | ^WARN	.*1 warnings;not all clean | -
tree-under-mutants    | mutant-run    | tree           | fail | a mutant run .* is using .*: wait for it, or stop it | no-tree
coverage-doc-stale    | stale-coverage | coverage-check | fail | measured on stack 0123456789abcdef, the stack is now [0-9a-f]{16};make coverage coverage-doc | -
"

only=" $* "
rows=0 bad_rows=
while IFS='|' read -r row words cmds want says after; do
	row=$(xargs <<<"$row")
	[ -n "$row" ] || continue
	[ "$only" = "  " ] || [[ $only == *" $row "* ]] || continue
	rows=$((rows + 1))
	rm -rf "$S" "$P" "$tmp/out" "$tmp/series" "$tmp/bin" "$tmp/dl" "$tmp/cache" "$tmp/log"
	hunk_patch=
	for w in $words; do [ "$w" = - ] || setup "$w"; done
	before=$( [ -d "$S" ] && state "$S" || true)
	why=
	: > "$tmp/log"
	for c in $cmds; do
		rc=0
		# shellcheck disable=SC2046 # the command is a list of words
		$(command_of "$c") >> "$tmp/log" 2>&1 || rc=$?
		[ "$(xargs <<<"$want")" = ok ] && [ $rc != 0 ] && why="$c exited $rc"
	done
	case $(xargs <<<"$want") in
	fail) [ $rc != 0 ] || why="exit status 0"; [ $rc != 124 ] || why="it hung" ;;
	esac
	IFS=';' read -ra rxs <<<"$says"
	for x in "${rxs[@]}"; do
		x=$(sed 's/^ *//; s/ *$//' <<<"$x")
		x=${x//@P/${hunk_patch//./\\.}}
		grep -qiE -- "$x" "$tmp/log" || why="$why${why:+; }does not say '$x'"
	done
	for a in $after; do
		case $a in
		-) ;;
		same) [ "$( [ -d "$S" ] && state "$S" || true)" = "$before" ] || why="$why${why:+; }the tree was changed" ;;
		no-out) [ ! -e "$tmp/out" ] || why="$why${why:+; }it wrote $tmp/out" ;;
		none:*) [ -z "$(find "$tmp" -name "${a#none:}")" ] || why="$why${why:+; }${a#none:} was written" ;;
		no-dl) [ -z "$(ls -A "$tmp/dl" 2>/dev/null)" ] || why="$why${why:+; }files left in $tmp/dl" ;;
		no-download) ! grep -q downloading "$tmp/log" || why="$why${why:+; }it tried to download" ;;
		no-tree) [ ! -e "$tmp/cache/src" ] || [ -z "$(ls -A "$tmp/cache/src")" ] ||
			why="$why${why:+; }a tree was made: $(ls "$tmp/cache/src")" ;;
		tsv-failed) grep -qP '^junk\.patch\tfailed\t' "$tmp/out/apply.tsv" || why="$why${why:+; }apply.tsv does not say failed" ;;
		*) fail "unknown check '$a' in row $row" ;;
		esac
	done
	[ -z "${holder:-}" ] || { kill "$holder" 2>/dev/null || true; holder=; }
	printf '  %-22s %s\n' "$row" "${why:-ok}"
	if [ -n "$why" ]; then
		bad_rows="$bad_rows $row"
		sed 's/^/      | /' "$tmp/log" | tail -n 15
	fi
done <<<"$table"
[ "$rows" -gt 0 ] || fail "no row named $*"
[ -z "$bad_rows" ] || fail "rows that did not hold:$bad_rows"
ok
