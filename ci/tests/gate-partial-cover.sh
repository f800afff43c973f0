#!/bin/bash
# An mbox with a cover letter and patches 1/3 and 2/3 of 3: the cover letter
# is skipped, the missing 3/3 is named, the two patches are applied.
. "$(dirname "$0")/testlib.bash"
p1=$(ls "$TOP"/patches/0001-*.patch) p2=$(ls "$TOP"/patches/0002-*.patch)
{
	printf 'From nobody Mon Sep 17 00:00:00 2001\nFrom: A <a@example.org>\n'
	printf 'Subject: [PATCH 0/3] a series\n\nThe cover letter.\n\n'
	sed -E "s/^Subject: \\[PATCH[^]]*\\]/Subject: [PATCH 1\/3]/" "$p1"
	echo
	sed -E "s/^Subject: \\[PATCH[^]]*\\]/Subject: [PATCH 2\/3]/" "$p2"
} > "$tmp/partial.mbox"
gate "$tmp/partial.mbox"
has PASS 'cover-letter'
has WARN 'partial-series.*3/3'
has PASS 'apply.0001'
has PASS 'apply.0002'
ok
