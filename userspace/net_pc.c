// SPDX-License-Identifier: GPL-2.0
/*
 * vsnixctl: virtio-net for PC guests, `--net tap=NAME[,mac=M][,queues=Q]`.
 * The tap gets one queue per queue pair (IFF_MULTI_QUEUE), the flows are
 * spread over them by the eBPF queue-selection program (net_bpf.c), and
 * when a steering program is attached (`vsnixctl net steer attach`), the
 * VM's MAC is added to its map for the VM's life.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vsnixctl.h"

int parse_vnet(const char *arg, struct vnet_spec *v)
{
	static char copy[MAX_VNET][256];
	static unsigned int next;
	char *s, *tok, *save = NULL;

	memset(v, 0, sizeof(*v));
	if (strlen(arg) >= sizeof(copy[0]) || next == MAX_VNET)
		return -1;
	s = strcpy(copy[next++], arg);
	for (tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *end;

		if (!strncmp(tok, "tap=", 4) && tok[4]) {
			v->tap = tok + 4;
		} else if (!strncmp(tok, "mac=", 4)) {
			if (parse_mac(tok + 4, v->mac))
				return -1;
			v->has_mac = true;
		} else if (!strncmp(tok, "queues=", 7)) {
			v->queues = strtoul(tok + 7, &end, 10);
			if (*end || !v->queues ||
			    v->queues > VSNIX_VIRTIO_NET_MAX_PAIRS)
				return -1;
		} else {
			return -1;
		}
	}
	return v->tap ? 0 : -1;
}

int vnet_create(struct vm *vm, struct vnet_spec *v, unsigned int nr_cpus,
		const struct vsnix_pci_placement *where)
{
	unsigned int nr = v->queues ? v->queues : (nr_cpus ? nr_cpus : 1);

	if (nr > VSNIX_VIRTIO_NET_MAX_PAIRS)
		nr = VSNIX_VIRTIO_NET_MAX_PAIRS;
	if (!v->has_mac)
		random_mac(v->mac);
	if (report(vx_tap_open_queues(v->tap, nr, v->fds)))
		return -1;
	v->nr_fds = nr;
	if (nr > 1 && rss_attach_fd(v->fds[0], nr)) {
		vnet_release(v);
		return -1;
	}
	if (report(vx_virtio_net_create(vm->vx, v->fds, nr, v->mac, where))) {
		vnet_release(v);
		return -1;
	}
	/* Steering is optional: only where it has been attached. */
	if (access("/sys/fs/bpf/vsnix/steer_macs", F_OK) == 0)
		v->steered = steer_add(v->mac, v->tap, 0) == 0;
	return 0;
}

void vnet_release(struct vnet_spec *v)
{
	if (v->steered)
		steer_del(v->mac);
	v->steered = false;
	vx_tap_close_queues(v->fds, v->nr_fds);
	v->nr_fds = 0;
}
