#!/usr/bin/env bash
# cli.sh TRACE_BIN: smoke tests of the command line (flags, files, exit codes),
# in the manner of chibicc's test/driver.sh. No root needed: nothing here
# loads a BPF program.
#
# Add a check:   check NAME EXPECTED_EXIT [GREP_REGEX] -- COMMAND...
# The command's stdout+stderr must match GREP_REGEX (grep -E -i) if given.
set -uo pipefail

[ $# -eq 1 ] || { echo "usage: $0 TRACE_BIN" >&2; exit 2; }
trace=$1
case $trace in /*) ;; *) trace=$PWD/$trace ;; esac
[ -x "$trace" ] || { echo "cli: $trace is not an executable" >&2; exit 2; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cli.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 2
export LC_ALL=C

passed=0 failed=0
check() {
	local name=$1 want=$2 regex='' rc
	shift 2
	if [ "$1" != "--" ]; then
		regex=$1
		shift
	fi
	shift # --
	timeout 30 "$@" </dev/null >"$tmp/out" 2>&1
	rc=$?
	if [ "$rc" -ne "$want" ]; then
		echo "testing $name ... failed: exit $rc, expected $want"
	elif [ -n "$regex" ] && ! grep -E -i -q -- "$regex" "$tmp/out"; then
		echo "testing $name ... failed: output does not match /$regex/"
	else
		echo "testing $name ... passed"
		passed=$((passed + 1))
		return
	fi
	sed 's/^/    /' "$tmp/out" | head -n 40
	failed=$((failed + 1))
}

check "--help" 0 'usage' -- "$trace" --help
check "--version" 0 'trace' -- "$trace" --version
check "unknown flag" 2 'usage' -- "$trace" --no-such-flag
check "missing script file" 2 'no-such-file\.bt' -- "$trace" "$tmp/no-such-file.bt"

# the preprocessor's flags (tests/runtime/headers.test runs them for real)
check "-I needs a directory" 2 'needs an argument' -- "$trace" -I
check "--include needs a file" 2 'usage' -- "$trace" --include
check "--include missing file" 2 'include no-such\.h: file not found' -- "$trace" --include no-such.h -d ast -e 'BEGIN { }'
printf '#define CLI_MACRO 7\nBEGIN { @ = CLI_MACRO; }\n' >"$tmp/macro.bt"
check "#define in a script file" 0 'int 7 @2:13-2:22' -- "$trace" -d ast "$tmp/macro.bt"
check "missing #include" 2 'header <no/such/header\.h> not found' -- env TRACE_BTF=/missing "$trace" -d ast -e '#include <no/such/header.h>'

echo "cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
