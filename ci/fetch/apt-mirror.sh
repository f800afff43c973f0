#!/bin/bash
# Print the Debian mirror this machine's apt uses (first http(s) URI that
# serves a Debian suite), or $MIRROR when set.
set -eu
if [ -n "${MIRROR:-}" ]; then echo "$MIRROR"; exit 0; fi
{
	# deb822 .sources files
	cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '
		/^URIs:/ { uri = $2 }
		/^Suites:/ { if (uri != "" && $0 !~ /security/) print uri; uri = "" }'
	# one-line format
	cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
		awk '$1 == "deb" || $1 == "deb-src" {
			for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; break } }'
} | grep -E '^https?://.*/debian/?$' | head -n1 | sed 's:/*$::' | grep .
