#!/usr/bin/env bash
# vmrun.sh [--timeout SEC] [--mem SIZE] [--smp N] VMLINUZ -- COMMAND...
#
# Boots VMLINUZ (from an unpacked linux-image .deb: tests/vm/kernels.sh) in
# qemu and runs COMMAND in it as root, in the current directory, with the
# caller's environment. The guest's / is this machine's / over 9p, read-only,
# under a tmpfs overlay: it sees this checkout and its build, and whatever it
# writes is gone when it powers off. COMMAND's stdout and stderr are streamed
# here as they come; the exit status is COMMAND's, or 124 when the guest was
# still running after SEC seconds (default 600), or 125 when the VM itself
# failed (no status came back; the console's tail is printed).
#
# How, and why:
#  - TCG, not KVM: on the development machine /dev/kvm exists but qemu with
#    KVM aborts ("failed to set MSR 0x10a"). TRACE_VM_ACCEL=kvm tries it.
#  - The kernel boots as the uncompressed ELF vmlinux through PVH, skipping
#    the firmware and the in-guest decompression (4-9 s under TCG). The
#    vmlinux is cut out of the bzImage once and kept in
#    ${TRACE_VM_CACHE:-/var/cache/trace-vm}/vmlinux-VERSION.
#  - Modules come from DIR/lib/modules/VERSION for VMLINUZ=DIR/boot/vmlinuz-
#    VERSION: those for a 9p/overlay root go into a busybox initramfs built
#    here; the rest are bind-mounted for modprobe in the guest.
#  - User-space ASLR is off in the guest: QEMU 7.2's TCG translates shared
#    library code again for each new load address, and exec-heavy scripts
#    run about 2.5 times faster without it.
# Needs qemu-system-x86, busybox-static, kmod, zstd, xz-utils, cpio
# (scripts/deps.sh). One vCPU by default (TRACE_VM_SMP): under TCG with two,
# a probe attached while the other vCPU ran the patched function crashed
# 6.12 (RIP in the middle of vfs_read's ftrace nop) and once hung 6.1; and
# one vCPU each lets the two kernels' suites run side by side on a 2-core
# host. `no_timer_check`: a loaded host once made 6.12 panic at boot with
# "IO-APIC + timer doesn't work".
# Environment: TRACE_VM_APPEND (more kernel arguments),
# TRACE_VM_CONSOLE=1 (the guest console to stderr afterwards),
# TRACE_VM_KEEP=1 (keep the work directory).
set -euo pipefail

usage() {
	echo "usage: $0 [--timeout SEC] [--mem SIZE] [--smp N] VMLINUZ -- COMMAND..." >&2
	exit 125
}
die() {
	echo "vmrun: $*" >&2
	exit 125
}

timeout=600 mem=2G smp=${TRACE_VM_SMP:-1} kernel=
while [ $# -gt 0 ]; do
	case $1 in
	--timeout) timeout=$2; shift 2 ;;
	--mem) mem=$2; shift 2 ;;
	--smp) smp=$2; shift 2 ;;
	--) shift; break ;;
	-*) usage ;;
	*) [ -z "$kernel" ] || usage; kernel=$1; shift ;;
	esac
done
[ -n "$kernel" ] && [ $# -gt 0 ] || usage
[ -f "$kernel" ] || die "$kernel: no such kernel image"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)"
[ -x /bin/busybox ] || die "/bin/busybox is missing (apt-get install busybox-static)"

kernel=$(readlink -f "$kernel")
ver=${kernel##*/vmlinuz-}
base=$(readlink -f "$(dirname "$kernel")/..")
moddir=$base/lib/modules/$ver
[ -d "$moddir" ] || die "$moddir is missing: VMLINUZ must be DIR/boot/vmlinuz-VERSION of an unpacked linux-image package"
[ -e "$moddir/modules.dep" ] || depmod -b "$base" "$ver" || die "depmod -b $base $ver failed"
cache=${TRACE_VM_CACHE:-/var/cache/trace-vm}
trap 'exit 125' ERR # any other setup failure is the VM's, not COMMAND's

# --- the kernel: the ELF vmlinux inside the bzImage, booted through PVH ------

# extract_vmlinux OUT MAGIC DECOMPRESSOR...: decompress the payload of the
# bzImage that starts at MAGIC; OUT is written only if it is an ELF file.
extract_vmlinux() {
	local out=$1 magic=$2 off
	shift 2
	off=$(LC_ALL=C grep -abo -m1 "$magic" "$kernel") || return 0
	tail -c +$((${off%%:*} + 1)) "$kernel" | "$@" >"$out.$$" 2>/dev/null || true
	if [ "$(head -c 4 "$out.$$")" = $'\x7fELF' ]; then
		mv "$out.$$" "$out"
	else
		rm -f "$out.$$"
	fi
}

boot=$kernel
vmlinux=$cache/vmlinux-$ver
if [ ! -s "$vmlinux" ] && grep -q '^CONFIG_PVH=y' "$base/boot/config-$ver" 2>/dev/null; then
	mkdir -p "$cache"
	extract_vmlinux "$vmlinux" $'\xfd7zXZ' xz -dcq --single-stream
	[ -s "$vmlinux" ] || extract_vmlinux "$vmlinux" $'\x28\xb5\x2f\xfd' zstd -dcq
fi
[ -s "$vmlinux" ] && boot=$vmlinux

work=$(mktemp -d "${TMPDIR:-/tmp}/vmrun.XXXXXX")
qemu_pid='' tail_pids=()
cleanup() {
	[ -z "$qemu_pid" ] || kill "$qemu_pid" 2>/dev/null || true
	[ ${#tail_pids[@]} -eq 0 ] || kill "${tail_pids[@]}" 2>/dev/null || true
	[ "${TRACE_VM_KEEP:-0}" = 1 ] || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 143' INT TERM

# --- initramfs: static busybox and the modules of a 9p/overlay root ----------

# The module files for a 9p root and an overlay, in load order (modprobe
# prints "builtin NAME" for what the kernel has built in; skipped).
root_modules() {
	local m
	for m in virtio_pci 9pnet_virtio 9p overlay; do
		modprobe -d "$base" -S "$ver" --show-depends "$m"
	done | awk '$1 == "insmod" && !seen[$2]++ { print $2 }'
}

make_initramfs() {
	local r=$work/initramfs i=10 f
	mkdir -p "$r"/{bin,m,proc,sys,dev}
	cp /bin/busybox "$r/bin/"
	while read -r f; do
		case $f in
		*.xz) xz -dc "$f" ;;
		*.zst) zstd -qdc "$f" ;;
		*.gz) gzip -dc "$f" ;;
		*) cat "$f" ;;
		esac >"$r/m/$i-$(basename "${f%.ko*}").ko"
		i=$((i + 1))
	done < <(root_modules)
	# vmrun.dir, vmrun.ver and vmrun.moddir come on the kernel command line.
	cat >"$r/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for f in /m/*.ko; do insmod "$f"; done
for a in $(cat /proc/cmdline); do
	case $a in vmrun.*=*) a=${a#vmrun.}; eval "${a%%=*}='${a#*=}'" ;; esac
done
o=trans=virtio,version=9p2000.L,msize=512000
mkdir -p /lower /rw /root
mount -t 9p -o $o,ro,cache=loose hostroot /lower
mount -t tmpfs -o mode=755 tmpfs /rw
mkdir /rw/u /rw/w
mount -t overlay -o lowerdir=/lower,upperdir=/rw/u,workdir=/rw/w overlay /root
mount -t 9p -o $o vmrun /root$dir
cd /root
mount -t proc proc proc
mount -t sysfs sys sys
mount -t devtmpfs dev dev
mkdir -p dev/pts dev/shm
ln -sf /proc/self/fd dev/fd
ln -sf /proc/self/fd/0 dev/stdin
ln -sf /proc/self/fd/1 dev/stdout
ln -sf /proc/self/fd/2 dev/stderr
mount -t devpts devpts dev/pts
mount -t tmpfs tmpfs dev/shm
mount -t tmpfs tmpfs run
mount -t cgroup2 cgroup2 sys/fs/cgroup
mount -t bpf bpf sys/fs/bpf
mount -t debugfs debugfs sys/kernel/debug
mount -t tracefs tracefs sys/kernel/tracing
mkdir -p lib/modules/$ver
mount --bind /root$moddir lib/modules/$ver
ip link set lo up
hostname vmrun
echo 0 >proc/sys/kernel/randomize_va_space
chroot /root /bin/bash $dir/cmd </dev/null >>/root$dir/out 2>>/root$dir/err
echo $? >/root$dir/rc
sync
poweroff -f
EOF
	chmod +x "$r/init"
	(cd "$r" && find . | busybox cpio -o -H newc -R 0:0 2>/dev/null | gzip -1) >"$work/initrd"
}

# The command, run by bash in the guest with the caller's environment and cwd.
make_cmd() {
	local v
	for v in $(compgen -e); do
		case $v in BASH* | SHLVL | PWD | OLDPWD | _) ;; *) printf 'export %s=%q\n' "$v" "${!v}" ;; esac
	done
	printf 'cd %q || exit 125\nexec' "$PWD"
	printf ' %q' "$@"
	echo
}

make_initramfs || die "building the initramfs failed"
make_cmd "$@" >"$work/cmd"
: >"$work/out"
: >"$work/err"

# --- boot ---------------------------------------------------------------------

accel=${TRACE_VM_ACCEL:-tcg,thread=multi}
timeout -k 5 "$timeout" qemu-system-x86_64 -nodefaults -no-user-config -display none -no-reboot \
	-accel "$accel" -cpu max -smp "$smp" -m "$mem" -kernel "$boot" -initrd "$work/initrd" \
	-append "console=ttyS0 quiet panic=-1 random.trust_cpu=on no_timer_check vmrun.dir=$work vmrun.ver=$ver vmrun.moddir=$moddir ${TRACE_VM_APPEND:-}" \
	-serial file:"$work/console" -monitor none \
	-fsdev local,id=r,path=/,security_model=none,readonly=on,multidevs=remap \
	-device virtio-9p-pci,fsdev=r,mount_tag=hostroot \
	-fsdev local,id=w,path="$work",security_model=none \
	-device virtio-9p-pci,fsdev=w,mount_tag=vmrun </dev/null >"$work/qemu.log" 2>&1 &
qemu_pid=$!
# The guest appends to out and err over 9p; tail ends once qemu has gone and
# it has read the rest.
tail -n +1 -f --pid="$qemu_pid" "$work/out" &
tail_pids+=($!)
tail -n +1 -f --pid="$qemu_pid" "$work/err" >&2 &
tail_pids+=($!)
rc=0
wait "$qemu_pid" || rc=$?
qemu_pid=
wait "${tail_pids[@]}" 2>/dev/null || true
tail_pids=()

[ "${TRACE_VM_CONSOLE:-0}" = 1 ] && cat "$work/console" >&2
if [ -s "$work/rc" ]; then
	exit "$(cat "$work/rc")"
fi
if [ "$rc" -eq 124 ]; then
	echo "vmrun: timed out after ${timeout}s" >&2
else
	rc=125
fi
echo "vmrun: no exit status from the guest; console and qemu log tail:" >&2
tail -n 20 "$work/console" "$work/qemu.log" >&2
exit "$rc"
