// SPDX-License-Identifier: GPL-2.0
/*
 * Network echo guest: waits (POLL) for frames on "service0" and sends each
 * of ethertype 0x88b5 back to its sender, its own MAC as source.
 * Stops after "count=N" frames (default 1) or when POLL times out 50 times.
 */
#include "hvt_guest.h"

HVT_DECLARE_MANIFEST(1, MFT_NET("service0"));

#define ECHO_ETHERTYPE	0x88b5	/* IEEE 802 local experimental */

/* A 9000-byte MTU frame (hvt_net), with room to spare. */
static uint8_t frame[9014 + 64];

int guest_main(const char *cmdline)
{
	long h = mft_handle("service0", MFT_DEV_NET_BASIC);
	long want = cmdline_number(cmdline, "count", 1), echoed = 0;
	const struct mft_entry *e;
	int idle = 0;

	if (h < 0) {
		puts_str("NET FAIL no service0 in the manifest copy\n");
		return 1;
	}
	e = mft_entry_at(h);
	if (!e->attached) {
		puts_str("NET FAIL service0 not attached\n");
		return 1;
	}
	put_dec("mtu=", e->u.net_basic.mtu);
	puts_str("NET READY\n");
	while (echoed < want && idle < 50) {
		volatile struct hvt_hc_poll poll = {
			.timeout_nsecs = 100ULL * 1000 * 1000,
		};
		volatile struct hvt_hc_net_io rd = {
			.handle = h, .data = (uintptr_t)frame, .len = sizeof(frame),
		};
		volatile struct hvt_hc_net_io wr = { .handle = h, .data = (uintptr_t)frame };

		hvt_hypercall(HVT_HYPERCALL_POLL, &poll);
		if (!(poll.ready_set & (1ULL << h))) {
			idle++;
			continue;
		}
		hvt_hypercall(HVT_HYPERCALL_NET_READ, &rd);
		if (rd.ret == SOLO5_R_AGAIN)
			continue;
		if (rd.ret != SOLO5_R_OK || rd.len < 14) {
			put_dec("NET FAIL read ret=", rd.ret);
			return 1;
		}
		/* Only the test's frames: the host stack may send its own. */
		if (frame[12] != (ECHO_ETHERTYPE >> 8) ||
		    frame[13] != (ECHO_ETHERTYPE & 0xff))
			continue;
		mem_copy(frame, frame + 6, 6);
		mem_copy(frame + 6, e->u.net_basic.mac, 6);
		wr.len = rd.len;
		hvt_hypercall(HVT_HYPERCALL_NET_WRITE, &wr);
		if (wr.ret != SOLO5_R_OK) {
			put_dec("NET FAIL write ret=", wr.ret);
			return 1;
		}
		echoed++;
	}
	put_dec("echoed=", echoed);
	return echoed == want ? 0 : 1;
}
