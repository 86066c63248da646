#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Benchmark (not a test): the hvt hypercall round trip with vsnix's
# tracepoints compiled in but off, against a vsnix.ko built without them
# (make VSNIX_TRACE=0), in the same emulated PC, the two modules loaded in
# turn (interleaved), ROUNDS rounds. Prints each run and the medians.
#   userspace/bench/trace-bench.sh [ROUNDS] [ITERATIONS]
# The repo must not live under /tmp: the rig hides the host's /tmp.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
case "$root" in /tmp/*) echo "bench: move the repo out of /tmp" >&2; exit 1 ;; esac
rounds=${1:-10}
iters=${2:-20000}
out=$root/build/bench
kdir=/lib/modules/$("$root/scripts/rig/stock-kernel.sh")/build

make -C "$root" rig-modules userspace selftests >/dev/null
mkdir -p "$out"
cp "$root/kmod/vsnix.ko" "$out/vsnix-trace.ko"
# The baseline: a copy of the module's sources, built apart.
rm -rf "$out/notrace"
mkdir -p "$out/notrace"
cp -r "$root/kmod" "$root/uapi" "$root/Kbuild" "$out/notrace/"
make -C "$kdir" M="$out/notrace" VSNIX_TRACE=0 modules >/dev/null
cp "$out/notrace/kmod/vsnix.ko" "$out/vsnix-notrace.ko"

"$root/scripts/rig/run-qemu.sh" --cmd \
	"hostrun true && sh /host$root/userspace/bench/trace-in-rig.sh /host$root $rounds $iters" |
	grep -E '^bench:' | tee "$out/trace-bench.log"
median() {
	awk -v k="$1" '$2 == "run" && $3 == k && $5 ~ /^[0-9]+$/ { print $5 }' \
		"$out/trace-bench.log" | sort -n |
		awk '{ v[NR] = $1 } END { if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}
t=$(median trace)
n=$(median notrace)
echo "bench: median hypercall_ns trace-off=$t no-trace=$n"
[ -n "$t" ] && [ -n "$n" ] && awk -v t="$t" -v n="$n" \
	'BEGIN { printf "bench: trace-off / no-trace = %.4f\n", t / n }'
