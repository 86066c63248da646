#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# /init of the virtio-blk benchmark guest (blk-bench.sh), the same under
# vsnix and under QEMU/KVM: the stock virtio modules, then blkbench on
# /dev/vda for each workload, vsnix.jobs threads (one per queue),
# vsnix.secs seconds each, then (vsnix.depth > 1) random 4 KiB reads and
# writes with vsnix.depth requests in flight per thread; "blkbench:" lines
# on the kernel console, with the completion interrupts the workload took.
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
say() { echo "<2>$*" >/dev/kmsg; }
arg() { tr ' ' '\n' </proc/cmdline | sed -n "s/^$1=//p" | tail -n 1; }
for m in $(cat /lib/vsnix-modules); do
	insmod "/lib/vsnix-mod/$m" 2>/dev/null
done
i=0
while [ ! -b /dev/vda ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
jobs=$(arg vsnix.jobs)
secs=$(arg vsnix.secs)
depth=$(arg vsnix.depth)
only=$(arg vsnix.only)		# a comma list of workloads, for profiling
# The completion interrupts of the disk's queues (virtioN-req.M), all CPUs.
irqs() {
	awk 'NR == 1 { n = NF; next } /virtio[0-9]*-req/ { for (i = 2; i <= n + 1; i++) s += $i }
	     END { print s + 0 }' /proc/interrupts
}
say "blkbench: queues=$(ls /sys/block/vda/mq | wc -l)"
set -- "seqread 1048576 1" "seqwrite 1048576 1" "randread 4096 1" "randwrite 4096 1"
[ "${depth:-1}" -gt 1 ] && set -- "$@" "randread 4096 $depth" "randwrite 4096 $depth"
for w in "$@"; do
	set -- $w
	n=$1
	[ "$3" -gt 1 ] && n=$1-qd$3
	case ",${only:-$n}," in *",$n,"*) ;; *) continue ;; esac
	a=$(irqs)
	r=$(/bin/blkbench /dev/vda "$1" "$2" "${jobs:-1}" "${secs:-5}" "$3" 2>&1)
	say "$r irqs=$(($(irqs) - a))"
done
# The host samples its counters at each line: this one ends the last
# workload's; a moment for it before the power-off.
say "blkbench: end"
sleep 2
/bin/vsnix-exit 0
