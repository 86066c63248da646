// SPDX-License-Identifier: GPL-2.0
/*
 * The in-kernel 8259A pair (VSNIX_DEV_PIC): Linux's probe (mask all, write
 * a pattern to the master's IMR, read it back), its init sequence (ICW1-4,
 * master at vector 0x30, slave at 0x38 on IR2), IMR/IRR/ISR reads through
 * OCW3, the ELCR's fixed bits, and one PIC per VM. Lines (VSNIX_IRQ_LINE):
 * an edge on GSI 3 latches IRR, poll mode acknowledges it (IRR -> ISR) and
 * a non-specific EOI ends it; GSI 10 reaches the master through the
 * cascade; the PIT's counter 0 raises IR0 (ISA IRQ0 is GSI 2). The state
 * survives GET/SET_DEVICE_STATE, and a bad blob is refused.
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
	guest_outb(0x4d0, 0x00);	/* all edge again */
	guest_outb(0x4d1, 0x00);

	/* Poll mode (OCW3 P=1) with nothing pending reads 0. */
	guest_outb(0x20, 0x0c);
	GUEST_SYNC2(7, inb(0x20));

	/* 8: the host pulsed GSI 3; IRR, then poll = INTA, then ISR. */
	guest_outb(0x20, 0x0a);
	GUEST_SYNC2(8, inb(0x20));
	guest_outb(0x21, 0xf2);		/* unmask IR3: poll skips masked IRs */
	guest_outb(0x20, 0x0c);
	GUEST_SYNC2(9, inb(0x20));
	guest_outb(0x20, 0x0b);
	GUEST_SYNC2(10, inb(0x20));
	guest_outb(0x20, 0x20);		/* non-specific EOI */
	GUEST_SYNC2(11, inb(0x20));

	/* 12: GSI 10 is high: slave IR2 (unmasked) and the master's IR2. */
	guest_outb(0xa1, 0xfb);
	guest_outb(0x20, 0x0a);
	guest_outb(0xa0, 0x0a);
	GUEST_SYNC3(12, inb(0x20), inb(0xa0));

	/* 13: PIT counter 0 in mode 2 at 1 kHz raises IR0 (IRR latches even masked). */
	guest_outb(0x43, 0x34);
	guest_outb(0x40, 1193 & 0xff);
	guest_outb(0x40, 1193 >> 8);
	guest_outb(0x20, 0x0a);
	for (int i = 0; i < 10000000 && !(inb(0x20) & 1); i++)
		;
	GUEST_SYNC2(13, inb(0x20));
}

static int irq_line(struct vsnix_test_vm *vm, uint32_t gsi, uint32_t level)
{
	struct vsnix_irq_level l = { .gsi = gsi, .level = level };

	return ioctl(vm->fd, VSNIX_IRQ_LINE, &l);
}

/* GET then SET of the PIC's state; then a blob with a bad ELCR. */
static void test_state(struct vsnix_test_vm *vm, uint32_t id)
{
	struct {
		struct vsnix_device_state_header h;
		struct vsnix_pic_state s;
	} blob;
	struct vsnix_device_state st = { .id = id, .size = sizeof(blob),
					 .data = (uintptr_t)&blob };
	bool ok;

	ok = ioctl(vm->fd, VSNIX_GET_DEVICE_STATE, &st) == 0 &&
	     blob.h.type == VSNIX_DEV_PIC && blob.h.version == VSNIX_PIC_STATE_VERSION &&
	     blob.s.chip[0].vector_base == 0x30 && blob.s.chip[1].vector_base == 0x38 &&
	     blob.s.chip[0].imr == 0xf2 && blob.s.chip[1].imr == 0xfb && (blob.s.gsi_levels & (1 << 10));
	ok = ok && ioctl(vm->fd, VSNIX_SET_DEVICE_STATE, &st) == 0;
	tap_ok(ok, "GET_DEVICE_STATE has the guest's setup (bases 0x%x/0x%x), SET takes it back",
	       blob.s.chip[0].vector_base, blob.s.chip[1].vector_base);
	blob.s.chip[0].elcr = 0x01;	/* IRQ0 cannot be level */
	tap_ok(expect_errno(ioctl(vm->fd, VSNIX_SET_DEVICE_STATE, &st), EINVAL, "bad elcr"),
	       "SET_DEVICE_STATE with ELCR bit 0 set: EINVAL");
}

int main(void)
{
	struct vsnix_device_config c = { .type = VSNIX_DEV_PIC, .console_fd = -1 };
	struct vsnix_test_vcpu *vcpu;
	struct vsnix_test_vm *vm;
	struct ucall uc;
	bool ok;

	vsnix_dev_fd();
	struct vsnix_device_config pit = { .type = VSNIX_DEV_PIT, .console_fd = -1 };

	tap_plan(21);
	vm = vm_create_long(0);
	vcpu = vcpu_create_long(vm, 0, guest_main);
	ok = ioctl(vm->fd, VSNIX_CREATE_DEVICE, &c) == 0 && c.id > 0 &&
	     ioctl(vm->fd, VSNIX_CREATE_DEVICE, &pit) == 0;
	tap_ok(ok, "CREATE_DEVICE PIC (id %u) and PIT", c.id);
	tap_ok(expect_errno(ioctl(vm->fd, VSNIX_CREATE_DEVICE, &c), EEXIST, "PIC"),
	       "a second PIC: EEXIST");

	ok = vcpu_run_sync_is(vcpu, &uc, 1);
	tap_ok(ok && uc.args[1] == 0xfb, "probe: master IMR reads back 0x%lx",
	       (unsigned long)uc.args[1]);
	ok = vcpu_run_sync_is(vcpu, &uc, 2);
	tap_ok(ok && uc.args[1] == 0 && uc.args[2] == 0,
	       "ICW1 cleared the IMRs (0x%lx, 0x%lx)", (unsigned long)uc.args[1],
	       (unsigned long)uc.args[2]);
	ok = vcpu_run_sync_is(vcpu, &uc, 3);
	tap_ok(ok && uc.args[1] == 0xfa && uc.args[2] == 0xbf,
	       "after init, OCW1 writes the IMRs (0x%lx, 0x%lx)",
	       (unsigned long)uc.args[1], (unsigned long)uc.args[2]);
	ok = vcpu_run_sync_is(vcpu, &uc, 4);
	tap_ok(ok && uc.args[1] == 0 && uc.args[2] == 0, "IRR empty (0x%lx, 0x%lx)",
	       (unsigned long)uc.args[1], (unsigned long)uc.args[2]);
	ok = vcpu_run_sync_is(vcpu, &uc, 5);
	tap_ok(ok && uc.args[1] == 0 && uc.args[2] == 0, "ISR empty (0x%lx, 0x%lx)",
	       (unsigned long)uc.args[1], (unsigned long)uc.args[2]);
	ok = vcpu_run_sync_is(vcpu, &uc, 6);
	tap_ok(ok && uc.args[1] == 0xf8 && uc.args[2] == 0xde,
	       "ELCR keeps IRQ 0-2, 8, 13 edge (0x%lx, 0x%lx)",
	       (unsigned long)uc.args[1], (unsigned long)uc.args[2]);
	ok = vcpu_run_sync_is(vcpu, &uc, 7);
	tap_ok(ok && uc.args[1] == 0, "poll with nothing pending reads 0x%lx",
	       (unsigned long)uc.args[1]);
	TEST_ASSERT(irq_line(vm, 3, 1) == 0 && irq_line(vm, 3, 0) == 0, "IRQ_LINE 3");
	ok = vcpu_run_sync_is(vcpu, &uc, 8);
	tap_ok(ok && uc.args[1] == 0x08, "an edge on GSI 3 latches IRR bit 3 (0x%lx)",
	       (unsigned long)uc.args[1]);
	ok = vcpu_run_sync_is(vcpu, &uc, 9);
	tap_ok(ok && uc.args[1] == 0x83, "poll acknowledges IR3 (0x%lx)",
	       (unsigned long)uc.args[1]);
	ok = vcpu_run_sync_is(vcpu, &uc, 10);
	tap_ok(ok && uc.args[1] == 0x08, "IR3 now in service (ISR 0x%lx)",
	       (unsigned long)uc.args[1]);
	ok = vcpu_run_sync_is(vcpu, &uc, 11);
	tap_ok(ok && uc.args[1] == 0, "non-specific EOI clears it (ISR 0x%lx)",
	       (unsigned long)uc.args[1]);
	TEST_ASSERT(irq_line(vm, 10, 1) == 0, "IRQ_LINE 10");
	ok = vcpu_run_sync_is(vcpu, &uc, 12);
	tap_ok(ok && (uc.args[1] & 0x04) && uc.args[2] == 0x04,
	       "GSI 10: slave IRR 0x%lx, master IRR 0x%lx (cascade)",
	       (unsigned long)uc.args[2], (unsigned long)uc.args[1]);
	test_state(vm, c.id);
	ok = vcpu_run_sync_is(vcpu, &uc, 13);
	tap_ok(ok && (uc.args[1] & 1), "PIT counter 0 raised IR0 (IRR 0x%lx)",
	       (unsigned long)uc.args[1]);
	tap_ok(vcpu_run_ucall_soft(vcpu, &uc) == UCALL_DONE, "guest finished");
	vm_destroy(vm);

	vm = vm_create(1 << 20);
	TEST_ASSERT(ioctl(vm->fd, VSNIX_CREATE_DEVICE, &c) == 0, "PIC");
	tap_ok(ioctl(vm->fd, VSNIX_DESTROY_DEVICE, (unsigned long)c.id) == 0 &&
	       ioctl(vm->fd, VSNIX_CREATE_DEVICE, &c) == 0,
	       "DESTROY_DEVICE frees all three ranges: a new PIC fits");
	c.pic.reserved[3] = 1;
	tap_ok(expect_errno(ioctl(vm->fd, VSNIX_CREATE_DEVICE, &c), EINVAL, "PIC"),
	       "PIC with reserved bytes set: EINVAL");
	vm_destroy(vm);
	tap_ok(kernel_healthy(), "kernel not tainted by an oops or WARN");
	tap_finish();
}
