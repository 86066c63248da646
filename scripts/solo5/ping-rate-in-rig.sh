#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Inside the rig (scripts/solo5/ping-rate.sh): ROUNDS x (vsnixctl, then
# solo5-hvt on KVM) running test_net.hvt on tap100 while the host side
# flood-pings it for SECONDS; one "PINGRATE" line per run.
rounds=${1:-2} secs=${2:-20}
cp /data/solo5-hvt /data/test_net.hvt /tmp/
hostrun /usr/sbin/modprobe tun </dev/null
hostrun /usr/sbin/ip tuntap add tap100 mode tap </dev/null
hostrun /usr/sbin/ip link set dev tap100 up </dev/null
hostrun /usr/sbin/ip addr add 10.0.0.1/24 dev tap100 </dev/null

# flood WHO PID PATTERN: the replies in SECS seconds, then the guest is stopped.
flood() {
	sleep 2
	hostrun /usr/bin/timeout -s INT "$secs" /usr/bin/ping -fq -c 1000000 10.0.0.2 \
		</dev/null >/tmp/ping.out 2>&1
	n=$(sed -n 's/.* transmitted, \([0-9]*\) received.*/\1/p' /tmp/ping.out)
	# A guest that ended early (its tender failed) must not count. The
	# pattern is a regex that does not match itself (hostrun's own shell).
	# host's pgrep/pkill: hostrun's chroot child outlives its shell.
	if hostrun /usr/bin/pgrep -f "$3" </dev/null >/dev/null; then
		echo "PINGRATE $1: ${n:-0} replies in $secs s: $(( ${n:-0} / secs ))/s"
	else
		echo "PINGRATE $1: the tender ended before the pings did: no result"
	fi
	hostrun /usr/bin/pkill -f "$3" </dev/null
	wait "$2"
}

i=0
while [ "$i" -lt "$rounds" ]; do
	lsmod | grep -q '^vsnix ' || insmod /lib/vsnix/vsnix.ko
	vsnixctl run --kernel /tmp/test_net.hvt --mem 64M --net service0=tap100 \
		--cmdline limit </dev/null >/dev/null 2>&1 &
	flood vsnixctl $! "[v]snixctl run"
	rmmod vsnix
	hostrun /usr/sbin/modprobe kvm_amd </dev/null
	hostrun /tmp/solo5-hvt --mem=64 --net:service0=tap100 -- /tmp/test_net.hvt limit \
		</dev/null >/dev/null 2>&1 &
	flood solo5-hvt/KVM $! "/tmp/[s]olo5-hvt"
	hostrun /usr/sbin/rmmod kvm_amd </dev/null
	hostrun /usr/sbin/rmmod kvm </dev/null
	i=$((i + 1))
done
