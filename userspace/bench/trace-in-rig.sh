#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Runs inside the QEMU rig (see trace-bench.sh): the hypercall benchmark
# guest under vsnix.ko without tracepoints and with them (off), in turn.
repo=$1
rounds=${2:-10}
iters=${3:-20000}
guest=/selftests/guests/bench.hvt

rmmod vsnix 2>/dev/null
i=0
while [ $i -lt $rounds ]; do
	for kind in notrace trace; do
		insmod $repo/build/bench/vsnix-$kind.ko || { echo "bench: FAILED insmod $kind"; exit 1; }
		ns=$(vsnixctl run --kernel $guest --mem 32M --cmdline "iters=$iters" |
		     sed -n 's/^hypercall_ns=//p')
		echo "bench: run $kind $i ${ns:-FAILED}"
		rmmod vsnix
	done
	i=$((i + 1))
done
