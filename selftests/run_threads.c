// SPDX-License-Identifier: GPL-2.0
/*
 * RUN from several threads: two threads calling RUN on one vCPU are
 * serialized (no error, one RUN per guest exit, the guest's own state
 * intact); the VM fd closed by another thread while the vCPU runs: the
 * run goes on, the vCPU still works, and once the vCPU fd is closed too,
 * the VM is gone (module references and locked memory come back).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vsnix_util.h"

#define STEPS		3000

static volatile uint64_t guest_stop;
static volatile uint64_t guest_spins;
static volatile uint64_t rt_finished, rt_report;

#define STEP_PORT	0x2000

/*
 * STEPS port exits, then a checksum only a guest that ran each step once,
 * in order, computes. Its ucall comes after the threads are gone: the run
 * page is shared, so only then is the exit data one thread's to read.
 */
static void guest_steps(void)
{
	uint64_t i, sum = 0;

	for (i = 1; i <= STEPS; i++) {
		asm volatile("outl %%eax, %%dx" : : "a"((uint32_t)i), "d"(STEP_PORT) : "memory");
		sum = sum * 31 + i;
	}
	rt_finished = 1;
	while (!rt_report)
		;
	GUEST_SYNC3(1, sum, i);
}

static void guest_spin(void)
{
	while (!guest_stop)
		guest_spins++;
	GUEST_SYNC2(2, guest_spins);
}

/* ------------------------------------------------- two RUN threads */

static int runs_by[2], errors_by[2];

struct runner {
	struct vsnix_test_vcpu *vcpu;
	int idx;
};

static void *runner_thread(void *arg)
{
	struct runner *r = arg;
	struct vsnix_test_vm *vm = r->vcpu->vm;

	while (!__atomic_load_n(&GUEST_VAR(vm, rt_finished), __ATOMIC_ACQUIRE)) {
		if (!vcpu_run_raw(r->vcpu))
			runs_by[r->idx]++;
		else if (errno != EINTR)
			errors_by[r->idx]++;
	}
	return NULL;
}

static void on_usr1(int sig)
{
	(void)sig;
}

/*
 * Signal every thread not yet joined, in each round. A thread waiting for
 * the vCPU mutex (mutex_lock_killable: SIGUSR1 does not wake it) only gets
 * in once the other leaves RUN: signalling one thread at a time would wait
 * for ever on the one that is queued behind the other's endless RUN.
 */
static void join_all_kicking(pthread_t *t, int n)
{
	bool joined[8] = { false };
	int i, left = n;

	while (left) {
		for (i = 0; i < n; i++) {
			if (joined[i])
				continue;
			if (!pthread_tryjoin_np(t[i], NULL)) {
				joined[i] = true;
				left--;
			} else {
				pthread_kill(t[i], SIGUSR1);
			}
		}
		usleep(1000);
	}
}

static void test_two_runners(void)
{
	struct vsnix_test_vm *vm = vm_create_long(0);
	struct vsnix_test_vcpu *vcpu = vcpu_create_long(vm, 0, guest_steps);
	struct runner r[2] = { { vcpu, 0 }, { vcpu, 1 } };
	uint64_t i, sum = 0;
	struct ucall uc;
	pthread_t t[2];
	bool ok;

	for (i = 0; i < 2; i++)
		TEST_ASSERT(!pthread_create(&t[i], NULL, runner_thread, &r[i]), "pthread_create");
	/* The guest spins once finished: signals end the last RUNs. */
	for (i = 0; i < 200000 && !GUEST_VAR(vm, rt_finished); i++)
		usleep(100);
	join_all_kicking(t, 2);
	tap_diag("runs: %d and %d, errors %d and %d", runs_by[0], runs_by[1], errors_by[0],
		 errors_by[1]);
	tap_ok(!errors_by[0] && !errors_by[1], "two threads RUN one vCPU: no error");
	tap_ok(runs_by[0] + runs_by[1] == STEPS,
	       "one RUN per guest exit: %d RUNs for %d exits (none lost or doubled)",
	       runs_by[0] + runs_by[1], STEPS);
	GUEST_VAR(vm, rt_report) = 1;
	for (i = 1; i <= STEPS; i++)
		sum = sum * 31 + i;
	ok = vcpu_run_ucall_soft(vcpu, &uc) == UCALL_SYNC && uc.args[0] == 1 &&
	     uc.args[1] == sum && uc.args[2] == STEPS + 1;
	tap_ok(ok, "guest state intact: each step ran once, in order");
	tap_ok(runs_by[0] && runs_by[1], "both threads ran the vCPU");
	vm_destroy(vm);
}

/* ------------------------------------------ VM fd closed during RUN */

static volatile int spin_ret = 1, spin_errno;

static void *spin_thread(void *arg)
{
	struct vsnix_test_vcpu *vcpu = arg;

	spin_ret = vcpu_run_raw(vcpu);
	spin_errno = errno;
	return NULL;
}

static uint64_t spins(struct vsnix_test_vm *vm)
{
	return __atomic_load_n(&GUEST_VAR(vm, guest_spins), __ATOMIC_RELAXED);
}

static bool wait_spins_above(struct vsnix_test_vm *vm, uint64_t v)
{
	int i;

	for (i = 0; i < 2000 && spins(vm) <= v; i++)
		usleep(1000);
	return spins(vm) > v;
}

static void test_close_vm_fd(void)
{
	long ref0 = vsnix_module_refcnt(), lck0 = proc_status_kb("VmLck"), ref1, lck1, lck_vm;
	struct vsnix_test_vcpu *vcpu;
	struct vsnix_test_vm *vm;
	struct ucall uc;
	pthread_t t;
	uint64_t s;
	bool ok;

	vm = vm_create_long(0);
	/* Pinned (VSNIX_MEM_PIN), so that VmLck shows the RAM going away. */
	vm_set_region(vm, 0, 0, 0, 0, NULL);
	vm_set_region(vm, 0, VSNIX_MEM_PIN, 0, vm->mem_size, vm->mem);
	vcpu = vcpu_create_long(vm, 0, guest_spin);
	lck_vm = proc_status_kb("VmLck");
	TEST_ASSERT(!pthread_create(&t, NULL, spin_thread, vcpu), "pthread_create");
	ok = wait_spins_above(vm, 0);
	TEST_ASSERT(!close(vm->fd), "close VM fd");
	vm->fd = -1;
	s = spins(vm);
	ok = ok && wait_spins_above(vm, s) && spin_ret == 1;
	tap_ok(ok, "VM fd closed during RUN: the guest keeps running");

	/* A signal ends that RUN cleanly; then the guest finishes. */
	while (spin_ret == 1) {
		pthread_kill(t, SIGUSR1);
		usleep(1000);
	}
	pthread_join(t, NULL);
	ok = spin_ret == -1 && spin_errno == EINTR && vcpu->run->exit_reason == VSNIX_EXIT_INTR;
	GUEST_VAR(vm, guest_stop) = 1;
	ok = ok && vcpu_run_ucall_soft(vcpu, &uc) == UCALL_SYNC && uc.args[0] == 2;
	tap_ok(ok, "that RUN ends with EINTR on a signal, the next completes the guest");

	/* vm_destroy closes the vCPU fd (the VM fd is already closed). */
	vm_destroy(vm);
	ref1 = vsnix_module_refcnt();
	lck1 = proc_status_kb("VmLck");
	tap_diag("module refcnt %ld -> %ld, VmLck %ld -> %ld (with the VM) -> %ld kB",
		 ref0, ref1, lck0, lck_vm, lck1);
	tap_ok(ref0 > 0 && ref1 == ref0, "vCPU fd closed: the VM's module references are gone");
	tap_ok(lck_vm > lck0 && lck1 == lck0, "and its pinned guest memory is unpinned (VmLck back)");
}

int main(void)
{
	struct sigaction sa = { .sa_handler = on_usr1 };	/* no SA_RESTART */

	vsnix_dev_fd();
	tap_plan(9);
	TEST_ASSERT(!sigaction(SIGUSR1, &sa, NULL), "sigaction");
	test_two_runners();
	test_close_vm_fd();
	tap_ok(kernel_healthy(), "kernel not tainted by an oops or WARN");
	tap_finish();
}
