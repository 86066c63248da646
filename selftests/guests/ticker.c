// SPDX-License-Identifier: GPL-2.0
/*
 * The unikernel of `make demo`: says hello, then "tick N" every "ms="
 * milliseconds (default 1000), "ticks=" times (default 5), sleeping in
 * POLL as a Solo5 unikernel does, and exits 0.
 */
#include "hvt_guest.h"

HVT_DECLARE_MANIFEST(0);

int guest_main(const char *cmdline)
{
	long ticks = cmdline_number(cmdline, "ticks", 5);
	long ms = cmdline_number(cmdline, "ms", 1000);
	volatile struct hvt_hc_poll poll;
	long i;

	puts_str("Hello from a Solo5 hvt unikernel on vsnix\n");
	put_dec("memory MiB: ", boot_info->mem_size >> 20);
	for (i = 1; i <= ticks; i++) {
		poll.timeout_nsecs = (uint64_t)ms * 1000 * 1000;
		poll.ready_set = 0;
		poll.ret = 0;
		hvt_hypercall(HVT_HYPERCALL_POLL, &poll);
		put_dec("tick ", i);
	}
	puts_str("unikernel: done, exit 0\n");
	return 0;
}
