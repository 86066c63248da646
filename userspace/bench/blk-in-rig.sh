#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Runs inside the QEMU rig (see blk-bench.sh): the same Linux guest and
# blkbench workloads on the same RAM disk (/dev/ram0, brd) under vsnix
# (in-kernel virtio-blk) and under QEMU/KVM (virtio-blk-pci with an
# iothread, aio=native, cache=none), interleaved, with 1 and 2 queues.
# Prints one "bench:" line per measurement.
#   blk-in-rig.sh REPO_IN_RIG REPO_ON_HOST [RUNS] [SECONDS]
repo=$1
hrepo=$2
runs=${3:-3}
secs=${4:-5}
lg=build/bench
append="console=ttyS0 quiet panic=-1 vsnix.secs=$secs"

hostrun modprobe brd rd_nr=1 rd_size=262144 || { echo "bench: no brd"; exit 1; }
hostrun dd if=/dev/zero of=/dev/ram0 bs=1M count=256 2>/dev/null
echo "bench: runs=$runs secs=$secs disk=/dev/ram0 (brd, 256 MiB)"
run=0
while [ $run -lt "$runs" ]; do
	for q in 1 2; do
		vsnixctl run --kernel "$repo/$lg/vmlinuz" \
			--initrd "$repo/$lg/blk-initrd.cpio.gz" --mem 256M \
			--cpus $q --disk /dev/ram0 \
			--cmdline "$append vsnix.jobs=$q" 2>&1 |
			sed -n "s/.*blkbench: /bench: vsnix q=$q run=$run /p"
		hostrun modprobe kvm_amd || { echo "bench: no kvm_amd"; exit 1; }
		hostrun qemu-system-x86_64 -accel kvm -cpu host -m 256M -smp $q \
			-nographic -no-reboot -nodefaults -serial stdio \
			-kernel "$hrepo/$lg/vmlinuz" \
			-initrd "$hrepo/$lg/blk-initrd.cpio.gz" \
			-append "$append vsnix.jobs=$q" \
			-object iothread,id=io0 \
			-drive if=none,id=d0,file=/dev/ram0,format=raw,cache=none,aio=native \
			-device virtio-blk-pci,drive=d0,iothread=io0,num-queues=$q \
			-device isa-debug-exit,iobase=0xf4,iosize=4 2>&1 |
			sed -n "s/.*blkbench: /bench: qemu q=$q run=$run /p"
		hostrun rmmod kvm_amd kvm 2>/dev/null
	done
	run=$((run + 1))
done
