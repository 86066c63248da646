#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Runs inside the QEMU rig: Debian's stock kernel with the busybox
# initramfs of scripts/linux-guest, under vsnix (vsnixctl run --boot
# bzimage, and --boot pvh: the payload's ELF, unpacked by vsnixctl and
# taken from its cache) and under kvm_amd (qemu-system-x86_64 -accel kvm
# -kernel), interleaved. All are started through hostrun from the guest's
# /tmp (hostrun binds it); QEMU, its libraries and its three firmware files
# are copied there first, so it does not load them over 9p on every start.
# Each run ends with the guest's poweroff; its /init prints its uptime.
# Each run is killed after 300 s (FAILED). Per run, one "bench:" line:
#   init_s   from the start of the command to the /init line on the console
#            (everything: process start, vsnixctl's setup or QEMU's
#            firmware, the decompressor, the kernel's boot)
#   total_s  to the end of the command (the guest's poweroff included)
#   up_s     the guest's own uptime at /init (from its clock's start: no
#            decompressor, no firmware)
# and "median:" lines at the end. One cold PVH run (empty cache: vsnixctl
# unpacks the xz payload) comes first and is not in the medians.
#   linux-boot-in-rig.sh [RUNS] [CPUS]
runs=${1:-3}
cpus=${2:-1}
lg=/selftests/linux-guest
cmdline="console=ttyS0 quiet vsnix.cpus=$cpus vsnix.mem=256"
cache=/tmp/lb-cache
q=/tmp/q

cp $lg/vmlinuz $lg/initrd.cpio.gz "$(command -v vsnixctl)" /tmp/ || exit 1
hostrun modprobe kvm_amd || { echo "bench: kvm_amd not available"; exit 1; }
# QEMU in tmpfs, laid out as under /usr: it finds its data beside itself.
hostrun sh -c "mkdir -p $q/bin $q/lib $q/share/qemu $q/share/seabios &&
	cp /usr/bin/qemu-system-x86_64 $q/bin/ &&
	ldd /usr/bin/qemu-system-x86_64 | awk '/=> \\// { print \$3 }' | xargs cp -L -t $q/lib/ &&
	cp -L /usr/share/qemu/kvmvapic.bin /usr/share/qemu/linuxboot_dma.bin $q/share/qemu/ &&
	cp -L /usr/share/seabios/bios-256k.bin $q/share/seabios/" ||
	{ echo "bench: cannot copy QEMU to $q"; exit 1; }

now() { cut -d' ' -f1 /proc/uptime; }

# One run: "bench: LABEL init_s=.. total_s=.. up_s=..".
one() {
	local label=$1 t0 t1 ti up

	shift
	rm -f /tmp/lb-init
	t0=$(now)
	# The host's timeout(1), inside the chroot: a hung guest ends the run.
	hostrun timeout -s KILL 300 "$@" 2>&1 | while IFS= read -r l; do
		case "$l" in *"VSNIX-LINUX: up "*) now >/tmp/lb-init ;; esac
		printf '%s\n' "$l"
	done >/tmp/lb-out.txt
	t1=$(now)
	ti=$(cat /tmp/lb-init 2>/dev/null)
	up=$(sed -n 's/.*VSNIX-LINUX: up \([0-9.]*\) s.*/\1/p' /tmp/lb-out.txt)
	grep -q "VSNIX-LINUX: PASS" /tmp/lb-out.txt || { up=FAILED; cat /tmp/lb-out.txt; }
	echo "$t0 ${ti:-$t1} $t1" | awk -v l="$label" -v u="${up:-?}" \
		'{ printf "bench: %s init_s=%.2f total_s=%.2f up_s=%s\n", l, $2 - $1, $3 - $1, u }'
}

vsnix() {
	one "$1" env VSNIX_CACHE_DIR=$cache /tmp/vsnixctl run --boot "$2" \
		--kernel /tmp/vmlinuz --initrd /tmp/initrd.cpio.gz --mem 256M \
		--cpus "$cpus" --cmdline "$cmdline"
}

kvm() {
	one kvm env LD_LIBRARY_PATH=$q/lib $q/bin/qemu-system-x86_64 -accel kvm -cpu host \
		-m 256 -smp "$cpus" -nographic -no-reboot -nodefaults -serial stdio \
		-device isa-debug-exit,iobase=0xf4,iosize=4 \
		-kernel /tmp/vmlinuz -initrd /tmp/initrd.cpio.gz -append "$cmdline"
}

# What starting each costs through hostrun (nothing booted).
start() {
	local label=$1 t0 t1

	shift
	t0=$(now)
	hostrun "$@" >/dev/null 2>&1
	t1=$(now)
	echo "$t0 $t1" | awk -v l="$label" '{ printf "bench: %s start_s=%.2f\n", l, $2 - $1 }'
}

# The median of each label's values of each field.
median() {
	local v

	v=$(grep "^bench: $1 " /tmp/lb-all.txt | sed -n "s/.* $2=\([0-9.]*\).*/\1/p" | sort -n |
	    awk '{ a[NR] = $1 } END { if (NR) print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }')
	echo "median: $1 $2=${v:-?}"
}

{
	echo "bench: rig load $(cat /proc/loadavg)"
	rm -rf $cache
	vsnix pvh-cold pvh
	i=0
	while [ $i -lt "$runs" ]; do
		vsnix bzimage bzimage
		vsnix pvh pvh
		kvm
		start vsnix-start /tmp/vsnixctl help
		start kvm-start env LD_LIBRARY_PATH=$q/lib $q/bin/qemu-system-x86_64 -version
		i=$((i + 1))
	done
	echo "bench: rig load $(cat /proc/loadavg)"
	rm -rf $cache $q
} | tee /tmp/lb-all.txt
for f in init_s total_s up_s; do
	for l in bzimage pvh kvm; do
		median $l $f
	done
done
median vsnix-start start_s
median kvm-start start_s
