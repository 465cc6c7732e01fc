#!/usr/bin/env bash
# vm_test.sh SERIES BUILD_DIR: the ctest vm/6.1 and vm/6.12 tests. Fetches
# Debian 12's newest kernel of SERIES (tests/vm/kernels.sh), boots it
# (tests/vm/vmrun.sh) and runs tests/vm/guest_suite.sh inside it.
# Exit status: 0 all passed; 77 (ctest SKIP_RETURN_CODE) when
# qemu-system-x86_64 is not installed, said so on stdout; 1 when a case
# failed, the kernel could not be fetched or the VM failed (CI must not
# skip any of those). TRACE_VM_TIMEOUT bounds the guest (default 1500 s).
set -uo pipefail

[ $# -eq 2 ] || { echo "usage: $0 6.1|6.12 BUILD_DIR" >&2; exit 2; }
series=$1
build=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

if ! command -v qemu-system-x86_64 >/dev/null; then
	echo "vm/$series: SKIPPED: qemu-system-x86_64 is not installed (apt-get install qemu-system-x86, or make deps)"
	exit 77
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "vm/$series: FAILED: needs root (apt-get download into the cache, BPF in the guest)" >&2
	exit 1
fi
vmlinuz=$("$here/kernels.sh" "$series") || {
	echo "vm/$series: FAILED: could not fetch Debian 12's $series kernel (see above)" >&2
	exit 1
}
# Both kernels verify the same 300 generated programs (seeds 1-300) and
# run 10 of them: the 6.1 and 6.12 verifiers see every program.
export TRACE_VM_GEN_FIRST=${TRACE_VM_GEN_FIRST:-1}
echo "vm/$series: booting $vmlinuz"
cd "$root" || exit 1
start=$SECONDS
"$here/vmrun.sh" --timeout "${TRACE_VM_TIMEOUT:-1500}" "$vmlinuz" -- "$here/guest_suite.sh" "$build"
status=$?
echo "vm/$series: guest exit status $status after $((SECONDS - start)) s"
case $status in
0) exit 0 ;;
124) echo "vm/$series: FAILED: the guest timed out" >&2 ;;
125) echo "vm/$series: FAILED: the VM did not come up or crashed" >&2 ;;
*) echo "vm/$series: FAILED: cases failed in the guest (above)" >&2 ;;
esac
exit 1
