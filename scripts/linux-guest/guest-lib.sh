# SPDX-License-Identifier: GPL-2.0
# Shared by the Linux guests' /init scripts: mkinitrd.sh puts it at
# /lib/guest-lib.sh. The sourcing script defines say() first.

# virtio_net_up TENTHS: loads the stock virtio-net driver and its
# dependencies from /lib/modules (a failed insmod is said), then waits up
# to TENTHS tenths of a second for eth0. Fails when eth0 did not appear.
virtio_net_up() {
	local m i=0

	for m in virtio_ring virtio failover net_failover virtio_net \
		 virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci; do
		insmod /lib/modules/$m.ko 2>/dev/null || say "insmod $m failed"
	done
	while [ ! -e /sys/class/net/eth0 ] && [ "$i" -lt "$1" ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ -e /sys/class/net/eth0 ]
}
