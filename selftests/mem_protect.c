// SPDX-License-Identifier: GPL-2.0
/*
 * Guest writes just outside a memory slot become MMIO exits and never reach
 * the host memory around the slot (canary pages on both sides); writes to a
 * read-only slot become MMIO exits and leave the memory unchanged, while
 * reads see it, including later host changes.
 */
#include <sys/mman.h>

#include "vsnix_util.h"

#define SLOT_GPA	0x80000000ul
#define SLOT_SIZE	0x10000ul
#define RO_GPA		0x90000000ul
#define RO_SIZE		0x1000ul
#define CANARY		0xa5
#define PAGE		4096ul

static void guest_mem(uint64_t past_slot0)
{
	volatile uint64_t *inside = (volatile uint64_t *)(SLOT_GPA + SLOT_SIZE - 8);
	volatile uint64_t *ro = (volatile uint64_t *)RO_GPA;
	uint64_t v;

	inside[0] = 0x1122334455667788ul;
	GUEST_SYNC(1);
	asm volatile("movq %0, (%1)" : : "r"(0xbad1ul), "r"(SLOT_GPA + SLOT_SIZE) : "memory");
	asm volatile("movq %0, (%1)" : : "r"(0xbad2ul), "r"(SLOT_GPA - 8) : "memory");
	asm volatile("movq %0, (%1)" : : "r"(0xbad3ul), "r"(past_slot0) : "memory");
	GUEST_SYNC(2);
	GUEST_SYNC2(3, ro[0]);
	asm volatile("movq %0, (%1)" : : "r"(0xbad4ul), "r"(RO_GPA) : "memory");
	v = ro[0];
	GUEST_SYNC2(4, v);
	GUEST_SYNC2(5, ro[1]);
}

static bool run_expect_mmio_write(struct vsnix_test_vcpu *vcpu, uint64_t gpa, uint64_t data)
{
	struct vsnix_run *run = vcpu->run;
	uint64_t got;

	if (vcpu_run_raw(vcpu) || run->exit_reason != VSNIX_EXIT_MMIO ||
	    run->mmio.phys_addr != gpa || !run->mmio.is_write || run->mmio.len != 8) {
		tap_diag("want MMIO write at 0x%lx: %s", (unsigned long)gpa, vcpu_exit_str(vcpu));
		return false;
	}
	memcpy(&got, run->mmio.data, 8);
	return got == data;
}

static bool all_bytes(const uint8_t *p, size_t len, uint8_t v)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != v)
			return false;
	return true;
}

int main(void)
{
	struct vsnix_test_vcpu *vcpu;
	struct vsnix_test_vm *vm;
	uint8_t *area, *slot, *ro;
	struct ucall uc;
	bool ok, have_ro;

	vsnix_dev_fd();
	have_ro = vsnix_cap(VSNIX_CAP_READONLY_MEM);
	tap_plan(12);

	/* [canary page][slot][canary page] */
	area = mmap(NULL, SLOT_SIZE + 2 * PAGE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	TEST_ASSERT(area != MAP_FAILED, "mmap");
	memset(area, CANARY, SLOT_SIZE + 2 * PAGE);
	slot = area + PAGE;
	memset(slot, 0, SLOT_SIZE);
	ro = mmap(NULL, RO_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	TEST_ASSERT(ro != MAP_FAILED, "mmap");
	memset(ro, 0x42, RO_SIZE);

	vm = vm_create_long(0);
	vm_set_region(vm, 1, 0, SLOT_GPA, SLOT_SIZE, slot);
	if (have_ro)
		vm_set_region(vm, 2, VSNIX_MEM_READONLY, RO_GPA, RO_SIZE, ro);
	vcpu = vcpu_create_long(vm, 0, guest_mem);
	vcpu_set_args(vcpu, 1, vm->mem_size);

	ok = vcpu_run_sync_is(vcpu, &uc, 1);
	tap_ok(ok && *(uint64_t *)(slot + SLOT_SIZE - 8) == 0x1122334455667788ul,
	       "guest write to the last bytes of a slot reaches its memory");
	tap_ok(run_expect_mmio_write(vcpu, SLOT_GPA + SLOT_SIZE, 0xbad1),
	       "write just past the slot is an MMIO exit with the data");
	tap_ok(run_expect_mmio_write(vcpu, SLOT_GPA - 8, 0xbad2),
	       "write just below the slot is an MMIO exit with the data");
	tap_ok(run_expect_mmio_write(vcpu, vm->mem_size, 0xbad3),
	       "write just past slot 0 is an MMIO exit with the data");
	tap_ok(vcpu_run_sync_is(vcpu, &uc, 2), "guest resumed after the MMIO exits");
	tap_ok(all_bytes(area, PAGE, CANARY) && all_bytes(slot + SLOT_SIZE, PAGE, CANARY),
	       "host canary pages on both sides of the slot are untouched");

	if (have_ro) {
		ok = vcpu_run_sync_is(vcpu, &uc, 3);
		tap_ok(ok && uc.args[1] == 0x4242424242424242ul,
		       "guest reads a read-only slot (0x%lx)", (unsigned long)uc.args[1]);
		tap_ok(run_expect_mmio_write(vcpu, RO_GPA, 0xbad4),
		       "write to a read-only slot is an MMIO exit with the data");
		ok = vcpu_run_sync_is(vcpu, &uc, 4);
		tap_ok(ok && uc.args[1] == 0x4242424242424242ul && all_bytes(ro, RO_SIZE, 0x42),
		       "the read-only slot's memory is unchanged");
		/* The host may still write it; the guest sees that at once. */
		memcpy(ro + 8, &(uint64_t){ 0x0123456789abcdeful }, 8);
		ok = vcpu_run_sync_is(vcpu, &uc, 5);
		tap_ok(ok && uc.args[1] == 0x0123456789abcdeful,
		       "guest reads the host's later write to the read-only slot (0x%lx)",
		       (unsigned long)uc.args[1]);
		tap_ok(vcpu_run_ucall_soft(vcpu, &uc) == UCALL_DONE, "guest finished");
	} else {
		tap_skip("no VSNIX_CAP_READONLY_MEM", "read-only slot read");
		tap_skip("no VSNIX_CAP_READONLY_MEM", "read-only slot write exit");
		tap_skip("no VSNIX_CAP_READONLY_MEM", "read-only slot unchanged");
		tap_skip("no VSNIX_CAP_READONLY_MEM", "read-only slot: host writes seen");
		tap_skip("no VSNIX_CAP_READONLY_MEM", "guest finished");
	}
	vm_destroy(vm);
	tap_ok(kernel_healthy(), "kernel not tainted by an oops or WARN");
	tap_finish();
}
