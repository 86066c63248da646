#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# /init of the Linux-guest network test (selftests/linux_net): loads the
# virtio-net driver of the stock kernel, gets its address by DHCP (busybox
# udhcpc, from the host's dnsmasq on the tap), pings the DHCP server P,
# downloads a file over TCP from P:5002 and sends it back to P:5001, then
# powers off through the exit port.
# Prints "VSNIX-NET: ..." lines on the console (through /dev/kmsg).
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null

say() { echo "<2>VSNIX-NET: $*" >/dev/kmsg; }
fail=""
. /lib/guest-lib.sh
virtio_net_up 50 || fail="$fail no-eth0"
say "eth0 $(cat /sys/class/net/eth0/address 2>/dev/null) queues $(ls /sys/class/net/eth0/queues 2>/dev/null | tr '\n' ' ')"
ip link set lo up
ip link set eth0 up
# busybox's udhcpc runs this script with the lease in its environment
# ($ip, $mask in bits, $serverid); -n: give up rather than go on without.
cat >/tmp/dhcp.sh <<'EOF'
#!/bin/sh
[ "$1" = bound ] || exit 0
ip addr add "$ip/$mask" dev "$interface"
echo "$ip/$mask $serverid" >/tmp/lease
EOF
chmod 755 /tmp/dhcp.sh
t0=$(cut -d' ' -f1 /proc/uptime)
udhcpc -i eth0 -f -q -n -t 30 -T 2 -s /tmp/dhcp.sh >/tmp/dhcp 2>&1 ||
	fail="$fail dhcp"
read -r addr peer </tmp/lease 2>/dev/null
say "dhcp $addr from ${peer:-none} mac $(cat /sys/class/net/eth0/address 2>/dev/null) in $(awk -v t0="$t0" '{ printf "%.2f", $1 - t0 }' /proc/uptime) s, $(grep -c 'broadcasting discover' /tmp/dhcp) discover(s)"
[ -n "$peer" ] || say "udhcpc: $(tail -n 3 /tmp/dhcp | tr '\n' ' ')"
if ping -c 3 -W 5 "$peer" >/tmp/ping 2>&1; then
	say "ping ok $(grep -c 'bytes from' /tmp/ping)"
else
	fail="$fail ping"
	say "ping: $(tail -n 2 /tmp/ping | tr '\n' ' ')"
fi
nc "$peer" 5002 >/tmp/d 2>/dev/null
say "download $(wc -c </tmp/d) bytes md5 $(md5sum </tmp/d | cut -d' ' -f1)"
nc "$peer" 5001 </tmp/d >/dev/null 2>&1
say "upload done"
if [ -z "$fail" ]; then
	say PASS
	status=0
else
	say "FAIL$fail"
	status=1
fi
/bin/vsnix-exit "$status"
sleep 1000000
