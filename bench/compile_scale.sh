#!/usr/bin/env bash
# compile_scale.sh: whole-run time of a BEGIN block of N map assignments
# with 60-character string keys (then exit()), N = SIZES (default 250 500
# 1000 5000), for trace (RUNS runs, and one -v run for its phase times)
# and bpftrace (BPFTRACE_RUNS runs, default 1, only for N <= BPFTRACE_MAX,
# default 500: bpftrace 0.17 needs 5.6 s, 22 s and 120 s for 250, 500 and
# 1000 lines here, so BPFTRACE_MAX=1000 adds about 2 minutes and 5000
# would take hours). Runs by src/timeit.c (wall, peak RSS, CPU), each
# killed after TIMEOUT s (default 300) and then shown as a timeout.
#   BEGIN {
#     @m["k000...0"] = 0;     key: "k" and the index in 59 digits
#     ...
#     exit();
#   }
# The script prints the map at exit (N lines; trace's and bpftrace's maps
# hold 4096 entries, so at N = 5000 the last 904 inserts fail, as in
# bpftrace). Linearity: the cost per line, after subtracting the fixed cost
# of `BEGIN { exit(); }`, at the largest N over that at the smallest.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

SIZES=${SIZES:-250 500 1000 5000}
RUNS=${RUNS:-$( [ "$QUICK" = 1 ] && echo 2 || echo 5 )}
BPFTRACE_MAX=${BPFTRACE_MAX:-500}
BPFTRACE_RUNS=${BPFTRACE_RUNS:-1}
TIMEOUT=${TIMEOUT:-300}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-scale.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

gen() {
	awk -v n="$1" 'BEGIN {
		print "BEGIN {"
		for (i = 0; i < n; i++) printf "  @m[\"%s\"] = %d;\n", sprintf("k%059d", i), i
		print "  exit();"
		print "}"
	}'
}
echo 'BEGIN { exit(); }' >"$tmp/s0.bt"
for n in $SIZES; do gen "$n" >"$tmp/s$n.bt"; done

# For each N (0 first: the fixed cost of `BEGIN { exit(); }`): RUNS runs
# of trace, then (N <= BPFTRACE_MAX) BPFTRACE_RUNS of bpftrace; one more
# trace run with -v for its phase times.
run_one() { # TOOL N REP
	local tool=$1 n=$2 rep=$3 bin wall rss user sys status
	bin=$TRACE
	[ "$tool" = bpftrace ] && bin=$BPFTRACE
	read -r wall _ rss user sys status <<<"$("$BIN/timeit" -e "$tmp/err" -t "$TIMEOUT" -- "$bin" "$tmp/s$n.bt")"
	if [ "$status" = timeout ]; then
		record scale "$n" "$tool" "$rep" timeout "$TIMEOUT"
		return 1
	elif [ "$status" != 0 ]; then
		fail scale "$n" "$tool" "exit status $status: $(head -c 400 "$tmp/err")"
		return 1
	fi
	record scale "$n" "$tool" "$rep" wall_ms "$wall"
	record scale "$n" "$tool" "$rep" rss_kb "$rss"
	record scale "$n" "$tool" "$rep" cpu_ms "$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')"
}
for n in 0 $SIZES; do
	log "compile_scale: $n lines: trace ($RUNS runs)$([ -n "$BPFTRACE" ] && [ "$n" -le "$BPFTRACE_MAX" ] && echo ", bpftrace ($BPFTRACE_RUNS, timeout ${TIMEOUT} s)")"
	for ((i = 1; i <= RUNS; i++)); do
		run_one trace "$n" "$i" || break
	done
	if ! failed scale "$n" trace && "$TRACE" -v "$tmp/s$n.bt" >/dev/null 2>"$tmp/err"; then
		grep -E '^(front end|compile):' "$tmp/err" | sed "s/^/$n lines: /" >>"$OUT/scale-phases.txt" || true
	fi
	if [ -n "$BPFTRACE" ] && [ "$n" -le "$BPFTRACE_MAX" ]; then
		for ((i = 1; i <= BPFTRACE_RUNS; i++)); do
			run_one bpftrace "$n" "$i" || break
		done
	fi
done

{
	echo "Compile-time scaling: BEGIN block of N map assignments with 60-character string keys, then exit(); whole runs (compile, load, run, print the map, exit), median (min–max). trace: $RUNS runs; bpftrace: $BPFTRACE_RUNS run(s), only N ≤ $BPFTRACE_MAX (BPFTRACE_MAX=N to include more: bpftrace 0.17 needs 120 s at N = 1000), ${TIMEOUT} s timeout."
	echo
	echo "| N | trace wall ms | trace ms/line (fixed cost off) | trace CPU ms (user+sys) | trace peak RSS MB | bpftrace wall s |"
	echo "|---|---|---|---|---|---|"
	base=$(med scale 0 trace wall_ms)
	for n in 0 $SIZES; do
		m=$(med scale "$n" trace wall_ms)
		per=$(awk -v m="$m" -v b="$base" -v n="$n" 'BEGIN { if (n == 0 || m == "-") print "–"; else printf "%.3f", (m - b) / n }')
		bt=$(fmt_spread scale "$n" bpftrace wall_ms 1000 1)
		[ "$(values scale "$n" bpftrace timeout | head -1)" != "" ] && bt="> ${TIMEOUT} (timeout)"
		[ "$n" -gt "$BPFTRACE_MAX" ] && bt="not run"
		tw=$(fmt_spread scale "$n" trace wall_ms 1 1)
		failed scale "$n" trace && tw="FAILED"
		[ "$(values scale "$n" trace timeout | head -1)" != "" ] && tw="> ${TIMEOUT} s (timeout)"
		failed scale "$n" bpftrace && bt="FAILED"
		echo "| $([ "$n" = 0 ] && echo "0 (\`BEGIN { exit(); }\`)" || echo "$n") | $tw | $per | $(fmt_spread scale "$n" trace cpu_ms 1 0) | $(fmt_spread scale "$n" trace rss_kb 1024 1) | $bt |"
	done
	set -- $SIZES
	first=$1; last=${!#}
	for m in wall_ms cpu_ms; do
		awk -v a="$(med scale "$first" trace $m)" -v z="$(med scale "$last" trace $m)" -v b="$(med scale 0 trace $m)" -v na="$first" -v nz="$last" -v what="${m%_ms}" 'BEGIN {
			if (a == "-" || z == "-" || b == "-") { print "\nLinearity (" what "): not measured (a size failed)."; exit }
			pa = (a - b) / na; pz = (z - b) / nz
			printf "\nLinearity (%s time): the cost per line (fixed cost of N = 0 off) at N = %d is %.2fx that at N = %d (%s).\n", what, nz, pz / pa, na, (pz / pa < 1.5) ? "linear" : "NOT linear"
		}'
	done
	if [ -s "$OUT/scale-phases.txt" ]; then
		echo
		echo "trace -v phase times:"
		echo
		echo '```'
		cat "$OUT/scale-phases.txt"
		echo '```'
	fi
} >"$OUT/scale.md"
cat "$OUT/scale.md"
