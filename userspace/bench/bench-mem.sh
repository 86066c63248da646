#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Benchmark (not a test): host memory per idle Solo5 VM under vsnix and
# under kvm_amd with Solo5's solo5-hvt, in the same emulated PC.
#   userspace/bench/bench-mem.sh SOLO5_CHECKOUT [VMS] [MEM_MB]
# The Solo5 checkout must be built (make test-solo5 builds it) and, like
# this repo, must not live under /tmp: the rig hides the host's /tmp.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
solo5=$(cd "${1:?usage: bench-mem.sh SOLO5_CHECKOUT [VMS] [MEM_MB]}" && pwd)
for d in "$root" "$solo5"; do
	case "$d" in /tmp/*) echo "bench: move $d out of /tmp" >&2; exit 1 ;; esac
done
[ -x "$solo5/tenders/hvt/solo5-hvt" ] && [ -f "$solo5/tests/test_time/test_time.hvt" ] ||
	{ echo "bench: build Solo5 first (make test-solo5 SOLO5=$solo5)" >&2; exit 1; }
make -C "$root" rig-modules userspace selftests >/dev/null
"$root/scripts/rig/run-qemu.sh" --cmd \
	"hostrun true && sh /host$root/userspace/bench/mem-in-rig.sh /host$root $solo5 ${2:-4} ${3:-256}" |
	grep -E '^bench:|VSNIX-CMD'
