// SPDX-License-Identifier: GPL-2.0
/*
 * WALLTIME must never go backwards; POLL with no devices must sleep at
 * least its timeout and report nothing ready. Prints "TIME PASS" or
 * "TIME FAIL <why>".
 */
#include "hvt_guest.h"

HVT_DECLARE_MANIFEST(0);

#define POLL_NS		(200ULL * 1000 * 1000)

static int fail(const char *why)
{
	puts_str("TIME FAIL ");
	puts_str(why);
	puts_str("\n");
	return 1;
}

int guest_main(const char *cmdline)
{
	volatile struct hvt_hc_poll poll = { .timeout_nsecs = POLL_NS };
	uint64_t prev = walltime_ns(), now, t0, t1;
	int i;

	/* After 2017-01-01: a real clock, not a counter from zero. */
	if (prev < 1483228800ULL * 1000000000ULL)
		return fail("walltime is not wall-clock time");
	for (i = 0; i < 1000; i++) {
		now = walltime_ns();
		if (now < prev)
			return fail("walltime went backwards");
		prev = now;
	}
	t0 = walltime_ns();
	poll.ready_set = ~0ULL;
	poll.ret = -1;
	hvt_hypercall(HVT_HYPERCALL_POLL, &poll);
	t1 = walltime_ns();
	put_dec("poll_elapsed_ns=", t1 - t0);
	put_dec("poll_ret=", poll.ret);
	if (t1 - t0 < POLL_NS)
		return fail("POLL returned before its timeout");
	if (poll.ret != 0 || poll.ready_set != 0)
		return fail("POLL with no devices reported something ready");
	puts_str("TIME PASS\n");
	return 0;
}
