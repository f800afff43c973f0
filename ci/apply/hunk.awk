# Print the @@ header of hunk n of file f in a -p1 patch.
/^\+\+\+ / { p = $2; sub(/\t.*/, "", p); sub(/^[^\/]*\//, "", p); k = 0; in_f = (p == f); next }
in_f && /^@@ / { if (++k == n) { print; exit } }
