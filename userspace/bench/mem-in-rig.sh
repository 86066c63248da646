#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Runs inside the QEMU rig (see bench-mem.sh): host memory per idle Solo5
# VM. N copies of Solo5's test_time (MEM MiB of guest RAM each; it sleeps
# in solo5_yield for 5 s) under vsnix (vsnixctl), then under kvm_amd
# (Solo5's own solo5-hvt tender, through hostrun). The cost is the drop of
# MemFree while all N sleep, divided by N; the VMM processes' RSS is shown
# too. Prints one "bench:" line per measurement.
repo=$1
solo5=$2
n=${3:-4}
mb=${4:-256}
kernel=$solo5/tests/test_time/test_time.hvt
tender=$solo5/tenders/hvt/solo5-hvt

free_kb() {
	awk '/^MemFree:/ { print $2 }' /proc/meminfo
}

rss_kb() {
	local sum=0 pid kb

	for pid in $(pidof "$1"); do
		kb=$(awk '/^VmRSS:/ { print $2 }' /proc/$pid/status 2>/dev/null)
		sum=$((sum + ${kb:-0}))
	done
	echo $sum
}

# measure LABEL PROCESS_NAME COMMAND...: N copies in the background.
measure() {
	local label=$1 proc=$2 before after i t all
	shift 2
	sync
	echo 1 >/proc/sys/vm/drop_caches
	before=$(free_kb)
	i=0
	while [ $i -lt $n ]; do
		"$@" >/tmp/bench-vm.$i.log 2>&1 &
		i=$((i + 1))
	done
	# Until every copy sleeps (and none has finished), at most 60 s.
	t=0
	while [ $t -lt 300 ]; do
		all=1
		i=0
		while [ $i -lt $n ]; do
			grep -q 'Sleeping' /tmp/bench-vm.$i.log || all=0
			i=$((i + 1))
		done
		[ $all = 1 ] && break
		sleep 0.2
		t=$((t + 1))
	done
	sleep 0.5
	after=$(free_kb)
	echo "bench: $label vms=$n mem_mb=$mb mem_per_vm_kib=$(((before - after) / n)) rss_per_vm_kib=$(($(rss_kb "$proc") / n))"
	grep -l 'SUCCESS' /tmp/bench-vm.*.log >/dev/null 2>&1 &&
		echo "bench: $label WARNING: a VM had finished before the measurement"
	wait
	for f in $(grep -L 'SUCCESS' /tmp/bench-vm.*.log); do
		echo "bench: $label FAILED: $f: $(tail -n 2 "$f" | tr '\n' ' ')"
	done
	rm -f /tmp/bench-vm.*.log
}

thp=/sys/kernel/mm/transparent_hugepage/enabled
thp_mode=$(sed 's/.*\[\(.*\)\].*/\1/' $thp)
echo "bench: solo5 test_time, $n VMs of $mb MiB, THP $thp_mode"
# Warm-up: the guest image and the tools in the page cache.
vsnixctl run --kernel "/host$kernel" --mem "${mb}M" >/dev/null 2>&1
# vsnixctl's guest RAM is private anonymous memory, which THP "always"
# backs with 2 MiB pages where the guest touches it; solo5-hvt's is shared
# anonymous memory (shmem), which THP leaves alone by default. Both ways.
measure "vsnix thp=$thp_mode" vsnixctl vsnixctl run --kernel "/host$kernel" --mem "${mb}M"
echo madvise >$thp
measure "vsnix thp=madvise" vsnixctl vsnixctl run --kernel "/host$kernel" --mem "${mb}M"
echo "$thp_mode" >$thp

if ! hostrun modprobe kvm_amd; then
	echo "bench: kvm_amd not available"
	exit 1
fi
hostrun "$tender" --mem="$mb" "$kernel" >/dev/null 2>&1
measure "kvm thp=$thp_mode" solo5-hvt hostrun "$tender" --mem="$mb" "$kernel"
