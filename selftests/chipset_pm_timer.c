// SPDX-License-Identifier: GPL-2.0
/*
 * The in-kernel ACPI PM timer (VSNIX_DEV_PM_TIMER, ACPI 6.5, 4.8.3.3): a
 * 24-bit counter at 3.579545 MHz. Never goes back over many reads, nor
 * from one vCPU to another; runs at its rate against the host's clock
 * (bounded both ways by when the host let the guest read it) and roughly
 * at its rate against the TSC; bad ports are refused.
 */
#include <time.h>
#include <unistd.h>
#include "vsnix_util.h"

#define PM_PORT		0x608
#define PM_HZ		3579545.0
#define PM_MASK		0xffffffu

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;

	asm volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static void guest_main(void)
{
	uint32_t prev = inl(PM_PORT), v, back = 0, high = 0;
	int i;

	for (i = 0; i < 2000; i++) {
		v = inl(PM_PORT);
		if (v & ~PM_MASK)
			high++;
		if (((v - prev) & PM_MASK) > PM_MASK / 2)
			back++;		/* went backwards */
		prev = v;
	}
	GUEST_SYNC3(1, back, high);
	GUEST_SYNC3(2, inl(PM_PORT), guest_rdtsc());
	GUEST_SYNC3(3, inl(PM_PORT), guest_rdtsc());
}

static void guest_read(void)
{
	GUEST_SYNC2(4, inl(PM_PORT));
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int create_pm(struct vsnix_test_vm *vm, uint16_t port, uint16_t pad)
{
	struct vsnix_device_config c = { .type = VSNIX_DEV_PM_TIMER, .console_fd = -1 };

	c.pm_timer.port = port;
	c.pm_timer.pad = pad;
	return ioctl(vm->fd, VSNIX_CREATE_DEVICE, &c);
}

int main(void)
{
	struct vsnix_test_vcpu *vcpu, *vcpu1;
	double h_start, h0, h1, h_end, secs, tsc_hz;
	struct vsnix_test_vm *vm;
	uint64_t p0, p1, c0, c1, t0, t1;
	struct ucall uc;
	bool ok;

	vsnix_dev_fd();
	tap_plan(9);
	vm = vm_create_long(0);
	vcpu = vcpu_create_long(vm, 0, guest_main);
	vcpu1 = vcpu_create_long(vm, 1, guest_read);
	tap_ok(create_pm(vm, PM_PORT, 0) == 0, "CREATE_DEVICE PM timer at 0x%x", PM_PORT);

	ok = vcpu_run_sync_is(vcpu, &uc, 1);
	tap_ok(ok && uc.args[1] == 0 && uc.args[2] == 0,
	       "2000 reads: never backwards (%lu), never above 24 bits (%lu)",
	       (unsigned long)uc.args[1], (unsigned long)uc.args[2]);

	h_start = now_s();
	ok = vcpu_run_sync_is(vcpu, &uc, 2);
	h0 = now_s();
	p0 = uc.args[1];
	t0 = uc.args[2];
	c0 = guest_rdtsc();
	usleep(300000);
	c1 = guest_rdtsc();
	h1 = now_s();
	ok = ok && vcpu_run_sync_is(vcpu, &uc, 3);
	h_end = now_s();
	p1 = uc.args[1];
	t1 = uc.args[2];
	secs = ((p1 - p0) & PM_MASK) / PM_HZ;
	tap_ok(ok && secs >= (h1 - h0) * 0.999 && secs <= (h_end - h_start) * 1.001,
	       "rate: %.4f s of ticks between host-measured %.4f s and %.4f s",
	       secs, h1 - h0, h_end - h_start);
	tsc_hz = (c1 - c0) / (h1 - h0);
	tap_ok(ok && (t1 - t0) / tsc_hz > secs * 0.8 && (t1 - t0) / tsc_hz < secs * 1.25,
	       "rate against the TSC: %.4f s of TSC for %.4f s of PM timer",
	       (t1 - t0) / tsc_hz, secs);

	ok = vcpu_run_sync_is(vcpu1, &uc, 4);
	tap_ok(ok && ((uc.args[1] - p1) & PM_MASK) < PM_MASK / 2,
	       "vCPU 1 reads after vCPU 0: 0x%lx follows 0x%lx",
	       (unsigned long)uc.args[1], (unsigned long)p1);
	tap_ok(vcpu_run_ucall_soft(vcpu, &uc) == UCALL_DONE, "guest finished");
	vm_destroy(vm);

	vm = vm_create(1 << 20);
	tap_ok(expect_errno(create_pm(vm, 0x609, 0), EINVAL, "port 0x609") &&
	       expect_errno(create_pm(vm, 0, 0), EINVAL, "port 0") &&
	       expect_errno(create_pm(vm, 0xb008, 1), EINVAL, "pad"),
	       "unaligned port, port 0, pad != 0: EINVAL");
	tap_ok(create_pm(vm, 0xb008, 0) == 0 &&
	       expect_errno(create_pm(vm, 0xb008, 0), EEXIST, "twice"),
	       "0xb008 once, then EEXIST");
	vm_destroy(vm);
	tap_ok(kernel_healthy(), "kernel not tainted by an oops or WARN");
	tap_finish();
}
