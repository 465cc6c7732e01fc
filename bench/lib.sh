# lib.sh: shared by the bench/*.sh scripts (sourced, not run).
#
# Environment (set by run.sh, or by hand when a section is run alone):
#   TRACE     the trace binary (run.sh runs a copy, so a rebuild while the
#             benchmark runs does not change what is measured)
#   BIN       where run.sh built loadgen, timeit, proginfo and the
#             hand-written objects and loader (BIN/hw)
#   OUT       results directory: each section appends rows to OUT/results.csv
#             (section,case,tool,rep,metric,value) and writes its table to
#             OUT/SECTION.md
#   QUICK     1: fewer repetitions
#   BPFTRACE  bpftrace binary (default: bpftrace on PATH); empty: skip it

: "${TRACE:?TRACE is not set (run bench/run.sh)}"
: "${BIN:?BIN is not set (run bench/run.sh)}"
: "${OUT:?OUT is not set (run bench/run.sh)}"
QUICK=${QUICK:-0}
BPFTRACE=${BPFTRACE-$(command -v bpftrace || true)}
HW=$BIN/hw
SHM=${SHM:-/dev/shm}

# record SECTION CASE TOOL REP METRIC VALUE
record() {
	local IFS=,
	echo "$*" >>"$OUT/results.csv"
}

# stats < numbers -> "median min max n" (empty input: "- - - 0")
stats() {
	{ grep -E '^-?[0-9.]+$' || true; } | sort -g | awk '{ a[NR] = $1 }
		END {
			if (NR == 0) { print "- - - 0"; exit }
			m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
			print m, a[1], a[NR], NR
		}'
}

# values SECTION CASE TOOL METRIC -> one value per line from results.csv
values() {
	awk -F, -v s="$1" -v c="$2" -v t="$3" -v m="$4" \
		'$1 == s && $2 == c && $3 == t && $5 == m { print $6 }' "$OUT/results.csv"
}

# paired SECTION CASE TOOL BASE METRIC -> per repetition, TOOL's value
# minus BASE's value of the same repetition (runs of one repetition are
# next to each other in time, so slow drifts of the machine cancel)
paired() {
	awk -F, -v s="$1" -v c="$2" -v t="$3" -v b="$4" -v m="$5" '
		$1 == s && $2 == c && $5 == m && $3 == t { v[$4] = $6 }
		$1 == s && $2 == c && $5 == m && $3 == b { w[$4] = $6 }
		END { for (r in v) if (r in w) print v[r] - w[r] }' "$OUT/results.csv"
}

# ratio SECTION CASE TOOL HAND BASE METRIC -> per repetition, TOOL's
# overhead over HAND's ((TOOL - BASE) / (HAND - BASE) - 1, in percent)
ratio() {
	awk -F, -v s="$1" -v c="$2" -v t="$3" -v h="$4" -v b="$5" -v m="$6" '
		$1 == s && $2 == c && $5 == m && $3 == t { v[$4] = $6 }
		$1 == s && $2 == c && $5 == m && $3 == h { x[$4] = $6 }
		$1 == s && $2 == c && $5 == m && $3 == b { w[$4] = $6 }
		END { for (r in v) if ((r in w) && (r in x) && x[r] > w[r])
			printf "%.1f\n", ((v[r] - w[r]) / (x[r] - w[r]) - 1) * 100 }' "$OUT/results.csv"
}

# med SECTION CASE TOOL METRIC -> the median (or "-")
med() { values "$@" | stats | awk '{ print $1 }'; }

# fmt_spread SECTION CASE TOOL METRIC SCALE DECIMALS -> "median (min–max)"
# of the values divided by SCALE
fmt_spread() {
	values "$1" "$2" "$3" "$4" | stats | awk -v k="$5" -v d="$6" '{
		if ($4 == 0) { print "–"; exit }
		f = "%." d "f"
		if ($4 == 1) printf f "\n", $1 / k
		else printf f " (" f "–" f ")\n", $1 / k, $2 / k, $3 / k
	}'
}

# tools: trace, bpftrace (if installed), hand (hand-written C)
tools() {
	echo trace
	[ -n "$BPFTRACE" ] && echo bpftrace
	echo hand
}

log() { echo "[$(date +%T)] $*" >&2; }

# fail SECTION CASE TOOL MESSAGE: a tool failed on a benchmark script. The
# run goes on; the row shows FAILED and the summary lists the message.
fail() {
	local msg
	msg=$(tr '\n|' '  ' <<<"$4" | sed 's/  */ /g; s/ $//' | cut -c1-300)
	record "$1" "$2" "$3" 0 failed 1
	echo "| $1 | $2 | $3 | $msg |" >>"$OUT/failures.md"
	log "$1: $3 FAILED on $2: $msg"
}

# failed SECTION CASE TOOL: true if fail was called for it
failed() { [ -n "$(values "$1" "$2" "$3" failed | head -1)" ]; }

# wait_for FILE PATTERN TIMEOUT_S PID: until FILE has PATTERN; 1 if the
# process died or the time ran out
wait_for() {
	local f=$1 pat=$2 t=$3 pid=$4 i
	for ((i = 0; i < t * 100; i++)); do
		grep -q -- "$pat" "$f" 2>/dev/null && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.01
	done
	return 1
}

# losses FILE... -> total of the "Lost N events" lines (0 if none)
losses() {
	cat "$@" 2>/dev/null | grep -oE 'Lost [0-9]+ events' | awk '{ s += $2 } END { print s + 0 }'
}

# stop PID [TIMEOUT_S]: SIGINT, repeated every second (a tool that printed
# "Attaching" may not have installed its handler yet, and a background job
# of a non-interactive shell starts with SIGINT ignored), until it exits;
# SIGKILL after TIMEOUT_S (default 120). Reaps it.
stop() {
	local pid=$1 t=${2:-120} i
	for ((i = 0; i < t * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		((i % 10 == 0)) && kill -INT "$pid" 2>/dev/null
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# wait_ready PID [TIMEOUT_S]: until the BPF programs PID holds stop changing
# (same count over 3 looks 0.2 s apart, at least one). bpftrace 0.17 prints
# "Attaching" first and then loads and attaches program by program.
wait_ready() {
	local pid=$1 t=${2:-120} last=-1 same=0 n i
	for ((i = 0; i < t * 5; i++)); do
		kill -0 "$pid" 2>/dev/null || return 1
		n=$("$BIN/proginfo" "$pid" 2>/dev/null | wc -l)
		if [ "$n" -gt 0 ] && [ "$n" -eq "$last" ]; then
			same=$((same + 1))
			[ "$same" -ge 2 ] && return 0
		else
			same=0
		fi
		last=$n
		sleep 0.2
	done
	return 1
}
