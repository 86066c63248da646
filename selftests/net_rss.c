// SPDX-License-Identifier: GPL-2.0
/*
 * eBPF queue selection for multiqueue taps (bpf/vsnix_rss.bpf.c through
 * `vsnixctl net rss attach`): frames the host sends into a 4-queue tap
 * come out of the queue that virtio-net RSS's Toeplitz hash and the
 * default indirection table give, computed here independently; one flow
 * keeps its queue, flows spread over several queues, frames without an
 * IP flow go to queue 0.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <sys/socket.h>
#include "guests/run_guest.h"
#include "lib/vsnix_util.h"

#define NR_TESTS 6
#define NQ 4
#define NFLOWS 16

static const uint8_t key[40] = {
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67,
	0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb,
	0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30,
	0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};
static const uint8_t vm[6] = { 0x02, 0x5e, 0x00, 0x00, 0x01, 0x01 };
static const uint8_t peer[6] = { 0x02, 0x5e, 0x00, 0x00, 0x01, 0x02 };
static int q[NQ];

/* Toeplitz (virtio 1.2 5.1.6.5.7.1), bit by bit, the textbook way. */
static uint32_t toeplitz(const uint8_t *in, int n)
{
	uint32_t hash = 0;
	int i, k;

	for (i = 0; i < n * 8; i++) {
		uint32_t window = 0;

		if (!(in[i / 8] & (0x80 >> (i % 8))))
			continue;
		for (k = 0; k < 32; k++)
			if (key[(i + k) / 8] & (0x80 >> ((i + k) % 8)))
				window |= 1u << (31 - k);
		hash ^= window;
	}
	return hash;
}

/* The queue a frame came out of, or -1 (-2: more than one frame). */
static int which_queue(void)
{
	uint8_t buf[2048];
	int i, got = -1;

	for (i = 0; i < NQ; i++) {
		struct pollfd p = { q[i], POLLIN, 0 };

		while (poll(&p, 1, i ? 0 : 200) > 0 && read(q[i], buf, sizeof(buf)) > 0)
			got = got == -1 ? i : -2;
	}
	return got;
}

int main(void)
{
	static struct rg_result r;
	uint32_t src, dst;
	int s, i, rep, ok = 0, same = 0, used = 0, arpq;
	bool hit[NQ] = { false };
	uint8_t f[64];

	rg_plan(NR_TESTS);
	if (access(rg_vsnixctl(), X_OK)) {
		rg_skip_rest(NR_TESTS, "vsnixctl not found");
		return 4;
	}
	if (net_private_ns()) {
		rg_skip_rest(NR_TESTS, net_private_ns());
		return 4;
	}
	for (i = 0; i < NQ; i++)
		q[i] = net_tap_queue("vsmq0", IFF_MULTI_QUEUE);
	net_link_up("vsmq0", true);
	s = net_packet_socket("vsmq0");
	rg_ok(q[0] >= 0 && q[NQ - 1] >= 0 && s >= 0,
	      "a 4-queue tap and a packet socket on it in a private netns");

	rg_run(&r, (const char *[]){ "net", "rss", "attach", "vsmq0", "4", NULL });
	if (r.code)
		rg_diag(&r);
	rg_ok(r.code == 0, "net rss attach vsmq0 4");

	inet_pton(AF_INET, "10.1.0.1", &src);
	inet_pton(AF_INET, "10.1.0.2", &dst);
	for (i = 0; i < NFLOWS; i++) {
		uint8_t in[12];
		int want, first = -1;

		memcpy(in, &src, 4);
		memcpy(in + 4, &dst, 4);
		in[8] = (2000 + i) >> 8;
		in[9] = (2000 + i) & 0xff;
		in[10] = 7000 >> 8;
		in[11] = 7000 & 0xff;
		want = (toeplitz(in, 12) & 127) % NQ;
		for (rep = 0; rep < 2; rep++) {
			int got;

			net_udp_frame(f, vm, peer, src, dst, 2000 + i, 7000, "rss");
			send(s, f, sizeof(f), 0);
			got = which_queue();
			if (got == want)
				ok++;
			else
				printf("# flow %d: queue %d, expected %d\n", i, got, want);
			if (rep == 0)
				first = got;
			else if (got == first)
				same++;
		}
		if (!hit[want])
			used++;
		hit[want] = true;
	}
	rg_ok(ok == 2 * NFLOWS, "each UDP frame came out of its Toeplitz queue (%d of %d)",
	      ok, 2 * NFLOWS);
	rg_ok(same == NFLOWS, "a flow keeps its queue (%d of %d)", same, NFLOWS);
	rg_ok(used >= 2, "%d flows spread over %d queues", NFLOWS, used);

	net_frame(f, sizeof(f), vm, peer, 0x88b5);
	send(s, f, sizeof(f), 0);
	arpq = which_queue();
	rg_ok(arpq == 0, "a frame without an IP flow goes to queue 0 (got %d)", arpq);
	return rg_exit();
}
