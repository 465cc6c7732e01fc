#!/usr/bin/env bash
# codesize.sh: size of the generated BPF code. Each script is started with
# each tool; once "Attaching" is printed and the number of programs the
# process holds has stopped changing (bpftrace 0.17 loads while it
# attaches), the programs are read: bytes_xlated and bytes_jited (as
# `bpftool prog show -j` prints them; cross-checked against it) and
# verified_insns (struct bpf_prog_info, which bpftool 7.1 does not print),
# by src/proginfo.c from /proc/PID/fdinfo. Then the tool gets SIGINT.
# Sums over all programs of the script (the wildcard scripts load one or one
# per tracepoint, depending on the tool). No BEGIN/END blocks: their
# programs are gone by the time a script that exits in BEGIN could be read.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

# QUICK leaves out all_probe (360 programs: about 40 s of detaching)
CASES=${CASES:-count_comm count_pid hist printf openat all_count $( [ "$QUICK" = 1 ] || echo all_probe )}

script() {
	case $1 in
	count_comm) echo 'tracepoint:raw_syscalls:sys_enter { @[comm] = count(); }' ;;
	count_pid) echo 'tracepoint:raw_syscalls:sys_enter /pid == 1/ { @ = count(); }' ;;
	hist) echo 'tracepoint:raw_syscalls:sys_enter { @ = hist(args->args[0]); }' ;;
	printf) echo 'tracepoint:raw_syscalls:sys_enter /pid == 1/ { printf("%s %d %ld\n", comm, pid, args->id); }' ;;
	openat) echo 'tracepoint:syscalls:sys_enter_openat { printf("%s %s\n", comm, str(args->filename)); }' ;;
	all_count) echo 'tracepoint:syscalls:sys_enter_* { @ = count(); }' ;;
	all_probe) echo 'tracepoint:syscalls:sys_enter_* { @[probe] = count(); }' ;;
	esac
}
hand_args() {
	case $1 in
	count_comm) echo "$HW/count_comm.bpf.o" ;;
	count_pid) echo "-p 1 $HW/count_pid.bpf.o" ;;
	hist) echo "$HW/hist_arg.bpf.o" ;;
	printf) echo "-p 1 $HW/printf_ev.bpf.o" ;;
	openat) echo "$HW/openat.bpf.o" ;;
	# one program for all tracepoints: its code does not depend on how
	# many it is attached to, so one is enough (no 10 s of detaching)
	all_count) echo "-a syscalls:sys_enter_openat $HW/all_count.bpf.o" ;;
	all_probe) echo "-a syscalls:sys_enter_openat $HW/all_probe.bpf.o" ;;
	esac
}

out=$SHM/bench-codesize.$$.out
err=$SHM/bench-codesize.$$.err
trap 'rm -f "$out" "$err"' EXIT
detail=$OUT/codesize-programs.txt
: >"$detail"

mapfile -t T < <(tools)
for c in $CASES; do
	for tool in "${T[@]}"; do
		: >"$out" # before the start: wait_for must not see the last run's output
		case $tool in
		trace) "$TRACE" -e "$(script "$c")" >"$out" 2>"$err" & ;;
		bpftrace) "$BPFTRACE" -e "$(script "$c")" >"$out" 2>"$err" & ;;
		hand)
			# shellcheck disable=SC2046 # word splitting wanted
			"$HW/loader" -n $(hand_args "$c") >"$out" 2>"$err" & ;;
		esac
		pid=$!
		if ! wait_for "$out" Attaching 120 "$pid" || ! wait_ready "$pid"; then
			fail codesize "$c" "$tool" "did not attach: $(head -c 400 "$err")"
			kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
			continue
		fi
		# id type name xlated jited verified xlated_insns run_cnt run_time_ns
		"$BIN/proginfo" "$pid" | sort -n >"$OUT/.progs"
		stop "$pid"
		{ echo "== $c / $tool"; cat "$OUT/.progs"; } >>"$detail"
		if [ ! -s "$OUT/.progs" ]; then
			fail codesize "$c" "$tool" "no BPF program found in /proc/$pid/fdinfo"
			continue
		fi
		read -r n x j v <<<"$(awk '{ n++; x += $4; j += $5; v += $6 } END { print n, x, j, v }' "$OUT/.progs")"
		record codesize "$c" "$tool" 1 progs "$n"
		record codesize "$c" "$tool" 1 xlated "$x"
		record codesize "$c" "$tool" 1 jited "$j"
		record codesize "$c" "$tool" 1 verified "$v"
	done
done
rm -f "$OUT/.progs"
log "codesize: done"

# Cross-check one program against bpftool (the same kernel fields).
if command -v bpftool >/dev/null; then
	: >"$out"
	"$HW/loader" "$HW/count_comm.bpf.o" >"$out" 2>"$err" &
	pid=$!
	if wait_for "$out" Attaching 30 "$pid"; then
		read -r id _ _ x j _ <<<"$("$BIN/proginfo" "$pid" | head -1)"
		bj=$(bpftool prog show id "$id" -j)
		bx=$(grep -o '"bytes_xlated":[0-9]*' <<<"$bj" | cut -d: -f2)
		bjj=$(grep -o '"bytes_jited":[0-9]*' <<<"$bj" | cut -d: -f2)
		[ "$bx" = "$x" ] && [ "$bjj" = "$j" ] || log "codesize: proginfo ($x, $j) and bpftool ($bx, $bjj) disagree"
	fi
	stop "$pid"
fi

get() {
	local v
	v=$(values codesize "$1" "$2" "$3" | head -1)
	if [ -z "$v" ] && failed codesize "$1" "$2"; then v=FAILED; fi
	echo "${v:-–}"
}
{
	echo "Generated code: sums over the script's programs (bytes_xlated, bytes_jited, verified_insns; programs)."
	echo
	echo "| script | progs trace / bpftrace / hand | xlated B trace / bpftrace / hand | jited B trace / bpftrace / hand | verified insns trace / bpftrace / hand | trace ≤ bpftrace (xlated) |"
	echo "|---|---|---|---|---|---|"
	for c in $CASES; do
		row="| $c"
		for m in progs xlated jited verified; do
			row+=" | $(get "$c" trace "$m") / $(get "$c" bpftrace "$m") / $(get "$c" hand "$m")"
		done
		tx=$(get "$c" trace xlated); bx=$(get "$c" bpftrace xlated)
		ok=$(awk -v t="$tx" -v b="$bx" 'BEGIN { if (t !~ /^[0-9]+$/ || b !~ /^[0-9]+$/) print "–"; else if (t + 0 <= b + 0) print "yes"; else printf "no (+%.0f%%)\n", (t / b - 1) * 100 }')
		echo "$row | $ok |"
	done
	echo
	echo "Scripts (no BEGIN/END: their programs are gone before they could be read):"
	echo
	for c in $CASES; do echo "- $c: \`$(script "$c")\`"; done
	echo
	echo "The hand-written all_count / all_probe are one program each, attached to every tracepoint with the tracepoint's index as BPF cookie; measured attached to one (the code is the same). bpftrace 0.17 loads one program per tracepoint."
	echo
	echo "Per-program figures: codesize-programs.txt (id type name xlated jited verified xlated_insns run_cnt run_time_ns)."
} >"$OUT/codesize.md"
cat "$OUT/codesize.md"
