#!/usr/bin/env bash
# install.sh BUILD_DIR: `cmake --install` into a temporary root (DESTDIR)
# and the Debian package (cpack -G DEB) unpacked into another; in both,
# trace --version runs, the man page renders and the bash completion
# completes. No root needed: nothing is installed on the system.
#
# Add a check:   check NAME COMMAND...   (passes when COMMAND succeeds)
set -uo pipefail

[ $# -eq 1 ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
build=$(cd "$1" && pwd) || exit 2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export LC_ALL=C

passed=0 failed=0
check() {
	local name=$1
	shift
	if "$@" >"$tmp/out" 2>&1; then
		echo "testing $name ... passed"
		passed=$((passed + 1))
	else
		echo "testing $name ... failed"
		sed 's/^/    /' "$tmp/out" | head -n 30
		failed=$((failed + 1))
	fi
}

version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")

# the completion script, sourced with `trace` resolving to $1/usr/bin/trace
completes() { # ROOT WORDS... -> the completions of the last word
	local root=$1
	shift
	PATH="$root/usr/bin:$PATH" bash -c '
		source "$0/usr/share/bash-completion/completions/trace" || exit 1
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}; _trace
		printf "%s\n" "${COMPREPLY[@]}"' "$root" "$@"
}

check_root() { # LABEL ROOT
	local label=$1 root=$2
	check "$label: bin/trace --version" \
		bash -c '"$0/usr/bin/trace" --version | grep -qx "trace $1"' "$root" "$version"
	check "$label: man page renders" \
		bash -c 'man -l "$0/usr/share/man/man8/trace.8" | grep -q "\-\-output"' "$root"
	check "$label: completion of -f" bash -c '[ "$('"$(declare -f completes)"'; completes "$0" trace -f j)" = json ]' "$root"
	check "$label: completion of --emit" \
		bash -c '[ "$('"$(declare -f completes)"'; completes "$0" trace --emit- | xargs)" = "--emit-elf --emit-llvm" ]' "$root"
}

# make install: PREFIX and DESTDIR
check "cmake --install into DESTDIR" \
	env DESTDIR="$tmp/root" cmake --install "$build" --prefix /usr
check_root install "$tmp/root"

# the Debian package
pkgdir="$tmp/pkg"
mkdir -p "$pkgdir"
check "cpack -G DEB" bash -c 'cd "$0" && cpack -G DEB -B "$1" >/dev/null' "$build" "$pkgdir"
deb=$(ls "$pkgdir"/trace_*.deb 2>/dev/null | head -n 1)
check "package built" test -n "$deb"
if [ -n "$deb" ]; then
	deps=$(dpkg-deb -f "$deb" Depends)
	for lib in libbpf1 libelf1 zlib1g libzstd1 libstdc++6 libc6; do
		check "package depends on $lib" grep -q "\b$lib\b" <<<"$deps"
	done
	check "package holds bin, man page, completion" bash -c 'dpkg-deb -c "$0" | grep -q "./usr/bin/trace$" &&
		dpkg-deb -c "$0" | grep -q "./usr/share/man/man8/trace.8$" &&
		dpkg-deb -c "$0" | grep -q "./usr/share/bash-completion/completions/trace$"' "$deb"
	check "package unpacks" dpkg-deb -x "$deb" "$tmp/debroot"
	check_root package "$tmp/debroot"
fi

echo "install: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
