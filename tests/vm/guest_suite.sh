#!/usr/bin/env bash
# guest_suite.sh BUILD_DIR: the suites the vm tests run inside a guest
# (tests/vm/vm_test.sh boots it). Runs, with the project's own runners:
#  - tests/runtime/run.sh on the case files listed in tests/vm/suites.txt;
#  - tests/gen/run_gen.sh with $TRACE_VM_GEN_DRY programs through --dry-run
#    and $TRACE_VM_GEN_RUN run for real, seeds from $TRACE_VM_GEN_FIRST
#    (defaults below, sized for the CI budget: TCG runs CPU-bound work about
#    15 times slower than native, so the timeouts are 5 times run_gen's).
# Prints what the kernel offers (`trace --info`), each runner's output, then
# one summary line with the pass/fail/skip counts per suite and the time.
# Exits 1 if any case or program failed. Needs root (the guest's).
set -uo pipefail

[ $# -eq 1 ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(cd "$1" && pwd)
gen_dry=${TRACE_VM_GEN_DRY:-300}
gen_run=${TRACE_VM_GEN_RUN:-10}
gen_first=${TRACE_VM_GEN_FIRST:-1}
kernel=$(uname -r)
export LC_ALL=C
export TRACE_VM_GUEST=1 # cases too slow for TCG skip on it (REQUIRES)

# FILTER for run.sh: ^(file1|file2...):, from the names and globs in suites.txt
filter=
while read -r pat; do
	case $pat in '' | '#'*) continue ;; esac
	for f in "$root"/tests/runtime/$pat; do
		[ -f "$f" ] || continue
		name=$(basename "$f")
		filter+=${filter:+|}${name//./\\.}
	done
done <"$here/suites.txt"
files=${filter//\\/}

echo "vm: $kernel: trace --info"
"$build/trace" --info 2>&1 | sed 's/^/  /'

t0=$SECONDS
echo "vm: $kernel: tests/runtime/run.sh on ${files//|/ }"
WORKLOAD=$build/tests/runtime/trace_workload \
	bash "$root/tests/runtime/run.sh" "$build/trace" "^($filter):" 2>&1 | tee "${TMPDIR:-/tmp}/vm-runtime.out"
rt_status=${PIPESTATUS[0]}
rt_line=$(grep -E '^runtime: [0-9]+ passed' "${TMPDIR:-/tmp}/vm-runtime.out" | tail -n 1)
[ -n "$rt_line" ] || rt_line="runtime: no summary (exit $rt_status)"
t1=$SECONDS

echo "vm: $kernel: tests/gen/run_gen.sh, $gen_dry dry-run programs, $gen_run run, seeds from $gen_first"
GEN_SUMMARY='' GEN_DRY_TIMEOUT=300 GEN_RUN_TIMEOUT=150 \
	bash "$root/tests/gen/run_gen.sh" "$build/trace" "$build/tests/gen/trace_gen" \
	"$gen_dry" "$gen_run" "$gen_first" 2>&1 | tee "${TMPDIR:-/tmp}/vm-gen.out"
gen_status=${PIPESTATUS[0]}
gen_line=$(grep -E '^gen: dry [0-9]+ ok' "${TMPDIR:-/tmp}/vm-gen.out" | tail -n 1)
[ -n "$gen_line" ] || gen_line="gen: no summary (exit $gen_status)"
t2=$SECONDS

echo "vm: $kernel: ${rt_line#runtime: } (runtime cases, $((t1 - t0)) s); ${gen_line#gen: } (generator, $((t2 - t1)) s)"
[ "$rt_status" -eq 0 ] && [ "$gen_status" -eq 0 ]
