// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark guest: times "iters=N" WALLTIME hypercalls with the TSC and
 * prints the mean round trip in TSC cycles and nanoseconds (via the boot
 * info's cpu_cycle_freq). Not a test: Documentation/benchmarks.rst.
 */
#include "hvt_guest.h"

HVT_DECLARE_MANIFEST(0);

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

int guest_main(const char *cmdline)
{
	long iters = cmdline_number(cmdline, "iters", 1000), i;
	uint64_t t0, cycles;

	if (iters <= 0)
		iters = 1;
	t0 = rdtsc();
	for (i = 0; i < iters; i++)
		walltime_ns();
	cycles = (rdtsc() - t0) / iters;
	put_dec("hypercall_cycles=", cycles);
	put_dec("hypercall_ns=", cycles * 1000000000ULL / boot_info->cpu_cycle_freq);
	return 0;
}
