#!/usr/bin/env bash
# bench_attach.sh [TRACE_BIN] [N] [REPS]: what attaching and detaching N
# (default 200) kprobes costs on this kernel (issue 11, item 5). Meant for a
# guest (tests/vm/vmrun.sh; this machine's 6.18 has no kprobes):
#
#   tests/vm/vmrun.sh "$(tests/vm/kernels.sh 6.12)" -- tests/vm/bench_attach.sh
#
# The functions are the first N vfs_* (then other) names, sorted, of
# available_filter_functions that are not on the kprobe blacklist. Three
# programs, REPS (default 5) runs each, median wall time:
#   base     BEGIN { exit(); }
#   load     the N-probe program with --dry-run: compile and verify, no attach
#   list     the N-probe program, run: kprobe:f1,kprobe:f2,... { @ = count(); }
#            BEGIN { exit(); }   (attach, BEGIN, exit, detach)
#   wildcard kprobe:vfs_* { @ = count(); } BEGIN { exit(); }, for comparison
#            (kprobe_multi, where the kernel and trace have it)
# attach+detach is list - load, printed in total and per probe. Under TCG
# the times are relative only: compare kernels, not machines.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
trace=${1:-$here/../../build/trace}
n=${2:-200}
reps=${3:-5}
export LC_ALL=C
tracefs=/sys/kernel/tracing
[ -r "$tracefs/available_filter_functions" ] || mount -t tracefs nodev "$tracefs"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench_attach.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

blacklist() {
	if [ -r /sys/kernel/debug/kprobes/blacklist ]; then
		awk '{ print $2 }' /sys/kernel/debug/kprobes/blacklist
	fi
}
# Plain vmlinux names only (no module, no .isra/.cold clones), vfs_* first.
awk '$2 == "" && $1 !~ /\./ { print $1 }' "$tracefs/available_filter_functions" | sort -u |
	grep -vxF -f <(blacklist; echo '') >"$tmp/all"
{
	grep '^vfs_' "$tmp/all" || true
	grep -E '^(do_sys|ksys_|__x64_sys_)' "$tmp/all" || true
} >"$tmp/cand"
head -n "$n" "$tmp/cand" >"$tmp/funcs"
got=$(wc -l <"$tmp/funcs")
[ "$got" -eq "$n" ] || { echo "bench_attach: only $got functions to probe" >&2; exit 1; }
{
	sed 's/^/kprobe:/' "$tmp/funcs" | paste -sd, -
	echo '{ @ = count(); }'
	echo 'BEGIN { exit(); }'
} >"$tmp/list.bt"
echo 'BEGIN { exit(); }' >"$tmp/base.bt"
printf '%s\n' 'kprobe:vfs_* { @ = count(); }' 'BEGIN { exit(); }' >"$tmp/wild.bt"

ms_now() { echo $((${EPOCHREALTIME/./} / 1000)); }
# median_ms NAME ARGS...: run trace ARGS REPS times, print the median in ms
median_ms() {
	local name=$1 i t0 t1
	shift
	: >"$tmp/$name.ms"
	for ((i = 0; i < reps; i++)); do
		t0=$(ms_now)
		"$trace" "$@" >"$tmp/$name.out" 2>&1 || {
			echo "bench_attach: $name failed:" >&2
			tail -n 5 "$tmp/$name.out" >&2
			return 1
		}
		t1=$(ms_now)
		echo $((t1 - t0)) >>"$tmp/$name.ms"
	done
	sort -n "$tmp/$name.ms" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

base=$(median_ms base "$tmp/base.bt")
load=$(median_ms load --dry-run "$tmp/list.bt")
list=$(median_ms list "$tmp/list.bt")
attached=$(grep -m1 -o 'Attaching [0-9]* probes' "$tmp/list.out" || echo '?')
wild=$(median_ms wild "$tmp/wild.bt" || echo failed)
wattached=$(grep -m1 -o 'Attaching [0-9]* probes' "$tmp/wild.out" || echo '?')
multi=$("$trace" --info 2>/dev/null | sed -n 's/^  kprobe_multi: //p' | cut -c1-40)

echo "bench_attach: $(uname -r), $n kprobes ($(head -n1 "$tmp/funcs") .. $(tail -n1 "$tmp/funcs")), median of $reps, ms:"
echo "  base (BEGIN exit)        $base"
echo "  load ($n, --dry-run)    $load"
echo "  list ($n, run)          $list   ($attached)"
echo "  attach+detach (list-load) $((list - load)) total, $(((list - load) * 1000 / n)) us per probe"
echo "  wildcard kprobe:vfs_*    $wild   ($wattached; kprobe_multi: $multi)"
