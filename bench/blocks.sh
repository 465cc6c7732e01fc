#!/usr/bin/env bash
# blocks.sh [TRACE]: whole-run time (compile, load, attach, BEGIN's exit(),
# detach, print the maps) of scripts of N probe blocks, and trace -v's
# phase times, for N = SIZES (default 1000 2000 4000 8000 10000). Needs
# root. Shapes (SHAPES, default "same uprobe"):
#   same      N blocks `tracepoint:syscalls:sys_enter_openat /pid == K/
#             { @aK = count(); }`: one program and one map per block
#   uprobe    N blocks `uprobe:BIN:F { @aK = count(); }`, one per function
#             F of BIN (default /usr/bin/bash; N capped by its functions)
#   tracepoints  one block per tracepoint of tracefs, each with its own map
#             (N capped by the tracepoints; slow to detach: every distinct
#             tracepoint costs the kernel a grace period, docs/kernel.md)
# Each script ends with `BEGIN { exit(); }`. RUNS runs each (default 1),
# each killed after TIMEOUT s (default 600). Output: a markdown table on
# stdout with wall and CPU (user + sys) time, CPU time per block and the
# growth of CPU time from one N to the next (time ratio over block ratio:
# 1.0 is linear; CPU time, because wall time on a machine others load says
# little), then the -v phase lines.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
TRACE=${1:-${TRACE:-$here/../build/trace}}
SIZES=${SIZES:-1000 2000 4000 8000 10000}
SHAPES=${SHAPES:-same uprobe}
RUNS=${RUNS:-1}
TIMEOUT=${TIMEOUT:-600}
UBIN=${UBIN:-/usr/bin/bash}
[ "$(id -u)" = 0 ] || { echo "blocks.sh: needs root (BPF)" >&2; exit 2; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-blocks.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# gen SHAPE N > script (fewer blocks when the shape runs out of targets)
gen() {
	case $1 in
	same)
		awk -v n="$2" 'BEGIN { for (i = 0; i < n; i++)
			printf "tracepoint:syscalls:sys_enter_openat /pid == %d/ { @a%d = count(); }\n", 100000 + i, i }' ;;
	uprobe)
		"$TRACE" -l "uprobe:$UBIN:*" | head -n "$2" | awk '{ printf "%s { @a%d = count(); }\n", $0, NR }' ;;
	tracepoints)
		"$TRACE" -l 'tracepoint:*' | head -n "$2" | awk '{ printf "%s { @a%d = count(); }\n", $0, NR }' ;;
	esac
	echo 'BEGIN { exit(); }'
}

echo "| shape | N blocks | wall s | CPU s (median of $RUNS) | CPU ms per block | CPU growth vs previous N (1.0: linear) |"
echo "|---|---|---|---|---|---|"
for shape in $SHAPES; do
	prev_n='' prev_t=''
	for n in $SIZES; do
		gen "$shape" "$n" >"$tmp/s.bt"
		blocks=$(($(wc -l <"$tmp/s.bt") - 1))
		[ -n "$prev_n" ] && [ "$blocks" -le "$prev_n" ] && break
		: >"$tmp/times"
		for ((r = 0; r < RUNS; r++)); do
			if ! /usr/bin/time -f "%e %U %S" -o "$tmp/time" timeout "$TIMEOUT" \
				"$TRACE" -q "$tmp/s.bt" >"$tmp/out" 2>"$tmp/err"; then
				echo "| $shape | $blocks | FAILED or timed out: $(head -c 200 "$tmp/err" | tr '\n|' '  ') | | | |"
				continue 3
			fi
			tail -1 "$tmp/time" >>"$tmp/times"
		done
		# the run with the median CPU time
		read -r w t < <(awk '{ print $1, $2 + $3 }' "$tmp/times" | sort -k2 -g |
			awk '{ a[NR] = $0 } END { print a[int((NR + 1) / 2)] }')
		growth='–'
		[ -n "$prev_n" ] && growth=$(awk -v t="$t" -v pt="$prev_t" -v n="$blocks" -v pn="$prev_n" \
			'BEGIN { printf "%.2f (x%.2f time for x%.2f blocks)", (t / pt) / (n / pn), t / pt, n / pn }')
		awk -v s="$shape" -v n="$blocks" -v w="$w" -v t="$t" -v g="$growth" \
			'BEGIN { printf "| %s | %d | %.2f | %.2f | %.3f | %s |\n", s, n, w, t, t * 1000 / n, g }'
		"$TRACE" -v -q "$tmp/s.bt" 2>&1 >/dev/null | grep -E '^(front end|compile|load|detach):' |
			sed "s/^/$shape $blocks: /" >>"$tmp/phases"
		prev_n=$blocks prev_t=$t
	done
done
echo
echo '```'
cat "$tmp/phases" 2>/dev/null
echo '```'
