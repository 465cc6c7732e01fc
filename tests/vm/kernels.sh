#!/usr/bin/env bash
# kernels.sh SERIES: print the vmlinuz of Debian 12's newest kernel of SERIES
# (6.1 or 6.12), fetching it first if it is not in the cache.
#
# The package is linux-image-6.1.0-N-amd64-unsigned or
# linux-image-6.12.N+deb12-amd64-unsigned, the newest the apt lists know
# (`apt-get update` runs only when they know none). It is fetched with
# `apt-get download` and unpacked with `dpkg-deb -x` into
# ${TRACE_VM_CACHE:-/var/cache/trace-vm}/PACKAGE: never installed as this
# machine's kernel. `depmod -b` indexes its modules there, for vmrun.sh.
# Once unpacked, a run is one directory lookup (no apt): set
# TRACE_VM_REFRESH=1 to look for a newer package.
# Exit status: 0 with the path on stdout; 1 with the reason on stderr when
# the kernel cannot be fetched (the vm tests fail on that, not skip).
set -euo pipefail

usage() {
	echo "usage: $0 6.1|6.12" >&2
	exit 2
}
[ $# -eq 1 ] || usage
series=$1
case $series in
6.1) pattern='^linux-image-6\.1\.0-[0-9]+-amd64-unsigned$' ;;
6.12) pattern='^linux-image-6\.12\.[0-9]+\+deb12-amd64-unsigned$' ;;
*) usage ;;
esac
cache=${TRACE_VM_CACHE:-/var/cache/trace-vm}
export LC_ALL=C

die() {
	echo "kernels: $series: $*" >&2
	exit 1
}

# The vmlinuz of an unpacked package directory, if it is complete.
vmlinuz_of() {
	local dir=$1 z
	[ -e "$dir/.complete" ] || return 1
	for z in "$dir"/boot/vmlinuz-*; do
		[ -f "$z" ] && { echo "$z"; return 0; }
	done
	return 1
}

# Fast path: the link to the last package fetched for this series.
if [ -z "${TRACE_VM_REFRESH:-}" ] && [ -L "$cache/$series" ] &&
	vmlinuz_of "$(readlink -f "$cache/$series")"; then
	exit 0
fi

mkdir -p "$cache" || die "cannot create the cache directory $cache (set TRACE_VM_CACHE)"
# One fetch at a time per cache: ctest may start both series together.
exec 9>"$cache/.lock"
flock 9

newest() {
	apt-cache search --names-only "$pattern" 2>/dev/null | awk '{ print $1 }' | sort -V | tail -n 1
}
pkg=$(newest)
if [ -z "$pkg" ]; then
	echo "kernels: $series: no package matches $pattern in the apt lists; running apt-get update" >&2
	env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 || die "apt-get update failed"
	pkg=$(newest)
	[ -n "$pkg" ] || die "no package matches $pattern, even after apt-get update (is a Debian 12 bookworm source configured?)"
fi
dir=$cache/$pkg

if ! vmlinuz_of "$dir" >/dev/null; then
	echo "kernels: $series: fetching $pkg into $cache" >&2
	tmp=$(mktemp -d "$cache/.fetch.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	# apt-get download drops privileges to _apt, which must be able to write here.
	chmod 755 "$tmp"
	chown _apt "$tmp" 2>/dev/null || true
	(cd "$tmp" && apt-get download -q "$pkg" >&2) || die "apt-get download $pkg failed"
	deb=$(ls "$tmp"/*.deb 2>/dev/null | head -n 1)
	[ -n "$deb" ] || die "apt-get download $pkg left no .deb"
	rm -rf "$dir" "$dir.new"
	dpkg-deb -x "$deb" "$dir.new" || die "dpkg-deb -x $deb failed"
	ver=$(basename "$(ls -d "$dir.new"/lib/modules/*/ | head -n 1)")
	[ -n "$ver" ] || die "$pkg has no lib/modules/VERSION"
	depmod -b "$dir.new" "$ver" || die "depmod -b $dir.new $ver failed"
	touch "$dir.new/.complete"
	mv "$dir.new" "$dir"
fi
ln -sfn "$pkg" "$cache/$series"
vmlinuz_of "$dir" || die "$dir has no boot/vmlinuz-*"
