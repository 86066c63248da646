#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Runs inside the QEMU rig (see fpu-paths.sh): the hypercall round trip of
# bench.hvt (a WALLTIME hypercall served in the kernel: one VM exit each)
# with vsnix.ko loaded on each guest FPU path in turn, ABBA-interleaved.
rounds=${1:-20}
iters=${2:-500}
guest=/selftests/guests/bench.hvt

one() {
	rmmod vsnix 2>/dev/null
	insmod /lib/vsnix/vsnix.ko "fpu_own=$1" || { echo "bench: insmod fpu_own=$1 failed"; exit 1; }
	vsnixctl run --kernel $guest --mem 32M --cmdline "iters=$iters" |
		sed -n "s/^hypercall_cycles=/bench: fpu_own=$1 round=$2 cycles=/p"
}

echo "bench: rounds=$rounds iters=$iters"
r=1
while [ $r -le "$rounds" ]; do
	if [ $((r % 2)) = 1 ]; then
		one 0 $r; one 1 $r
	else
		one 1 $r; one 0 $r
	fi
	r=$((r + 1))
done
