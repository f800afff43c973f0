#!/usr/bin/perl
# A fake scripts/checkpatch.pl for the gate's self-tests: every patch is
# clean (with --terse, the real one then prints nothing and exits 0), or
# as HMMWALK_FAKE_CHECKPATCH says: "error", "warning" (each reported as the
# real one does with --terse --show-types), or "broken" (exit 2).
# usage: checkpatch.pl [options] PATCH
my $mode = $ENV{HMMWALK_FAKE_CHECKPATCH} // '';
my $patch = $ARGV[-1];
if ($mode eq 'error') {
	print "$patch:10: ERROR:FAKE: a fake error\n";
	exit 1;
} elsif ($mode eq 'warning') {
	print "$patch:10: WARNING:FAKE: a fake warning\n";
	exit 1;
} elsif ($mode eq 'broken') {
	print STDERR "fake checkpatch.pl: cannot run\n";
	exit 2;
}
exit 0;
