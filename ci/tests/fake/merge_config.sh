#!/bin/bash
# A fake scripts/kconfig/merge_config.sh for the gate's self-tests: appends
# the fragment to the .config, so that every line of it holds.
#
# usage: merge_config.sh -m -O BUILD CONFIG FRAGMENT
set -euo pipefail
[ $# = 5 ] || { echo "usage: merge_config.sh -m -O BUILD CONFIG FRAGMENT" >&2; exit 1; }
cat "$5" >> "$4"
