#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# /init of the network benchmark guest (net-bench.sh), the same under
# vsnix and under QEMU/KVM with vhost-net: the stock virtio-net modules,
# the address vsnix.ip=A/N, then netbench against vsnix.peer for
# vsnix.secs seconds per measurement; a "netbench:" line on the console.
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
say() { echo "<2>$*" >/dev/kmsg; }
arg() { tr ' ' '\n' </proc/cmdline | sed -n "s/^$1=//p" | tail -n 1; }
for m in virtio_ring virtio failover net_failover virtio_net \
	 virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci; do
	insmod /lib/modules/$m.ko 2>/dev/null
done
i=0
while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
ip link set lo up
ip link set eth0 up
ip addr add "$(arg vsnix.ip)" dev eth0
peer=$(arg vsnix.peer)
# The first ARP and the link's carrier: wait until the host answers.
ping -c 1 -W 5 "$peer" >/dev/null 2>&1
say "$(/bin/netbench client "$peer" 5201 "$(arg vsnix.secs)" 2>&1)"
/bin/vsnix-exit 0
# QEMU (-no-reboot) ends at the ACPI power-off where the exit port did not.
poweroff -f
sleep 1000000
