#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Benchmark (not a test): cost per VM exit of the two guest FPU paths
# (the kernel's guest fpstate, and the module's own switch with fpu_own=1),
# measured as bench.hvt's in-kernel hypercall round trip on each path,
# interleaved, in the same emulated PC. Prints each round, and per path the
# minimum (the round least disturbed by the host) and the median.
#   userspace/bench/fpu-paths.sh [ROUNDS] [ITERATIONS]    # defaults: 20 500
# The repo must not live under /tmp: the rig hides the host's /tmp.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
case "$root" in /tmp/*) echo "bench: move the repo out of /tmp" >&2; exit 1 ;; esac
make -C "$root" rig-modules userspace selftests >/dev/null
modinfo -p "$root/kmod/vsnix.ko" | grep -q '^fpu_own:' ||
	{ echo "bench: vsnix.ko has no fpu_own parameter" >&2; exit 1; }
out=$("$root/scripts/rig/run-qemu.sh" --add "$root/userspace/bench/fpu-in-rig.sh" \
	--cmd "sh /data/fpu-in-rig.sh ${1:-20} ${2:-500}" |
	grep -E '^bench:|VSNIX-CMD' | tr -d '\r')
echo "$out"
for p in 0 1; do
	echo "$out" | sed -n "s/^bench: fpu_own=$p round=[0-9]* cycles=//p" | sort -n |
		awk -v p="$p" '{ v[NR] = $1 }
			END { if (!NR) exit; m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			      printf "bench: fpu_own=%d cycles_per_exit min=%d median=%d max=%d (%d rounds)\n",
				     p, v[1], m, v[NR], NR }'
done
