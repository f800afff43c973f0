#!/bin/bash
# The KUnit tiers and the other kernels the suite runs on: kunit/tiers.tsv,
# the one list of them.
#
# usage: ci/tiers.sh                 the KUnit tiers, one a line
#        ci/tiers.sh TIER COLUMN     one field of TIER's line: arch, configs,
#                                    make, expected, run or case
set -euo pipefail
. "$(dirname "$0")/lib.sh"

table=$TOP/kunit/tiers.tsv
usage="usage: ci/tiers.sh [TIER arch|configs|make|expected|run|case]"
rows() { awk '!/^#/ && NF' "$table"; }
if [ $# = 0 ]; then
	rows | awk '$5 == "yes" { print $1 }'
	exit 0
fi
[ $# = 2 ] || die "$usage"
case $2 in
arch) n=2 ;; configs) n=3 ;; make) n=4 ;; expected) n=5 ;; run) n=6 ;; case) n=7 ;;
*) die "no column '$2': $usage" ;;
esac
row=$(rows | awk -v t="$1" '$1 == t')
[ -n "$row" ] || die "unknown tier '$1': one of $(rows | awk '{ print $1 }' | paste -sd' ') (kunit/tiers.tsv)"
awk -v n=$n '{ print $n }' <<<"$row"
