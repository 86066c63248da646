// SPDX-License-Identifier: GPL-2.0
/*
 * Interrupts through the whole in-kernel chipset into the guest's IDT:
 * the PIT's counter 0 (ISA IRQ0, GSI 2 per the MADT's override) through
 * IOAPIC pin 2 to the LAPIC; a level line (VSNIX_IRQ_LINE on GSI 5)
 * through the IOAPIC with remote IRR held until the LAPIC's EOI and sent
 * again while the line stays high; and the PIT through the 8259 pair to
 * the BSP's LINT0 in ExtINT mode (Linux's "virtual wire" before it turns
 * the IOAPIC on). The guest sleeps in HLT between interrupts.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <unistd.h>
#include "vsnix_util.h"

#define XAPIC		0xfee00000ul
#define IOAPIC		0xfec00000ul
#define V_PIT		0x30	/* IOAPIC pin 2 */
#define V_LEVEL		0x31	/* IOAPIC pin 5, level */
#define V_PIC_BASE	0x20	/* 8259 master; IR0 = PIT */
#define V_SPURIOUS	0xff

volatile uint64_t irq_count[256];

/* Fixed interrupts: count, LAPIC EOI. */
#define IRQ_STUB_EOI(v)							\
	"irq_stub_" #v ":\n"						\
	"  pushq %rax\n"						\
	"  lock incq irq_count+8*" #v "(%rip)\n"			\
	"  movabsq $0xfee000b0, %rax\n"					\
	"  movl $0, (%rax)\n"						\
	"  popq %rax\n"							\
	"  iretq\n"

asm(".pushsection .text\n"
	IRQ_STUB_EOI(0x30) IRQ_STUB_EOI(0xff)
	/* The level vector: no EOI here, the guest code sends it. */
	"irq_stub_0x31:\n"
	"  lock incq irq_count+8*0x31(%rip)\n"
	"  iretq\n"
	/* ExtINT from the PIC: the 8259 wants its own EOI, not the LAPIC's. */
	"irq_stub_0x20:\n"
	"  pushq %rax\n"
	"  lock incq irq_count+8*0x20(%rip)\n"
	"  movb $0x20, %al\n"
	"  outb %al, $0x20\n"
	"  popq %rax\n"
	"  iretq\n"
	".popsection\n");

extern char irq_stub_0x30[], irq_stub_0x31[], irq_stub_0x20[], irq_stub_0xff[];

static inline void apic_wr(uint32_t off, uint32_t v)
{
	*(volatile uint32_t *)(XAPIC + off) = v;
}

static void ioapic_wr(uint32_t reg, uint32_t v)
{
	*(volatile uint32_t *)IOAPIC = reg;
	*(volatile uint32_t *)(IOAPIC + 0x10) = v;
}

static uint32_t ioapic_rd(uint32_t reg)
{
	*(volatile uint32_t *)IOAPIC = reg;
	return *(volatile uint32_t *)(IOAPIC + 0x10);
}

/* HLT with interrupts on until irq_count[v] reaches n (the host bounds it). */
static void wait_irqs(int v, uint64_t n)
{
	asm volatile("cli");
	while (irq_count[v] < n)
		asm volatile("sti; hlt; cli" ::: "memory");
	asm volatile("sti");
}

static void pit_start(void)
{
	guest_outb(0x43, 0x34);		/* counter 0, LSB/MSB, mode 2 */
	guest_outb(0x40, 1193 & 0xff);	/* 1 kHz */
	guest_outb(0x40, 1193 >> 8);
}

static void pit_stop(void)
{
	guest_outb(0x43, 0x30);		/* mode 0, no count: stopped */
}

static void guest_main(void)
{
	uint32_t rirr;

	apic_wr(0xf0, 0x100 | V_SPURIOUS);	/* LAPIC software enable */
	apic_wr(0x350, 0x10000);		/* LINT0 masked for now */
	/* Linux's init_8259A, then every IR masked. */
	guest_outb(0x20, 0x11);
	guest_outb(0x21, V_PIC_BASE);
	guest_outb(0x21, 0x04);
	guest_outb(0x21, 0x01);
	guest_outb(0xa0, 0x11);
	guest_outb(0xa1, V_PIC_BASE + 8);
	guest_outb(0xa1, 0x02);
	guest_outb(0xa1, 0x01);
	guest_outb(0x21, 0xff);
	guest_outb(0xa1, 0xff);

	/* 1: PIT -> IOAPIC pin 2 (edge, fixed, to APIC ID 0) -> LAPIC. */
	ioapic_wr(0x11 + 2 * 2, 0);
	ioapic_wr(0x10 + 2 * 2, V_PIT);
	pit_start();
	wait_irqs(V_PIT, 5);
	pit_stop();
	ioapic_wr(0x10 + 2 * 2, 0x10000 | V_PIT);
	GUEST_SYNC2(1, irq_count[V_PIT]);

	/* 2: GSI 5, level: the host raised it; remote IRR until our EOI. */
	ioapic_wr(0x11 + 2 * 5, 0);
	ioapic_wr(0x10 + 2 * 5, 0x8000 | V_LEVEL);
	wait_irqs(V_LEVEL, 1);
	rirr = ioapic_rd(0x10 + 2 * 5) & 0x4000;
	GUEST_SYNC3(2, irq_count[V_LEVEL], rirr);
	/* 3: EOI with the line still high: sent again. */
	apic_wr(0xb0, 0);
	wait_irqs(V_LEVEL, 2);
	GUEST_SYNC3(3, irq_count[V_LEVEL], ioapic_rd(0x10 + 2 * 5) & 0x4000);
	/* 4: the host lowered it; EOI clears remote IRR, nothing more. */
	apic_wr(0xb0, 0);
	GUEST_SYNC3(4, irq_count[V_LEVEL], ioapic_rd(0x10 + 2 * 5) & 0x4000);

	/* 5: PIT -> 8259 IR0 -> LINT0 (ExtINT) -> vector 0x20. */
	apic_wr(0x350, 0x700);
	guest_outb(0x21, 0xfe);
	pit_start();
	wait_irqs(V_PIC_BASE, 5);
	pit_stop();
	guest_outb(0x21, 0xff);
	GUEST_SYNC3(5, irq_count[V_PIC_BASE], irq_count[V_SPURIOUS]);
}

static void on_signal(int sig)
{
}

/* One stage, bounded: a lost interrupt must fail, not hang. */
static bool stage(struct vsnix_test_vcpu *vcpu, uint64_t n, struct ucall *uc)
{
	bool ok;

	alarm(20);
	ok = vcpu_run_ucall_soft(vcpu, uc) == UCALL_SYNC && uc->args[0] == n;
	alarm(0);
	return ok;
}

static int create_dev(struct vsnix_test_vm *vm, struct vsnix_device_config c)
{
	c.console_fd = -1;
	return ioctl(vm->fd, VSNIX_CREATE_DEVICE, &c);
}

static int irq_line(struct vsnix_test_vm *vm, uint32_t gsi, uint32_t level)
{
	struct vsnix_irq_level l = { .gsi = gsi, .level = level };

	return ioctl(vm->fd, VSNIX_IRQ_LINE, &l);
}

int main(void)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct vsnix_test_vcpu *vcpu;
	struct vsnix_test_vm *vm;
	struct vsnix_sregs sregs;
	struct ucall uc;
	bool ok;

	vsnix_dev_fd();
	if (vsnix_cap(VSNIX_CAP_LAPIC) <= 0)
		tap_skip_all("no in-kernel LAPIC (VSNIX_CAP_LAPIC)");
	tap_plan(7);
	sigaction(SIGALRM, &sa, NULL);
	vm = vm_create_long(0);
	TEST_ASSERT(!ioctl(vm->fd, VSNIX_CREATE_LAPIC, 0), "CREATE_LAPIC: %s",
		    strerror(errno));
	vcpu = vcpu_create_long(vm, 0, guest_main);
	vm_set_idt_gate(vm, V_PIT, (uintptr_t)irq_stub_0x30);
	vm_set_idt_gate(vm, V_LEVEL, (uintptr_t)irq_stub_0x31);
	vm_set_idt_gate(vm, V_PIC_BASE, (uintptr_t)irq_stub_0x20);
	vm_set_idt_gate(vm, V_SPURIOUS, (uintptr_t)irq_stub_0xff);
	vcpu_get_sregs(vcpu, &sregs);
	sregs.idt.limit = 256 * 16 - 1;
	vcpu_set_sregs(vcpu, &sregs);
	ok = !create_dev(vm, (struct vsnix_device_config){ .type = VSNIX_DEV_IOAPIC,
						      .ioapic.base = IOAPIC }) &&
	     !create_dev(vm, (struct vsnix_device_config){ .type = VSNIX_DEV_PIC }) &&
	     !create_dev(vm, (struct vsnix_device_config){ .type = VSNIX_DEV_PIT });
	tap_ok(ok, "CREATE_DEVICE IOAPIC, PIC, PIT");

	ok = stage(vcpu, 1, &uc);
	tap_ok(ok && uc.args[1] >= 5, "PIT -> IOAPIC pin 2 -> LAPIC: %lu interrupts at vector 0x%x",
	       (unsigned long)uc.args[1], V_PIT);
	TEST_ASSERT(irq_line(vm, 5, 1) == 0, "IRQ_LINE 5");
	ok = stage(vcpu, 2, &uc);
	tap_ok(ok && uc.args[1] == 1 && uc.args[2],
	       "level GSI 5: one interrupt, remote IRR set until EOI (count %lu)",
	       (unsigned long)uc.args[1]);
	ok = stage(vcpu, 3, &uc);
	tap_ok(ok && uc.args[1] == 2 && uc.args[2],
	       "EOI with the line high: sent again (count %lu)", (unsigned long)uc.args[1]);
	TEST_ASSERT(irq_line(vm, 5, 0) == 0, "IRQ_LINE 5");
	ok = stage(vcpu, 4, &uc);
	tap_ok(ok && uc.args[1] == 2 && !uc.args[2],
	       "EOI with the line low: remote IRR clear, no more (count %lu)",
	       (unsigned long)uc.args[1]);
	ok = stage(vcpu, 5, &uc);
	tap_ok(ok && uc.args[1] >= 5 && uc.args[2] == 0,
	       "PIT -> 8259 IR0 -> LINT0 ExtINT: %lu interrupts at vector 0x%x, %lu spurious",
	       (unsigned long)uc.args[1], V_PIC_BASE, (unsigned long)uc.args[2]);
	vm_destroy(vm);
	tap_ok(kernel_healthy(), "kernel not tainted by an oops or WARN");
	tap_finish();
}
