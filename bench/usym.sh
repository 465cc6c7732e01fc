#!/usr/bin/env bash
# usym.sh [TRACE_BIN]: user-symbol costs (issue 13). Needs root.
#
# 1. print: a 10,000-entry @[ustack] map of one process (src/ustacks.c:
#    10,800 calls through distinct stacks of 30+ frames in a PIE and
#    libc: about 10,000 keys, as the stack map's buckets collide), printed
#    at exit after the process ended. trace: its -v line "maps: printed
#    in X ms (CPU Y ms)" (it writes the sorted text at the end, so a
#    reader sees nothing before); bpftrace: from the first output chunk
#    holding "@[" to the end of the output (stamp.py below: a lower
#    bound, as the first chunk comes after the keys were read and sorted).
#    REPS runs, median. bpftrace 0.17 prints bare addresses there (its
#    process is gone), so its figure is the cost of printing hex, for
#    scale. BPFTRACE_MAP_KEYS_MAX=65536 for both (map and stack map size).
# 2. overhead: `uprobe:libc:malloc { @ = count(); }` (system-wide, a few
#    seconds) while src/mallocload.c does N malloc(32)+free rounds;
#    the load's CPU ns per round with no tracer, trace and bpftrace,
#    alternated REPS times in one run; median, and the difference to no
#    tracer.
# Environment: REPS (default 5), N (default 1000000), BPFTRACE (path, or
# empty to leave it out).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
TRACE=${1:-$root/build/trace}
BPFTRACE=${BPFTRACE-/usr/bin/bpftrace}
REPS=${REPS:-5}
N=${N:-1000000}
BIN=$root/build/bench
mkdir -p "$BIN"
gcc -O1 -g -fno-omit-frame-pointer -fno-inline -o "$BIN/ustacks" "$here/src/ustacks.c"
gcc -O2 -o "$BIN/mallocload" "$here/src/mallocload.c"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# stdin -> "lines ms": ms from the first line starting with "@[" to EOF
cat >"$tmp/stamp.py" <<'PY'
import os, sys, time
t0 = None; n = 0
while True:
    b = os.read(0, 1 << 16)
    if not b:
        break
    if t0 is None and b"@[" in b:
        t0 = time.monotonic()
    n += b.count(b"\n")
print(n, "%.1f" % ((time.monotonic() - t0) * 1000 if t0 else -1))
PY

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

echo "== print: 10,000-entry @[ustack] map of one exited process"
prog="uprobe:$BIN/ustacks:st_leaf { @[ustack] = count(); }"
for tool in trace bpftrace; do
	[ "$tool" = bpftrace ] && [ -z "$BPFTRACE" ] && continue
	bin=$TRACE; [ "$tool" = bpftrace ] && bin=$BPFTRACE
	: >"$tmp/$tool.ms"
	for r in $(seq "$REPS"); do
		v=; [ "$tool" = trace ] && v=-v
		res=$(BPFTRACE_MAP_KEYS_MAX=65536 "$bin" $v -c "$BIN/ustacks 10800" -e "$prog" 2>"$tmp/err" | python3 "$tmp/stamp.py")
		ms=${res#* }
		# trace builds the sorted map text before writing it: the reader
		# sees it at the end, so its own wall-clock figure counts
		[ "$tool" = trace ] && ms=$(sed -n 's/^maps: printed in \([0-9.]*\) ms.*/\1/p' "$tmp/err")
		echo "$ms" >>"$tmp/$tool.ms"
		echo "  $tool run $r: ${res% *} lines, ${res#* } ms to the reader $(grep '^maps:' "$tmp/err" || true)"
	done
	BPFTRACE_MAP_KEYS_MAX=65536 "$bin" -c "$BIN/ustacks 10800" -e "$prog" 2>/dev/null >"$tmp/map"
	grep -c '^@\[' "$tmp/map" | sed "s/^/  $tool keys: /"
	grep -m1 -A3 '^@\[' "$tmp/map" | tail -3 | sed "s/^/  $tool first frames: /"
	echo "  $tool median: $(median <"$tmp/$tool.ms") ms"
done

echo "== overhead: uprobe:libc:malloc { @ = count(); }, $N malloc+free rounds"
run_load() { # TOOL -> ns per round
	local tool=$1 tpid=0 lg_pid res
	coproc LG { exec "$BIN/mallocload" "$N"; }
	lg_pid=$LG_PID
	if [ "$tool" != none ]; then
		local bin=$TRACE; [ "$tool" = bpftrace ] && bin=$BPFTRACE
		"$bin" -e 'uprobe:libc:malloc { @ = count(); }' >"$tmp/out" 2>&1 &
		tpid=$!
		for _ in $(seq 600); do grep -q Attaching "$tmp/out" && break; sleep 0.1; done
		sleep 1
	fi
	echo go >&"${LG[1]}"
	read -r _ res <&"${LG[0]}"
	wait "$lg_pid" 2>/dev/null || true
	if [ "$tpid" != 0 ]; then
		kill -INT "$tpid"; wait "$tpid" 2>/dev/null || true
	fi
	echo "$res"
}
tools="none trace"; [ -n "$BPFTRACE" ] && tools="$tools bpftrace"
for r in $(seq "$REPS"); do
	for tool in $tools; do
		v=$(run_load "$tool")
		echo "$v" >>"$tmp/ov.$tool"
		echo "  run $r $tool: $v ns/round"
	done
done
base=$(median <"$tmp/ov.none")
for tool in $tools; do
	m=$(median <"$tmp/ov.$tool")
	echo "  $tool median: $m ns/round (+$(awk -v a="$m" -v b="$base" 'BEGIN { printf "%.1f", a - b }') over no tracer)"
done
