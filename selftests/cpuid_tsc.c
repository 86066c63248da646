// SPDX-License-Identifier: GPL-2.0
/*
 * The guest learns the TSC rate from CPUID without calibrating: the
 * hypervisor leaves (0x40000000: signature, max leaf 0x40000010;
 * 0x40000010: TSC kHz, APIC bus kHz) on both vendors, and on Intel leaves
 * 0x15/0x16 as Linux's native_calibrate_tsc() and cpu_khz_from_cpuid()
 * read them (crystal = the APIC timer's clock: 1 GHz, or the TSC's rate
 * where that is lower; the ratio within 10 ppm after Linux's 32-bit
 * arithmetic, or not enumerated). AMD guests get no 0x15/0x16 of vsnix's
 * making: Linux reads them only on Intel.
 * The rate is checked against the TSC measured from the host.
 */
#include <time.h>
#include "vsnix_util.h"

static void guest_main(void)
{
	static const uint32_t leaves[] = { 0, 0x15, 0x16, 0x40000000, 0x40000010 };
	uint32_t a, b, c, d;
	unsigned int i;

	for (i = 0; i < sizeof(leaves) / sizeof(leaves[0]); i++) {
		guest_cpuid(leaves[i], 0, &a, &b, &c, &d);
		guest_ucall(UCALL_SYNC, leaves[i], a, b, c, d, 0);
	}
}

/* TSC ticks over 100 ms of CLOCK_MONOTONIC, in Hz. */
static uint64_t measure_tsc_hz(void)
{
	struct timespec t0, t1, pause = { 0, 100 * 1000 * 1000 };
	uint64_t c0, c1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	c0 = __builtin_ia32_rdtsc();
	nanosleep(&pause, NULL);
	c1 = __builtin_ia32_rdtsc();
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (c1 - c0) * 1e9 / ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec));
}

/* The median of three: an emulator's hiccup spoils one, not the result. */
static uint64_t host_tsc_hz(void)
{
	uint64_t a = measure_tsc_hz(), b = measure_tsc_hz(), c = measure_tsc_hz();

	if (a > b) { uint64_t t = a; a = b; b = t; }
	if (b > c) b = c;
	return a > b ? a : b;
}

struct leaf {
	uint32_t eax, ebx, ecx, edx;
};

/* The supported list has the timing leaf with the same values. */
static bool supported_has(const struct leaf *l10)
{
	size_t len = sizeof(struct vsnix_cpuid) + 512 * sizeof(struct vsnix_cpuid_entry);
	struct vsnix_cpuid *cpuid = calloc(1, len);
	bool found = false;
	uint32_t i;

	cpuid->nent = 512;
	if (ioctl(vsnix_dev_fd(), VSNIX_GET_SUPPORTED_CPUID, cpuid) == 0) {
		for (i = 0; i < cpuid->nent; i++)
			found |= cpuid->entries[i].function == 0x40000010 &&
				 cpuid->entries[i].eax == l10->eax &&
				 cpuid->entries[i].ebx == l10->ebx;
	}
	free(cpuid);
	return found;
}

int main(void)
{
	struct leaf l0, l15, l16, l40, l10;
	struct leaf *out[] = { &l0, &l15, &l16, &l40, &l10 };
	struct vsnix_test_vcpu *vcpu;
	struct vsnix_test_vm *vm;
	uint64_t hz, linux_khz, bus;
	struct ucall uc;
	char sig[13];
	unsigned int i;
	bool ok;

	vsnix_dev_fd();
	tap_plan(7);
	vm = vm_create_long(0);
	vcpu = vcpu_create_long(vm, 0, guest_main);
	for (i = 0; i < 5; i++) {
		TEST_ASSERT(vcpu_run_ucall(vcpu, &uc) == UCALL_SYNC, "leaf %u", i);
		*out[i] = (struct leaf){ uc.args[1], uc.args[2], uc.args[3], uc.args[4] };
	}
	TEST_ASSERT(vcpu_run_ucall(vcpu, &uc) == UCALL_DONE, "done");
	vm_destroy(vm);
	hz = host_tsc_hz();

	memcpy(sig, &l40.ebx, 4);
	memcpy(sig + 4, &l40.ecx, 4);
	memcpy(sig + 8, &l40.edx, 4);
	sig[12] = 0;
	tap_ok(!strcmp(sig, "vSnixvSnixvS") && l40.eax == 0x40000010,
	       "0x40000000: '%s', max leaf 0x%x", sig, l40.eax);
	ok = l10.eax && l10.eax > hz / 1000 * 95 / 100 && l10.eax < hz / 1000 * 105 / 100;
	/* The APIC bus: 1 GHz, never faster than the TSC (as a crystal). */
	bus = l10.eax < 1000000 ? l10.eax : 1000000;
	tap_ok(ok && l10.ebx == bus && l10.ebx <= l10.eax,
	       "0x40000010: TSC %u kHz (host %lu kHz), APIC bus %u kHz, not faster",
	       l10.eax, (unsigned long)(hz / 1000), l10.ebx);
	tap_ok(supported_has(&l10), "GET_SUPPORTED_CPUID has the same 0x40000010");
	if (vsnix_is_vmx()) {
		tap_ok(l0.eax >= 0x16, "Intel: max basic leaf 0x%x >= 0x16", l0.eax);
		linux_khz = l15.eax ? (uint32_t)(l15.ecx / 1000 * l15.ebx) / l15.eax : 0;
		tap_ok(l15.ecx == bus * 1000 &&
		       (!l15.eax || llabs((long long)linux_khz - l10.eax) * 100000 <= l10.eax),
		       "Intel: 0x15 crystal %u Hz, ratio %u/%u: Linux computes %lu kHz",
		       l15.ecx, l15.ebx, l15.eax, (unsigned long)linux_khz);
		tap_ok(l16.eax == l10.eax / 1000 && l16.ecx == bus / 1000,
		       "Intel: 0x16 base %u MHz, bus %u MHz", l16.eax, l16.ecx);
	} else {
		tap_ok(l0.eax < 0x15, "AMD: max basic leaf 0x%x, below 0x15", l0.eax);
		tap_ok(!l15.eax && !l15.ebx && !l15.ecx && !l15.edx,
		       "AMD: no leaf 0x15 (Linux reads it on Intel only)");
		tap_ok(!l16.eax && !l16.ebx && !l16.ecx && !l16.edx, "AMD: no leaf 0x16");
	}
	tap_ok(kernel_healthy(), "kernel not tainted by an oops or WARN");
	tap_finish();
}
