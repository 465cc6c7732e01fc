#!/usr/bin/env bash
# build.sh OUTDIR: compile the hand-written BPF objects (clang -O2 -target
# bpf -g, libbpf-dev's headers, no vmlinux.h) and the loader into OUTDIR.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: build.sh OUTDIR}
mkdir -p "$out"
clang=${BPF_CLANG:-clang}
newest=$(ls -t "$here"/*.c "$here"/*.h | head -1)
for src in "$here"/*.bpf.c; do
	obj=$out/$(basename "${src%.c}").o
	if [ ! -e "$obj" ] || [ "$newest" -nt "$obj" ]; then
		"$clang" -O2 -g -target bpf -D__TARGET_ARCH_x86 -I/usr/include/x86_64-linux-gnu \
			-Wall -Werror -c "$src" -o "$obj"
	fi
done
if [ ! -e "$out/loader" ] || [ "$newest" -nt "$out/loader" ]; then
	${CC:-cc} -O2 -g -Wall -Wextra -Werror -o "$out/loader" "$here/loader.c" -lbpf -lpthread
fi
