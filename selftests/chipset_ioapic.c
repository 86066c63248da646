// SPDX-License-Identifier: GPL-2.0
/*
 * The in-kernel I/O APIC's registers (VSNIX_DEV_IOAPIC, Intel 82093AA):
 * IOREGSEL/IOWIN at the configured base, ID, version 0x11 with 24
 * entries, arbitration ID, redirection entries masked at reset, their
 * read-only bits (delivery status, remote IRR) and reserved high bits, and
 * bad configurations refused.
 */
#include "vsnix_util.h"

#define IOAPIC_BASE	0xfec00000ul
#define IOAPIC_ID	5

static volatile uint32_t *const ioregsel = (volatile uint32_t *)IOAPIC_BASE;
static volatile uint32_t *const iowin = (volatile uint32_t *)(IOAPIC_BASE + 0x10);

static uint32_t ioapic_read(uint32_t reg)
{
	*ioregsel = reg;
	return *iowin;
}

static void ioapic_write(uint32_t reg, uint32_t v)
{
	*ioregsel = reg;
	*iowin = v;
}

static void guest_main(void)
{
	uint32_t arb;

	GUEST_SYNC3(1, ioapic_read(0), ioapic_read(1));
	arb = ioapic_read(2);
	GUEST_SYNC3(2, arb, *ioregsel);
	GUEST_SYNC3(3, ioapic_read(0x10), ioapic_read(0x10 + 2 * 23));
	/* Pin 2: vector 0x31, fixed, physical, level, unmasked; RO bits set. */
	ioapic_write(0x14, 0x31 | 1 << 15 | 1 << 14 | 1 << 12);
	ioapic_write(0x15, 0xffffffff);
	GUEST_SYNC3(4, ioapic_read(0x14), ioapic_read(0x15));
	/* ID is bits 27:24; out-of-table registers read 0. */
	ioapic_write(0, 0x0a000000);
	GUEST_SYNC3(5, ioapic_read(0), ioapic_read(0x10 + 2 * 24));
	/* Version is read-only. */
	ioapic_write(1, 0);
	GUEST_SYNC2(6, ioapic_read(1));
}

static int create_ioapic(struct vsnix_test_vm *vm, uint64_t base, uint32_t id)
{
	struct vsnix_device_config c = { .type = VSNIX_DEV_IOAPIC, .console_fd = -1 };

	c.ioapic.base = base;
	c.ioapic.id = id;
	return ioctl(vm->fd, VSNIX_CREATE_DEVICE, &c);
}

int main(void)
{
	struct vsnix_test_vcpu *vcpu;
	struct vsnix_test_vm *vm;
	struct ucall uc;
	bool ok;

	vsnix_dev_fd();
	tap_plan(11);
	vm = vm_create_long(0);
	vcpu = vcpu_create_long(vm, 0, guest_main);
	tap_ok(create_ioapic(vm, IOAPIC_BASE, IOAPIC_ID) == 0, "CREATE_DEVICE IOAPIC at 0x%lx",
	       IOAPIC_BASE);

	ok = vcpu_run_sync_is(vcpu, &uc, 1);
	tap_ok(ok && uc.args[1] == IOAPIC_ID << 24 && uc.args[2] == 0x00170011,
	       "ID 0x%lx, version 0x%lx (0x11, max entry 23)",
	       (unsigned long)uc.args[1], (unsigned long)uc.args[2]);
	ok = vcpu_run_sync_is(vcpu, &uc, 2);
	tap_ok(ok && uc.args[1] == IOAPIC_ID << 24 && uc.args[2] == 2,
	       "arbitration ID 0x%lx; IOREGSEL reads back %lu",
	       (unsigned long)uc.args[1], (unsigned long)uc.args[2]);
	ok = vcpu_run_sync_is(vcpu, &uc, 3);
	tap_ok(ok && uc.args[1] == 0x10000 && uc.args[2] == 0x10000,
	       "entries 0 and 23 masked at reset (0x%lx, 0x%lx)",
	       (unsigned long)uc.args[1], (unsigned long)uc.args[2]);
	ok = vcpu_run_sync_is(vcpu, &uc, 4);
	tap_ok(ok && uc.args[1] == (0x31 | 1 << 15) && uc.args[2] == 0xff000000,
	       "entry 2 reads 0x%lx:0x%lx (delivery status, remote IRR, reserved bits not written)",
	       (unsigned long)uc.args[2], (unsigned long)uc.args[1]);
	ok = vcpu_run_sync_is(vcpu, &uc, 5);
	tap_ok(ok && uc.args[1] == 0x0a000000 && uc.args[2] == 0,
	       "ID written 0x%lx; register past entry 23 reads %lu",
	       (unsigned long)uc.args[1], (unsigned long)uc.args[2]);
	ok = vcpu_run_sync_is(vcpu, &uc, 6);
	tap_ok(ok && uc.args[1] == 0x00170011, "version is read-only (0x%lx)",
	       (unsigned long)uc.args[1]);
	tap_ok(vcpu_run_ucall_soft(vcpu, &uc) == UCALL_DONE, "guest finished");
	tap_ok(expect_errno(create_ioapic(vm, 0xfeb00000, 0), EEXIST, "second"),
	       "a second IOAPIC: EEXIST");
	vm_destroy(vm);

	vm = vm_create(1 << 20);
	tap_ok(expect_errno(create_ioapic(vm, IOAPIC_BASE + 0x100, 0), EINVAL, "unaligned") &&
	       expect_errno(create_ioapic(vm, 0x100000000ul, 0), EINVAL, "above 4G") &&
	       expect_errno(create_ioapic(vm, IOAPIC_BASE, 16), EINVAL, "id 16"),
	       "unaligned base, base above 4 GiB, ID 16: EINVAL");
	vm_destroy(vm);
	tap_ok(kernel_healthy(), "kernel not tainted by an oops or WARN");
	tap_finish();
}
