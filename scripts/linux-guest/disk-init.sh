#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# /init of the virtio-blk end-to-end test (selftests/virtio_blk_linux.c):
# the stock kernel's virtio_pci, virtio_blk and ext4 modules (the rig's
# own, listed in /lib/vsnix-modules), then by vsnix.disk=:
#   write:  mke2fs -t ext4 /dev/vda, vsnix.mb MiB of random data and its
#           sha256 on it, umount (journal and cache flushed), exit 0;
#   verify: mount it again (a new VM), check the sha256, exit 0.
# vsnix.second=1: a second disk (vsnixctl --disk PATH,ro,serial=S) is
# expected: its serial, read-only flag and a refused write are reported.
# vsnix.hvc=1: a line is written to /dev/hvc0 (vsnixctl --console virtio).
# Reports "VSNIX-DISK: ..." lines through /dev/kmsg (the kernel console).
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null

say() { echo "<2>VSNIX-DISK: $*" >/dev/kmsg; }
arg() { tr ' ' '\n' </proc/cmdline | sed -n "s/^$1=//p" | tail -n 1; }
fail() {
	say "FAIL $*"
	dmesg | tail -n 30 | while read -r l; do say "dmesg: $l"; done
	/bin/vsnix-exit 1
	sleep 1000000
}

for m in $(cat /lib/vsnix-modules); do
	# An accelerated crc32c may not fit the guest's CPU: the generic one does.
	insmod "/lib/vsnix-mod/$m" || case "$m" in
		crc32c-intel.ko) ;;
		*) fail "insmod $m" ;;
	esac
done
i=0
while [ ! -b /dev/vda ] && [ $i -lt 200 ]; do
	sleep 0.1
	i=$((i + 1))
done
[ -b /dev/vda ] || fail "no /dev/vda"
say "vda serial=$(cat /sys/block/vda/serial 2>/dev/null) queues=$(ls /sys/block/vda/mq | wc -l) sectors=$(cat /sys/block/vda/size)"
if [ "$(arg vsnix.second)" = 1 ]; then
	[ -b /dev/vdb ] || fail "no /dev/vdb"
	# busybox dd: the write must fail on a read-only disk (EPERM).
	w=done
	dd if=/dev/zero of=/dev/vdb bs=512 count=1 conv=fsync 2>/dev/null || w=refused
	say "vdb serial=$(cat /sys/block/vdb/serial 2>/dev/null) ro=$(cat /sys/block/vdb/ro) write=$w"
fi
if [ "$(arg vsnix.hvc)" = 1 ]; then
	i=0
	while [ ! -c /dev/hvc0 ] && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	echo "VSNIX-HVC: hello over virtio-console" >/dev/hvc0 || fail "no /dev/hvc0"
fi
mb=$(arg vsnix.mb)
mb=${mb:-64}
case "$(arg vsnix.disk)" in
write)
	ln -sf /proc/mounts /etc/mtab
	out=$(/sbin/mke2fs -q -F -t ext4 /dev/vda 2>&1) || fail "mke2fs: $out"
	mkdir -p /mnt
	out=$(mount -t ext4 /dev/vda /mnt 2>&1) || fail "mount: $out"
	dd if=/dev/urandom of=/mnt/data bs=1M count="$mb" 2>/dev/null || fail "write"
	sum=$(sha256sum /mnt/data | cut -d' ' -f1)
	echo "$sum" >/mnt/sum
	umount /mnt || fail "umount"
	say "WRITE-OK $sum"
	;;
verify)
	mkdir -p /mnt
	out=$(mount -t ext4 -o ro /dev/vda /mnt 2>&1) || fail "mount: $out"
	sum=$(sha256sum /mnt/data | cut -d' ' -f1)
	[ "$sum" = "$(cat /mnt/sum)" ] || fail "checksum $sum, expected $(cat /mnt/sum)"
	umount /mnt
	say "VERIFY-OK $sum"
	;;
*)
	fail "vsnix.disk=write|verify"
	;;
esac
/bin/vsnix-exit 0
say "FAIL no way to power off"
sleep 1000000
