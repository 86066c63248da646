// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark guest: times "iters=N" WALLTIME hypercalls with the TSC and
 * prints the mean round trip in TSC cycles and nanoseconds (via the boot
 * info's cpu_cycle_freq). With "batch=B" it also times each run of B
 * hypercalls apart and prints the fastest and the median batch, per
 * hypercall in picoseconds: on a loaded host the host's scheduler only
 * ever adds time, so the fastest batches show the code path's own cost.
 * Not a test: Documentation/benchmarks.rst.
 */
#include "hvt_guest.h"

HVT_DECLARE_MANIFEST(0);

#define MAX_BATCHES 4096

static uint64_t batch_cycles[MAX_BATCHES];

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/* Insertion sort: at most MAX_BATCHES values, after the timing. */
static void sort_u64(uint64_t *v, long n)
{
	long i, j;

	for (i = 1; i < n; i++) {
		uint64_t x = v[i];

		for (j = i; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

/* Picoseconds per hypercall of a batch of @n taking @cycles. */
static uint64_t batch_ps(uint64_t cycles, long n)
{
	return cycles * 1000000000ULL / boot_info->cpu_cycle_freq * 1000 / n;
}

static void time_batches(long iters, long batch)
{
	long nb = iters / batch, b, i;

	if (nb > MAX_BATCHES)
		nb = MAX_BATCHES;
	if (nb < 1)
		nb = 1;
	for (b = 0; b < nb; b++) {
		uint64_t t0 = rdtsc();

		for (i = 0; i < batch; i++)
			walltime_ns();
		batch_cycles[b] = rdtsc() - t0;
	}
	sort_u64(batch_cycles, nb);
	put_dec("batches=", nb);
	put_dec("batch_min_ps=", batch_ps(batch_cycles[0], batch));
	put_dec("batch_med_ps=", batch_ps(batch_cycles[nb / 2], batch));
}

int guest_main(const char *cmdline)
{
	long iters = cmdline_number(cmdline, "iters", 1000), i;
	long batch = cmdline_number(cmdline, "batch", 0);
	uint64_t t0, cycles;

	if (iters <= 0)
		iters = 1;
	if (batch > 0) {
		time_batches(iters, batch);
		return 0;
	}
	t0 = rdtsc();
	for (i = 0; i < iters; i++)
		walltime_ns();
	cycles = (rdtsc() - t0) / iters;
	put_dec("hypercall_cycles=", cycles);
	put_dec("hypercall_ns=", cycles * 1000000000ULL / boot_info->cpu_cycle_freq);
	return 0;
}
