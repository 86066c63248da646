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
. /lib/guest-lib.sh
virtio_net_up 100 || say "netbench: no eth0"
ip link set lo up
ip link set eth0 up
ip addr add "$(arg vsnix.ip)" dev eth0
peer=$(arg vsnix.peer)
# The first ARP and the link's carrier: wait until the host answers.
ping -c 1 -W 5 "$peer" >/dev/null 2>&1
say "$(/bin/netbench client "$peer" 5201 "$(arg vsnix.secs)" 2>&1)"
# vsnix.diag=1 (NETBENCH_DIAG): what the guest's kernel chose on each side.
if [ "$(arg vsnix.diag)" = 1 ]; then
	say "guest-diag: clocksource $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
	say "guest-diag: flags $(sed -n 's/^flags[^:]*: //p' /proc/cpuinfo | head -n 1)"
	for v in /sys/devices/system/cpu/vulnerabilities/*; do
		say "guest-diag: vuln ${v##*/}: $(cat "$v")"
	done
	grep -E 'virtio|LOC|CAL|RES|TLB' /proc/interrupts | tr -s ' ' |
		while read -r line; do say "guest-diag: irq $line"; done
	dmesg | grep -iE 'clocksource|tsc:|x2apic|Hypervisor' |
		while read -r line; do say "guest-diag: dmesg $line"; done
fi
/bin/vsnix-exit 0
# QEMU (-no-reboot) ends at the ACPI power-off where the exit port did not.
poweroff -f
sleep 1000000
