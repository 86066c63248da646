// SPDX-License-Identifier: GPL-2.0
/*
 * hvt time: WALLTIME is wall-clock and monotonic over 1000 calls; POLL
 * with no device ready sleeps at least its timeout (200 ms).
 */
#include "guests/run_guest.h"

#define NR_TESTS 3

int main(void)
{
	static struct rg_result r;
	const char *p;
	unsigned long long elapsed = 0;

	rg_require(NR_TESTS);
	rg_plan(NR_TESTS);

	rg_run(&r, (const char *[]){ "run", "--kernel", rg_guest("time.hvt"),
				     "--mem", "32M", NULL });
	if (!rg_ok(r.code == 0 && rg_has(r.out, "TIME PASS\n"),
		   "walltime monotonic and POLL timeout honoured (guest's view)"))
		rg_diag(&r);
	p = strstr(r.out, "poll_elapsed_ns=");
	if (p)
		elapsed = strtoull(p + strlen("poll_elapsed_ns="), NULL, 10);
	if (!rg_ok(elapsed >= 200000000ULL, "POLL slept %llu ns >= 200 ms", elapsed))
		rg_diag(&r);
	rg_ok(r.seconds >= 0.2, "the run took %.3f s of host time >= 200 ms", r.seconds);
	return rg_exit();
}
