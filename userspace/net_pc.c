// SPDX-License-Identifier: GPL-2.0
/*
 * vsnixctl: virtio-net for PC guests, `--net tap=NAME[,mac=M][,queues=Q]`.
 * The tap gets one queue per queue pair (IFF_MULTI_QUEUE), the flows are
 * spread over them by the eBPF queue-selection program (net_bpf.c), and
 * when a steering program is attached (`vsnixctl net steer attach`), the
 * VM's MAC is in its map for the VM's life.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vsnixctl.h"

/* The cards of this run (one VM per vsnixctl). */
static struct {
	const char *tap;
	int fds[VSNIX_VIRTIO_NET_MAX_PAIRS];
	bool steered;		/* in the eBPF steering map */
} cards[MAX_VNET];
static struct vx_nic nics[MAX_VNET];
static unsigned int nr_cards;

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

int vnet_open(const struct run_options *opt, struct vx_boot *b)
{
	unsigned int i, nr;

	for (i = 0; i < opt->nr_vnet; i++) {
		const struct vnet_spec *v = &opt->vnet[i];

		nr = v->queues ? v->queues : (opt->nr_cpus ? opt->nr_cpus : 1);
		if (nr > VSNIX_VIRTIO_NET_MAX_PAIRS)
			nr = VSNIX_VIRTIO_NET_MAX_PAIRS;
		if (report(vx_tap_open_queues(v->tap, nr, cards[i].fds)))
			return -1;
		cards[i].tap = v->tap;
		nics[i].fds = cards[i].fds;
		nics[i].nr_fds = nr;
		nr_cards = i + 1;
		if (v->has_mac)
			memcpy(nics[i].mac, v->mac, 6);
		else
			random_mac(nics[i].mac);
		if (nr > 1 && rss_attach_fd(cards[i].fds[0], nr))
			return -1;
	}
	b->nics = nics;
	b->nr_nics = opt->nr_vnet;
	return 0;
}

void vnet_steer(void)
{
	unsigned int i;

	/* Steering is optional: only where it has been attached. */
	if (access("/sys/fs/bpf/vsnix/steer_macs", F_OK))
		return;
	for (i = 0; i < nr_cards; i++)
		cards[i].steered = !steer_add(nics[i].mac, cards[i].tap, 0);
}

void vnet_release(void)
{
	unsigned int i;

	for (i = 0; i < nr_cards; i++) {
		if (cards[i].steered)
			steer_del(nics[i].mac);
		cards[i].steered = false;
		vx_tap_close_queues(cards[i].fds, nics[i].nr_fds);
	}
	nr_cards = 0;
}
