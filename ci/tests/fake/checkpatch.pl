#!/usr/bin/perl
# A fake scripts/checkpatch.pl for the gate's self-tests: every patch is
# clean (with --terse, the real one then prints nothing and exits 0).
# usage: checkpatch.pl [options] PATCH
exit 0;
