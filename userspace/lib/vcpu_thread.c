// SPDX-License-Identifier: GPL-2.0
/*
 * libvsnix: one thread per vCPU, and stopping it without losing the stop.
 *
 * The race to close: a thread tests "stop requested?", finds no, and is
 * about to call RUN when the stop comes. A signal alone is lost there (its
 * handler runs before RUN, and RUN then enters a guest that may spin for
 * ever). So the stopper first sets run->immediate_exit, which vsnix.ko
 * reads at the start of every RUN (-EINTR, VSNIX_EXIT_INTR, guest not
 * entered), and then signals: a thread already inside RUN leaves on the
 * pending signal (the IPI that delivers it forces a guest exit), a thread
 * before RUN leaves on immediate_exit.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include "vsnix/libvsnix.h"

static void kick_handler(int sig)
{
	(void)sig;
}

int vx_kick_signal_init(void)
{
	/* No SA_RESTART: RUN must come back with EINTR. */
	struct sigaction sa = { .sa_handler = kick_handler };

	sigemptyset(&sa.sa_mask);
	if (sigaction(VX_KICK_SIGNAL, &sa, NULL))
		return vx_fail(errno, "sigaction(VX_KICK_SIGNAL): %s", strerror(errno));
	return 0;
}

static bool stop_requested(struct vx_vcpu *vcpu)
{
	return __atomic_load_n(&vcpu->stop, __ATOMIC_ACQUIRE);
}

/* 0: run again; else the thread's result. */
static int after_run(struct vx_vcpu *vcpu, int r)
{
	if (r == -EINTR || r == -EAGAIN)
		return 0;	/* a kick, a stray signal: the loop checks stop */
	if (r < 0)
		return r;
	if (vcpu->run->exit_reason == VSNIX_EXIT_INTR)
		return 0;
	return vcpu->on_exit(vcpu, vcpu->opaque);
}

static void *vcpu_thread(void *arg)
{
	struct vx_vcpu *vcpu = arg;
	uint64_t one = 1;
	sigset_t kick;
	int result = 0;

	sigemptyset(&kick);
	sigaddset(&kick, VX_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &kick, NULL);
	while (!stop_requested(vcpu)) {
		if (vcpu->pre_run)
			vcpu->pre_run(vcpu, vcpu->opaque);
		vcpu->nr_runs++;
		result = after_run(vcpu, vx_vcpu_run(vcpu));
		if (result)
			break;
	}
	vcpu->result = result;
	__atomic_store_n(&vcpu->done, 1, __ATOMIC_RELEASE);
	/* A full counter (EAGAIN) is readable anyway. */
	(void)!write(vcpu->vm->done_fd, &one, sizeof(one));
	return NULL;
}

int vx_vcpu_thread_start(struct vx_vcpu *vcpu, vx_exit_fn on_exit, void *opaque)
{
	int r;

	if (vcpu->thread_live)
		return vx_fail(EBUSY, "vCPU %u has a thread already", vcpu->id);
	r = vx_kick_signal_init();
	if (r)
		return r;
	if (vcpu->vm->done_fd < 0) {
		vcpu->vm->done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (vcpu->vm->done_fd < 0)
			return vx_fail(errno, "eventfd: %s", strerror(errno));
	}
	vcpu->on_exit = on_exit;
	vcpu->opaque = opaque;
	vcpu->result = 0;
	vcpu->nr_runs = 0;
	__atomic_store_n(&vcpu->stop, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&vcpu->done, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&vcpu->run->immediate_exit, 0, __ATOMIC_RELEASE);
	r = pthread_create(&vcpu->thread, NULL, vcpu_thread, vcpu);
	if (r)
		return vx_fail(r, "vCPU %u thread: %s", vcpu->id, strerror(r));
	vcpu->thread_live = true;
	return 0;
}

void vx_vcpu_thread_stop(struct vx_vcpu *vcpu)
{
	if (!vcpu->thread_live)
		return;
	__atomic_store_n(&vcpu->stop, 1, __ATOMIC_RELEASE);
	/* Before the signal: a thread that misses it sees this in RUN. */
	__atomic_store_n(&vcpu->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	/* An ended thread is still a valid target until it is joined. */
	pthread_kill(vcpu->thread, VX_KICK_SIGNAL);
}

int vx_vcpu_thread_join(struct vx_vcpu *vcpu)
{
	if (!vcpu->thread_live)
		return vcpu->result;
	pthread_join(vcpu->thread, NULL);
	vcpu->thread_live = false;
	/* The next RUN, by a thread or not, enters the guest again. */
	vcpu->run->immediate_exit = 0;
	return vcpu->result;
}

bool vx_vcpu_thread_done(struct vx_vcpu *vcpu)
{
	return __atomic_load_n(&vcpu->done, __ATOMIC_ACQUIRE);
}

int vx_vm_threads_start(struct vx_vm *vm, vx_exit_fn on_exit, void *opaque)
{
	unsigned int i;
	int r;

	for (i = 0; i < vm->nr_vcpus; i++) {
		r = vx_vcpu_thread_start(vm->vcpus[i], on_exit, opaque);
		if (r) {
			vx_vm_threads_stop(vm);
			vx_vm_threads_join(vm);
			return r;
		}
	}
	return 0;
}

void vx_vm_threads_stop(struct vx_vm *vm)
{
	unsigned int i;

	for (i = 0; i < vm->nr_vcpus; i++)
		vx_vcpu_thread_stop(vm->vcpus[i]);
}

void vx_vm_threads_join(struct vx_vm *vm)
{
	unsigned int i;

	for (i = 0; i < vm->nr_vcpus; i++)
		vx_vcpu_thread_join(vm->vcpus[i]);
}

int vx_vm_wait_done(struct vx_vm *vm, int timeout_ms)
{
	struct pollfd p = { .fd = vm->done_fd, .events = POLLIN };
	uint64_t n;
	int r;

	if (vm->done_fd < 0)
		return vx_fail(EINVAL, "no vCPU thread was started");
	do {
		r = poll(&p, 1, timeout_ms);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return vx_fail(errno, "poll: %s", strerror(errno));
	if (r == 0)
		return vx_fail(ETIMEDOUT, "no vCPU thread ended within %d ms", timeout_ms);
	if (read(vm->done_fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return vx_fail(errno, "read of the done eventfd: %s", strerror(errno));
	return 0;
}
