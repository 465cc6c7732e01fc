#!/usr/bin/env bash
# startup.sh: start-up cost. Wall time, peak RSS (ru_maxrss from wait4, what
# /usr/bin/time's %M reports) and CPU time of whole runs, measured by
# src/timeit.c, for trace, bpftrace and the hand-written C (handwritten/):
#   begin  BEGIN { exit(); }                                  (begin_exit.bpf.o)
#   tp     tracepoint:syscalls:sys_enter_openat { printf("%s %s\n", comm,
#          str(args->filename)); } BEGIN { exit(); }          (openat.bpf.o)
#   all    tracepoint:syscalls:sys_enter_* { @ = count(); } BEGIN { exit(); }
#          attaches all ~360 tracepoints, runs BEGIN, exits; the wall time
#          includes the detach       (loader -a 'syscalls:sys_enter_*' all_count.bpf.o)
# Runs alternate the tools (trace, bpftrace, hand, trace, ...); the begin
# figures are cross-checked with hyperfine and /usr/bin/time. One warm-up
# run of each tool and script is not counted. Also shown: the time from the
# "Attaching N probes..." line to the end of the process. trace prints that
# line after it has attached, bpftrace 0.17 and the hand-written loader
# before, so this column is not comparable across tools; for trace it is
# BEGIN + exit + detach.
#
# Environment: RUNS (default 10, QUICK=1: 3) runs of begin and tp,
# RUNS_ALL (default 3, QUICK=1: 1) of all (bpftrace needs ~20 s a run),
# CASES (default "begin tp all"), TIMEOUT (s, default 180) per run.
# Run alone: TRACE=build/trace BIN=build/bench OUT=DIR bench/startup.sh
# after bench/run.sh has built BIN once (or SECTIONS=startup bench/run.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

RUNS=${RUNS:-$( [ "$QUICK" = 1 ] && echo 3 || echo 10 )}
RUNS_ALL=${RUNS_ALL:-$( [ "$QUICK" = 1 ] && echo 1 || echo 3 )}
CASES=${CASES:-begin tp all}
TIMEOUT=${TIMEOUT:-180}

script() {
	case $1 in
	begin) echo 'BEGIN { exit(); }' ;;
	tp) echo 'tracepoint:syscalls:sys_enter_openat { printf("%s %s\n", comm, str(args->filename)); } BEGIN { exit(); }' ;;
	all) echo 'tracepoint:syscalls:sys_enter_* { @ = count(); } BEGIN { exit(); }' ;;
	esac
}
hand_args() {
	case $1 in
	begin) echo "$HW/begin_exit.bpf.o" ;;
	tp) echo "$HW/openat.bpf.o" ;;
	all) echo "-a syscalls:sys_enter_* $HW/all_count.bpf.o" ;;
	esac
}

out=$SHM/bench-startup.$$.out
err=$SHM/bench-startup.$$.err
trap 'rm -f "$out" "$err"' EXIT

# one CASE TOOL REP (REP 0: warm-up, not recorded)
one() {
	local c=$1 tool=$2 rep=$3 res
	case $tool in
	trace) res=$("$BIN/timeit" -o "$out" -e "$err" -t "$TIMEOUT" -- "$TRACE" -e "$(script "$c")") ;;
	bpftrace) res=$("$BIN/timeit" -o "$out" -e "$err" -t "$TIMEOUT" -- "$BPFTRACE" -e "$(script "$c")") ;;
	# shellcheck disable=SC2046 # word splitting wanted
	hand) res=$("$BIN/timeit" -o "$out" -e "$err" -t "$TIMEOUT" -- "$HW/loader" $(hand_args "$c")) ;;
	esac
	local wall ready rss user sys status
	read -r wall ready rss user sys status <<<"$res"
	if [ "$status" != 0 ]; then
		failed startup "$c" "$tool" ||
			fail startup "$c" "$tool" "exit status $status (timeout ${TIMEOUT} s if 'timeout'): $(head -c 400 "$err")"
		return 0
	fi
	[ "$rep" = 0 ] && return 0
	record startup "$c" "$tool" "$rep" wall_ms "$wall"
	record startup "$c" "$tool" "$rep" rss_kb "$rss"
	record startup "$c" "$tool" "$rep" cpu_ms "$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')"
	[ "${ready%.*}" -ge 0 ] && record startup "$c" "$tool" "$rep" after_ms "$(awk -v w="$wall" -v r="$ready" 'BEGIN { print w - r }')"
	return 0
}

mapfile -t T < <(tools)
for c in $CASES; do
	n=$RUNS
	[ "$c" = all ] && n=$RUNS_ALL
	log "startup: $c, $n runs per tool"
	for ((rep = $([ "$c" = all ] && echo 1 || echo 0); rep <= n; rep++)); do
		for tool in "${T[@]}"; do
			one "$c" "$tool" "$rep"
		done
	done
done

# Cross-check of the `begin` figures with public tools: hyperfine (medians
# of 10 runs per tool, one tool after the other) and /usr/bin/time's %M.
xcheck=$OUT/startup-xcheck.md
: >"$xcheck"
if [[ " $CASES " == *" begin "* ]]; then
	cmds=("$TRACE -e 'BEGIN { exit(); }'")
	[ -n "$BPFTRACE" ] && cmds+=("$BPFTRACE -e 'BEGIN { exit(); }'")
	if command -v hyperfine >/dev/null &&
		hyperfine -N --warmup 1 --runs 10 --style none --export-csv "$out.csv" "${cmds[@]}" >/dev/null 2>&1; then
		# command,mean,stddev,median,user,system,min,max
		tail -n +2 "$out.csv" | awk -F, '{ split($1, w, " "); n = split(w[1], p, "/")
			printf "hyperfine (10 runs, one tool after the other): %s median %.1f ms (min %.1f, max %.1f)\n\n", p[n] ~ /^trace/ ? "trace" : p[n], $4 * 1000, $7 * 1000, $8 * 1000 }' >>"$xcheck"
	fi
	rm -f "$out.csv"
	if [ -x /usr/bin/time ]; then
		for tool in trace $([ -n "$BPFTRACE" ] && echo bpftrace); do
			bin=$TRACE
			[ "$tool" = bpftrace ] && bin=$BPFTRACE
			/usr/bin/time -f '%e %M' -o "$out" "$bin" -e 'BEGIN { exit(); }' >/dev/null 2>&1 || true
			read -r e m <"$out" || true
			echo "/usr/bin/time -f '%e %M', one run: $tool ${e:-?} s, peak RSS ${m:-?} KB" >>"$xcheck"
			echo >>"$xcheck"
		done
	fi
fi

cell() { # CASE TOOL METRIC SCALE DECIMALS
	if failed startup "$1" "$2" && [ -z "$(values startup "$1" "$2" "$3" | head -1)" ]; then
		echo FAILED
	else
		fmt_spread startup "$@"
	fi
}
{
	echo "Start-up: whole runs, median (min–max) over the runs; tools alternate run by run."
	echo
	echo "| script | tool | runs | wall ms | peak RSS MB | CPU ms (user+sys) | ms from \"Attaching\" to exit |"
	echo "|---|---|---|---|---|---|---|"
	for c in $CASES; do
		for tool in "${T[@]}"; do
			echo "| $c | $tool | $(values startup "$c" "$tool" wall_ms | wc -l) | $(cell "$c" "$tool" wall_ms 1 1) | $(cell "$c" "$tool" rss_kb 1024 1) | $(cell "$c" "$tool" cpu_ms 1 0) | $(cell "$c" "$tool" after_ms 1 0) |"
		done
	done
	echo
	echo "Scripts: begin \`$(script begin)\`; tp \`$(script tp)\`; all \`$(script all)\` ($(ls -d /sys/kernel/tracing/events/syscalls/sys_enter_* 2>/dev/null | wc -l) tracepoints). Hand-written C: handwritten/loader with begin_exit.bpf.o, openat.bpf.o, all_count.bpf.o (one program attached to every tracepoint, links destroyed from 64 threads)."
	echo "\"Attaching\" is printed by trace after attaching, by bpftrace and the loader before: that column is BEGIN + exit + detach for trace, attach + BEGIN + exit + detach for the others."
	if [ -s "$xcheck" ]; then
		echo
		echo "Cross-check, \`BEGIN { exit(); }\`:"
		echo
		cat "$xcheck"
	fi
} >"$OUT/startup.md"
cat "$OUT/startup.md"
