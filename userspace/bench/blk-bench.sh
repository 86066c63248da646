#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Benchmark (not a test): virtio-blk in the kernel (vsnix) against QEMU's
# virtio-blk with an iothread (-accel kvm), the same Debian guest and
# workloads on the same RAM disk in the same emulated PC
# (Documentation/benchmarks.rst, "virtio-blk").
#   userspace/bench/blk-bench.sh [RUNS] [SECONDS]
# The repo must not live under /tmp: the rig hides the host's /tmp.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
case "$root" in /tmp/*) echo "bench: move the repo out of /tmp" >&2; exit 1 ;; esac
make -C "$root" rig-modules userspace >/dev/null
kver=$("$root/scripts/rig/stock-kernel.sh")
out=$root/build/bench
mkdir -p "$out"
cp "/boot/vmlinuz-$kver" "$out/vmlinuz"
gcc -O2 -static -pthread -Wall -Werror -o "$out/blkbench" "$root/userspace/bench/blkbench.c"
"$root/scripts/linux-guest/mkdiskinitrd.sh" "$out/blk-initrd.cpio.gz" "$kver" \
	--init "$root/userspace/bench/blk-init.sh" --add "$out/blkbench=/bin/blkbench"
"$root/scripts/rig/run-qemu.sh" --timeout 3000 --cmd \
	"hostrun true && sh /host$root/userspace/bench/blk-in-rig.sh /host$root ${1:-3} ${2:-5}" |
	tee "$out/blk-bench.log" | grep -E '^(bench|median):|VSNIX-CMD'
