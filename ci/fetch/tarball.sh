#!/bin/bash
# Fetch a Debian linux orig tarball and verify it.
#
# usage: ci/fetch/tarball.sh VERSION DEBVERSION SHA256 DESTDIR
#
# The mirror is read from this machine's apt sources at run time, and a
# temporary deb-src list for Debian's unstable suite on that mirror is used
# (the system's apt state is not touched).  The tarball is verified before it
# is kept: a wrong or truncated download is deleted and reported.
set -euo pipefail

die() { echo "tarball.sh: error: $*" >&2; exit 1; }

[ $# -eq 4 ] || die "usage: ci/fetch/tarball.sh VERSION DEBVERSION SHA256 DESTDIR"
ver=$1 debver=$2 sum=$3 dest=$4
tarball=linux_${ver}.orig.tar.xz
mkdir -p "$dest"
out=$dest/$tarball

verify() {
	local got
	got=$(sha256sum "$1" | cut -d' ' -f1)
	[ "$got" = "$sum" ] && return 0
	echo "tarball.sh: error: $1 has sha256 $got, expected $sum" >&2
	echo "fetch-base: the file is wrong or truncated; deleting it (re-run to download again)" >&2
	rm -f "$1"
	return 1
}

if [ -f "$out" ]; then
	verify "$out" || exit 1
	exit 0
fi

command -v apt-get >/dev/null ||
	die "apt-get not found: this fetch needs a Debian/Ubuntu host; or place $tarball (sha256 $sum) in $dest yourself"

# The first http(s) mirror this machine's apt already uses.
mirror=$("$(dirname "$0")/apt-mirror.sh") ||
	die "no Debian mirror found in /etc/apt/sources.list{,.d}; set MIRROR=<url> or place $tarball in $dest"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/cache/archives/partial"
echo "deb-src [trusted=yes] $mirror unstable main" > "$work/sources.list"
opts=(-o "Dir::Etc::SourceList=$work/sources.list" -o Dir::Etc::SourceParts=/dev/null
      -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache"
      -o APT::Sandbox::User=root -o Acquire::Retries=3
      -o Acquire::http::Timeout=10 -o Acquire::https::Timeout=10)

echo "fetch-base: downloading $tarball (linux=$debver) from $mirror unstable"
# apt-get update exits 0 when it could not fetch an index: check for it too
{ apt-get "${opts[@]}" -qq update >"$work/update.log" 2>&1 &&
	compgen -G "$work/lists/*_Sources*" >/dev/null; } || {
	cat "$work/update.log" >&2
	die "apt-get update of $mirror unstable failed (no network or mirror down?); fix the network, set MIRROR=<url> to a Debian mirror that works, or place $tarball in $dest"
}
(cd "$work" && apt-get "${opts[@]}" -q source --download-only --tar-only "linux=$debver") \
	>"$work/source.log" 2>&1 || {
	cat "$work/source.log" >&2
	die "apt-get source linux=$debver failed; is that version still in unstable? Place $tarball in $dest to skip the download"
}
[ -f "$work/$tarball" ] || die "apt-get source did not produce $tarball"
verify "$work/$tarball" || exit 1
mv "$work/$tarball" "$out"
echo "fetch-base: $out verified"
