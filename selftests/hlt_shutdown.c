// SPDX-License-Identifier: GPL-2.0
/*
 * HLT exits with RIP past the HLT and resumption; a triple fault (Intel SDM
 * Vol 3, 6.15 "Double Fault Exception": a fault while delivering #DF)
 * becomes VSNIX_EXIT_SHUTDOWN, the vCPU runs again once given new state, and
 * the host still runs new VMs.
 */
#include "vsnix_util.h"

extern char guest_after_hlt[];

static void __attribute__((noinline)) guest_hlt(void)
{
	GUEST_SYNC(1);
	asm volatile("hlt\n\t"
		     ".globl guest_after_hlt\n"
		     "guest_after_hlt:" ::: "memory");
	GUEST_SYNC(2);
}

static void guest_triple_fault(void)
{
	struct __attribute__((packed)) {
		uint16_t limit;
		uint64_t base;
	} empty_idt = { 0, 0 };

	/* No IDT: #UD, then #GP and #DF cannot be delivered either. */
	asm volatile("lidt %0\n\tud2" : : "m"(empty_idt));
	GUEST_SYNC(99);
}

static void guest_done(void)
{
	GUEST_DONE();
}

static bool run_to_done(struct vsnix_test_vcpu *vcpu)
{
	struct ucall uc;

	return vcpu_run_ucall_soft(vcpu, &uc) == UCALL_DONE;
}

int main(void)
{
	struct vsnix_test_vcpu *vcpu;
	struct vsnix_test_vm *vm;
	struct vsnix_sregs sregs;
	struct vsnix_regs regs;
	struct ucall uc;
	bool ok;

	vsnix_dev_fd();
	tap_plan(8);

	vm = vm_create_long(0);
	vcpu = vcpu_create_long(vm, 0, guest_hlt);
	TEST_ASSERT(vcpu_run_ucall(vcpu, &uc) == UCALL_SYNC, "first sync");
	ok = vcpu_run_raw(vcpu) == 0 && vcpu->run->exit_reason == VSNIX_EXIT_HLT;
	tap_ok(ok, "HLT gives VSNIX_EXIT_HLT (%s)", vcpu_exit_str(vcpu));
	vcpu_get_regs(vcpu, &regs);
	tap_ok(regs.rip == (uintptr_t)guest_after_hlt, "RIP is past the HLT (0x%llx, want %p)",
	       (unsigned long long)regs.rip, guest_after_hlt);
	ok = vcpu_run_ucall_soft(vcpu, &uc) == UCALL_SYNC && uc.args[0] == 2;
	tap_ok(ok, "the guest resumes after the HLT exit");
	vm_destroy(vm);

	vm = vm_create_long(0);
	vcpu = vcpu_create_long(vm, 0, guest_triple_fault);
	ok = vcpu_run_raw(vcpu) == 0 && vcpu->run->exit_reason == VSNIX_EXIT_SHUTDOWN;
	tap_ok(ok, "triple fault gives VSNIX_EXIT_SHUTDOWN (%s)", vcpu_exit_str(vcpu));

	/* New state for the same vCPU, as the API asks after a shutdown. */
	vcpu_get_sregs(vcpu, &sregs);
	long_mode_sregs(vm, &sregs);
	vcpu_set_sregs(vcpu, &sregs);
	memset(&regs, 0, sizeof(regs));
	regs.rip = (uintptr_t)guest_done;
	regs.rsp = GUEST_STACKS_GPA + GUEST_STACK_SIZE - 16;
	regs.rflags = 2;
	vcpu_set_regs(vcpu, &regs);
	tap_ok(run_to_done(vcpu), "the shut-down vCPU runs again after SET_SREGS/SET_REGS");
	vm_destroy(vm);

	vm = vm_create_long(0);
	vcpu = vcpu_create_long(vm, 0, guest_done);
	tap_ok(run_to_done(vcpu), "a new VM runs after the triple fault");
	vm_destroy(vm);

	vm = vm_create_long(0);
	vcpu = vcpu_create_long(vm, 0, guest_triple_fault);
	ok = vcpu_run_raw(vcpu) == 0 && vcpu->run->exit_reason == VSNIX_EXIT_SHUTDOWN;
	vm_destroy(vm);
	tap_ok(ok, "a VM destroyed right after its shutdown exit goes away cleanly");
	tap_ok(kernel_healthy(), "kernel not tainted by an oops or WARN");
	tap_finish();
}
