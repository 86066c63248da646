// SPDX-License-Identifier: GPL-2.0
/*
 * INIT and SIPI through the vCPU event state (VSNIX_SET_VCPU_EVENTS, as an
 * in-kernel LAPIC would queue them): INIT resets an AP and leaves it
 * waiting for SIPI (mp_state WAIT_FOR_SIPI, RUN sleeps until a signal);
 * SIPI with vector V starts it in real mode at CS = V << 8, base V << 12,
 * IP 0 (Intel SDM Vol 3, 8.4.4 and 10.6.1).
 */
#include <signal.h>
#include <sys/time.h>

#include "vsnix_util.h"

#define RAM_SIZE	(1ul << 20)
#define SIPI_VECTOR	0x10		/* code at 0x10000 */
#define OUT_PORT	0x80

/* mov $0x42, %al; out %al, $0x80; hlt */
static const uint8_t ap_code[] = { 0xb0, 0x42, 0xe6, OUT_PORT, 0xf4 };

static void on_alarm(int sig)
{
}

static int set_events(struct vsnix_test_vcpu *vcpu, bool init, bool sipi, uint8_t mp_state)
{
	struct vsnix_vcpu_events ev;

	if (ioctl(vcpu->fd, VSNIX_GET_VCPU_EVENTS, &ev))
		return -1;
	ev.init_pending = init;
	ev.sipi_pending = sipi;
	ev.sipi_vector = sipi ? SIPI_VECTOR : 0;
	ev.mp_state = mp_state;
	return ioctl(vcpu->fd, VSNIX_SET_VCPU_EVENTS, &ev);
}

/* RUN to the AP's OUT; true when CS is V << 8, base V << 12. */
static bool runs_sipi_code(struct vsnix_test_vcpu *vcpu)
{
	struct vsnix_sregs sregs;
	bool ok;

	ok = vcpu_run_raw(vcpu) == 0 && vcpu_is_io(vcpu, OUT_PORT, VSNIX_EXIT_IO_OUT, 1) &&
	     *(uint8_t *)vcpu_io_data(vcpu) == 0x42;
	vcpu_get_sregs(vcpu, &sregs);
	if (!ok)
		tap_diag("exit: %s", vcpu_exit_str(vcpu));
	return ok && sregs.cs.selector == SIPI_VECTOR << 8 && sregs.cs.base == SIPI_VECTOR << 12;
}

int main(void)
{
	struct sigaction sa = { .sa_handler = on_alarm };	/* no SA_RESTART */
	struct itimerval it = { .it_value = { .tv_usec = 200000 } };
	struct vsnix_vcpu_events ev;
	struct vsnix_test_vcpu *ap;
	struct vsnix_test_vm *vm;
	struct vsnix_regs regs;
	int ret;
	bool ok;

	vsnix_dev_fd();
	if (!vsnix_cap(VSNIX_CAP_VCPU_EVENTS) || !vsnix_cap(VSNIX_CAP_REAL_MODE))
		tap_skip_all("no VSNIX_CAP_VCPU_EVENTS or real mode");
	tap_plan(5);
	TEST_ASSERT(!sigaction(SIGALRM, &sa, NULL), "sigaction");
	vm = vm_create(RAM_SIZE);
	vm_write(vm, SIPI_VECTOR << 12, ap_code, sizeof(ap_code));
	ap = vcpu_create(vm, 1);

	/* Garbage that INIT must reset. */
	vcpu_get_regs(ap, &regs);
	regs.rax = 0xdead;
	regs.rip = 0x1234;
	vcpu_set_regs(ap, &regs);
	ok = !set_events(ap, true, true, VSNIX_MP_RUNNABLE) && runs_sipi_code(ap);
	vcpu_get_regs(ap, &regs);
	/* At the OUT (offset 2): RIP moves past it at the next RUN. */
	tap_ok(ok && (regs.rax & 0xff00) == 0 && regs.rip == 2,
	       "INIT then SIPI 0x%x: the AP runs at %04x:0000 from reset state (rip 0x%llx)",
	       SIPI_VECTOR, SIPI_VECTOR << 8, (unsigned long long)regs.rip);

	ok = !set_events(ap, true, false, VSNIX_MP_RUNNABLE);
	TEST_ASSERT(!setitimer(ITIMER_REAL, &it, NULL), "setitimer");
	ret = vcpu_run_raw(ap);
	ok = ok && expect_errno(ret, EINTR, "RUN waiting for SIPI") &&
	     !ioctl(ap->fd, VSNIX_GET_VCPU_EVENTS, &ev) && ev.mp_state == VSNIX_MP_WAIT_FOR_SIPI;
	tap_ok(ok, "INIT alone: RUN waits for a SIPI until a signal, mp_state WAIT_FOR_SIPI (%u)",
	       ev.mp_state);
	tap_ok(!set_events(ap, false, true, VSNIX_MP_WAIT_FOR_SIPI) && runs_sipi_code(ap),
	       "then a SIPI starts it");

	ok = !set_events(ap, false, true, VSNIX_MP_RUNNABLE) &&
	     !ioctl(ap->fd, VSNIX_GET_REGS, &regs);
	ret = vcpu_run_raw(ap);
	tap_ok(ok && ret == 0 && ap->run->exit_reason == VSNIX_EXIT_HLT &&
	       !ioctl(ap->fd, VSNIX_GET_VCPU_EVENTS, &ev) && !ev.sipi_pending,
	       "a SIPI to a running vCPU is dropped: it goes on to its HLT (%s)",
	       vcpu_exit_str(ap));
	vm_destroy(vm);
	tap_ok(kernel_healthy(), "kernel not tainted by an oops or WARN");
	tap_finish();
}
