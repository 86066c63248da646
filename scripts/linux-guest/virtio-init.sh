#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# /init of linux_virtio_rng (vsnixctl run --rng): the stock kernel finds
# vsnix's PCI host bridge and virtio-rng by itself, binds virtio_pci
# (MSI-X) and virtio_rng, and reads /dev/hwrng.
# "VSNIX-VIRTIO: PASS" or "FAIL <why>".
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
say() { echo "<2>VSNIX-VIRTIO: $*" >/dev/kmsg; }
fail=""
say boot
for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio-rng; do
	insmod /lib/modules/$m.ko 2>/dev/null || say "insmod $m failed"
done
sleep 1
for d in /sys/bus/pci/devices/*; do
	say "pci: ${d##*/} $(cat $d/vendor):$(cat $d/device) class $(cat $d/class) driver $(basename "$(readlink $d/driver 2>/dev/null)")"
done
rng=""
for d in /sys/bus/pci/devices/*; do
	[ "$(cat $d/vendor):$(cat $d/device)" = 0x1af4:0x1044 ] && rng=$d
done
[ -n "$rng" ] || fail="$fail no-virtio-rng-function"
[ -z "$rng" ] || [ "$(basename "$(readlink $rng/driver)")" = virtio-pci ] ||
	fail="$fail not-bound-to-virtio-pci"
cur=$(cat /sys/class/misc/hw_random/rng_current 2>/dev/null)
say "rng_current: $cur"
case "$cur" in virtio_rng*) ;; *) fail="$fail rng_current=$cur" ;; esac
n=$(dd if=/dev/hwrng bs=32 count=1 2>/dev/null | od -An -tx1 | tr -d ' \n')
say "hwrng: $n"
[ ${#n} = 64 ] || fail="$fail hwrng-read"
grep -E 'virtio|PCI-MSI' /proc/interrupts | while read -r l; do say "irq: $l"; done
grep -q 'PCI-MSI.*virtio' /proc/interrupts || fail="$fail no-msix-vector"
dmesg | grep -iE 'pci 0000|virtio' | while read -r l; do say "log: $l"; done
if [ -n "$fail" ]; then
	say "FAIL$fail"
	/bin/vsnix-exit 1
fi
say PASS
poweroff -f
/bin/vsnix-exit 3
