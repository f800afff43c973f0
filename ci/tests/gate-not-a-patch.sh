#!/bin/bash
# The gate on a file that is not a patch: a "not a patch" verdict, exit 1.
. "$(dirname "$0")/testlib.bash"
printf 'Subject: [PATCH 1/1] hello\n\nJust some text, no diff.\n' > "$tmp/notapatch.mbox"
gate "$tmp/notapatch.mbox"
[ $rc != 0 ] || fail "gate passed a mail without a diff"
has FAIL 'not-a-patch|no patch'
ok
