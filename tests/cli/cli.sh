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

here=$(cd "$(dirname "$0")" && pwd)
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
check "--include needs a file" 2 "option '--include' needs an argument" -- "$trace" --include
check "--include missing file" 2 'include no-such\.h: file not found' -- "$trace" --include no-such.h -d ast -e 'BEGIN { }'
printf '#define CLI_MACRO 7\nBEGIN { @ = CLI_MACRO; }\n' >"$tmp/macro.bt"
check "#define in a script file" 0 'int 7 @2:13-2:22' -- "$trace" -d ast "$tmp/macro.bt"
check "missing #include" 2 'header <no/such/header\.h> not found' -- env TRACE_BTF=/missing "$trace" -d ast -e '#include <no/such/header.h>'
# output flags (issue 15); -d ast stops before anything needs root
check "-V" 0 '^trace [0-9]' -- "$trace" -V
check "--help lists -f" 0 '-f FORMAT' -- "$trace" --help
check "--help lists -o" 0 '-o, --output FILE' -- "$trace" --help
check "--help describes -k" 0 'report failed BPF helper calls' -- "$trace" --help
check "--help describes -kk" 0 '-kk +also failed reads' -- "$trace" --help
check "--help describes --emit-llvm" 0 'FILE.original.ll' -- "$trace" --help
check "-f json accepted" 0 -- "$trace" -f json -d ast -e 'BEGIN { }'
check "-f text accepted" 0 -- "$trace" -f text -d ast -e 'BEGIN { }'
check "-f unknown names it" 2 "unknown output format 'yaml'" -- "$trace" -f yaml -e 'BEGIN { }'
check "-f without argument" 2 "option '-f' needs an argument" -- "$trace" -f
check "-B none|line|full accepted" 0 -- "$trace" -B none -B line -B full -d ast -e 'BEGIN { }'
check "-B unknown names it" 2 "unknown buffering mode 'some'" -- "$trace" -B some -e 'BEGIN { }'
check "-o without argument" 2 "option '-o' needs an argument" -- "$trace" -o
check "--output without argument" 2 "option '--output' needs an argument" -- "$trace" --output
check "-q accepted" 0 -- "$trace" -q -d ast -e 'BEGIN { }'
check "-k, -kk accepted" 0 -- "$trace" -k -kk -d ast -e 'BEGIN { }'
check "--no-warnings accepted" 0 -- "$trace" --no-warnings -d ast -e 'BEGIN { }'
check "--btf accepted" 0 -- "$trace" --btf -d ast -e 'BEGIN { }'
check "--emit-elf without argument" 2 "option '--emit-elf' needs an argument" -- "$trace" --emit-elf
check "--emit-llvm without argument" 2 "option '--emit-llvm' needs an argument" -- "$trace" --emit-llvm
check "-p not a number" 2 "pid 'abc' is not a valid decimal number" -- "$trace" -p abc -e 'BEGIN { }'
check "-p out of range" 2 "pid '0' out of valid pid range" -- "$trace" -p 0 -e 'BEGIN { }'
check "-c and -p together" 2 '-c and -p cannot be used together' -- "$trace" -c true -p 1 -e 'BEGIN { }'
check "-c without argument" 2 "option '-c' needs an argument" -- "$trace" -c
check "--usdt-file-activation accepted" 0 -- "$trace" --usdt-file-activation -d ast -e 'BEGIN { }'
check "unknown short option" 2 'unknown option -x' -- "$trace" -x

# ---- every option of bpftrace 0.17's --help (stored in
# bpftrace-0.17-help.txt, as `bpftrace --help` printed it) is accepted:
# one check per flag, and a flag of that text without a check fails.
# -d ast stops before anything needs root or loads; -d and -dd (0.17's
# dump of every stage) need root for the type check
root_rc=1
[ "$(id -u)" = 0 ] && root_rc=0
printf 'BEGIN { }\n' >"$tmp/s.bt"
mkdir -p "$tmp/inc"
printf '#define X 1\n' >"$tmp/inc/x.h"
check_017() {
	case $1 in
	-B) check "0.17 flag -B full" 0 -- "$trace" -B full -d ast -e 'BEGIN { }'
	    check "0.17 flag -B none" 0 -- "$trace" -B none -d ast -e 'BEGIN { }' ;;
	-f) check "0.17 flag -f json" 0 -- "$trace" -f json -d ast -e 'BEGIN { }'
	    check "0.17 flag -f text" 0 -- "$trace" -f text -d ast -e 'BEGIN { }' ;;
	-o) check "0.17 flag -o" 0 -- "$trace" -o "$tmp/o.txt" -d ast -e 'BEGIN { }' ;;
	-e) check "0.17 flag -e" 0 'probe' -- "$trace" -d ast -e 'BEGIN { }' ;;
	-h|--help) check "0.17 flag $1" 0 'usage' -- "$trace" "$1" ;;
	-I) check "0.17 flag -I" 0 'int 1' -- "$trace" -I "$tmp/inc" -d ast -e '#include "x.h"
BEGIN { @ = X; }' ;;
	--include) check "0.17 flag --include" 0 'int 1' -- "$trace" --include "$tmp/inc/x.h" -d ast -e 'BEGIN { @ = X; }' ;;
	-l) check "0.17 flag -l" 0 'software:cpu-clock:' -- "$trace" -l 'software:*' ;;
	-p) check "0.17 flag -p" 0 -- "$trace" -p 1 -d ast -e 'BEGIN { }' ;;
	-c) check "0.17 flag -c" 0 -- "$trace" -c true -d ast -e 'BEGIN { }' ;;
	--usdt-file-activation|--unsafe|-q|-k|-kk|--no-warnings|-v)
	    check "0.17 flag $1" 0 -- "$trace" "$1" -d ast -e 'BEGIN { }' ;;
	--info) check "0.17 flag --info" 0 'ring' -- "$trace" --info ;;
	-V|--version) check "0.17 flag $1" 0 '^trace [0-9]' -- "$trace" "$1" ;;
	-d|-dd) check "0.17 flag $1 (AST)" "$root_rc" 'AST after: parser' -- "$trace" "$1" -e 'BEGIN { exit(); }'
	    [ "$root_rc" = 0 ] && check "0.17 flag $1 (IR)" 0 'LLVM IR after optimization' -- "$trace" "$1" -e 'BEGIN { exit(); }' ;;
	--emit-elf) check "0.17 flag --emit-elf" 0 -- "$trace" --emit-elf "$tmp/p.o" -d ast "$tmp/s.bt" ;;
	--emit-llvm) check "0.17 flag --emit-llvm" 0 -- "$trace" --emit-llvm "$tmp/p" -d ast "$tmp/s.bt" ;;
	*) echo "testing 0.17 flag $1 ... failed: no check for it"; failed=$((failed + 1)) ;;
	esac
}
flags=$(sed -n 's/^    \(-[^ ,]*\)\(, \(-[^ ]*\)\)\{0,1\}.*/\1 \3/p' "$here/bpftrace-0.17-help.txt")
nflags=$(wc -w <<<"$flags")
check "0.17's help lists 25 flags" 0 -- test "$nflags" -eq 25
for f in $flags; do
	check_017 "$f"
done
# -d as 0.17 has it, last on the line; -d STAGE unchanged
check "0.17 -d last" "$root_rc" 'AST after: parser' -- "$trace" -e 'BEGIN { exit(); }' -d
check "-d STAGE still a stage" 0 '^program' -- "$trace" -d ast -e 'BEGIN { }'
check "-d unknown stage" 2 "unknown debug stage 'foo'" -- "$trace" -d foo -e 'BEGIN { }'

echo "cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
