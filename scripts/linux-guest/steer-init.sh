#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# /init of the two VMs of selftests/net_steer_vms: loads the stock
# virtio-net driver and runs steer-recv on eth0 (no address: it reads every
# frame the NIC gets, from a packet socket), which reports what arrived
# ("VSNIX-STEER: got N: ..."); then powers off through the exit port.
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null

say() { echo "<2>VSNIX-STEER: $*" >/dev/kmsg; }
. /lib/guest-lib.sh
virtio_net_up 100 || say "no eth0"
# The guest's own IPv6 frames (router solicitations) would go out to the
# host's tap: nothing to do with what this guest receives, but quiet.
echo 1 >/proc/sys/net/ipv6/conf/default/disable_ipv6
echo 1 >/proc/sys/net/ipv6/conf/eth0/disable_ipv6 2>/dev/null
ip link set eth0 up
say "eth0 $(cat /sys/class/net/eth0/address 2>/dev/null) up"
/bin/steer-recv eth0
status=$?
say "steer-recv exit $status"
/bin/vsnix-exit "$status"
sleep 1000000
