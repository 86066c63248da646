#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Runs inside the QEMU rig (see trace-bench.sh): bench.hvt's hypercall
# round trip under three builds/states of vsnix.ko, interleaved in one
# machine so that the machine's and the host's slow drifts hit all three:
#   notrace  vsnix.ko built with VSNIX_TRACE=0 (no tracepoints at all)
#   off      the default build, tracepoints compiled in, none enabled
#   on       the default build with every vsnix event enabled in tracefs
# Each round runs the three twice, in an order rotated from round to round
# (round 0: notrace off on notrace off on; round 1: off on notrace ...), so
# each kind has two runs per round (rep 0 and 1) at the same distance:
# those two give the noise floor (A against A).
#   trace-in-rig.sh DIR ROUNDS ITERATIONS BATCH
# DIR holds vsnix-notrace.ko and vsnix-trace.ko (the rig's /data).
dir=$1
rounds=${2:-12}
iters=${3:-4000}
batch=${4:-20}
guest=/selftests/guests/bench.hvt
events=/sys/kernel/tracing/events/vsnix/enable

mountpoint -q /sys/kernel/tracing ||
	mount -t tracefs nodev /sys/kernel/tracing ||
	{ echo "bench: FAILED mount tracefs"; exit 1; }

# one KIND ROUND REP: load the module for KIND, run the guest, unload.
one() {
	ko=trace
	[ "$1" = notrace ] && ko=notrace
	insmod "$dir/vsnix-$ko.ko" || { echo "bench: FAILED insmod $ko"; exit 1; }
	if [ "$1" = on ]; then
		[ -e $events ] || { echo "bench: FAILED no $events"; exit 1; }
		echo 1 >$events
	fi
	out=$(vsnixctl run --kernel $guest --mem 32M \
	      --cmdline "iters=$iters batch=$batch")
	[ "$1" = on ] && echo 0 >$events
	rmmod vsnix
	min=$(echo "$out" | sed -n 's/^batch_min_ps=//p')
	med=$(echo "$out" | sed -n 's/^batch_med_ps=//p')
	echo "bench: run $1 $2 $3 ${min:-FAILED} ${med:-FAILED}"
}

rmmod vsnix 2>/dev/null
echo "bench: rounds=$rounds iters=$iters batch=$batch"
echo "bench: load $(cat /proc/loadavg)"
r=0
while [ $r -lt "$rounds" ]; do
	case $((r % 3)) in
	0) order="notrace off on" ;;
	1) order="off on notrace" ;;
	*) order="on notrace off" ;;
	esac
	for rep in 0 1; do
		for kind in $order; do
			one $kind $r $rep
		done
	done
	r=$((r + 1))
done
echo "bench: load $(cat /proc/loadavg)"
