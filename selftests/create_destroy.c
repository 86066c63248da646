// SPDX-License-Identifier: GPL-2.0
/*
 * 200 create/run/destroy cycles of a small VM leak nothing: free memory,
 * slab, the process's pinned/locked accounting and its fds come back
 * (memory within a tolerance, since the page allocator's per-CPU lists
 * and other activity move MemFree a little).
 */
#include <sys/klog.h>
#include "vsnix_util.h"

#define CYCLES		200
#define WARMUP		10
#define RAM_SIZE	0x10000ul
#define CODE_GPA	0x8000ul
#define MEMFREE_TOLERANCE_KB	4096	/* 20 KiB a cycle: a VM's own pages */
#define SLAB_TOLERANCE_KB	1024

static const uint8_t guest_code[] = {
	0xb8, 0x2a, 0x00, 0x00, 0x00,	/* mov $42, %eax */
	0xe7, 0x50,			/* out %eax, $0x50 */
	0xf4,				/* hlt */
};

static bool one_cycle(bool run_it)
{
	struct vsnix_test_vm *vm = vm_create(RAM_SIZE);
	struct vsnix_test_vcpu *vcpu = vcpu_create(vm, 0);
	bool ok = true;

	vm_write(vm, CODE_GPA, guest_code, sizeof(guest_code));
	vcpu_setup_prot_mode(vcpu, CODE_GPA, 0x7000);
	if (run_it) {
		ok = vcpu_run_raw(vcpu) == 0 && vcpu_is_io(vcpu, 0x50, VSNIX_EXIT_IO_OUT, 4) &&
		     *(uint32_t *)vcpu_io_data(vcpu) == 42;
		ok = ok && vcpu_run_raw(vcpu) == 0 && vcpu->run->exit_reason == VSNIX_EXIT_HLT;
		if (!ok)
			tap_diag("cycle run: %s", vcpu_exit_str(vcpu));
	}
	vm_destroy(vm);
	return ok;
}

static long status_kb(const char *field)
{
	size_t flen = strlen(field);
	char line[256];
	long val = -1;
	FILE *f = fopen("/proc/self/status", "re");

	TEST_ASSERT(f, "open /proc/self/status");
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, flen) && line[flen] == ':')
			val = strtol(line + flen + 1, NULL, 10);
	fclose(f);
	return val;
}

static long slab_kb(void)
{
	return meminfo_kb("Slab");
}

/*
 * KASAN keeps freed objects in a quarantine (tens of MiB), so MemFree and
 * Slab say nothing about leaks on such a kernel; kmemleak, which the rig
 * scans on the debug kernel, is the leak check that applies there.
 */
static bool kernel_has_kasan(void)
{
	int size = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0);
	char *buf;
	bool found;
	int n;

	if (size <= 0)
		return false;
	buf = malloc(size + 1);
	TEST_ASSERT(buf, "malloc");
	/* The whole ring: the boot line may be old by now. */
	n = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf, size);
	buf[n > 0 ? n : 0] = 0;
	found = strstr(buf, "KernelAddressSanitizer initialized") != NULL;
	free(buf);
	return found;
}

int main(void)
{
	long free0, free1, slab0, slab1, pin0, pin1, lck0, lck1;
	int fds0, fds1, i, failed_runs = 0;

	vsnix_dev_fd();
	tap_plan(5);
	for (i = 0; i < WARMUP; i++)
		one_cycle(true);
	fds0 = count_open_fds();
	pin0 = status_kb("VmPin");
	lck0 = status_kb("VmLck");
	slab0 = slab_kb();
	free0 = meminfo_kb("MemFree");

	for (i = 0; i < CYCLES; i++)
		if (!one_cycle(i % 2 == 0))
			failed_runs++;

	free1 = meminfo_kb("MemFree");
	slab1 = slab_kb();
	pin1 = status_kb("VmPin");
	lck1 = status_kb("VmLck");
	fds1 = count_open_fds();
	tap_diag("MemFree %ld -> %ld kB, Slab %ld -> %ld kB, VmPin %ld -> %ld, VmLck %ld -> %ld",
		 free0, free1, slab0, slab1, pin0, pin1, lck0, lck1);

	tap_ok(!failed_runs, "every cycle's guest ran (%d failed)", failed_runs);
	tap_ok(fds1 == fds0, "no fd leak (%d -> %d)", fds0, fds1);
	tap_ok(pin1 == pin0 && lck1 == lck0, "pinned and locked memory accounting came back");
	if (kernel_has_kasan()) {
		tap_skip("KASAN quarantine holds freed memory; kmemleak checks this kernel",
			 "MemFree within %d kB after %d cycles", MEMFREE_TOLERANCE_KB, CYCLES);
		tap_skip("KASAN quarantine holds freed memory; kmemleak checks this kernel",
			 "Slab within %d kB after %d cycles", SLAB_TOLERANCE_KB, CYCLES);
		tap_finish();
	}
	tap_ok(free0 > 0 && free0 - free1 < MEMFREE_TOLERANCE_KB,
	       "MemFree within %d kB after %d cycles (%ld kB less)", MEMFREE_TOLERANCE_KB, CYCLES,
	       free0 - free1);
	tap_ok(slab0 > 0 && slab1 - slab0 < SLAB_TOLERANCE_KB,
	       "Slab within %d kB after %d cycles (%ld kB more)", SLAB_TOLERANCE_KB, CYCLES,
	       slab1 - slab0);
	tap_finish();
}
