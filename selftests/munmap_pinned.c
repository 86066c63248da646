// SPDX-License-Identifier: GPL-2.0
/*
 * A VSNIX_MEM_PIN slot is pinned for its life: after the process munmap()s
 * it, and even maps other memory at the same address, the guest keeps
 * running on its own pages and the host does not crash. (Unpinned slots
 * follow the host's mapping instead: see munmap_ondemand.)
 */
#include <sys/mman.h>

#include "vsnix_util.h"

#define PORT	0x40

static volatile uint32_t guest_value;

static void guest_pinned(void)
{
	for (;;) {
		guest_value++;
		guest_outl(PORT, guest_value);
	}
}

static bool run_expect_value(struct vsnix_test_vcpu *vcpu, uint32_t want)
{
	uint32_t got;

	if (vcpu_run_raw(vcpu) || !vcpu_is_io(vcpu, PORT, VSNIX_EXIT_IO_OUT, 4)) {
		tap_diag("want out port 0x%x: %s", PORT, vcpu_exit_str(vcpu));
		return false;
	}
	memcpy(&got, vcpu_io_data(vcpu), 4);
	if (got != want)
		tap_diag("got %u want %u", got, want);
	return got == want;
}

int main(void)
{
	struct vsnix_test_vcpu *vcpu;
	struct vsnix_test_vm *vm;
	void *fresh;
	bool ok;

	vsnix_dev_fd();
	tap_plan(5);
	vm = vm_create_long(0);
	/* The same RAM again, pinned: slot 0 deleted and set with the flag. */
	vm_set_region(vm, 0, 0, 0, 0, NULL);
	vm_set_region(vm, 0, VSNIX_MEM_PIN, 0, vm->mem_size, vm->mem);
	vcpu = vcpu_create_long(vm, 0, guest_pinned);
	ok = run_expect_value(vcpu, 1) && run_expect_value(vcpu, 2);
	tap_ok(ok, "guest counts before the munmap");

	TEST_ASSERT(!munmap(vm->mem, vm->mem_size), "munmap guest memory");
	ok = run_expect_value(vcpu, 3) && run_expect_value(vcpu, 4);
	tap_ok(ok, "guest keeps running and counting after munmap");

	fresh = mmap(vm->mem, vm->mem_size, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	TEST_ASSERT(fresh == vm->mem, "mmap over the old guest range");
	memset(fresh, 0xff, vm->mem_size);
	ok = run_expect_value(vcpu, 5);
	tap_ok(ok, "new memory at the old address does not change the guest's pages");
	tap_ok(*(volatile uint32_t *)((uint8_t *)fresh + (uintptr_t)&guest_value) == 0xffffffff,
	       "the guest does not write the new memory either");

	vm_destroy(vm);		/* unmaps the fresh mapping */
	tap_ok(kernel_healthy(), "kernel not tainted by an oops or WARN");
	tap_finish();
}
