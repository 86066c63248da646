// SPDX-License-Identifier: GPL-2.0
/*
 * The in-kernel 8254 PIT (VSNIX_DEV_PIT, Intel 82C54 datasheet): counter 2
 * calibration as Linux does it (gate through port 0x61 bit 0, mode 0,
 * wait for OUT in bit 5: it must not rise before the programmed 50 ms),
 * the gate pausing the count, the counter latch and read-back commands,
 * lobyte-only access, counter 0 counting down in mode 2, and the ports
 * claimed all or none.
 */
#include <time.h>
#include <unistd.h>
#include "vsnix_util.h"

#define PIT_HZ		1193182ull
#define CAL_MS		50
#define CAL_LATCH	(PIT_HZ / (1000 / CAL_MS))	/* 59659 */

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static uint16_t latch_read(uint16_t port, uint8_t latch_cmd)
{
	uint16_t v;

	guest_outb(0x43, latch_cmd);
	v = inb(port);
	return v | inb(port) << 8;
}

static void guest_main(void)
{
	uint64_t t0, t1, loops = 0;
	uint16_t a, b;

	/* 1: Linux's pit_calibrate_tsc: gate on, speaker off, mode 0. */
	guest_outb(0x61, (inb(0x61) & ~0x02) | 0x01);
	guest_outb(0x43, 0xb0);		/* counter 2, LSB then MSB, mode 0 */
	guest_outb(0x42, CAL_LATCH & 0xff);
	t0 = guest_rdtsc();			/* counting starts at the MSB write */
	guest_outb(0x42, CAL_LATCH >> 8);
	GUEST_SYNC2(1, inb(0x61));	/* OUT (bit 5) low right after */
	while (!(inb(0x61) & 0x20))
		loops++;
	t1 = guest_rdtsc();
	GUEST_SYNC3(2, t1 - t0, loops);

	/* 3: gate low pauses mode 0; the host sleeps in between. */
	guest_outb(0x61, 0x00);
	guest_outb(0x43, 0xb0);
	guest_outb(0x42, 0x00);
	guest_outb(0x42, 0x10);		/* 4096 ticks: 3.4 ms */
	GUEST_SYNC3(3, latch_read(0x42, 0x80), inb(0x61));
	GUEST_SYNC3(4, latch_read(0x42, 0x80), inb(0x61));
	guest_outb(0x61, 0x01);		/* gate on: counting resumes */
	while (!(inb(0x61) & 0x20))
		;
	GUEST_SYNC(5);

	/* 6: read-back of counter 2's status (STA only): OUT, RW, mode. */
	guest_outb(0x43, 0xe8);
	GUEST_SYNC2(6, inb(0x42));

	/* 7: two latches of a running counter: decreasing, below N. */
	guest_outb(0x43, 0xb0);
	guest_outb(0x42, 0xff);
	guest_outb(0x42, 0xff);
	a = latch_read(0x42, 0x80);
	b = latch_read(0x42, 0x80);
	GUEST_SYNC3(7, a, b);

	/* 8: MSB-only access mode: N = 0x8000 (27 ms) reads MSB 0x80 or less. */
	guest_outb(0x43, 0xa0);
	guest_outb(0x42, 0x80);
	GUEST_SYNC2(8, inb(0x42));

	/* 9: counter 0 in mode 2 (rate generator), N = 65536. */
	guest_outb(0x43, 0x34);
	guest_outb(0x40, 0x00);
	guest_outb(0x40, 0x00);
	GUEST_SYNC2(9, latch_read(0x40, 0x00));
	GUEST_SYNC2(10, latch_read(0x40, 0x00));
}

static int create_dev(struct vsnix_test_vm *vm, uint32_t type, uint16_t base)
{
	struct vsnix_device_config c = { .type = type, .console_fd = -1 };

	if (type == VSNIX_DEV_UART16550)
		c.uart.base = base;
	return ioctl(vm->fd, VSNIX_CREATE_DEVICE, &c);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Host TSC rate over 200 ms of CLOCK_MONOTONIC: the guest's TSC is the host's. */
static double host_tsc_hz(void)
{
	double t0 = now_s();
	uint64_t c0 = guest_rdtsc(), c1;
	double t1;

	usleep(200000);
	c1 = guest_rdtsc();
	t1 = now_s();
	return (c1 - c0) / (t1 - t0);
}

static void test_ports_all_or_none(void)
{
	struct vsnix_test_vm *vm = vm_create(1 << 20);

	/* Port 0x61 taken: the PIT must not keep 0x40-0x43 either. */
	TEST_ASSERT(create_dev(vm, VSNIX_DEV_UART16550, 0x60) == 0, "uart at 0x60");
	tap_ok(expect_errno(create_dev(vm, VSNIX_DEV_PIT, 0), EEXIST, "PIT"),
	       "PIT with port 0x61 taken fails with EEXIST");
	tap_ok(create_dev(vm, VSNIX_DEV_UART16550, 0x40) == 0,
	       "... and left ports 0x40-0x43 free (a UART fits there)");
	vm_destroy(vm);
}

int main(void)
{
	struct vsnix_test_vcpu *vcpu;
	struct vsnix_test_vm *vm;
	double t0, t1, tsc_hz, ms;
	struct ucall uc;
	bool ok;

	vsnix_dev_fd();
	tap_plan(15);
	tsc_hz = host_tsc_hz();

	vm = vm_create_long(0);
	vcpu = vcpu_create_long(vm, 0, guest_main);
	tap_ok(create_dev(vm, VSNIX_DEV_PIT, 0) == 0, "CREATE_DEVICE PIT");
	t0 = now_s();
	ok = vcpu_run_sync_is(vcpu, &uc, 1);
	tap_ok(ok && !(uc.args[1] & 0x20) && (uc.args[1] & 3) == 1,
	       "port 0x61 after programming: gate on, OUT2 low (0x%lx)",
	       (unsigned long)uc.args[1]);
	ok = vcpu_run_sync_is(vcpu, &uc, 2);
	t1 = now_s();
	ms = uc.args[1] / tsc_hz * 1000;
	tap_ok(ok && ms >= CAL_MS * 0.98 && ms < CAL_MS * 20,
	       "calibration: OUT2 rose after %.2f ms of guest TSC (%lu polls), programmed %d ms",
	       ms, (unsigned long)uc.args[2], CAL_MS);
	tap_ok(ok && t1 - t0 >= CAL_MS / 1000.0 * 0.98,
	       "calibration wait took %.2f ms of host time", (t1 - t0) * 1000);

	ok = vcpu_run_sync_is(vcpu, &uc, 3);
	usleep(20000);
	ok = ok && vcpu_run_sync_is(vcpu, &uc, 4) && uc.args[1] == 0x1000 && !(uc.args[2] & 0x20);
	tap_ok(ok, "gate low: count stays at N over 20 ms (0x%lx), OUT2 low",
	       (unsigned long)uc.args[1]);
	tap_ok(vcpu_run_sync_is(vcpu, &uc, 5), "gate high again: OUT2 rises");
	ok = vcpu_run_sync_is(vcpu, &uc, 6);
	tap_ok(ok && uc.args[1] == 0xb0, "read-back status: OUT high, LSB/MSB, mode 0 (0x%lx)",
	       (unsigned long)uc.args[1]);
	ok = vcpu_run_sync_is(vcpu, &uc, 7);
	tap_ok(ok && uc.args[2] <= uc.args[1] && uc.args[1] <= 0xffff && uc.args[1] > 0x8000,
	       "latched counts decrease: 0x%lx then 0x%lx", (unsigned long)uc.args[1],
	       (unsigned long)uc.args[2]);
	ok = vcpu_run_sync_is(vcpu, &uc, 8);
	tap_ok(ok && uc.args[1] <= 0x80 && uc.args[1] >= 0x40,
	       "MSB-only access: N = 0x8000 reads MSB 0x%lx",
	       (unsigned long)uc.args[1]);
	ok = vcpu_run_sync_is(vcpu, &uc, 9);
	uint64_t c0 = uc.args[1];

	usleep(2000);
	ok = ok && vcpu_run_sync_is(vcpu, &uc, 10);
	tap_ok(ok && c0 != uc.args[1],
	       "counter 0, mode 2: the count moves (0x%lx, 2 ms later 0x%lx)",
	       (unsigned long)c0, (unsigned long)uc.args[1]);
	tap_ok(vcpu_run_ucall_soft(vcpu, &uc) == UCALL_DONE, "guest finished");
	vm_destroy(vm);

	vm = vm_create(1 << 20);
	tap_ok(create_dev(vm, VSNIX_DEV_PIT, 0) == 0, "a PIT on a VM that never runs");
	vm_destroy(vm);
	test_ports_all_or_none();
	tap_ok(kernel_healthy(), "kernel not tainted by an oops or WARN");
	tap_finish();
}
