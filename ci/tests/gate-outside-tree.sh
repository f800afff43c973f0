#!/bin/bash
# The gate on a patch that writes outside the source tree: refused by name.
. "$(dirname "$0")/testlib.bash"
mkdir "$tmp/dir"
cat > "$tmp/dir/0001-evil.patch" <<'P'
From: Someone <someone@example.org>
Subject: [PATCH] evil

---
--- a/../../etc/evil
+++ b/../../etc/evil
@@ -0,0 +1 @@
+owned
P
gate "$tmp/dir"
[ $rc != 0 ] || fail "gate passed a patch outside the tree"
has FAIL 'outside the source tree'
ok
