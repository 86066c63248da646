#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Benchmark (not a test): boot-to-exit time and hypercall round trip of the
# same hvt guests under vsnix and under kvm_amd, in the same emulated PC.
#   userspace/bench/bench.sh [RUNS] [ITERATIONS]
# The repo must not live under /tmp: the rig hides the host's /tmp.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
case "$root" in /tmp/*) echo "bench: move the repo out of /tmp" >&2; exit 1 ;; esac
make -C "$root" rig-modules userspace selftests >/dev/null
"$root/scripts/rig/run-qemu.sh" --cmd \
	"hostrun true && sh /host$root/userspace/bench/in-rig.sh /host$root ${1:-20} ${2:-20000}" |
	grep -E '^bench:|VSNIX-CMD'
