#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Runs inside the QEMU rig: Debian's stock kernel with the busybox
# initramfs of scripts/linux-guest, under vsnix (vsnixctl run) and under
# kvm_amd (qemu-system-x86_64 -accel kvm -kernel), interleaved. Both are
# started the same way, through hostrun, from the guest's /tmp (hostrun
# binds it). Each run ends with the guest's poweroff; its /init prints its
# uptime at /init. Prints one "bench:" line per run.
#   linux-boot-in-rig.sh [RUNS] [CPUS]
runs=${1:-3}
cpus=${2:-1}
lg=/selftests/linux-guest
cmdline="console=ttyS0 quiet vsnix.cpus=$cpus vsnix.mem=256"

cp $lg/vmlinuz $lg/initrd.cpio.gz "$(command -v vsnixctl)" /tmp/ || exit 1
hostrun modprobe kvm_amd || { echo "bench: kvm_amd not available"; exit 1; }

# One run: "<wall s> <guest uptime at /init>".
one() {
	local t0 t1 up

	t0=$(cut -d' ' -f1 /proc/uptime)
	hostrun "$@" >/tmp/lb-out.txt 2>&1
	t1=$(cut -d' ' -f1 /proc/uptime)
	up=$(sed -n 's/.*VSNIX-LINUX: up \([0-9.]*\) s.*/\1/p' /tmp/lb-out.txt)
	grep -q "VSNIX-LINUX: PASS" /tmp/lb-out.txt || up="FAILED"
	echo "$t0 $t1 ${up:-?}" | awk '{ printf "%.2f %s", $2 - $1, $3 }'
}

# What starting each costs through hostrun (QEMU loads its shared
# libraries over 9p; vsnixctl is static): subtract it from the run.
start() {
	local t0 t1

	t0=$(cut -d' ' -f1 /proc/uptime)
	hostrun "$@" >/dev/null 2>&1
	t1=$(cut -d' ' -f1 /proc/uptime)
	echo "$t0 $t1" | awk '{ printf "%.2f", $2 - $1 }'
}

i=0
while [ $i -lt "$runs" ]; do
	echo "bench: vsnix wall_s/guest_up_s $(one /tmp/vsnixctl run --kernel /tmp/vmlinuz \
		--initrd /tmp/initrd.cpio.gz --mem 256M --cpus "$cpus" --cmdline "$cmdline")"
	echo "bench: kvm wall_s/guest_up_s $(one qemu-system-x86_64 -accel kvm -cpu host \
		-m 256 -smp "$cpus" -nographic -no-reboot -nodefaults -serial stdio \
		-device isa-debug-exit,iobase=0xf4,iosize=4 \
		-kernel /tmp/vmlinuz -initrd /tmp/initrd.cpio.gz -append "$cmdline")"
	echo "bench: vsnix start_s $(start /tmp/vsnixctl help)"
	echo "bench: kvm start_s $(start qemu-system-x86_64 -version)"
	i=$((i + 1))
done
