#!/usr/bin/env bash
# shrink.sh TRACE_BIN FILE [--run]: reduce a failing script to a minimal one.
#
# The failure is what `TRACE_BIN --dry-run FILE` does (with --run: running
# it for real, killed after $SHRINK_TIMEOUT s, default 20): its exit status
# and its first error line (file name, line and column numbers and the
# probe function's name left out). Candidates come from shrink.awk:
# structural ones first (probes, predicates, statements, blocks), then
# within lines (map keys, printf arguments, sub-expressions, string
# literals); a candidate is kept when it fails the same way. Repeats until
# nothing changes, then prints the minimal script on stdout (progress on
# stderr).
#
# SHRINK_TEST='cmd' replaces the test: `bash -c "$SHRINK_TEST" _ CANDIDATE`
# exits 0 when the candidate is still interesting (e.g. a wrong result:
# SHRINK_TEST='build/trace "$1" 2>&1 | grep -q "^@x: 7$"').
set -uo pipefail

usage() {
	echo "usage: $0 TRACE_BIN FILE [--run]" >&2
	exit 2
}
[ $# -ge 2 ] && [ $# -le 3 ] || usage
TRACE=$1
FILE=$2
MODE=--dry-run
if [ $# -eq 3 ]; then
	[ "$3" = --run ] || usage
	MODE=
fi
[ -x "$TRACE" ] || { echo "shrink: $TRACE is not an executable" >&2; exit 2; }
[ -f "$FILE" ] || { echo "shrink: no file $FILE" >&2; exit 2; }
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
AWK_PROG=$here/shrink.awk
export LC_ALL=C
tmp=$(mktemp -d "${TMPDIR:-/tmp}/shrink.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
TIMEOUT=${SHRINK_TIMEOUT:-20}

# "STATUS|first error line", normalized
signature() {
	local f=$1 out=$tmp/out status line v
	# shellcheck disable=SC2086
	timeout -k 2 "$TIMEOUT" "$TRACE" $MODE "$f" >"$out" 2>&1 </dev/null
	status=$?
	line=$(grep -m1 -iE 'error|warning: .*verif|invalid|rejected' "$out" || head -n1 "$out")
	v=$(grep -m1 '^note: verifier:' "$out" | sed -E 's/\(instruction [0-9]+ of [^;]*; /(/')
	[ -n "$v" ] && line="$line $v"
	line=${line//"$f"/FILE}
	line=$(printf '%s' "$line" | sed -E 's/FILE:[0-9]+:[0-9]+/FILE:L:C/g; s/in function [A-Za-z0-9_]+/in function F/g; s/line [0-9]+/line N/g')
	printf '%s|%s' "$status" "$line"
}

cur=$tmp/cur.bt
cp "$FILE" "$cur"
if [ -z "${SHRINK_TEST:-}" ]; then
	target=$(signature "$cur")
	case $target in
	0\|*) echo "shrink: $FILE does not fail (exit 0)" >&2; exit 1 ;;
	esac
	echo "shrink: failure: $target" >&2
else
	bash -c "$SHRINK_TEST" _ "$cur" >/dev/null 2>&1 || {
		echo "shrink: SHRINK_TEST does not hold for $FILE" >&2
		exit 1
	}
fi

interesting() {
	if [ -n "${SHRINK_TEST:-}" ]; then
		bash -c "$SHRINK_TEST" _ "$1" >/dev/null 2>&1
	else
		[ "$(signature "$1")" = "$target" ]
	fi
}

tests=0
cand=$tmp/cand.bt
round=0
while :; do
	round=$((round + 1))
	changed=0
	for stage in 1 2; do
		n=0
		while awk -v N="$n" -v STAGE="$stage" -f "$AWK_PROG" "$cur" >"$cand"; do
			tests=$((tests + 1))
			if interesting "$cand"; then
				cp "$cand" "$cur"
				changed=1
			else
				n=$((n + 1))
			fi
		done
	done
	echo "shrink: round $round: $(wc -l <"$cur") lines, $tests tests" >&2
	[ "$changed" -eq 1 ] || break
done
cat "$cur"
