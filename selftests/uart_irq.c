// SPDX-License-Identifier: GPL-2.0
/*
 * The 16550A's interrupts (VSNIX_UART_HAS_IRQ, PC16550D section 8): the
 * IIR's sources and their priority (line status, received data or
 * character timeout, THR empty, modem status), THRE set when THR empties
 * and cleared by reading IIR or writing THR, the RX FIFO's trigger levels
 * and timeout, OUT2 gating the line, loopback (line gated off, overrun),
 * 16450 mode. The host watches the line as the IOAPIC's pin 4 input.
 * Then a guest that runs the UART by interrupts, as Linux's 8250 does:
 * IOAPIC pin 4 -> LAPIC -> its handler, which drains the RX FIFO and
 * feeds THR on THRE until its message is out.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>
#include "vsnix_util.h"

#define COM1		0x3f8
#define COM1_GSI	4
#define IOAPIC		0xfec00000ul
#define XAPIC		0xfee00000ul
#define V_UART		0x34
#define RBR		(COM1 + 0)
#define IER		(COM1 + 1)
#define IIR		(COM1 + 2)
#define FCR		(COM1 + 2)
#define LCR		(COM1 + 3)
#define MCR		(COM1 + 4)
#define LSR		(COM1 + 5)
#define MSR		(COM1 + 6)

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static void set_divisor(uint16_t div)
{
	guest_outb(LCR, 0x83);
	guest_outb(COM1, div & 0xff);
	guest_outb(COM1 + 1, div >> 8);
	guest_outb(LCR, 0x03);
}

/* Two IIR reads: the first may clear THRE, the second shows what is left. */
#define IIR2()	({ uint64_t __a = inb(IIR); (__a << 8) | inb(IIR); })

static void guest_polled(void)
{
	uint64_t n, bytes;
	int i;

	/* 1: reset, FIFOs on (trigger 1): no interrupt, IIR bits 7:6 set. */
	GUEST_ASSERT_EQ(inb(IIR), 0x01);
	guest_outb(FCR, 0x07);
	GUEST_SYNC2(1, inb(IIR));
	/* 2: THRI enabled, OUT2 off: THRE pending, the line stays low. */
	guest_outb(IER, 0x02);
	GUEST_SYNC2(2, inb(LSR));	/* LSR does not clear THRE */
	/* 3: OUT2 on: the line rises. */
	guest_outb(MCR, 0x08);
	GUEST_SYNC(3);
	/* 4: reading IIR while THRE is the source clears it. */
	GUEST_SYNC2(4, IIR2());
	/* 5: writing THR: sent at once, THRE pending again. */
	guest_outb(COM1, 'A');
	GUEST_SYNC(5);
	/* 6: writing THR also clears it first; IER 0 -> THRI raises it again. */
	GUEST_ASSERT_EQ(inb(IIR), 0xc2);
	guest_outb(IER, 0x00);
	GUEST_ASSERT_EQ(inb(IIR), 0xc1);
	guest_outb(IER, 0x02);
	GUEST_ASSERT_EQ(inb(IIR), 0xc2);
	guest_outb(IER, 0x00);

	/* 7: RX trigger 8, slow rate (timeout far away): 5 bytes from the host. */
	set_divisor(0xffff);
	guest_outb(FCR, 0x81);
	guest_outb(IER, 0x01);
	GUEST_SYNC(7);
	/* 8: 5 bytes below the trigger: data ready, no interrupt. */
	GUEST_SYNC3(8, inb(LSR), inb(IIR));
	/* 9: 3 more: 8 bytes reach the trigger, RDA. */
	GUEST_SYNC2(9, inb(IIR));
	/* 10: one byte read: below the trigger again. */
	bytes = inb(RBR);
	GUEST_SYNC3(10, inb(IIR), bytes);
	/* 11: fast rate, one more read restarts the timeout: it fires. */
	set_divisor(1);
	bytes = inb(RBR);
	for (n = 0; n < 50000000 && inb(IIR) != 0xcc; n++)
		;
	GUEST_SYNC3(11, n, bytes);
	/* 12: reading clears it; read the rest in order. */
	bytes = 0;
	for (i = 0; i < 8 && (inb(LSR) & 1); i++)
		bytes = bytes << 8 | inb(RBR);
	GUEST_SYNC3(12, bytes, (uint64_t)inb(LSR) << 8 | inb(IIR));

	/* 13: loopback with OUT2: every source pending, the line gated off. */
	guest_outb(FCR, 0x07);
	guest_outb(MCR, 0x18);
	(void)inb(MSR);				/* clear deltas of the switch */
	guest_outb(IER, 0x0f);
	for (i = 0; i < 17; i++)		/* one more than the FIFO holds */
		guest_outb(COM1, 'a' + i);
	guest_outb(MCR, 0x1a);			/* RTS -> CTS: delta CTS */
	GUEST_SYNC(13);
	/* 14: IIR in priority order as each source is cleared. */
	n = inb(IIR);				/* line status (overrun) */
	n = n << 8 | (inb(LSR) & 0x03);		/* DR | OE; clears OE */
	n = n << 8 | inb(IIR);			/* received data */
	bytes = 0;
	for (i = 0; i < 16; i++)
		bytes += inb(RBR);
	n = n << 8 | inb(IIR);			/* THR empty (cleared) */
	n = n << 8 | inb(IIR);			/* modem status */
	n = n << 8 | (inb(MSR) & 0xff);		/* CTS | DCTS; clears it */
	n = n << 8 | inb(IIR);			/* none */
	GUEST_SYNC3(14, n, bytes);

	/* 15: 16450 mode: no FIFO bits, one byte of room. */
	guest_outb(MCR, 0x08);
	guest_outb(IER, 0x01);
	guest_outb(FCR, 0x00);
	GUEST_SYNC2(15, inb(IIR));
	n = inb(IIR);
	GUEST_SYNC3(16, n, inb(RBR));
	guest_outb(IER, 0x00);
}

/* ---------------------------------------------------- interrupt driven */

static const char tx_msg[] = "sent by THRE interrupts\n";
volatile uint64_t nr_irqs, tx_pos, rx_len, done;
volatile uint8_t rx_buf[64];

/* The 8250's loop: serve sources until IIR says none. */
void uart_isr(void)
{
	uint8_t iir;

	nr_irqs++;
	while (!((iir = inb(IIR)) & 1)) {
		switch (iir & 0x0e) {
		case 0x04:
		case 0x0c:
			while ((inb(LSR) & 1) && rx_len < sizeof(rx_buf))
				rx_buf[rx_len++] = inb(RBR);
			break;
		case 0x02:
			if (tx_msg[tx_pos])
				guest_outb(COM1, tx_msg[tx_pos++]);
			else
				guest_outb(IER, 0x01);	/* stop TX */
			break;
		default:
			(void)inb(LSR);
			(void)inb(MSR);
			break;
		}
	}
	*(volatile uint32_t *)(XAPIC + 0xb0) = 0;	/* EOI */
}

asm(".pushsection .text\n"
	"uart_irq_stub:\n"
	"  pushq %rax; pushq %rcx; pushq %rdx; pushq %rsi; pushq %rdi\n"
	"  pushq %r8; pushq %r9; pushq %r10; pushq %r11\n"
	"  call uart_isr\n"
	"  popq %r11; popq %r10; popq %r9; popq %r8\n"
	"  popq %rdi; popq %rsi; popq %rdx; popq %rcx; popq %rax\n"
	"  iretq\n"
	".popsection\n");
extern char uart_irq_stub[];

static void ioapic_wr(uint32_t reg, uint32_t v)
{
	*(volatile uint32_t *)IOAPIC = reg;
	*(volatile uint32_t *)(IOAPIC + 0x10) = v;
}

static void wait_until(volatile uint64_t *v, uint64_t n)
{
	asm volatile("cli");
	while (*v < n)
		asm volatile("sti; hlt; cli" ::: "memory");
	asm volatile("sti");
}

static void guest_irq(void)
{
	*(volatile uint32_t *)(XAPIC + 0xf0) = 0x1ff;	/* LAPIC enable */
	ioapic_wr(0x11 + 2 * COM1_GSI, 0);
	ioapic_wr(0x10 + 2 * COM1_GSI, V_UART);		/* edge, as ISA */
	guest_outb(FCR, 0x87);				/* trigger 8 */
	guest_outb(MCR, 0x0b);				/* DTR RTS OUT2 */
	(void)inb(MSR);
	guest_outb(IER, 0x03);				/* RDI, THRI */
	wait_until(&tx_pos, sizeof(tx_msg) - 1);
	GUEST_SYNC3(20, nr_irqs, tx_pos);
	/* 21: the host typed 20 bytes: trigger level, then the timeout. */
	wait_until(&rx_len, 20);
	GUEST_SYNC3(21, nr_irqs, rx_len);
}

/* ------------------------------------------------------------ host side */

static int ioapic_id;

static int ioapic_pin(struct vsnix_test_vm *vm, int pin)
{
	struct {
		struct vsnix_device_state_header h;
		struct vsnix_ioapic_state s;
	} blob;
	struct vsnix_device_state st = { .id = ioapic_id, .size = sizeof(blob),
					 .data = (uintptr_t)&blob };

	if (ioctl(vm->fd, VSNIX_GET_DEVICE_STATE, &st))
		return -1;
	return (blob.s.levels >> pin) & 1;
}

static long input(struct vsnix_test_vm *vm, uint32_t id, const char *s, size_t len)
{
	struct vsnix_device_input in = { .id = id, .len = len, .data = (uintptr_t)s };

	return ioctl(vm->fd, VSNIX_DEVICE_INPUT, &in);
}

static void on_alarm(int sig)
{
}

static bool stage(struct vsnix_test_vcpu *vcpu, struct ucall *uc, uint64_t n)
{
	bool ok;

	alarm(30);
	ok = vcpu_run_ucall_soft(vcpu, uc) == UCALL_SYNC && uc->args[0] == n;
	alarm(0);
	if (!ok)
		tap_diag("stage %lu not reached", (unsigned long)n);
	return ok;
}

static int create(struct vsnix_test_vm *vm, int console, bool lapic, void *guest,
		  uint32_t *uart_id, struct vsnix_test_vcpu **vcpu)
{
	struct vsnix_device_config io = { .type = VSNIX_DEV_IOAPIC, .console_fd = -1,
					  .ioapic.base = IOAPIC };
	struct vsnix_device_config u = { .type = VSNIX_DEV_UART16550, .console_fd = console,
					 .uart = { .base = COM1, .flags = VSNIX_UART_HAS_IRQ,
						   .gsi = COM1_GSI } };
	struct vsnix_sregs sregs;

	if (lapic && ioctl(vm->fd, VSNIX_CREATE_LAPIC, 0))
		return -1;
	*vcpu = vcpu_create_long(vm, 0, guest);
	if (ioctl(vm->fd, VSNIX_CREATE_DEVICE, &io) || ioctl(vm->fd, VSNIX_CREATE_DEVICE, &u))
		return -1;
	ioapic_id = io.id;
	*uart_id = u.id;
	if (lapic) {
		vm_set_idt_gate(vm, V_UART, (uintptr_t)uart_irq_stub);
		vcpu_get_sregs(*vcpu, &sregs);
		sregs.idt.limit = 256 * 16 - 1;
		vcpu_set_sregs(*vcpu, &sregs);
	}
	return 0;
}

static void polled_part(struct vsnix_test_vm *vm, struct vsnix_test_vcpu *vcpu, uint32_t id,
			int out)
{
	struct ucall uc;
	char c = 0;
	bool ok;

	ok = stage(vcpu, &uc, 1);
	tap_ok(ok && uc.args[1] == 0xc1 && ioapic_pin(vm, COM1_GSI) == 0,
	       "reset: no interrupt; FIFOs on: IIR 0x%lx", (unsigned long)uc.args[1]);
	ok = stage(vcpu, &uc, 2);
	tap_ok(ok && uc.args[1] == 0x60 && ioapic_pin(vm, COM1_GSI) == 0,
	       "THRI enabled, OUT2 off: line low (gated), LSR 0x%lx", (unsigned long)uc.args[1]);
	ok = stage(vcpu, &uc, 3);
	tap_ok(ok && ioapic_pin(vm, COM1_GSI) == 1, "OUT2 on: THRE raises the line");
	ok = stage(vcpu, &uc, 4);
	tap_ok(ok && uc.args[1] == 0xc2c1 && ioapic_pin(vm, COM1_GSI) == 0,
	       "reading IIR (THRE) clears it: IIR 0x%lx then 0x%lx, line low",
	       (unsigned long)uc.args[1] >> 8, (unsigned long)uc.args[1] & 0xff);
	ok = stage(vcpu, &uc, 5);
	ok = ok && ioapic_pin(vm, COM1_GSI) == 1 && read(out, &c, 1) == 1 && c == 'A';
	tap_ok(ok, "writing THR: the byte is out at once ('%c'), THRE pending again", c);
	ok = stage(vcpu, &uc, 7);
	tap_ok(ok && ioapic_pin(vm, COM1_GSI) == 0 && input(vm, id, "12345", 5) == 5,
	       "THRI off; 5 bytes input");
	ok = stage(vcpu, &uc, 8);
	tap_ok(ok && uc.args[1] == 0x61 && uc.args[2] == 0xc1 && ioapic_pin(vm, COM1_GSI) == 0,
	       "below the trigger (8): LSR 0x%lx (DR), IIR 0x%lx, line low",
	       (unsigned long)uc.args[1], (unsigned long)uc.args[2]);
	ok = input(vm, id, "678", 3) == 3 && ioapic_pin(vm, COM1_GSI) == 1;
	ok = stage(vcpu, &uc, 9) && ok;
	tap_ok(ok && uc.args[1] == 0xc4, "8 bytes: line high, IIR 0x%lx (received data)",
	       (unsigned long)uc.args[1]);
	ok = stage(vcpu, &uc, 10);
	tap_ok(ok && uc.args[1] == 0xc1 && uc.args[2] == '1' && ioapic_pin(vm, COM1_GSI) == 0,
	       "first byte '%c' read: 7 left, below the trigger, line low",
	       (char)uc.args[2]);
	ok = stage(vcpu, &uc, 11);
	tap_ok(ok && uc.args[1] < 50000000 && uc.args[2] == '2' && ioapic_pin(vm, COM1_GSI) == 1,
	       "character timeout: IIR 0xcc after %lu polls, line high",
	       (unsigned long)uc.args[1]);
	ok = stage(vcpu, &uc, 12);
	tap_ok(ok && uc.args[1] == 0x333435363738ul && uc.args[2] == 0x60c1 &&
	       ioapic_pin(vm, COM1_GSI) == 0,
	       "the rest in order (0x%lx), then LSR/IIR 0x%lx, line low",
	       (unsigned long)uc.args[1], (unsigned long)uc.args[2]);
	ok = stage(vcpu, &uc, 13);
	tap_ok(ok && ioapic_pin(vm, COM1_GSI) == 0 && expect_errno(input(vm, id, "z", 1), EAGAIN,
								     "input in loopback"),
	       "loopback: all sources pending, line gated off; input EAGAIN (no serial input)");
	ok = stage(vcpu, &uc, 14);
	/* RLS, DR|OE, RDA, THRE, MSI, CTS|DCD|DCTS, none; 16 of 'a'..'q' kept. */
	tap_ok(ok && uc.args[1] == 0xc603c4c2c091c1ul && uc.args[2] == 16 * 'a' + 120,
	       "IIR priority: line status, data, THRE, modem status, none (0x%lx)",
	       (unsigned long)uc.args[1]);
	ok = stage(vcpu, &uc, 15);
	tap_ok(ok && uc.args[1] == 0x01 && input(vm, id, "xyz", 3) == 1 &&
	       ioapic_pin(vm, COM1_GSI) == 1,
	       "16450 mode: IIR 0x%lx, one byte of room, RDA on one byte",
	       (unsigned long)uc.args[1]);
	ok = stage(vcpu, &uc, 16);
	tap_ok(ok && uc.args[1] == 0x04 && uc.args[2] == 'x' && ioapic_pin(vm, COM1_GSI) == 0,
	       "16450 mode: IIR 0x%lx, byte '%c', line low once read",
	       (unsigned long)uc.args[1], (char)uc.args[2]);
	tap_ok(vcpu_run_ucall_soft(vcpu, &uc) == UCALL_DONE, "polled guest finished");
}

struct feeder {
	struct vsnix_test_vm *vm;
	uint32_t id;
	const char *s;
	size_t len;
	long eagain;
	bool ok;
};

/* Types like a user: retries while the FIFO is full, until all is taken. */
static void *feed(void *arg)
{
	struct feeder *f = arg;
	size_t off = 0;
	long r;

	while (off < f->len) {
		r = input(f->vm, f->id, f->s + off, f->len - off);
		if (r < 0 && errno == EAGAIN) {
			f->eagain++;
			usleep(1000);
			continue;
		}
		if (r <= 0)
			return NULL;
		off += r;
	}
	f->ok = true;
	return NULL;
}

static void irq_part(void)
{
	static const char typed[] = "abcdefghijklmnopqrst";	/* 20 */
	struct feeder f = { .s = typed, .len = 20 };
	struct vsnix_test_vcpu *vcpu;
	struct vsnix_test_vm *vm;
	char buf[64] = { 0 };
	struct ucall uc;
	pthread_t t;
	uint32_t id;
	int p[2];
	bool ok;

	if (vsnix_cap(VSNIX_CAP_LAPIC) <= 0) {
		tap_skip("no VSNIX_CAP_LAPIC", "interrupt-driven TX");
		tap_skip("no VSNIX_CAP_LAPIC", "interrupt-driven RX");
		return;
	}
	TEST_ASSERT(!pipe2(p, O_NONBLOCK), "pipe");
	vm = vm_create_long(0);
	TEST_ASSERT(!create(vm, p[1], true, guest_irq, &id, &vcpu), "devices: %s",
		    strerror(errno));
	ok = stage(vcpu, &uc, 20);
	ok = ok && read(p[0], buf, sizeof(buf)) == sizeof(tx_msg) - 1 && !strcmp(buf, tx_msg);
	tap_ok(ok && uc.args[1] >= 1, "interrupt-driven TX: '%.*s' in %lu interrupts",
	       (int)sizeof(tx_msg) - 2, buf, (unsigned long)uc.args[1]);
	f.vm = vm;
	f.id = id;
	TEST_ASSERT(!pthread_create(&t, NULL, feed, &f), "pthread_create");
	ok = stage(vcpu, &uc, 21);
	pthread_join(t, NULL);
	memcpy(buf, (void *)GUEST_VAR(vm, rx_buf), 20);
	buf[20] = 0;
	tap_ok(ok && f.ok && uc.args[2] == 20 && !memcmp(buf, typed, 20),
	       "interrupt-driven RX: '%s' in order (%lu interrupts in all, %ld EAGAIN)",
	       buf, (unsigned long)uc.args[1], f.eagain);
	vm_destroy(vm);
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct vsnix_test_vcpu *vcpu;
	struct vsnix_test_vm *vm;
	uint32_t id;
	int p[2];

	vsnix_dev_fd();
	if (vsnix_cap(VSNIX_CAP_UART_IRQ) <= 0)
		tap_skip_all("no VSNIX_CAP_UART_IRQ");
	tap_plan(19);
	sigaction(SIGALRM, &sa, NULL);
	TEST_ASSERT(!pipe2(p, O_NONBLOCK), "pipe");
	vm = vm_create_long(0);
	TEST_ASSERT(!create(vm, p[1], false, guest_polled, &id, &vcpu), "devices: %s",
		    strerror(errno));
	polled_part(vm, vcpu, id, p[0]);
	vm_destroy(vm);
	close(p[0]);
	close(p[1]);
	irq_part();
	tap_ok(kernel_healthy(), "kernel not tainted by an oops or WARN");
	tap_finish();
}
