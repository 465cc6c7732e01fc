#!/usr/bin/env bash
# btf_expect.sh WHAT ARGS: expected values for tests/runtime/btf.test, read
# from the running kernel's BTF with bpftool (independently of trace):
#   size STRUCT            sizeof(struct STRUCT)
#   offset STRUCT MEMBER   offsetof(struct STRUCT, MEMBER) (a direct member)
#   enum NAME              the value of enumerator NAME
set -euo pipefail
BTF=${TRACE_BTF:-/sys/kernel/btf/vmlinux}
# BTF_DUMP: a file holding that dump already (a case asking many questions)
dump() {
	if [ -n "${BTF_DUMP:-}" ]; then cat "$BTF_DUMP"; else "${BPFTOOL:-bpftool}" btf dump file "$BTF" format raw; fi
}
case $1 in
size)
	dump | sed -n "s/^\[[0-9]*\] STRUCT '$2' size=\([0-9]*\) .*/\1/p" | head -1 ;;
offset)
	dump | awk -v s="'$2'" -v m="'$3'" '
		/^\[/ { in_s = ($2 == "STRUCT" && $3 == s); next }
		in_s && $1 == m { for (i = 2; i <= NF; i++) if ($i ~ /^bits_offset=/) {
			sub(/bits_offset=/, "", $i); print $i / 8; exit } }' ;;
enum)
	dump | sed -n "s/^[[:space:]]*'$2' val=\(-\?[0-9]*\)$/\1/p" | head -1 ;;
*)
	echo "usage: $0 size|offset|enum ..." >&2; exit 2 ;;
esac
