#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Benchmark (not a test): virtio-net in the kernel (vsnix, on a tap)
# against QEMU's virtio-net with vhost-net (-accel kvm, the same tap), the
# same Debian guest and netbench in the same emulated PC
# (Documentation/benchmarks.rst, "virtio-net").
#   [NETBENCH_DIAG=1] [NETBENCH_BEFORE=vsnix.ko] userspace/bench/net-bench.sh [RUNS] [SECONDS]
# NETBENCH_BEFORE: another build of vsnix.ko for the rig's kernel (an
# earlier commit's kmod/vsnix.ko after `make rig-modules`), run as a third
# side ("before") in each round, under the same load as the others.
# The repo must not live under /tmp: the rig hides the host's /tmp.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
case "$root" in /tmp/*) echo "bench: move the repo out of /tmp" >&2; exit 1 ;; esac
make -C "$root" rig-modules userspace >/dev/null
kver=$("$root/scripts/rig/stock-kernel.sh")
out=$root/build/bench
mkdir -p "$out"
rm -f "$out/vsnix-before.ko"
[ -z "${NETBENCH_BEFORE:-}" ] || cp "$NETBENCH_BEFORE" "$out/vsnix-before.ko"
cp "/boot/vmlinuz-$kver" "$out/vmlinuz"
gcc -O2 -static -Wall -Werror -o "$out/netbench" "$root/userspace/bench/netbench.c"
mods=()
for m in virtio/virtio_ring virtio/virtio net/core/failover net/net_failover \
	 net/virtio_net virtio/virtio_pci_legacy_dev virtio/virtio_pci_modern_dev \
	 virtio/virtio_pci; do
	f=$(ls "/lib/modules/$kver/kernel/drivers/$m.ko" "/lib/modules/$kver/kernel/$m.ko" \
		2>/dev/null | head -n 1)
	mods+=(--add "$f=/lib/modules/$(basename "$m").ko")
done
"$root/scripts/linux-guest/mkinitrd.sh" "$out/net-initrd.cpio.gz" \
	--init "$root/userspace/bench/net-init.sh" --add "$out/netbench=/bin/netbench" "${mods[@]}"
"$root/scripts/rig/run-qemu.sh" --timeout "${NETBENCH_TIMEOUT:-2400}" --cmd \
	"hostrun true && NETBENCH_DIAG=${NETBENCH_DIAG:-} sh /host$root/userspace/bench/net-in-rig.sh /host$root $root ${1:-5} ${2:-5}" |
	grep -E "^(bench|median|netbench-server|diag):|VSNIX-CMD"
