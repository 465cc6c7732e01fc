#!/usr/bin/env bash
# fuzz_smoke.sh FUZZER CORPUS_DIR SECONDS [ARTIFACT_DIR]
#
# Runs a libFuzzer binary for SECONDS over a scratch copy of CORPUS_DIR (the
# fuzzer adds inputs to its corpus directory; the repo must stay clean).
# Crashes, leaks, undefined behaviour and timeouts are written to ARTIFACT_DIR (default: a
# fuzz-artifacts/ directory in the current one) and fail the run.
set -euo pipefail

if [ $# -lt 3 ]; then
	echo "usage: $0 FUZZER CORPUS_DIR SECONDS [ARTIFACT_DIR]" >&2
	exit 2
fi
fuzzer=$1 corpus=$2 seconds=$3 artifacts=${4:-$PWD/fuzz-artifacts}

work=$(mktemp -d "${TMPDIR:-/tmp}/fuzz_smoke.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus" "$artifacts"
if [ -d "$corpus" ]; then
	cp -r "$corpus"/. "$work/corpus/" 2>/dev/null || true
fi
echo "fuzz_smoke: $(basename "$fuzzer") for ${seconds}s over $(find "$work/corpus" -type f | wc -l) seed inputs"

# -timeout: one input running 30 s is a hang (the slowest compile inputs
# take under 1 s, but a loaded shared host has stalled one past 10 s);
# -rss_limit_mb: runaway memory.
rc=0
"$fuzzer" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2048 \
	-print_final_stats=1 -artifact_prefix="$artifacts/" "$work/corpus" >"$work/log" 2>&1 || rc=$?
if [ "$rc" -ne 0 ]; then
	tail -n 200 "$work/log"
	echo "fuzz_smoke: FAILED (exit $rc); reproducer in $artifacts/:" >&2
	ls -l "$artifacts" >&2
	echo "rerun with: $fuzzer $artifacts/<file>" >&2
	exit 1
fi
grep -E '^(INFO: Seed|#[0-9]+ +DONE|Done [0-9]+ runs|stat::)' "$work/log" || tail -n 15 "$work/log"
echo "fuzz_smoke: passed"
