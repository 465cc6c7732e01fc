#!/usr/bin/env bash
# run_gen.sh TRACE_BIN TRACE_GEN [N_DRY] [N_RUN] [FIRST_SEED]
#
# Random programs from trace_gen (tests/gen/gen.c) against trace:
#  - N_DRY (default 2000) "dry" programs (several probes each: BEGIN, END,
#    interval, profile, tracepoints with args and predicates), each through
#    `trace --dry-run FILE`: exit 0 passes, exit 1 is a verifier (or load)
#    rejection, anything else (exit 2: compile error, a crash, a timeout) is
#    a compile error -- a generator bug or a compiler bug;
#  - N_RUN (default 100) "run" programs (BEGIN ... exit(), sometimes END and
#    a tracepoint that never fires), run for real; the output must equal the
#    one trace_gen computed (--expect) byte for byte.
# Seeds are FIRST_SEED (default 1) .. FIRST_SEED+N-1 for each kind; two
# jobs at a time (GEN_JOBS); each dry program gets GEN_DRY_TIMEOUT seconds
# (default 60), each run program GEN_RUN_TIMEOUT (default 30). Failing scripts are kept in $GEN_OUT (default a
# new directory under $TMPDIR) with their output; shrink one with
# `tests/gen/shrink.sh TRACE_BIN FILE` (add --run for run programs).
# Prints `gen: dry N ok, R rejected, C compile errors; run M ok, W wrong`
# (also into the file $GEN_SUMMARY when set)
# and exits 1 if anything failed. Needs root (it loads BPF programs).
set -uo pipefail

if [ "${1:-}" = --worker ]; then
	# --worker KIND SEED...: one line per seed to stdout:
	#   SEED STATUS RESULT SIGNATURE
	# RESULT: ok | rejected | compile | wrong
	shift
	kind=$1
	shift
	for seed in "$@"; do
		f=$GEN_DIR/$kind.$seed.bt
		out=$GEN_DIR/$kind.$seed.out
		if [ "$kind" = dry ]; then
			"$TRACE_GEN" "$seed" --kind dry >"$f"
			timeout -k 5 "${GEN_DRY_TIMEOUT:-60}" "$TRACE" --dry-run "$f" >"$out" 2>&1 </dev/null
		else
			"$TRACE_GEN" "$seed" --kind run --comm "$GEN_COMM" --expect "$f.expect" \
				$GEN_RUN_FLAGS >"$f"
			timeout -k 5 "${GEN_RUN_TIMEOUT:-30}" "$TRACE" "$f" >"$out" 2>&1 </dev/null
		fi
		status=$?
		line=$(grep -m1 -iE 'error|invalid|rejected' "$out" || head -n1 "$out")
		v=$(grep -m1 '^note: verifier:' "$out" | sed -E 's/\(instruction [0-9]+ of [^;]*; /(/')
		[ -n "$v" ] && line="$line $v"
		line=${line//"$f"/FILE}
		line=$(printf '%s' "$line" | sed -E 's/FILE:[0-9]+:[0-9]+/FILE:L:C/g; s/in function [A-Za-z0-9_]+/in function F/g' | cut -c1-200)
		if [ "$kind" = run ] && [ "$status" -eq 0 ]; then
			if cmp -s "$f.expect" "$out"; then
				result=ok
			else
				result=wrong
				line="output differs from the expectation"
			fi
		elif [ "$status" -eq 0 ]; then
			result=ok
		elif [ "$kind" = run ]; then
			result=wrong
		elif [ "$status" -eq 1 ]; then
			result=rejected
		else
			result=compile
			[ "$status" -ge 124 ] && line="exit $status (timeout or crash): $line"
		fi
		if [ "$result" = ok ]; then
			rm -f "$f" "$out" "$f.expect"
		fi
		printf '%s %s %s %s\n' "$seed" "$status" "$result" "$line"
	done
	exit 0
fi

usage() {
	echo "usage: $0 TRACE_BIN TRACE_GEN [N_DRY] [N_RUN] [FIRST_SEED]" >&2
	exit 2
}
[ $# -ge 2 ] && [ $# -le 5 ] || usage
TRACE=$1
TRACE_GEN=$2
N_DRY=${3:-2000}
N_RUN=${4:-100}
FIRST=${5:-1}
case $TRACE in /*) ;; *) TRACE=$PWD/$TRACE ;; esac
case $TRACE_GEN in /*) ;; *) TRACE_GEN=$PWD/$TRACE_GEN ;; esac
for x in "$TRACE" "$TRACE_GEN"; do
	[ -x "$x" ] || { echo "gen: $x is not an executable" >&2; exit 2; }
done
if [ "$(id -u)" -ne 0 ]; then
	echo "gen: FAILED: the generated programs are loaded into the kernel; run as root" >&2
	exit 1
fi
export LC_ALL=C
GEN_DIR=${GEN_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/trace-gen.XXXXXX")}
mkdir -p "$GEN_DIR"
GEN_COMM=$(basename "$TRACE" | cut -c1-15)
JOBS=${GEN_JOBS:-2}
# kernels before 6.6 get BPF ISA v3, whose jumps reach 32767 instructions:
# run programs with shorter unrolled loops there
GEN_RUN_FLAGS=
case $(uname -r) in
[1-5].* | 6.[0-5].* | 6.[0-5]) GEN_RUN_FLAGS=--short-jumps ;;
esac
export TRACE TRACE_GEN GEN_DIR GEN_COMM GEN_RUN_FLAGS
self=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")

run_kind() { # KIND N -> result lines in $GEN_DIR/KIND.results
	local kind=$1 n=$2
	[ "$n" -gt 0 ] || { : >"$GEN_DIR/$kind.results"; return; }
	seq "$FIRST" $((FIRST + n - 1)) |
		xargs -P "$JOBS" -n 4 bash "$self" --worker "$kind" >"$GEN_DIR/$kind.results"
}

t0=$SECONDS
run_kind dry "$N_DRY"
t1=$SECONDS
run_kind run "$N_RUN"
t2=$SECONDS

count() { awk -v r="$2" '$3 == r' "$GEN_DIR/$1.results" | wc -l; }
d_ok=$(count dry ok)
d_rej=$(count dry rejected)
d_comp=$(count dry compile)
r_ok=$(count run ok)
r_wrong=$(count run wrong)

# distinct failures: by result and first error line, with a count and seeds
report() {
	local kind=$1
	awk -v kind="$kind" '$3 != "ok" {
		sig = $3 " (exit " $2 "): "
		for (i = 4; i <= NF; i++) sig = sig $i (i < NF ? " " : "")
		n[sig]++
		if (n[sig] <= 3) seeds[sig] = seeds[sig] " " $1
	} END {
		for (s in n) printf "%d\t%s\t%s\n", n[s], s, seeds[s]
	}' "$GEN_DIR/$kind.results" | sort -t "$(printf '\t')" -k1,1nr |
		awk -F "\t" '{ printf "  %5d  %s\n         seeds:%s\n", $1, $2, $3 }'
}
if [ $((d_rej + d_comp)) -gt 0 ]; then
	echo "gen: dry failures (trace_gen SEED --kind dry | trace --dry-run -):"
	report dry
fi
if [ "$r_wrong" -gt 0 ]; then
	echo "gen: run failures (trace_gen SEED --kind run --comm $GEN_COMM --expect E):"
	report run
	awk '$3 == "wrong" && $2 == 0 { print $1 }' "$GEN_DIR/run.results" | sort -n | head -n 3 |
		while read -r seed; do
			echo "  --- run seed $seed: diff expected actual"
			diff "$GEN_DIR/run.$seed.bt.expect" "$GEN_DIR/run.$seed.out" | head -n 12 | sed 's/^/  | /'
		done
fi
echo "gen: dry ${N_DRY} programs in $((t1 - t0)) s, run ${N_RUN} in $((t2 - t1)) s; failing scripts in $GEN_DIR"
echo "gen: dry $d_ok ok, $d_rej rejected, $d_comp compile errors; run $r_ok ok, $r_wrong wrong"
if [ -n "${GEN_SUMMARY:-}" ]; then # `make test` prints it after ctest
	mkdir -p "$(dirname "$GEN_SUMMARY")"
	echo "generator: $N_DRY dry-run programs: $d_ok loaded, $d_rej rejected by the verifier, $d_comp compile errors; $N_RUN run: $r_ok exact output, $r_wrong wrong" >"$GEN_SUMMARY"
fi
if [ $((d_rej + d_comp + r_wrong)) -gt 0 ]; then
	exit 1
fi
[ -n "${GEN_OUT:-}" ] || rm -rf "$GEN_DIR"
exit 0
