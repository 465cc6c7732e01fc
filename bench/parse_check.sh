#!/usr/bin/env bash
# parse_check.sh [TRACE_BIN]: front-end time (parse + check, no codegen)
# against script length.
#
# Generates scripts of $SIZES lines (default 1000 2000 5000 10000) out of
# 12-line probe blocks: a string ternary, map assignments with string and
# tuple keys (maps shared by all blocks and one map per block), if / else
# if / else, printf. Only BEGIN, END, interval and profile probes: they
# read nothing from tracefs, so the numbers are the compiler's. Each script
# is timed as `trace -d types FILE >/dev/null` with hyperfine when it is
# installed (apt-get install hyperfine), else with bash's `time`. Wall time
# is shown, but the growth is judged on CPU time (user + system), which
# other load on a shared machine disturbs much less. A 2-line script gives
# the fixed cost (process start, LLVM's static initialisers), subtracted
# before comparing sizes.
#
# UNIQUE_MAPS=0 makes every block use the same maps (by default each block
# also has a map of its own, so the map count grows with the script).
#
# Prints a table (wall and CPU time, CPU cost per 1000 lines) and whether
# the cost per line stays flat (linear growth) from the smallest to the
# largest script.
# Needs no root: -d types reads tracefs only for tracepoint probes.
set -euo pipefail

trace=${1:-${TRACE:-./build/trace}}
sizes=${SIZES:-1000 2000 5000 10000}
runs=${RUNS:-10}
unique=${UNIQUE_MAPS:-1} # 0: every block uses the same maps
[ -x "$trace" ] || { echo "parse_check: $trace is not an executable (make build?)" >&2; exit 2; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/parse_check.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# gen LINES > FILE: one BEGIN block, 12-line blocks, and an END block.
gen() {
	awk -v lines="$1" -v unique="$unique" 'BEGIN {
		print "BEGIN { @start = nsecs; @mode[\"init\"] = 1; }"
		n = 1
		for (k = 0; n + 12 + 1 <= lines; k++) {
			if (k % 3 == 2)
				printf "profile:hz:%d {\n", 49 + k % 50
			else
				printf "interval:ms:%d {\n", 1 + k % 1000
			printf "  $v = pid > %d ? \"big%d\" : \"small\";\n", k, k
			printf "  @calls[comm, \"block%d\"] = count();\n", k
			printf "  @last%s[$v] = nsecs - @start;\n", unique ? "_" k : ""
			printf "  if (pid == %d && cpu < 4) {\n", k
			printf "    printf(\"block %%d pid %%d comm %%s v %%s\\n\", %d, pid, comm, $v);\n", k
			printf "  } else if (tid > %d) {\n", k
			printf "    @bytes[\"tid\", $v] = sum(tid);\n"
			printf "  } else {\n"
			printf "    @flag[comm] = (pid + %d) %% 7 > 3 ? 1 : 0;\n", k
			printf "  }\n"
			printf "}\n"
			n += 12
		}
		print "END { clear(@start); }"
	}'
}

# time_cmds FILE...: prints "FILE WALL_MEAN WALL_STDDEV CPU_MEAN" (seconds).
time_cmds() {
	if command -v hyperfine >/dev/null; then
		local cmds=()
		for f in "$@"; do cmds+=("$trace -d types $f"); done
		hyperfine -N --warmup 2 --runs "$runs" --style none \
			--export-csv "$tmp/times.csv" "${cmds[@]}" >/dev/null 2>&1
		# command,mean,stddev,median,user,system,min,max
		tail -n +2 "$tmp/times.csv" |
			awk -F, '{ n = split($1, c, " "); print c[n], $2 + 0, $3 + 0, $5 + $6 }'
	else
		local TIMEFORMAT='%R %U %S' f i
		for f in "$@"; do
			"$trace" -d types "$f" >/dev/null
			for ((i = 0; i < runs; i++)); do
				{ time "$trace" -d types "$f" >/dev/null 2>&1; } 2>&1
			done | awk -v f="$f" '{ s += $1; q += $1 * $1; c += $2 + $3 }
				END { m = s / NR; v = q / NR - m * m
				      print f, m, sqrt(v > 0 ? v : 0), c / NR }'
		done
	fi
}

gen 2 >"$tmp/base.bt"
files=("$tmp/base.bt")
for n in $sizes; do
	gen "$n" >"$tmp/s$n.bt"
	if ! "$trace" -d types "$tmp/s$n.bt" >/dev/null 2>"$tmp/err"; then
		echo "parse_check: the generated $n-line script does not check:" >&2
		head -20 "$tmp/err" >&2
		exit 1
	fi
	files+=("$tmp/s$n.bt")
done

echo "trace: $trace; $runs runs each ($(command -v hyperfine >/dev/null && echo hyperfine || echo 'bash time'))"
time_cmds "${files[@]}" >"$tmp/results"
get() { awk -v f="$1" '$1 == f { print $2, $3, $4 }' "$tmp/results"; }
read -r bwall bsd bcpu <<<"$(get "$tmp/base.bt")"

printf '%8s %8s %8s %11s %9s %10s %16s\n' lines probes maps "wall (ms)" "± (ms)" "CPU (ms)" "CPU ms/1000 ln"
awk -v w="$bwall" -v s="$bsd" -v c="$bcpu" 'BEGIN {
	printf "%8d %8d %8d %11.2f %9.2f %10.2f %16s\n", 2, 2, 2, w * 1000, s * 1000, c * 1000, "(fixed cost)" }'
pers=()
for n in $sizes; do
	f=$tmp/s$n.bt
	read -r wall sd cpu <<<"$(get "$f")"
	lines=$(wc -l <"$f")
	probes=$(grep -c '^[A-Za-z]' "$f")
	maps=$(grep -o '@[a-z_0-9]*' "$f" | sort -u | wc -l)
	per=$(awk -v c="$cpu" -v b="$bcpu" -v l="$lines" 'BEGIN { printf "%.4f", (c - b) * 1e6 / l }')
	awk -v l="$lines" -v p="$probes" -v mp="$maps" -v w="$wall" -v s="$sd" -v c="$cpu" -v per="$per" \
		'BEGIN { printf "%8d %8d %8d %11.2f %9.2f %10.2f %16.3f\n", l, p, mp, w * 1000, s * 1000, c * 1000, per }'
	pers+=("$per")
done
awk -v a="${pers[0]}" -v z="${pers[${#pers[@]} - 1]}" 'BEGIN {
	r = a > 0 ? z / a : 0
	if (r > 0 && r < 1.5)
		printf "linear: the CPU cost per line at the largest size is %.2fx that at the smallest\n", r
	else if (r > 0)
		printf "NOT linear: the CPU cost per line grows %.2fx from the smallest to the largest size\n", r
	else
		print "inconclusive: the smallest script costs no more than the fixed cost (too noisy?)"
}'

# In-process figures (trace -v prints the front end's own parse and check
# times), the median of 5 runs: these exclude process start-up.
echo
printf '%8s %14s %14s %14s\n' lines "parse (ms)" "check (ms)" "total (ms)"
for n in $sizes; do
	f=$tmp/s$n.bt
	for ((i = 0; i < 5; i++)); do
		"$trace" -v -d types "$f" 2>&1 >/dev/null | sed -n 's/^front end: parse \([0-9.]*\) ms, check \([0-9.]*\) ms.*/\1 \2/p'
	done | sort -t' ' -k1,1g | awk -v l="$(wc -l <"$f")" '{ p[NR] = $1; c[NR] = $2 }
		END { m = int((NR + 1) / 2); printf "%8d %14.2f %14.2f %14.2f\n", l, p[m], c[m], p[m] + c[m] }'
done
