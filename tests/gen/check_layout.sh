#!/usr/bin/env bash
# check_layout.sh TRACE_GEN [N]: the C layout trace_gen computes for its
# script structs (sizeof, alignment, member offsets; tests/gen/gen.c
# "script structs") checked by the C compiler: for seeds 1..N (default
# 300) of both kinds, `trace_gen SEED --c-layout` is compiled with
# ${CC:-cc} -fsyntax-only, its _Static_asserts holding. The run programs'
# known sizeof/offsetof values, and the offsets of the members placed over
# curtask, come from this layout. No root needed.
set -uo pipefail
[ $# -ge 1 ] && [ $# -le 2 ] || {
	echo "usage: $0 TRACE_GEN [N]" >&2
	exit 2
}
gen=$1
n=${2:-300}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0 structs=0
for kind in dry run; do
	for seed in $(seq 1 "$n"); do
		f=$tmp/$kind.$seed.c
		"$gen" "$seed" --kind "$kind" --c-layout >"$f" || {
			echo "check_layout: trace_gen $seed --kind $kind --c-layout failed" >&2
			fail=$((fail + 1))
			continue
		}
		structs=$((structs + $(grep -c '^_Static_assert(sizeof' "$f")))
		if ! "${CC:-cc}" -std=c11 -fsyntax-only "$f" 2>"$tmp/err"; then
			echo "check_layout: seed $seed ($kind):" >&2
			head -n 5 "$tmp/err" >&2
			fail=$((fail + 1))
		fi
	done
done
echo "check_layout: $((2 * n)) programs, $structs structs, $fail failed"
[ "$fail" -eq 0 ] && [ "$structs" -gt 0 ]
