// SPDX-License-Identifier: GPL-2.0
/*
 * A 64-bit guest built by the library: arguments in, ucalls out, guest
 * memory shared with the host, guest assertions and exceptions reported
 * with their location, and a guest function's return ending the run.
 */
#include <string.h>

#include "vsnix_util.h"

static volatile uint64_t host_to_guest;
static volatile uint64_t guest_to_host;

static void guest_main(uint64_t a, uint64_t b)
{
	uint64_t cr0, cr4;
	uint16_t cs;

	GUEST_SYNC3(1, a + b, a * b);
	asm volatile("mov %%cr0, %0" : "=r"(cr0));
	asm volatile("mov %%cr4, %0" : "=r"(cr4));
	asm volatile("mov %%cs, %0" : "=r"(cs));
	GUEST_SYNC3(2, cr0, cr4);
	GUEST_SYNC2(3, cs);
	guest_to_host = host_to_guest * 3;
	GUEST_SYNC(4);
	/* Returning is UCALL_DONE. */
}

static void guest_assert_fails(void)
{
	uint64_t one = 1;

	GUEST_ASSERT_EQ(one + 1, 3);
}

static void guest_faults(void)
{
	asm volatile("ud2");
}

int main(void)
{
	struct vsnix_test_vcpu *vcpu;
	struct vsnix_test_vm *vm;
	struct ucall uc;
	char msg[512];
	uint64_t cmd;

	vsnix_dev_fd();
	tap_plan(8);

	vm = vm_create_long(0);
	vcpu = vcpu_create_long(vm, 0, guest_main);
	vcpu_set_args(vcpu, 2, 6ul, 7ul);
	cmd = vcpu_run_ucall(vcpu, &uc);
	tap_ok(cmd == UCALL_SYNC && uc.args[0] == 1 && uc.args[1] == 13 && uc.args[2] == 42,
	       "guest gets its arguments and reports by ucall");
	cmd = vcpu_run_ucall(vcpu, &uc);
	tap_ok(cmd == UCALL_SYNC && uc.args[0] == 2 && (uc.args[1] & 0x80000001) == 0x80000001 &&
	       (uc.args[2] & (1 << 5)),
	       "guest runs with CR0.PG|PE and CR4.PAE (cr0 0x%lx cr4 0x%lx)",
	       (unsigned long)uc.args[1], (unsigned long)uc.args[2]);
	cmd = vcpu_run_ucall(vcpu, &uc);
	tap_ok(cmd == UCALL_SYNC && uc.args[0] == 3 && uc.args[1] == GUEST_SEL_CODE64,
	       "guest CS is the 64-bit code selector (0x%lx)", (unsigned long)uc.args[1]);
	GUEST_VAR(vm, host_to_guest) = 0x1111;
	cmd = vcpu_run_ucall(vcpu, &uc);
	tap_ok(cmd == UCALL_SYNC && uc.args[0] == 4 && GUEST_VAR(vm, guest_to_host) == 0x3333 &&
	       guest_to_host == 0, "guest memory is shared with the host, not the host's globals");
	cmd = vcpu_run_ucall(vcpu, &uc);
	tap_ok(cmd == UCALL_DONE, "returning from the guest function is UCALL_DONE");
	vm_destroy(vm);

	vm = vm_create_long(0);
	vcpu = vcpu_create_long(vm, 0, guest_assert_fails);
	vcpu_run(vcpu);
	cmd = vcpu_get_ucall(vcpu, &uc);
	if (cmd == UCALL_ABORT)
		ucall_abort_str(vcpu, &uc, msg, sizeof(msg));
	else
		snprintf(msg, sizeof(msg), "%s", vcpu_exit_str(vcpu));
	tap_diag("%s", msg);
	tap_ok(cmd == UCALL_ABORT && strstr(msg, "long_mode.c:") && uc.args[3] == 2 &&
	       uc.args[4] == 3, "GUEST_ASSERT_EQ reports file:line and both values");
	vm_destroy(vm);

	vm = vm_create_long(0);
	vcpu = vcpu_create_long(vm, 0, guest_faults);
	vcpu_run(vcpu);
	cmd = vcpu_get_ucall(vcpu, &uc);
	tap_ok(cmd == UCALL_ABORT && uc.args[5] == UCALL_ABORT_EXCEPTION && uc.args[1] == 6,
	       "a guest #UD is caught by the library's IDT (vector %lu)",
	       (unsigned long)uc.args[1]);
	vm_destroy(vm);

	tap_ok(kernel_healthy(), "kernel not tainted by an oops or WARN");
	tap_finish();
}
