#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Benchmark (not a test): virtio-blk in the kernel (vsnix) against QEMU's
# virtio-blk with an iothread (-accel kvm), the same Debian guest and
# workloads on the same RAM disk in the same emulated PC
# (Documentation/benchmarks.rst, "virtio-blk").
#   userspace/bench/blk-bench.sh [RUNS] [SECONDS] [DEPTH] [probe]
# "probe" counts vsnix's virtio-blk events with kprobes (blk-in-rig.sh).
# DEPTH > 1 (default 16) adds random 4 KiB reads and writes with DEPTH
# requests in flight per guest thread (Linux AIO); 1 leaves them out.
# The build host's load average is sampled every 10 s into
# build/bench/host-load.log; each guest run prints the latest sample.
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
# The shared build host's load, read by the rig over 9p.
: >"$out/host-load.log"
(while :; do echo "$(date +%s) $(cut -d' ' -f1-3 /proc/loadavg)" >>"$out/host-load.log"
	sleep 10; done) &
sampler=$!
trap 'kill $sampler 2>/dev/null' EXIT
"$root/scripts/rig/run-qemu.sh" --timeout 6000 --cmd \
	"hostrun true && sh /host$root/userspace/bench/blk-in-rig.sh /host$root ${1:-3} ${2:-5} ${3:-16} ${4:-}" |
	tee "$out/blk-bench.log" | grep -E '^(bench|median|round):|VSNIX-CMD'
