// SPDX-License-Identifier: GPL-2.0
/*
 * Signals: immediate_exit makes RUN return EINTR before entering; a timer
 * signal interrupts a guest spinning in a loop (RUN returns -1/EINTR with
 * exit_reason VSNIX_EXIT_INTR), and the guest then resumes where it was.
 */
#include <signal.h>
#include <sys/time.h>

#include "vsnix_util.h"

static volatile uint64_t guest_stop;
static volatile uint64_t guest_spins;
static volatile sig_atomic_t alarms;

static void guest_spin(void)
{
	int round;

	for (round = 1; round <= 2; round++) {
		while (guest_stop < (uint64_t)round)
			guest_spins++;
		GUEST_SYNC2(round, guest_spins);
	}
}

static void on_alarm(int sig)
{
	alarms++;
}

static void arm_timer_ms(long ms)
{
	struct itimerval it = { .it_value = { .tv_sec = ms / 1000, .tv_usec = ms % 1000 * 1000 } };

	TEST_ASSERT(!setitimer(ITIMER_REAL, &it, NULL), "setitimer");
}

int main(void)
{
	struct sigaction sa = { .sa_handler = on_alarm };	/* no SA_RESTART */
	struct vsnix_test_vcpu *vcpu;
	struct vsnix_test_vm *vm;
	struct vsnix_regs before, after;
	struct ucall uc;
	uint64_t spins;
	int ret, round;
	bool ok;

	vsnix_dev_fd();
	tap_plan(8);
	TEST_ASSERT(!sigaction(SIGALRM, &sa, NULL), "sigaction");
	vm = vm_create_long(0);
	vcpu = vcpu_create_long(vm, 0, guest_spin);

	vcpu_get_regs(vcpu, &before);
	vcpu->run->immediate_exit = 1;
	ret = vcpu_run_raw(vcpu);
	vcpu_get_regs(vcpu, &after);
	tap_ok(expect_errno(ret, EINTR, "immediate_exit") &&
	       vcpu->run->exit_reason == VSNIX_EXIT_INTR && after.rip == before.rip,
	       "immediate_exit: EINTR, VSNIX_EXIT_INTR, guest not entered");
	vcpu->run->immediate_exit = 0;

	for (round = 1; round <= 2; round++) {
		/* Counted per round: each round must show its own spinning. */
		GUEST_VAR(vm, guest_spins) = 0;
		arm_timer_ms(300);
		ret = vcpu_run_raw(vcpu);
		spins = GUEST_VAR(vm, guest_spins);
		ok = expect_errno(ret, EINTR, "RUN during the timer") &&
		     vcpu->run->exit_reason == VSNIX_EXIT_INTR && alarms == round;
		tap_ok(ok, "round %d: SIGALRM interrupts the spinning guest (EINTR, INTR exit)",
		       round);
		tap_ok(spins > 0, "round %d: guest was spinning in this round (%lu loops)",
		       round, (unsigned long)spins);
		GUEST_VAR(vm, guest_stop) = round;
		ok = vcpu_run_ucall_soft(vcpu, &uc) == UCALL_SYNC && uc.args[0] == round &&
		     uc.args[1] >= spins && uc.args[1] == GUEST_VAR(vm, guest_spins);
		tap_ok(ok, "round %d: guest resumed from %lu loops and saw the stop flag", round,
		       (unsigned long)spins);
	}
	tap_ok(vcpu_run_ucall_soft(vcpu, &uc) == UCALL_DONE, "guest finished");
	vm_destroy(vm);
	tap_finish();
}
