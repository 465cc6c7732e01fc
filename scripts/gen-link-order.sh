#!/usr/bin/env bash
# gen-link-order.sh: regenerate scripts/link-order.txt, the list of
# functions `trace` runs while it starts, compiles and runs typical
# scripts, which the link places next to each other
# (ld.lld --symbol-ordering-file; see CMakeLists.txt).
#
#   scripts/gen-link-order.sh [build/trace]     (as root: scripts load BPF)
#
# Each workload runs under valgrind's callgrind with mangled names; every
# function of the trace executable that ran at least once is listed, in
# the order callgrind first names it. The order file only moves code: a
# stale or incomplete list makes start-up slower, never wrong (lld ignores
# names it does not find). Rerun it after an LLVM upgrade or large
# changes to the compiler (docs/notes-llvm-libbpf.md, "Start-up").
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=$(realpath "${1:-$here/../build/trace}")
out=$here/link-order.txt
command -v valgrind >/dev/null || { echo "gen-link-order: valgrind is needed" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

workloads=(
	'--version'
	'-e BEGIN { exit(); }'
	'-e tracepoint:syscalls:sys_enter_openat { printf("%s %s\n", comm, str(args->filename)); } BEGIN { exit(); }'
	'-e tracepoint:syscalls:sys_enter_openat { @[comm] = count(); } BEGIN { exit(); }'
	'-e BEGIN { @h = hist(5); @l = lhist(3, 0, 10, 1); @s[1, "a"] = sum(3); @m = max(2); @a = avg(4); @st = stats(1); printf("%d %s %s\n", 1, "x", strftime("%H", nsecs)); time(); if (pid > 0) { @c[comm] = count(); } exit(); } END { print(@s); clear(@m); }'
	'-e interval:ms:10 { @[probe] = count(); $x = 1; while ($x < 4) { $x++; } exit(); } tracepoint:sched:sched_switch { @s[args->prev_comm] = count(); }'
)
i=0
for w in "${workloads[@]}"; do
	if [ "${w:0:3}" = "-e " ]; then
		args=(-e "${w:3}")
	else
		args=("$w")
	fi
	valgrind --tool=callgrind --demangle=no --callgrind-out-file="$tmp/cg.$i" \
		"$bin" "${args[@]}" >/dev/null 2>"$tmp/log.$i" ||
		{ echo "gen-link-order: workload $i failed: $(tail -3 "$tmp/log.$i")" >&2; exit 1; }
	i=$((i + 1))
done

# callgrind's format: "ob=(N) path" / "fn=(N) name" name an object or a
# function the first time and refer to it by (N) after; "cob="/"cfn=" are
# the callee's. Keep functions whose object is the trace executable.
python3 - "$bin" "$tmp"/cg.* >"$out" <<'PY'
import re, sys
binary, files = sys.argv[1], sys.argv[2:]
seen, order = set(), []
for path in files:
    fns, objs, ob, cob = {}, {}, None, None
    for line in open(path, errors="replace"):
        key, sep, val = line.rstrip("\n").partition("=")
        if not sep or key not in ("ob", "cob", "fn", "cfn"):
            continue
        m = re.match(r"\((\d+)\)(?: (.*))?$", val)
        if not m:
            continue
        ident, name = m.group(1), m.group(2)
        if key in ("ob", "cob"):
            if name is not None:
                objs[ident] = name
            if key == "ob":
                ob = objs.get(ident)
            else:
                cob = objs.get(ident)
            continue
        if name is not None:
            fns[ident] = name
        obj = ob if key == "fn" else cob
        if key == "fn":
            cob = None
        name = re.sub(r"'\d+$", "", fns.get(ident, ""))  # callgrind's recursion suffix
        if obj == binary and name and not name.startswith(("0x", "(")) and name not in seen:
            seen.add(name)
            order.append(name)
print("\n".join(order))
PY
echo "gen-link-order: $(wc -l <"$out") functions in $out"
