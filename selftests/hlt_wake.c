// SPDX-License-Identifier: GPL-2.0
/*
 * HLT in the kernel (VSNIX_SET_HALT_CONFIG, VSNIX_HALT_IN_KERNEL): a guest
 * that halts with IF=1 sleeps inside RUN until another thread injects an
 * interrupt, and then takes it with no VSNIX_EXIT_HLT in between. A signal
 * ends the sleep with EINTR and leaves the vCPU halted (mp_state HALTED in
 * GET_VCPU_EVENTS); the next RUN sleeps again. HLT with IF=0 still
 * exits to userspace, and so does HLT with IF=1 in a VM that did not ask.
 */
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "vsnix_util.h"

#define VECTOR	0x40

volatile uint64_t hw_irqs;
extern char hw_handler[];

asm(".pushsection .text\n"
	"hw_handler:\n"
	"  incq hw_irqs(%rip)\n"
	"  iretq\n"
	".popsection\n");

static void guest_main(void)
{
	asm volatile("sti");
	GUEST_SYNC(1);
	asm volatile("hlt");		/* woken by the injection */
	GUEST_SYNC2(2, hw_irqs);
	asm volatile("hlt");		/* a signal, then an injection */
	GUEST_SYNC2(3, hw_irqs);
	asm volatile("cli; hlt");	/* IF=0: VSNIX_EXIT_HLT */
	GUEST_SYNC2(4, hw_irqs);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct delayed {
	int fd;
	long ms;
	pthread_t target;	/* signal it first, when signal is set */
	bool signal;
};

static void *delayed_inject(void *arg)
{
	struct delayed *d = arg;
	struct vsnix_event ev = { .type = VSNIX_EVENT_EXTINT, .vector = VECTOR };

	usleep(d->ms * 1000);
	if (d->signal) {
		pthread_kill(d->target, SIGUSR1);
		return NULL;
	}
	return (void *)(long)(ioctl(d->fd, VSNIX_INJECT_EVENT, &ev) ? errno : 0);
}

static void on_usr1(int sig)
{
}

static struct vsnix_test_vm *halt_vm(struct vsnix_test_vcpu **vcpu, bool in_kernel)
{
	struct vsnix_halt_config cfg = { .flags = in_kernel ? VSNIX_HALT_IN_KERNEL : 0 };
	struct vsnix_test_vm *vm = vm_create_long(0);
	struct vsnix_sregs sregs;

	*vcpu = vcpu_create_long(vm, 0, guest_main);
	vm_set_idt_gate(vm, VECTOR, (uintptr_t)hw_handler);
	vcpu_get_sregs(*vcpu, &sregs);
	sregs.idt.limit = (VECTOR + 1) * 16 - 1;
	vcpu_set_sregs(*vcpu, &sregs);
	TEST_ASSERT(!ioctl(vm->fd, VSNIX_SET_HALT_CONFIG, &cfg), "SET_HALT_CONFIG");
	return vm;
}

/* A VM that did not ask: HLT with IF=1 and nothing queued still exits. */
static void test_not_asked(void)
{
	struct vsnix_test_vcpu *vcpu;
	struct vsnix_test_vm *vm = halt_vm(&vcpu, false);
	struct ucall uc;
	bool ok = vcpu_run_sync_is(vcpu, &uc, 1) && vcpu_run_raw(vcpu) == 0 &&
		  vcpu->run->exit_reason == VSNIX_EXIT_HLT;

	tap_ok(ok, "without VSNIX_HALT_IN_KERNEL: HLT with IF=1 exits (%s)", vcpu_exit_str(vcpu));
	vm_destroy(vm);
}

static void test_bad_config(void)
{
	struct vsnix_test_vm *vm = vm_create_bare();
	struct vsnix_halt_config cfg = { .flags = 2 };
	bool ok = expect_errno(ioctl(vm->fd, VSNIX_SET_HALT_CONFIG, &cfg), EINVAL, "flags");

	cfg.flags = 0;
	cfg.reserved[2] = 1;
	ok = ok && expect_errno(ioctl(vm->fd, VSNIX_SET_HALT_CONFIG, &cfg), EINVAL, "reserved");
	tap_ok(ok, "SET_HALT_CONFIG: unknown flags, reserved: EINVAL");
	vm_destroy(vm);
}

int main(void)
{
	struct sigaction sa = { .sa_handler = on_usr1 };	/* no SA_RESTART */
	struct vsnix_vcpu_events ev;
	struct vsnix_test_vcpu *vcpu;
	struct vsnix_test_vm *vm;
	struct delayed d;
	struct ucall uc;
	double t0, dt;
	pthread_t t;
	void *res;
	int ret;
	bool ok;

	vsnix_dev_fd();
	if (!vsnix_cap(VSNIX_CAP_HALT_IN_KERNEL) || !vsnix_cap(VSNIX_CAP_VCPU_EVENTS))
		tap_skip_all("no VSNIX_CAP_HALT_IN_KERNEL");
	tap_plan(9);
	TEST_ASSERT(!sigaction(SIGUSR1, &sa, NULL), "sigaction");
	vm = halt_vm(&vcpu, true);
	TEST_ASSERT(vcpu_run_sync_is(vcpu, &uc, 1), "first sync");

	d = (struct delayed){ .fd = vcpu->fd, .ms = 300 };
	TEST_ASSERT(!pthread_create(&t, NULL, delayed_inject, &d), "pthread_create");
	t0 = now();
	ok = vcpu_run_sync_is(vcpu, &uc, 2);
	dt = now() - t0;
	pthread_join(t, &res);
	tap_ok(ok && uc.args[1] == 1 && !res,
	       "HLT with IF=1 sleeps in RUN; the injection wakes it, no EXIT_HLT (%lu irq)",
	       (unsigned long)uc.args[1]);
	tap_ok(dt >= 0.25, "RUN waited for the injection (%.3f s, injected at 0.3 s)", dt);

	d = (struct delayed){ .ms = 200, .target = pthread_self(), .signal = true };
	TEST_ASSERT(!pthread_create(&t, NULL, delayed_inject, &d), "pthread_create");
	ret = vcpu_run_raw(vcpu);
	pthread_join(t, NULL);
	ok = expect_errno(ret, EINTR, "RUN while halted") &&
	     vcpu->run->exit_reason == VSNIX_EXIT_INTR &&
	     !ioctl(vcpu->fd, VSNIX_GET_VCPU_EVENTS, &ev) && ev.mp_state == VSNIX_MP_HALTED;
	tap_ok(ok, "a signal ends the sleep: EINTR, mp_state HALTED (%u)", ev.mp_state);

	d = (struct delayed){ .fd = vcpu->fd, .ms = 200 };
	TEST_ASSERT(!pthread_create(&t, NULL, delayed_inject, &d), "pthread_create");
	ok = vcpu_run_sync_is(vcpu, &uc, 3);
	pthread_join(t, &res);
	tap_ok(ok && uc.args[1] == 2 && !res, "the next RUN sleeps again until the injection (%lu)",
	       (unsigned long)uc.args[1]);

	ok = vcpu_run_raw(vcpu) == 0 && vcpu->run->exit_reason == VSNIX_EXIT_HLT;
	tap_ok(ok, "HLT with IF=0 exits to userspace (%s)", vcpu_exit_str(vcpu));
	tap_ok(vcpu_run_sync_is(vcpu, &uc, 4) && uc.args[1] == 2, "guest resumes after that HLT");
	vm_destroy(vm);

	test_not_asked();
	test_bad_config();
	tap_ok(kernel_healthy(), "kernel not tainted by an oops or WARN");
	tap_finish();
}
