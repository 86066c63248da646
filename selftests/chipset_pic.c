// SPDX-License-Identifier: GPL-2.0
/*
 * The in-kernel 8259A pair (VSNIX_DEV_PIC): Linux's probe (mask all, write
 * a pattern to the master's IMR, read it back), its init sequence (ICW1-4,
 * master at vector 0x30, slave at 0x38 on IR2), IMR/IRR/ISR reads through
 * OCW3, the ELCR's fixed bits, and one PIC per VM.
 */
#include "vsnix_util.h"

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static void guest_main(void)
{
	/* Linux's probe_8259A: mask the slave, a pattern on the master. */
	guest_outb(0xa1, 0xff);
	guest_outb(0x21, 0xfb);
	GUEST_SYNC2(1, inb(0x21));
	guest_outb(0x21, 0xff);

	/* init_8259A: ICW1 edge + ICW4, ICW2 base, ICW3 cascade, ICW4 8086. */
	guest_outb(0x20, 0x11);
	guest_outb(0x21, 0x30);
	guest_outb(0x21, 0x04);
	guest_outb(0x21, 0x01);
	guest_outb(0xa0, 0x11);
	guest_outb(0xa1, 0x38);
	guest_outb(0xa1, 0x02);
	guest_outb(0xa1, 0x01);
	/* ICW1 cleared the IMRs; OCW1 sets them again. */
	GUEST_SYNC3(2, inb(0x21), inb(0xa1));
	guest_outb(0x21, 0xfa);
	guest_outb(0xa1, 0xbf);
	GUEST_SYNC3(3, inb(0x21), inb(0xa1));

	/* OCW3: read IRR (0x0a), then ISR (0x0b); nothing pending. */
	guest_outb(0x20, 0x0a);
	guest_outb(0xa0, 0x0a);
	GUEST_SYNC3(4, inb(0x20), inb(0xa0));
	guest_outb(0x20, 0x0b);
	guest_outb(0xa0, 0x0b);
	GUEST_SYNC3(5, inb(0x20), inb(0xa0));

	/* ELCR: IRQ 0, 1, 2, 8 and 13 stay edge. */
	guest_outb(0x4d0, 0xff);
	guest_outb(0x4d1, 0xff);
	GUEST_SYNC3(6, inb(0x4d0), inb(0x4d1));

	/* Poll mode (OCW3 P=1) with nothing pending reads 0. */
	guest_outb(0x20, 0x0c);
	GUEST_SYNC2(7, inb(0x20));
}

static bool sync_is(struct vsnix_test_vcpu *vcpu, struct ucall *uc, uint64_t stage)
{
	return vcpu_run_ucall_soft(vcpu, uc) == UCALL_SYNC && uc->args[0] == stage;
}

int main(void)
{
	struct vsnix_device_config c = { .type = VSNIX_DEV_PIC, .console_fd = -1 };
	struct vsnix_test_vcpu *vcpu;
	struct vsnix_test_vm *vm;
	struct ucall uc;
	bool ok;

	vsnix_dev_fd();
	tap_plan(12);
	vm = vm_create_long(0);
	vcpu = vcpu_create_long(vm, 0, guest_main);
	tap_ok(ioctl(vm->fd, VSNIX_CREATE_DEVICE, &c) == 0, "CREATE_DEVICE PIC");
	tap_ok(expect_errno(ioctl(vm->fd, VSNIX_CREATE_DEVICE, &c), EEXIST, "PIC"),
	       "a second PIC: EEXIST");

	ok = sync_is(vcpu, &uc, 1);
	tap_ok(ok && uc.args[1] == 0xfb, "probe: master IMR reads back 0x%lx",
	       (unsigned long)uc.args[1]);
	ok = sync_is(vcpu, &uc, 2);
	tap_ok(ok && uc.args[1] == 0 && uc.args[2] == 0,
	       "ICW1 cleared the IMRs (0x%lx, 0x%lx)", (unsigned long)uc.args[1],
	       (unsigned long)uc.args[2]);
	ok = sync_is(vcpu, &uc, 3);
	tap_ok(ok && uc.args[1] == 0xfa && uc.args[2] == 0xbf,
	       "after init, OCW1 writes the IMRs (0x%lx, 0x%lx)",
	       (unsigned long)uc.args[1], (unsigned long)uc.args[2]);
	ok = sync_is(vcpu, &uc, 4);
	tap_ok(ok && uc.args[1] == 0 && uc.args[2] == 0, "IRR empty (0x%lx, 0x%lx)",
	       (unsigned long)uc.args[1], (unsigned long)uc.args[2]);
	ok = sync_is(vcpu, &uc, 5);
	tap_ok(ok && uc.args[1] == 0 && uc.args[2] == 0, "ISR empty (0x%lx, 0x%lx)",
	       (unsigned long)uc.args[1], (unsigned long)uc.args[2]);
	ok = sync_is(vcpu, &uc, 6);
	tap_ok(ok && uc.args[1] == 0xf8 && uc.args[2] == 0xde,
	       "ELCR keeps IRQ 0-2, 8, 13 edge (0x%lx, 0x%lx)",
	       (unsigned long)uc.args[1], (unsigned long)uc.args[2]);
	ok = sync_is(vcpu, &uc, 7);
	tap_ok(ok && uc.args[1] == 0, "poll with nothing pending reads 0x%lx",
	       (unsigned long)uc.args[1]);
	tap_ok(vcpu_run_ucall_soft(vcpu, &uc) == UCALL_DONE, "guest finished");
	vm_destroy(vm);

	vm = vm_create(1 << 20);
	c.pic.reserved[3] = 1;
	tap_ok(expect_errno(ioctl(vm->fd, VSNIX_CREATE_DEVICE, &c), EINVAL, "PIC"),
	       "PIC with reserved bytes set: EINVAL");
	vm_destroy(vm);
	tap_ok(kernel_healthy(), "kernel not tainted by an oops or WARN");
	tap_finish();
}
