#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# /init of `make demo`'s Linux VM: the stock kernel's virtio_pci,
# virtio_blk and ext4 modules, then the root disk (/dev/vda, virtio-blk)
# mounted read-write and its /etc/rc.demo run there; power off with the
# exit port (vsnix-exit), status 0 when rc.demo succeeded.
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null

fail() {
	echo "demo-init: $*"
	/bin/vsnix-exit 1
}

for m in $(cat /lib/vsnix-modules); do
	# An accelerated crc32c may not fit the guest's CPU: the generic one does.
	insmod "/lib/vsnix-mod/$m" 2>/dev/null || case "$m" in
		crc32c-intel.ko) ;;
		*) fail "insmod $m" ;;
	esac
done
i=0
while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
[ -b /dev/vda ] || fail "no /dev/vda (virtio-blk)"
mkdir -p /root
mount -t ext4 /dev/vda /root 2>/dev/null || fail "cannot mount /dev/vda"
mount --bind /proc /root/proc
chroot /root /etc/rc.demo
rc=$?
umount /root/proc
umount /root || fail "cannot unmount /dev/vda"
/bin/vsnix-exit $rc
