#!/usr/bin/env bash
# run.sh [TRACE_BIN]: the benchmark kit (`make bench`). Compares trace with
# bpftrace (Debian's 0.17) and with hand-written libbpf C (handwritten/) on
# this machine, and checks the performance targets. Needs root.
#
#   startup.sh        start-up: wall, peak RSS, CPU; BEGIN-exit, a tracepoint
#                     script, all syscalls:sys_enter_* (with detach)
#   overhead.sh       per-event overhead with a pinned load generator
#   codesize.sh       bytes_xlated / bytes_jited / verified_insns
#   compile_scale.sh  BEGIN blocks of 250 .. 5000 map assignments
#
# Environment: QUICK=1 (fewer repetitions: a few minutes),
# BPFTRACE_MAX (largest N of the compile-scaling scripts given to
# bpftrace; default 500, as bpftrace 0.17 needs 120 s for N = 1000),
# WAIT_IDLE=N (wait up to N minutes for other load to go first),
# SECTIONS (default "startup overhead codesize scale"), OUT (results
# directory; default build/bench/results-DATE), BPFTRACE (path, or empty to
# leave bpftrace out), plus each section's own knobs (see its header).
# Results: the summary (machine, targets, failures, all tables, markdown)
# on stdout and in build/bench/results.md, a copy in OUT/summary.md;
# OUT/results.csv (every measurement), OUT/*.txt (phase times,
# per-program sizes).
# One part alone: SECTIONS=startup bench/run.sh (or overhead, codesize,
# scale; several: SECTIONS="startup scale").
# The trace binary is copied first, so rebuilding while this runs does not
# change what is measured. bench/parse_check.sh (front end only) is separate.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
src_trace=${1:-${TRACE:-$root/build/trace}}
QUICK=${QUICK:-0}
SECTIONS=${SECTIONS:-startup overhead codesize scale}
stamp=$(date +%Y%m%d-%H%M%S)
BIN=${BIN:-$root/build/bench}
OUT=${OUT:-$BIN/results-$stamp}

# REPORT=DIR: no measurement; rebuild DIR's targets and summary from its
# results.csv and section tables (after a change to how targets are judged)
REPORT=${REPORT:-}
if [ -n "$REPORT" ]; then
	OUT=$(cd "$REPORT" && pwd)
	SECTIONS=$(for s in startup overhead codesize scale; do if [ -s "$OUT/$s.md" ]; then echo "$s"; fi; done | xargs)
	TRACE=/nonexistent
	export TRACE BIN OUT QUICK
	elapsed=$(cat "$OUT/elapsed" 2>/dev/null || echo 0)
	load_start=$(cat "$OUT/load_start" 2>/dev/null || echo '?')
	load_end=$(cat "$OUT/load_end" 2>/dev/null || echo '?')
else
[ "$(id -u)" = 0 ] || { echo "bench: needs root (BPF)" >&2; exit 2; }
if [ ! -x "$src_trace" ] && [ "$src_trace" = "$root/build/trace" ]; then
	echo "bench: building trace (make build)" >&2
	make -C "$root" build JOBS="${JOBS:-2}" >&2
fi
[ -x "$src_trace" ] || { echo "bench: $src_trace is not an executable (make build?)" >&2; exit 2; }

# Tools: installed if missing (Debian package names).
need=()
command -v hyperfine >/dev/null || need+=(hyperfine)
[ -n "${BPFTRACE-x}" ] && ! command -v bpftrace >/dev/null && need+=(bpftrace)
command -v cc >/dev/null || need+=(gcc)
command -v bpftool >/dev/null || need+=(bpftool)
command -v clang >/dev/null || need+=(clang)
command -v perf >/dev/null || need+=(linux-perf)
[ -e /usr/include/bpf/bpf_helpers.h ] || need+=(libbpf-dev)
[ -e /usr/include/x86_64-linux-gnu/asm/types.h ] || need+=(linux-libc-dev)
if [ ${#need[@]} -gt 0 ]; then
	echo "bench: installing ${need[*]}" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null ||
		{ DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null &&
		  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null; } ||
		echo "bench: could not install ${need[*]}; continuing without" >&2
fi

# Other load disturbs every figure: say so, or wait for it to go (WAIT_IDLE=N
# minutes at most) when the 1-minute load average is above half the CPUs.
busy() { awk -v n="$(nproc)" '{ exit !($1 > n / 2) }' /proc/loadavg; }
if busy; then
	echo "bench: WARNING: load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs: something else is running; figures will be noisy" >&2
	if [ "${WAIT_IDLE:-0}" -gt 0 ]; then
		for ((i = 0; i < WAIT_IDLE * 6; i++)); do busy || break; sleep 10; done
	fi
fi
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
# BPF programs someone else has loaded (a tracer on raw_syscalls would add
# to every per-event figure, the baseline included)
foreign=$(bpftool prog show 2>/dev/null | grep -cE '^[0-9]+: (tracepoint|raw_tracepoint|kprobe|perf_event|tracing)' || true)
[ "$foreign" -gt 0 ] && echo "bench: WARNING: $foreign tracing BPF programs already loaded by other processes" >&2

mkdir -p "$BIN" "$OUT"
cc=${CC:-cc}
for t in loadgen timeit; do
	$cc -O2 -Wall -Wextra -o "$BIN/$t" "$here/src/$t.c"
done
$cc -O2 -Wall -Wextra -o "$BIN/proginfo" "$here/src/proginfo.c" -lbpf
"$here/handwritten/build.sh" "$BIN/hw"
cp "$src_trace" "$BIN/trace.$stamp"
TRACE=$BIN/trace.$stamp
trap 'rm -f "$TRACE"' EXIT
export TRACE BIN OUT QUICK
: >"$OUT/results.csv"

# Machine and versions.
{
	echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "- machine: $(uname -r), $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')), $(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo) RAM, $(grep -qw hypervisor /proc/cpuinfo && echo 'virtual machine' || echo 'bare metal')"
	echo "- trace: $(cd "$root" && git describe --always --dirty 2>/dev/null || echo unknown) ($src_trace built $(date -u -r "$src_trace" '+%Y-%m-%d %H:%M UTC'), copied)"
	echo "- bpftrace: $(bpftrace --version 2>/dev/null || echo none); clang: $(clang --version | head -1); libbpf: $(dpkg-query -W -f='${Version}' libbpf-dev 2>/dev/null || echo '?'); $(bpftool version 2>/dev/null | head -1)"
	perf_out=$(perf stat -e instructions true 2>&1 || true)
	if grep -q 'not supported' <<<"$perf_out" || ! command -v perf >/dev/null; then
		echo "- perf: no hardware counters here (\`perf stat -e instructions true\`: not supported), so no instruction counts; CPU time comes from the kernel's accounting (wait4, CLOCK_THREAD_CPUTIME_ID)"
	else
		echo "- perf: hardware counters available (not used by the kit: CPU time comes from wait4 and CLOCK_THREAD_CPUTIME_ID)"
	fi
	echo "- mode: $([ "$QUICK" = 1 ] && echo 'QUICK=1 (fewer repetitions)' || echo full); tracing BPF programs of other processes at the start: $foreign"
} >"$OUT/machine.md"
cat "$OUT/machine.md"

t0=$(date +%s)
for s in $SECTIONS; do
	case $s in
	startup) "$here/startup.sh" ;;
	overhead) "$here/overhead.sh" ;;
	codesize) "$here/codesize.sh" ;;
	scale)
		if [ "$QUICK" = 1 ]; then BPFTRACE_MAX=${BPFTRACE_MAX:-250} "$here/compile_scale.sh"
		else "$here/compile_scale.sh"; fi ;;
	*) echo "bench: unknown section $s" >&2 ;;
	esac
	echo
done
elapsed=$(($(date +%s) - t0))
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
echo "$elapsed" >"$OUT/elapsed"
echo "$load_start" >"$OUT/load_start"
echo "$load_end" >"$OUT/load_end"
fi # REPORT

# Targets (from the Performance issue), from results.csv.
. "$here/lib.sh"
verdict() { awk -v ok="$1" 'BEGIN { print (ok == 1) ? "MET" : "NOT MET" }'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { print (a != "-" && b != "-" && a + 0 <= b + 0) ? 1 : 0 }'; }
{
	echo "| target | measured | verdict |"
	echo "|---|---|---|"
	if [[ " $SECTIONS " == *" startup "* ]]; then
		w=$(med startup begin trace wall_ms); r=$(med startup begin trace rss_kb)
		if [ "$w" != - ]; then
			rm=$(awk -v r="$r" 'BEGIN { printf "%.1f", r / 1024 }')
			bw=$(med startup begin bpftrace wall_ms); br=$(med startup begin bpftrace rss_kb)
			echo "| start-up \`BEGIN { exit(); }\` ≤ 0.1× bpftrace (≤ 35 ms) | $(printf '%.1f' "$w") ms median, best run $(values startup begin trace wall_ms | stats | awk '{ printf "%.1f", $2 }') ms, CPU $(med startup begin trace cpu_ms) ms (bpftrace $(printf '%.0f' "$bw") ms median, CPU $(med startup begin bpftrace cpu_ms) ms: $(awk -v a="$w" -v b="$bw" 'BEGIN { if (b + 0 > 0) printf "%.2f×", a / b; else print "–" }') wall, $(awk -v a="$(med startup begin trace cpu_ms)" -v b="$(med startup begin bpftrace cpu_ms)" 'BEGIN { if (b + 0 > 0) printf "%.2f×", a / b; else print "–" }') CPU; hand-written C $(printf '%.1f' "$(med startup begin hand wall_ms)") ms) | $(verdict "$(le "$w" 35)")$(awk -v w="$w" 'BEGIN { if (w > 35) printf " (%.1f× the target)", w / 35 }') |"
			echo "| start-up peak RSS ≤ 0.4× bpftrace (≤ 36 MB) | $rm MB (bpftrace $(awk -v r="$br" 'BEGIN { printf "%.0f", r / 1024 }') MB: $(awk -v a="$r" -v b="$br" 'BEGIN { if (b + 0 > 0) printf "%.2f×", a / b; else print "–" }'); hand-written C $(awk -v r="$(med startup begin hand rss_kb)" 'BEGIN { printf "%.1f", r / 1024 }') MB) | $(verdict "$(le "$rm" 36)") |"
		fi
		a=$(med startup all trace wall_ms)
		if [ "$a" != - ]; then
			n=$(ls -d /sys/kernel/tracing/events/syscalls/sys_enter_* 2>/dev/null | wc -l)
			echo "| attach $n tracepoints and exit (detach included) ≤ 1 s | $(printf '%.0f' "$a") ms whole run (bpftrace $(printf '%.0f' "$(med startup all bpftrace wall_ms)") ms, hand-written C $(printf '%.0f' "$(med startup all hand wall_ms)") ms) | $(verdict "$(le "$a" 1000)")$(awk -v w="$a" 'BEGIN { if (w > 1000) printf " (%.1f× the target)", w / 1000 }') |"
		elif failed startup all trace; then
			echo "| attach 300+ tracepoints and exit ≤ 1 s | trace FAILED (see Failures) | NOT MET |"
		fi
	fi
	if [[ " $SECTIONS " == *" overhead "* ]]; then
		# overheads: medians over repetitions of (tool - no tracer) in the
		# same repetition; the verdict compares those medians (a ratio per
		# repetition is shown too, but divides by an overhead smaller than
		# the baseline's own spread, so it swings by tens of percent)
		for c in count_comm count_pid hist printf; do
			[ "$(med overhead "$c" trace cpu_p10)" = - ] && continue
			ot=$(paired overhead "$c" trace none cpu_p10 | stats | awk '{ printf "%.0f", $1 }')
			obt=$(paired overhead "$c" bpftrace none cpu_p10 | stats | awk '{ print ($4 == 0) ? "-" : sprintf("%.0f", $1) }')
			oh=$(paired overhead "$c" hand none cpu_p10 | stats | awk '{ printf "%.0f", $1 }')
			rh=$(ratio overhead "$c" trace hand none cpu_p10 | stats | awk '{ print ($4 == 0) ? "-" : $1 }')
			pt=$(med overhead "$c" trace prog_ns); pb=$(med overhead "$c" bpftrace prog_ns); ph=$(med overhead "$c" hand prog_ns)
			echo "| $c: overhead below bpftrace | trace $ot ns/event, bpftrace $obt (program alone: $pt vs $pb ns/run) | $(verdict "$(awk -v t="$ot" -v b="$obt" 'BEGIN { print (b != "-" && t + 0 < b + 0) ? 1 : 0 }')") |"
			echo "| $c: within 10% of hand-written C$([ "$c" = printf ] && echo " (same wake-up policy)") | trace $ot ns/event, hand-written $oh ($(awk -v t="$ot" -v h="$oh" 'BEGIN { if (h > 0) printf "%+.0f%%", (t / h - 1) * 100; else print "–" }'); median of per-repetition ratios $(awk -v r="$rh" 'BEGIN { if (r == "-") print "–"; else printf "%+.0f%%", r }'); program alone: $pt vs $ph ns/run) | $(verdict "$(awk -v t="$ot" -v h="$oh" 'BEGIN { print (h > 0 && t <= 1.1 * h) ? 1 : 0 }')") |"
			if [ "$(med overhead "$c" hand_batch cpu_p10)" != - ]; then
				ohb=$(paired overhead "$c" hand_batch none cpu_p10 | stats | awk '{ printf "%.0f", $1 }')
				rhb=$(ratio overhead "$c" trace hand_batch none cpu_p10 | stats | awk '{ print ($4 == 0) ? "-" : $1 }')
				echo "| $c: within 10% of hand-written C (batched wake-ups) | trace $ot ns/event, hand-written $ohb ($(awk -v t="$ot" -v h="$ohb" 'BEGIN { if (h > 0) printf "%+.0f%%", (t / h - 1) * 100; else print "–" }'); median of per-repetition ratios $(awk -v r="$rhb" 'BEGIN { if (r == "-") print "–"; else printf "%+.0f%%", r }'); program alone: $pt vs $(med overhead "$c" hand_batch prog_ns) ns/run) | $(verdict "$(awk -v t="$ot" -v h="$ohb" 'BEGIN { print (h > 0 && t <= 1.1 * h) ? 1 : 0 }')") |"
			fi
		done
	fi
	if [[ " $SECTIONS " == *" codesize "* ]]; then
		for c in count_comm count_pid hist printf openat all_count all_probe; do
			t=$(values codesize "$c" trace xlated | head -1); b=$(values codesize "$c" bpftrace xlated | head -1)
			[ -n "$t" ] && [ -n "$b" ] || continue
			tv=$(values codesize "$c" trace verified | head -1); bv=$(values codesize "$c" bpftrace verified | head -1)
			echo "| $c: BPF code no larger than bpftrace's | xlated $t B vs $b B, verified insns $tv vs $bv | $(verdict "$(le "$t" "$b")") |"
		done
	fi
	if [[ " $SECTIONS " == *" scale "* ]]; then
		w=$(med scale 1000 trace wall_ms)
		bw=$(med scale 1000 bpftrace wall_ms)
		if [ "$w" != - ]; then
			echo "| 1,000-line script compiles, loads and exits ≤ 1 s | $(printf '%.0f' "$w") ms (bpftrace 0.17: $([ "$bw" != - ] && printf '%.0f s, measured' "$(awk -v b="$bw" 'BEGIN { print b / 1000 }')" || echo '120 s, the issue'"'"'s figure; not run')) | $(verdict "$(le "$w" 1000)")$(awk -v w="$w" 'BEGIN { if (w > 1000) printf " (%.1f× the target)", w / 1000 }') |"
		elif failed scale 1000 trace; then
			echo "| 1,000-line script ≤ 1 s | trace FAILED (see Failures) | NOT MET |"
		fi
		set -- ${SIZES:-250 500 1000 5000}
		first=$1; last=${!#}
		r=$(awk -v a="$(med scale "$first" trace cpu_ms)" -v z="$(med scale "$last" trace cpu_ms)" -v b="$(med scale 0 trace cpu_ms)" -v na="$first" -v nz="$last" \
			'BEGIN { if (a == "-" || z == "-" || b == "-") print "-"; else printf "%.2f", ((z - b) / nz) / ((a - b) / na) }')
		[ "$r" != - ] && [ "$first" != "$last" ] && echo "| compile time linear in N | CPU time per line (fixed cost of \`BEGIN { exit(); }\` off) at N = $last is ${r}× that at N = $first (linear: < 1.5×) | $(verdict "$(awk -v r="$r" 'BEGIN { print (r < 1.5) ? 1 : 0 }')") |"
	fi
} >"$OUT/targets.md"

{
	echo "# trace benchmark results"
	echo
	cat "$OUT/machine.md"
	echo "- run time: $((elapsed / 60)) min $((elapsed % 60)) s; load average before: $load_start, after: $load_end (the benchmark's own detach threads wait in D state and count in it)"
	echo
	echo "## Targets"
	echo
	cat "$OUT/targets.md"
	if [ -s "$OUT/failures.md" ]; then
		echo
		echo "## Failures"
		echo
		echo "A tool that failed on a benchmark script (its cells read FAILED):"
		echo
		echo "| section | script | tool | error |"
		echo "|---|---|---|---|"
		cat "$OUT/failures.md"
	fi
	for s in startup overhead codesize scale; do
		[ -s "$OUT/$s.md" ] || continue
		echo
		echo "## $s"
		echo
		cat "$OUT/$s.md"
	done
} >"$OUT/summary.md"
cp "$OUT/summary.md" "$BIN/results.md"
echo
echo "================================================================"
cat "$OUT/summary.md"
echo
echo "bench: written to $BIN/results.md (and $OUT/: summary.md, results.csv with every measurement, per-program sizes); $((elapsed / 60)) min $((elapsed % 60)) s"
