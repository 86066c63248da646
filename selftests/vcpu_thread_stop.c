// SPDX-License-Identifier: GPL-2.0
/*
 * libvsnix's vCPU threads (userspace/lib/vcpu_thread.c): a stop request is
 * never lost. The stopper sets run->immediate_exit, then signals the
 * thread; RUN gives -EINTR on either. Checked with a thread spinning in
 * the guest, a thread making exits as fast as it can (so stops land
 * anywhere in its loop), a stop that arrives exactly between the thread's
 * stop check and RUN (with its signal already consumed), and a VM of
 * several vCPU threads. Every wait is bounded: a lost stop is a failure,
 * not a hang.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "vsnix_util.h"

#define NR_TESTS	8
#define SPIN_ROUNDS	150
#define EXIT_ROUNDS	300
#define WINDOW_ROUNDS	40
#define NR_MULTI	4
#define JOIN_LIMIT_MS	5000
#define EXIT_PORT	0x2100

static volatile uint64_t spins;

static void guest_spin(void)
{
	for (;;)
		__atomic_fetch_add(&spins, 1, __ATOMIC_RELAXED);
}

static void guest_exits(void)
{
	uint32_t i;

	for (i = 0;; i++)
		guest_outl(EXIT_PORT, i);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ull + ts.tv_nsec / 1000000;
}

/* Joins the thread if it ends within limit_ms; false if it did not. */
static bool join_within(struct vsnix_test_vcpu *vcpu, int limit_ms, int *result)
{
	uint64_t end = now_ms() + limit_ms;

	while (!vx_vcpu_thread_done(vcpu)) {
		if (now_ms() > end)
			return false;
		usleep(200);
	}
	*result = vx_vcpu_thread_join(vcpu);
	return true;
}

/* Stops a thread and checks it ended by the stop; fatal when it hangs. */
static bool stop_and_join(struct vsnix_test_vcpu *vcpu, const char *what, int round)
{
	int result = -1;

	vx_vcpu_thread_stop(vcpu);
	if (!join_within(vcpu, JOIN_LIMIT_MS, &result))
		TEST_FAIL("%s, round %d: the vCPU thread did not stop within %d ms (stop lost)",
			  what, round, JOIN_LIMIT_MS);
	if (result != 0)
		tap_diag("%s, round %d: thread result %d (%s)", what, round, result,
			 vcpu_exit_str(vcpu));
	return result == 0;
}

static int unexpected_exit(struct vx_vcpu *vcpu, void *opaque)
{
	tap_diag("vCPU %u: unexpected %s", vcpu->id, vcpu_exit_str(vcpu));
	return 1;
}

static uint64_t port_exits;

static int count_port_exit(struct vx_vcpu *vcpu, void *opaque)
{
	if (!vcpu_is_io(vcpu, EXIT_PORT, VSNIX_EXIT_IO_OUT, 4))
		return unexpected_exit(vcpu, opaque);
	port_exits++;
	return 0;
}

/* Random pause of 0..max_us: stops land anywhere in the thread's loop. */
static void random_pause(unsigned int max_us)
{
	unsigned int us = rand() % (max_us + 1);

	if (us)
		usleep(us);
}

static void test_spinning(struct vsnix_test_vm *vm, struct vsnix_test_vcpu *vcpu)
{
	uint64_t before = GUEST_VAR(vm, spins);
	bool ok = true;
	int i;

	for (i = 0; i < SPIN_ROUNDS; i++) {
		TEST_ASSERT(!vx_vcpu_thread_start(vcpu, unexpected_exit, NULL), "%s",
			    vx_errmsg());
		random_pause(2000);
		ok &= stop_and_join(vcpu, "spinning guest", i);
	}
	tap_ok(ok, "%d stops of a thread spinning in the guest: each ended by the stop",
	       SPIN_ROUNDS);
	tap_ok(GUEST_VAR(vm, spins) > before, "and the guest ran in between (%lu loops)",
	       (unsigned long)(GUEST_VAR(vm, spins) - before));
}

static void test_exiting(struct vsnix_test_vcpu *vcpu)
{
	uint64_t runs = 0;
	bool ok = true;
	int i;

	for (i = 0; i < EXIT_ROUNDS; i++) {
		TEST_ASSERT(!vx_vcpu_thread_start(vcpu, count_port_exit, NULL), "%s",
			    vx_errmsg());
		random_pause(i % 3 ? 300 : 0);
		ok &= stop_and_join(vcpu, "exiting guest", i);
		runs += vcpu->nr_runs;
	}
	tap_diag("%lu RUNs, %lu port exits handled", (unsigned long)runs,
		 (unsigned long)port_exits);
	tap_ok(ok && port_exits > 0,
	       "%d stops of a thread making exits (stops between RUNs too): each ended by the stop",
	       EXIT_ROUNDS);
}

/* ---------------------------- the window between the check and RUN */

static sem_t at_window, stop_sent;
static bool drop_immediate_exit;

/* Runs in the vCPU thread after its stop check, before RUN. */
static int hold_before_run(struct vx_vcpu *vcpu, void *opaque)
{
	sem_post(&at_window);
	while (sem_wait(&stop_sent))
		;
	/*
	 * The stop's signal was queued before stop_sent was posted; a system
	 * call delivers it if the wait did not: its no-op handler has run
	 * before RUN, so RUN sees no pending signal.
	 */
	sigpending(&(sigset_t){ 0 });
	if (drop_immediate_exit)	/* the signal-only protocol */
		vcpu->run->immediate_exit = 0;
	vcpu->pre_run = NULL;
	return 0;
}

static bool stop_in_window(struct vsnix_test_vcpu *vcpu, int limit_ms, int *result)
{
	vcpu->pre_run = hold_before_run;
	TEST_ASSERT(!vx_vcpu_thread_start(vcpu, unexpected_exit, NULL), "%s", vx_errmsg());
	while (sem_wait(&at_window))
		;
	vx_vcpu_thread_stop(vcpu);
	sem_post(&stop_sent);
	return join_within(vcpu, limit_ms, result);
}

static void test_window(struct vsnix_test_vcpu *vcpu)
{
	bool ok = true, ended;
	int i, result = -1;

	TEST_ASSERT(!sem_init(&at_window, 0, 0) && !sem_init(&stop_sent, 0, 0), "sem_init");
	for (i = 0; i < WINDOW_ROUNDS && ok; i++) {
		ok = stop_in_window(vcpu, JOIN_LIMIT_MS, &result) && result == 0 &&
		     vcpu->run->exit_reason == VSNIX_EXIT_INTR && vcpu->nr_runs == 1;
		if (!ok)
			tap_diag("round %d: result %d, %lu RUNs, %s", i, result,
				 (unsigned long)vcpu->nr_runs, vcpu_exit_str(vcpu));
	}
	tap_ok(ok, "stop between the check and RUN, its signal already handled: RUN returns at once on immediate_exit (%d rounds)",
	       WINDOW_ROUNDS);

	/* The same without immediate_exit: the stop is lost (why it is set). */
	drop_immediate_exit = true;
	ended = stop_in_window(vcpu, 300, &result);
	drop_immediate_exit = false;
	tap_ok(!ended, "control: with the signal alone, that stop is lost (RUN still in the guest after 300 ms)");
	if (!ended)
		ok = stop_and_join(vcpu, "control, second stop", 0);
	tap_ok(ok, "and a second stop ends it");
}

static void test_multi(struct vsnix_test_vm *vm)
{
	bool ok = true;
	int i, result;

	TEST_ASSERT(!vx_vm_threads_start(vm, count_port_exit, NULL), "%s", vx_errmsg());
	usleep(20000);
	vx_vm_threads_stop(vm);
	for (i = 0; i < (int)vm->nr_vcpus; i++) {
		if (!join_within(vm->vcpus[i], JOIN_LIMIT_MS, &result))
			TEST_FAIL("vCPU %d thread of %u did not stop", i, vm->nr_vcpus);
		ok &= result == 0;
	}
	tap_ok(ok, "%u vCPU threads of one VM (spinning and exiting guests) stop together",
	       vm->nr_vcpus);
}

int main(void)
{
	struct vsnix_test_vcpu *spin, *exits;
	struct vsnix_test_vm *vm;
	int i;

	vsnix_dev_fd();
	tap_plan(NR_TESTS);
	srand(time(NULL));
	vm = vm_create_long(0);
	spin = vcpu_create_long(vm, 0, guest_spin);
	exits = vcpu_create_long(vm, 1, guest_exits);
	test_spinning(vm, spin);
	test_exiting(exits);
	test_window(spin);
	for (i = 2; i < NR_MULTI; i++)
		vcpu_create_long(vm, i, i % 2 ? guest_exits : guest_spin);
	test_multi(vm);
	vm_destroy(vm);
	tap_ok(kernel_healthy(), "kernel not tainted by an oops or WARN");
	tap_finish();
}
