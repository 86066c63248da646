#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Runs inside the QEMU rig (see bench.sh): the same hvt guests under vsnix
# (in-kernel hypercalls) and under kvm_amd with kvm-hvt-runner (hypercalls
# in userspace). Prints one "bench:" line per measurement.
repo=$1
runs=${2:-20}
iters=${3:-20000}
guests=/selftests/guests
runner=$repo/userspace/bench/kvm-hvt-runner

# Wall seconds of a command, from /proc/uptime (10 ms resolution).
wall() {
	local t0 t1

	t0=$(cut -d' ' -f1 /proc/uptime)
	sh -c "$1" >/dev/null 2>&1 || echo "bench: FAILED: $1" >&2
	t1=$(cut -d' ' -f1 /proc/uptime)
	echo "$t0 $t1" | awk '{ printf "%.2f", $2 - $1 }'
}

loop() {
	echo "i=0; while [ \$i -lt $runs ]; do $1 || exit 1; i=\$((i + 1)); done"
}

echo "bench: runs=$runs iters=$iters"
t=$(wall "$(loop "vsnixctl run --kernel $guests/hello.hvt --mem 32M")")
echo "bench: vsnix boot_to_exit_total_s=$t runs=$runs"
vsnixctl run --kernel $guests/bench.hvt --mem 32M --cmdline "iters=$iters" | sed 's/^/bench: vsnix /'

if ! hostrun modprobe kvm_amd; then
	echo "bench: kvm_amd not available"
	exit 1
fi
t=$(wall "$(loop "$runner $guests/hello.hvt 32")")
echo "bench: kvm boot_to_exit_total_s=$t runs=$runs"
$runner $guests/bench.hvt 32 "iters=$iters" | sed 's/^/bench: kvm /'
