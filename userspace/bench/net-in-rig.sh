#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Runs inside the QEMU rig (see net-bench.sh): the same Linux guest (1
# vCPU, 256 MiB, one queue pair) and netbench against the same server on
# the same tap (vsb0, IFF_VNET_HDR, 10.98.0.1/24 on the rig's side) under
# vsnix (vsnixctl run --net tap=vsb0, in-kernel virtio-net) and under
# QEMU/KVM (virtio-net-pci on -netdev tap,vhost=on: vhost-net),
# interleaved, ABBA order per round. Both are started through hostrun from
# the guest's /tmp (QEMU and its libraries copied there first, as in
# linux-boot-in-rig.sh); each run is killed after 300 s. Prints a
# "bench:" line per run and "median:" lines at the end. With
# build/bench/vsnix-before.ko (net-bench.sh's NETBENCH_BEFORE), each round
# also runs vsnix with that module ("before"), the three in an order that
# turns over from round to round.
#   net-in-rig.sh REPO_IN_RIG REPO_ON_HOST [RUNS] [SECONDS]
repo=$1
runs=${3:-5}
secs=${4:-5}
b=$repo/build/bench
tap=vsb0
mac=02:5e:00:00:0c:01
cmdline="console=ttyS0 quiet panic=-1 vsnix.ip=10.98.0.2/24 vsnix.peer=10.98.0.1 vsnix.secs=$secs"
[ -n "$NETBENCH_DIAG" ] && cmdline="$cmdline vsnix.diag=1"
q=/tmp/q

cp "$b/vmlinuz" "$b/net-initrd.cpio.gz" "$b/netbench" "$(command -v vsnixctl)" /tmp/ || exit 1
hostrun modprobe tun
hostrun modprobe vhost_net || { echo "bench: no vhost_net module"; exit 1; }
[ -c /dev/vhost-net ] || { echo "bench: no /dev/vhost-net"; exit 1; }
echo "bench: vhost_net $(grep -c '^vhost_net ' /proc/modules) /dev/vhost-net $(ls -l /dev/vhost-net | cut -c1)"
hostrun sh -c "/bin/ip tuntap add dev $tap mode tap vnet_hdr && /bin/ip addr add 10.98.0.1/24 dev $tap &&
	/bin/ip link set $tap up" || { echo "bench: cannot make the tap"; exit 1; }
hostrun sh -c "mkdir -p $q/bin $q/lib $q/share/qemu $q/share/seabios &&
	cp /usr/bin/qemu-system-x86_64 $q/bin/ &&
	ldd /usr/bin/qemu-system-x86_64 | awk '/=> \\// { print \$3 }' | xargs cp -L -t $q/lib/ &&
	cp -L /usr/share/qemu/kvmvapic.bin /usr/share/qemu/linuxboot_dma.bin $q/share/qemu/ &&
	cp -L /usr/share/seabios/bios-256k.bin $q/share/seabios/" ||
	{ echo "bench: cannot copy QEMU to $q"; exit 1; }
/tmp/netbench server 5201 &
srv=$!

# One run: "bench: LABEL run=N tx_mbit=.. rx_mbit=.. rr_per_s=..".
one() {
	local label=$1 run=$2 l

	shift 2
	[ -n "$NETBENCH_DIAG" ] && diag_start "$label"
	l=$(hostrun timeout -s KILL 300 "$@" 2>&1 | tee /tmp/nb-out.txt |
		sed -n 's/.*netbench: \(tx_mbit=.*\)/\1/p' | tail -n 1)
	[ -n "$NETBENCH_DIAG" ] && diag_stop "$label"
	[ -n "$NETBENCH_DIAG" ] && sed -n "s/.*guest-diag: /diag: $label guest /p" /tmp/nb-out.txt
	[ -n "$l" ] || { l=FAILED; tail -n 20 /tmp/nb-out.txt; }
	echo "bench: $label run=$run $l"
}

# NETBENCH_DIAG=1: where the time goes. Every 3 s while a guest runs, the
# rig's busiest threads, then the VM's exit rates (vsnix) or KVM's exit
# counters so far (debugfs, summed over its live VMs).
diag_start() {
	mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
	(while :; do
		sleep 3
		top -b -n 1 | sed -n '4,10p' | sed "s/^/diag: $1 top /"
		if [ "$1" = vsnix ]; then
			vsnixctl top --once --interval 2 2>&1 | sed "s/^/diag: $1 /"
		else
			for f in exits io_exits mmio_exits irq_exits irq_injections \
				 halt_exits halt_wakeup; do
				echo "diag: vhost kvm $f $(cat /sys/kernel/debug/kvm/$f 2>/dev/null)"
			done
		fi
	done) &
	diag_pid=$!
}

diag_stop() {
	kill $diag_pid 2>/dev/null
	wait $diag_pid 2>/dev/null
}

vsnix() {
	one "${2:-vsnix}" "$1" /tmp/vsnixctl run --kernel /tmp/vmlinuz --initrd /tmp/net-initrd.cpio.gz \
		--mem 256M --cpus 1 --net "tap=$tap,mac=$mac" --cmdline "$cmdline"
}

# vsnix on the "before" module, then the rig's own again.
before() {
	rmmod vsnix && insmod "$b/vsnix-before.ko" || { echo "bench: cannot load vsnix-before.ko"; return; }
	vsnix "$1" before
	rmmod vsnix
	insmod /lib/vsnix/vsnix.ko || echo "bench: cannot load vsnix.ko again"
}

kvm() {
	hostrun modprobe kvm_amd || { echo "bench: no kvm_amd"; return; }
	one vhost "$1" env LD_LIBRARY_PATH=$q/lib $q/bin/qemu-system-x86_64 -accel kvm \
		-cpu host -m 256 -smp 1 -nographic -no-reboot -nodefaults -serial stdio \
		-device isa-debug-exit,iobase=0xf4,iosize=4 \
		-netdev "tap,id=n0,ifname=$tap,script=no,downscript=no,vhost=on" \
		-device "virtio-net-pci,netdev=n0,mac=$mac,romfile=" \
		-kernel /tmp/vmlinuz -initrd /tmp/net-initrd.cpio.gz -append "$cmdline"
	hostrun rmmod kvm_amd kvm 2>/dev/null
}

# The median of each label's values of a field.
median() {
	local v

	v=$(grep "^bench: $1 " /tmp/nb-all.txt | sed -n "s/.* $2=\([0-9.]*\).*/\1/p" | sort -n |
	    awk '{ a[NR] = $1 } END { if (NR) print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }')
	echo "median: $1 $2=${v:-?}"
}

{
	echo "bench: runs=$runs secs=$secs rig load $(cat /proc/loadavg)"
	i=0
	while [ $i -lt "$runs" ]; do
		if [ -f "$b/vsnix-before.ko" ]; then
			# Each of the six orders of the three, round by round.
			case $((i % 6)) in
			0) order="vsnix before kvm" ;;
			1) order="kvm before vsnix" ;;
			2) order="before kvm vsnix" ;;
			3) order="vsnix kvm before" ;;
			4) order="kvm vsnix before" ;;
			5) order="before vsnix kvm" ;;
			esac
		elif [ $((i % 2)) = 0 ]; then
			order="vsnix kvm"
		else
			order="kvm vsnix"
		fi
		for f in $order; do
			$f $i
		done
		i=$((i + 1))
	done
	echo "bench: rig load $(cat /proc/loadavg)"
} | tee /tmp/nb-all.txt
for f in tx_mbit rx_mbit rr_per_s; do
	[ -f "$b/vsnix-before.ko" ] && median before $f
	median vsnix $f
	median vhost $f
done
dmesg | grep -i "vsnix.*net.*\(drop\|stat\|count\)" | tail -n 3 | sed 's/^/bench: /'
kill $srv
hostrun /bin/ip link del $tap
rm -rf $q
