// SPDX-License-Identifier: GPL-2.0
/*
 * 200 create/run/destroy cycles of a small VM leak nothing: free memory,
 * slab, the process's locked-memory accounting and the module's references
 * come back (memory within a tolerance, since the page allocator's per-CPU
 * lists and other activity move MemFree a little).
 *
 * Pinned guest memory (VSNIX_MEM_PIN) is charged to the owner's locked_vm
 * (VmLck), as VFIO does, not to pinned_vm (VmPin, which RDMA and io_uring
 * use): the test checks that VmLck grows by a pinned slot while a VM lives,
 * so that "it came back" means something; half of the cycles pin their
 * RAM, half fault it in on demand. Every VM and every VM or vCPU file holds a module
 * reference, so /sys/module/vsnix/refcnt sees a VM or a file the kernel
 * failed to free, which the process's own fd count cannot.
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

/* Slot 0 again, pinned. */
static void pin_ram(struct vsnix_test_vm *vm)
{
	vm_set_region(vm, 0, 0, 0, 0, NULL);
	vm_set_region(vm, 0, VSNIX_MEM_PIN, 0, vm->mem_size, vm->mem);
}

static bool one_cycle(bool run_it, bool pin)
{
	struct vsnix_test_vm *vm = vm_create(RAM_SIZE);
	struct vsnix_test_vcpu *vcpu = vcpu_create(vm, 0);
	bool ok = true;

	if (pin)
		pin_ram(vm);

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

/* VmLck grows by pinned guest RAM while a VM lives; its refs are held. */
static bool accounting_while_alive(long lck0, long ref0)
{
	struct vsnix_test_vm *vm = vm_create(RAM_SIZE);
	long lck, ref;

	pin_ram(vm);
	lck = proc_status_kb("VmLck");
	ref = vsnix_module_refcnt();
	bool ok = lck - lck0 == (long)(RAM_SIZE >> 10) && ref > ref0;

	if (!ok)
		tap_diag("with a VM: VmLck %ld -> %ld kB (want +%lu), refcnt %ld -> %ld",
			 lck0, lck, RAM_SIZE >> 10, ref0, ref);
	vm_destroy(vm);
	return ok;
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
	long free0, free1, slab0, slab1, ref0, ref1, lck0, lck1;
	int fds0, fds1, i, failed_runs = 0;
	bool alive_ok;

	vsnix_dev_fd();
	tap_plan(6);
	for (i = 0; i < WARMUP; i++)
		one_cycle(true, i % 2);
	fds0 = count_open_fds();
	ref0 = vsnix_module_refcnt();
	lck0 = proc_status_kb("VmLck");
	alive_ok = accounting_while_alive(lck0, ref0);
	slab0 = slab_kb();
	free0 = meminfo_kb("MemFree");

	for (i = 0; i < CYCLES; i++)
		if (!one_cycle(i % 2 == 0, i % 4 < 2))
			failed_runs++;

	free1 = meminfo_kb("MemFree");
	slab1 = slab_kb();
	ref1 = vsnix_module_refcnt();
	lck1 = proc_status_kb("VmLck");
	fds1 = count_open_fds();
	tap_diag("MemFree %ld -> %ld kB, Slab %ld -> %ld kB, refcnt %ld -> %ld, VmLck %ld -> %ld, fds %d -> %d",
		 free0, free1, slab0, slab1, ref0, ref1, lck0, lck1, fds0, fds1);

	tap_ok(!failed_runs, "every cycle's guest ran (%d failed)", failed_runs);
	tap_ok(alive_ok, "a live VM holds module references and its pinned RAM in VmLck");
	tap_ok(ref0 > 0 && ref1 == ref0 && fds1 == fds0,
	       "no VM or file left behind: module refcnt %ld -> %ld", ref0, ref1);
	tap_ok(lck1 == lck0, "locked memory accounting came back (%ld -> %ld kB)", lck0, lck1);
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
