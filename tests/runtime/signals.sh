#!/usr/bin/env bash
# signals.sh CASE: signals.test's cases that need more than one signal, an
# output file or a check of the kernel's state before and after. Runs
# $TRACE in the background, prints what the case checks (exit status,
# output) and then "leftovers: ..." for what this trace left in the kernel:
# BPF programs and links it held (bpftool, by this trace's pid, since other
# trace runs share the machine) still loaded once it is gone, and
# uprobe_events/kprobe_events lines naming its target. signals.test
# expects "leftovers: none".
#
#   term-o, hup-o, int-o  -o FILE, then SIGTERM/SIGHUP/SIGINT: END and the
#                         maps go to FILE
#   double-int           END runs system("sleep 3"); a SIGINT ends the
#                         trace, a second one during END exits at once
#                         (status 130, END's printf after the sleep never
#                         runs)
#   quit, kill           SIGQUIT/SIGKILL with uprobes attached
#   child-segv           -c CMD whose CMD dies of SIGSEGV
set -uo pipefail
: "${TRACE:?}" "${UTARGET:?}"
case=$1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/signals.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
BPFTOOL=$(command -v bpftool || echo /usr/sbin/bpftool)
TRACEFS=/sys/kernel/tracing
[ -d $TRACEFS/events ] || TRACEFS=/sys/kernel/debug/tracing

# the ids of programs or links PID holds a descriptor of (bpftool here
# does not show pids)
held_by() { # prog|link PID
	cat /proc/"$2"/fdinfo/* 2>/dev/null | sed -n "s/^$1_id:[[:space:]]*\([0-9][0-9]*\)$/\1/p" | sort -un
}

still_loaded() { # prog|link IDS...: those bpftool still lists
	local kind=$1
	shift
	[ $# -gt 0 ] || return 0
	local now
	now=$("$BPFTOOL" "$kind" show 2>/dev/null | sed -n 's/^\([0-9][0-9]*\): .*/\1/p')
	for id in "$@"; do
		grep -qx "$id" <<<"$now" && echo "$kind $id"
	done
}

probe_entries() { # the tracefs probe lines naming the target
	cat $TRACEFS/uprobe_events $TRACEFS/kprobe_events 2>/dev/null | grep -F -- "$UTARGET" || true
}

wait_attached() { # FILE PID
	for _ in $(seq 1 600); do
		grep -q Attaching "$1" 2>/dev/null && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# run SIGNAL ARGS...: trace ARGS in the background; once attached, note
# what it holds and send SIGNAL (none: wait for it to end by itself)
run() {
	local sig=$1
	shift
	before_entries=$(probe_entries)
	# a background job of a non-interactive shell starts with SIGINT and
	# SIGQUIT ignored: give trace the default actions
	env --default-signal=INT,QUIT "$TRACE" "$@" >"$tmp/out" 2>"$tmp/err" &
	pid=$!
	wait_attached "$tmp/${attach_file:-out}" "$pid" || echo "never attached"
	progs=$(held_by prog "$pid")
	links=$(held_by link "$pid")
	[ -n "$progs" ] || echo "no programs seen for trace $pid"
	during_entries=$(probe_entries)
	[ "$sig" = none ] || kill "-$sig" "$pid"
}

finish() {
	wait "$pid" 2>/dev/null
	echo "status $?"
	local left=()
	for _ in $(seq 1 50); do # programs and links are freed asynchronously
		mapfile -t left < <(still_loaded prog $progs; still_loaded link $links)
		[ ${#left[@]} -eq 0 ] && break
		sleep 0.1
	done
	after_entries=$(probe_entries)
	[ "$after_entries" != "$before_entries" ] && left+=("tracefs: $after_entries")
	echo "leftovers: ${left[*]:-none}"
}

prog='BEGIN { @x = 7; } END { printf("end\n"); }'
case $case in
term-o | hup-o | int-o)
	sig=$(tr a-z A-Z <<<"${case%-o}")
	attach_file=file run "$sig" -o "$tmp/file" -e "$prog"
	finish
	echo "--- stdout"
	cat "$tmp/out"
	echo "--- file"
	cat "$tmp/file"
	;;
double-int)
	run INT --unsafe -e 'BEGIN { @x = 7; } END { system("sleep 3"); printf("after sleep\n"); }'
	for _ in $(seq 1 200); do # END's system() has started
		pgrep -P "$pid" >/dev/null && break
		sleep 0.05
	done
	kill -INT "$pid"
	finish
	cat "$tmp/out" "$tmp/err"
	;;
quit | kill)
	sig=$(tr a-z A-Z <<<"$case")
	run "$sig" -e "uprobe:$UTARGET:ut_add3 { @a = count(); } uretprobe:$UTARGET:ut_add3 { @r = count(); }"
	finish
	;;
child-segv)
	printf '#!/bin/sh\nsleep 2\nkill -SEGV $$\n' >"$tmp/segv"
	chmod +x "$tmp/segv"
	run none -c "$tmp/segv" -e "$prog uprobe:$UTARGET:ut_add3 { @a = count(); }"
	finish
	cat "$tmp/out" "$tmp/err"
	;;
*)
	echo "signals.sh: unknown case $case" >&2
	exit 2
	;;
esac
