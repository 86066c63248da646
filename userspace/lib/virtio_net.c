// SPDX-License-Identifier: GPL-2.0
/*
 * libvsnix: virtio-net on a tap (VSNIX_DEV_VIRTIO_NET). The taps are
 * opened the way the device needs them: IFF_VNET_HDR with a 12-byte
 * header (virtio 1.2 5.1.6.1, VERSION_1) and one queue per queue pair.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <linux/if_tun.h>

#include "vsnix/libvsnix.h"

int vx_tap_open_queues(const char *ifname, unsigned int nr, int *fds)
{
	int hdr = 12;
	unsigned int i;

	if (!nr || nr > VSNIX_VIRTIO_NET_MAX_PAIRS)
		return vx_fail(EINVAL, "%u tap queues: 1 to %d", nr,
			       VSNIX_VIRTIO_NET_MAX_PAIRS);
	if (strlen(ifname) >= IFNAMSIZ)
		return vx_fail(EINVAL, "tap name %s is too long", ifname);
	for (i = 0; i < nr; i++)
		fds[i] = -1;
	for (i = 0; i < nr; i++) {
		struct ifreq ifr = { 0 };

		ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
		if (nr > 1)
			ifr.ifr_flags |= IFF_MULTI_QUEUE;
		strcpy(ifr.ifr_name, ifname);
		fds[i] = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
		if (fds[i] < 0 || ioctl(fds[i], TUNSETIFF, &ifr) < 0 ||
		    ioctl(fds[i], TUNSETVNETHDRSZ, &hdr) < 0) {
			int err = errno;

			vx_tap_close_queues(fds, nr);
			return vx_fail(err, "tap %s, queue %u: %s", ifname, i,
				       strerror(err));
		}
	}
	return 0;
}

void vx_tap_close_queues(int *fds, unsigned int nr)
{
	unsigned int i;

	for (i = 0; i < nr; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
}

int vx_virtio_net_create(struct vx_vm *vm, const int *fds, unsigned int nr,
			 const uint8_t mac[6],
			 const struct vsnix_pci_placement *where)
{
	struct vsnix_device_config c;
	unsigned int i;

	memset(&c, 0, sizeof(c));
	c.type = VSNIX_DEV_VIRTIO_NET;
	c.console_fd = -1;
	if (!nr || nr > VSNIX_VIRTIO_NET_MAX_PAIRS)
		return vx_fail(EINVAL, "%u queue pairs: 1 to %d", nr,
			       VSNIX_VIRTIO_NET_MAX_PAIRS);
	for (i = 0; i < nr; i++)
		c.virtio_net.fds[i] = fds[i];
	c.virtio_net.nr_queue_pairs = nr;
	memcpy(c.virtio_net.mac, mac, 6);
	c.virtio_net.pci = *where;
	return vx_vm_create_device(vm, &c);
}
