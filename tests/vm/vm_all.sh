#!/usr/bin/env bash
# vm_all.sh BUILD_DIR: the ctest `vm` test. Runs tests/vm/vm_test.sh for
# Debian 12's 6.1 and 6.12 side by side (one vCPU each on the 2-core CI
# machine: about half the wall time of one after the other), then prints
# each kernel's output in turn and both summary lines. Exit status: 77 when
# qemu is missing (ctest SKIP), 1 when either kernel failed, else 0.
# VM_SUMMARY=FILE also gets the summary lines (make test prints them).
set -uo pipefail

[ $# -eq 1 ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=$1
if ! command -v qemu-system-x86_64 >/dev/null; then
	echo "vm: SKIPPED: qemu-system-x86_64 is not installed (apt-get install qemu-system-x86, or make deps)"
	exit 77
fi
out=$(mktemp -d "${TMPDIR:-/tmp}/vm-all.XXXXXX")
trap 'rm -rf "$out"' EXIT
# fetch both kernels first (apt-get must not run twice at once)
for series in 6.1 6.12; do
	"$here/kernels.sh" "$series" >/dev/null || {
		echo "vm: FAILED: could not fetch Debian 12's $series kernel" >&2
		exit 1
	}
done
pids=()
for series in 6.1 6.12; do
	bash "$here/vm_test.sh" "$series" "$build" >"$out/$series" 2>&1 &
	pids+=($!)
done
status=0 i=0
for series in 6.1 6.12; do
	wait "${pids[$i]}"
	rc=$?
	i=$((i + 1))
	echo "=== vm/$series (exit $rc)"
	cat "$out/$series"
	[ "$rc" -eq 0 ] || status=1
done
echo "=== vm summary"
grep -h -E '^vm: [0-9].*: .*runtime cases' "$out/6.1" "$out/6.12" | tee ${VM_SUMMARY:+"$VM_SUMMARY"}
exit $status
