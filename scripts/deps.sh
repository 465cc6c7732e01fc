#!/usr/bin/env bash
# deps.sh: install the Debian 12 packages trace builds and tests with.
# Quick when everything is there (dpkg only); apt-get update and install run
# only for what is missing. Needs root (or sudo) when something is missing.
set -euo pipefail

PACKAGES=(
	make cmake pkg-config gcc g++ clang libclang-rt-14-dev lld
	flex bison
	llvm-19-dev libclang-19-dev libbpf-dev libelf-dev libdw-dev zlib1g-dev libzstd-dev
	bpftool systemtap-sdt-dev
	qemu-system-x86 busybox-static kmod zstd cpio xz-utils
)

missing=()
for p in "${PACKAGES[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all ${#PACKAGES[@]} packages present"
	exit 0
fi

echo "deps: installing ${missing[*]}"
sudo=
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || { echo "deps: not root and no sudo; install: ${missing[*]}" >&2; exit 1; }
	sudo=sudo
fi
$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
