#!/usr/bin/env bash
# run_golden.sh TRACE_BIN [--update] [FILTER]
#
# For every tests/golden/**/NAME.bt: run `TRACE_BIN ARGS tests/golden/.../NAME.bt`
# from the repo root (so diagnostics name the file relative to it), capture
# stdout+stderr followed by a line `exit: N`, and compare with NAME.out.
# ARGS come from an optional first line `// ARGS: -d types` (default: -d ast).
# --update rewrites NAME.out instead of comparing. FILTER (an extended regex)
# limits the run to matching paths.
set -uo pipefail

usage() {
	echo "usage: $0 TRACE_BIN [--update] [FILTER]" >&2
	exit 2
}
[ $# -ge 1 ] || usage
trace=$1
shift
update=0 filter=
for a in "$@"; do
	case $a in
	--update) update=1 ;;
	-*) usage ;;
	*) filter=$a ;;
	esac
done
case $trace in /*) ;; *) trace=$PWD/$trace ;; esac
if [ ! -x "$trace" ]; then
	echo "golden: $trace is not an executable" >&2
	exit 2
fi

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root" || exit 2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/golden.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# Stable output whatever the caller's environment.
export LC_ALL=C
unset TRACE_DEBUG

passed=0 failed=0 updated=0
while IFS= read -r bt; do
	[ -n "$filter" ] && ! [[ $bt =~ $filter ]] && continue
	out=${bt%.bt}.out
	args=(-d ast)
	first=$(head -n 1 "$bt")
	if [[ $first =~ ^//\ *ARGS:(.*)$ ]]; then
		read -r -a args <<<"${BASH_REMATCH[1]}"
	fi
	actual=$tmp/actual
	timeout 60 "$trace" "${args[@]}" "$bt" </dev/null >"$actual" 2>&1
	echo "exit: $?" >>"$actual"

	if [ "$update" -eq 1 ]; then
		if ! cmp -s "$actual" "$out" 2>/dev/null; then
			cp "$actual" "$out"
			echo "updated $out"
			updated=$((updated + 1))
		fi
		passed=$((passed + 1))
	elif [ ! -f "$out" ]; then
		echo "FAIL $bt: no $out (run with --update to create it); output was:"
		sed 's/^/    /' "$actual"
		failed=$((failed + 1))
	elif cmp -s "$out" "$actual"; then
		passed=$((passed + 1))
	else
		echo "FAIL $bt (trace ${args[*]} $bt)"
		diff -u --label "$out (expected)" --label "actual" "$out" "$actual"
		failed=$((failed + 1))
	fi
done < <(find tests/golden -name '*.bt' -type f | LC_ALL=C sort)

[ "$update" -eq 1 ] && echo "golden: $updated files updated"
echo "golden: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
