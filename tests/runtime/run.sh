#!/usr/bin/env bash
# run.sh TRACE_BIN [FILTER]: run the runtime cases in tests/runtime/*.test
# against the real kernel. Needs root.
#
# A case file holds several cases; each starts with a NAME line. Blank lines
# and lines starting with '#' are ignored. Directives (one per line):
#
#   NAME <name>
#   PROG <program text>          runs: $TRACE -e "<program text>"
#   RUN <shell command>          instead of PROG; $TRACE is the binary
#   AFTER <shell command>        workload, started in the background once the
#                                output shows "Attaching"; $TRACE_PGID is the
#                                process group of the trace (or RUN pipeline)
#   EXPECT <line>                exact line; repeatable, matched in order
#   EXPECT_REGEX <regex>         some line matches (grep -E, unanchored: use
#                                ^...$ for a whole line); repeatable
#   EXPECT_NONE <regex>          no line matches; repeatable
#   EXPECT_FILE <path>           whole output equals this file (relative to
#                                tests/runtime)
#   TIMEOUT <seconds>            default 20; the trace is killed after it
#   REQUIRES <shell command>     SKIP the case unless it succeeds; repeatable
#   SIGNAL <INT|TERM>            sent to trace once AFTER finished (or, without
#                                AFTER, right after attach)
#   EXIT <status>                expected exit status, default 0
#
# FILTER (an extended regex) selects cases whose "FILE:NAME" matches, e.g.
# `run.sh build/trace 'basic.test:count'` or `run.sh build/trace printf`.
# After each case, BPF programs and links that the case left loaded fail it.
set -uo pipefail

usage() {
	echo "usage: $0 TRACE_BIN [FILTER]" >&2
	exit 2
}
[ $# -ge 1 ] && [ $# -le 2 ] || usage
TRACE=$1
FILTER=${2:-}
case $TRACE in /*) ;; *) TRACE=$PWD/$TRACE ;; esac
export TRACE
if [ ! -x "$TRACE" ]; then
	echo "runtime: $TRACE is not an executable" >&2
	exit 2
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "runtime: FAILED: these tests load BPF programs into the kernel and must run as root" >&2
	echo "runtime: run: sudo $0 $*   (or skip them: ctest -LE runtime)" >&2
	exit 1
fi

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root" || exit 2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/runtime.XXXXXX")
trap 'cleanup_case; rm -rf "$tmp"' EXIT
export LC_ALL=C

BPFTOOL=$(command -v bpftool || echo /usr/sbin/bpftool)
[ -x "$BPFTOOL" ] || { echo "runtime: bpftool not found (apt-get install bpftool)" >&2; exit 2; }

# tracefs is deliberately not mounted here: trace mounts it when it needs
# it (core.test has a case that unmounts it first).
WORKLOAD=${WORKLOAD:-$root/build/tests/runtime/trace_workload}
export WORKLOAD
# user-space targets (tests/CMakeLists.txt), beside the workload
UTARGET=$(dirname "$WORKLOAD")/trace_utarget
CPPTARGET=$(dirname "$WORKLOAD")/trace_cpptarget
STACKTARGET=$(dirname "$WORKLOAD")/trace_stacktarget
SDTTARGET=$(dirname "$WORKLOAD")/trace_sdttarget
export UTARGET CPPTARGET SDTTARGET STACKTARGET

passed=0 failed=0 skipped=0
trace_pid='' after_pid=''

# --- helpers ----------------------------------------------------------------

bpf_ids() { # prog|link -> sorted ids, one a line
	"$BPFTOOL" "$1" list 2>/dev/null | sed -n 's/^\([0-9][0-9]*\): .*/\1/p' | sort
}

# Ids of programs (prog) or links (link) some live process holds an fd of:
# those belong to other tools running at the same time (a benchmark, a
# bpftrace), not to a case that has exited. A leak is an object no process
# holds.
held_ids() {
	cat /proc/[0-9]*/fdinfo/* 2>/dev/null | sed -n "s/^$1_id:[[:space:]]*\([0-9][0-9]*\)$/\1/p" | sort -u
}

leaked_ids() { # prog|link before-list -> ids created since and held by nobody
	comm -13 <(echo "$2") <(bpf_ids "$1") | comm -23 - <(held_ids "$1") | xargs
}

alive() { kill -0 "$1" 2>/dev/null; }

# Kill a process group started with setsid (its id is the leader's pid).
kill_group() {
	local pid=$1
	[ -n "$pid" ] || return 0
	kill -TERM -- "-$pid" 2>/dev/null
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		alive "$pid" || break
		sleep 0.1
	done
	kill -KILL -- "-$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

cleanup_case() {
	kill_group "$after_pid"
	[ -n "$trace_pid" ] && kill -KILL -- "-$trace_pid" 2>/dev/null
	after_pid='' trace_pid=''
}

elapsed_lt() { # START SECONDS -> true while less than SECONDS passed since START
	local n=${EPOCHREALTIME/./}
	[ $((n - $1)) -lt $(($2 * 1000000)) ]
}

# --- running one case -------------------------------------------------------

reset_case() {
	c_name='' c_prog='' c_run='' c_after='' c_file_expect='' c_signal='' c_timeout=20 c_exit=0
	c_expect=() c_regex=() c_none=() c_requires=()
	c_line=0
}

fail_msgs=()
fail() { fail_msgs+=("$*"); }

run_case() {
	local id="$case_file:$c_name" out="$tmp/out" status
	[ -n "$c_name" ] || return 0
	if [ -n "$FILTER" ] && ! [[ $id =~ $FILTER ]]; then
		return 0
	fi
	fail_msgs=()
	if [ -z "$c_prog" ] && [ -z "$c_run" ]; then
		echo "FAIL $id: case has neither PROG nor RUN (line $c_line)"
		failed=$((failed + 1))
		return 0
	fi
	local req
	for req in "${c_requires[@]}"; do
		if ! { bash -c "$req" >/dev/null 2>&1; } 2>/dev/null; then
			echo "SKIP $id: requires '$req'"
			skipped=$((skipped + 1))
			return 0
		fi
	done

	local progs_before links_before
	progs_before=$(bpf_ids prog)
	links_before=$(bpf_ids link)

	: >"$out"
	local start=${EPOCHREALTIME/./}
	# setsid: the trace (and a RUN pipeline) gets its own process group, so a
	# signal or a timeout reaches all of it and nothing else.
	if [ -n "$c_prog" ]; then
		setsid "$TRACE" -e "$c_prog" </dev/null >"$out" 2>&1 &
	else
		setsid bash -c "$c_run" </dev/null >"$out" 2>&1 &
	fi
	trace_pid=$!

	# Wait for "Attaching" (or for an early exit).
	local attached=0
	while alive "$trace_pid" && elapsed_lt "$start" "$c_timeout"; do
		if grep -q 'Attaching' "$out"; then
			attached=1
			break
		fi
		sleep 0.05
	done
	grep -q 'Attaching' "$out" && attached=1

	if [ "$attached" -eq 1 ] && alive "$trace_pid"; then
		if [ -n "$c_after" ]; then
			TRACE_PGID=$trace_pid setsid bash -c "$c_after" </dev/null >"$tmp/after.out" 2>&1 &
			after_pid=$!
		fi
		if [ -n "$c_signal" ]; then
			if [ -n "$after_pid" ]; then
				while alive "$after_pid" && elapsed_lt "$start" "$c_timeout"; do
					sleep 0.05
				done
			fi
			kill "-$c_signal" -- "-$trace_pid" 2>/dev/null
		fi
	fi

	local timed_out=0
	while alive "$trace_pid"; do
		if ! elapsed_lt "$start" "$c_timeout"; then
			timed_out=1
			kill -KILL -- "-$trace_pid" 2>/dev/null
			break
		fi
		sleep 0.05
	done
	wait "$trace_pid" 2>/dev/null
	status=$?
	trace_pid=
	kill_group "$after_pid"
	after_pid=

	# --- expectations ---
	if [ "$timed_out" -eq 1 ]; then
		fail "timed out after ${c_timeout}s (killed)"
	elif [ "$status" -ne "$c_exit" ]; then
		fail "exit status $status, expected $c_exit"
	fi
	if [ "$attached" -eq 0 ] && [ -n "$c_after$c_signal" ]; then
		fail "never printed 'Attaching', so AFTER/SIGNAL did not run"
	fi

	local lines=() i=0 e found
	mapfile -t lines <"$out"
	for e in "${c_expect[@]}"; do
		found=0
		while [ "$i" -lt "${#lines[@]}" ]; do
			i=$((i + 1))
			if [ "${lines[i - 1]}" == "$e" ]; then
				found=1
				break
			fi
		done
		[ "$found" -eq 1 ] || fail "EXPECT (in order) not found: $e"
	done
	for e in "${c_regex[@]}"; do
		grep -E -q -- "$e" "$out" || fail "EXPECT_REGEX matches no line: $e"
	done
	for e in "${c_none[@]}"; do
		grep -E -q -- "$e" "$out" && fail "EXPECT_NONE matched: $(grep -E -m1 -- "$e" "$out")"
	done
	if [ -n "$c_file_expect" ]; then
		if [ ! -f "$here/$c_file_expect" ]; then
			fail "EXPECT_FILE $c_file_expect does not exist"
		elif ! diff -u --label "$c_file_expect" --label output "$here/$c_file_expect" "$out" >"$tmp/diff"; then
			fail "output differs from EXPECT_FILE $c_file_expect:"$'\n'"$(cat "$tmp/diff")"
		fi
	fi

	# --- leaks: every program and link the case loaded must be gone ---
	local leaked_progs leaked_links
	for _ in $(seq 1 30); do # links/progs are freed asynchronously
		leaked_progs=$(leaked_ids prog "$progs_before")
		leaked_links=$(leaked_ids link "$links_before")
		[ -z "$leaked_progs$leaked_links" ] && break
		sleep 0.1
	done
	[ -n "$leaked_progs" ] && fail "left BPF programs loaded: ids $leaked_progs"
	[ -n "$leaked_links" ] && fail "left BPF links attached: ids $leaked_links"

	if [ ${#fail_msgs[@]} -eq 0 ]; then
		echo "PASS $id"
		passed=$((passed + 1))
	else
		echo "FAIL $id"
		local m
		for m in "${fail_msgs[@]}"; do
			echo "  $m"
		done
		echo "  --- ${c_prog:+PROG: $c_prog}${c_run:+RUN: $c_run}"
		echo "  --- output (exit $status):"
		sed 's/^/  | /' "$out" | head -n 200
		if [ -s "$tmp/after.out" ]; then
			echo "  --- AFTER output:"
			sed 's/^/  | /' "$tmp/after.out" | head -n 50
		fi
		failed=$((failed + 1))
	fi
	rm -f "$tmp/after.out"
}

# --- parsing ----------------------------------------------------------------

shopt -s nullglob
files=("$here"/*.test)
for path in "${files[@]}"; do
	case_file=$(basename "$path")
	reset_case
	lineno=0
	while IFS= read -r line || [ -n "$line" ]; do
		lineno=$((lineno + 1))
		[[ $line =~ ^[[:space:]]*$ ]] && continue
		[[ $line =~ ^[[:space:]]*# ]] && continue
		key=${line%% *}
		val=
		[ "$key" != "$line" ] && val=${line#* }
		case $key in
		NAME)
			run_case
			reset_case
			c_name=$val c_line=$lineno
			;;
		PROG) c_prog=$val ;;
		RUN) c_run=$val ;;
		AFTER) c_after=$val ;;
		EXPECT) c_expect+=("$val") ;;
		EXPECT_REGEX) c_regex+=("$val") ;;
		EXPECT_NONE) c_none+=("$val") ;;
		EXPECT_FILE) c_file_expect=$val ;;
		TIMEOUT)
			if [[ $val =~ ^[0-9]+$ ]]; then
				c_timeout=$val
			else
				echo "FAIL $case_file:$lineno: TIMEOUT takes whole seconds, not '$val'"
				failed=$((failed + 1))
			fi
			;;
		REQUIRES) c_requires+=("$val") ;;
		SIGNAL) c_signal=${val#SIG} ;;
		EXIT) c_exit=$val ;;
		*)
			echo "FAIL $case_file:$lineno: unknown directive '$key'"
			failed=$((failed + 1))
			;;
		esac
	done <"$path"
	run_case
done

echo "runtime: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
