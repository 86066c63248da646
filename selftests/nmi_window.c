// SPDX-License-Identifier: GPL-2.0
/*
 * NMI blocking and the NMI window (Intel SDM Vol 3, 6.7.1; AMD APM Vol 2,
 * 15.21.4): of two NMIs injected before RUN the handler runs for the
 * first alone; one injected while the guest runs its NMI handler (here it
 * merges with the second, already latched: nmi_queue.c) waits for the
 * handler's IRET and comes right after it, with IF=0 and no other exit.
 * An NMI mask set through SET_VCPU_EVENTS blocks NMIs the same way until
 * the guest's next IRET.
 */
#include "vsnix_util.h"

volatile uint64_t nw_count, nw_seen_in_handler, nw_spins;
extern char nw_handler[];

/* Calls nw_nmi_body with the caller-saved registers kept (SysV ABI). */
asm(".pushsection .text\n"
	"nw_handler:\n"
	"  pushq %rax\n  pushq %rcx\n  pushq %rdx\n  pushq %rsi\n  pushq %rdi\n"
	"  pushq %r8\n  pushq %r9\n  pushq %r10\n  pushq %r11\n"
	"  call nw_nmi_body\n"
	"  popq %r11\n  popq %r10\n  popq %r9\n  popq %r8\n"
	"  popq %rdi\n  popq %rsi\n  popq %rdx\n  popq %rcx\n  popq %rax\n"
	"  iretq\n"
	".popsection\n");

void nw_nmi_body(void)
{
	uint64_t n = ++nw_count;
	int i;

	if (n != 1)
		return;
	GUEST_SYNC2(2, n);		/* another NMI is injected here */
	for (i = 0; i < 1000; i++)
		asm volatile("pause");
	nw_seen_in_handler = nw_count;
}

/* Wait (bounded) for the NMI count to reach want; the spins it took. */
static uint64_t wait_count(uint64_t want, uint64_t limit)
{
	uint64_t k;

	for (k = 0; k < limit && nw_count < want; k++)
		asm volatile("pause");
	return k;
}

/* An IRET to the next instruction, as an NMI handler's would end. */
static void self_iret(void)
{
	asm volatile("movq %%rsp, %%rax\n\t"
		     "movl %%ss, %%ecx\n\t"
		     "pushq %%rcx\n\t"
		     "pushq %%rax\n\t"
		     "pushfq\n\t"
		     "movl %%cs, %%ecx\n\t"
		     "pushq %%rcx\n\t"
		     "leaq 1f(%%rip), %%rax\n\t"
		     "pushq %%rax\n\t"
		     "iretq\n"
		     "1:" : : : "rax", "rcx", "memory");
}

static void guest_main(void)
{
	uint64_t before;

	asm volatile("cli");
	GUEST_SYNC(1);			/* two NMIs injected */
	nw_spins = wait_count(2, 10000000);
	GUEST_SYNC3(3, nw_count, nw_seen_in_handler);
	GUEST_SYNC(4);			/* NMI mask and a pending NMI set */
	wait_count(3, 200000);
	before = nw_count;
	self_iret();
	wait_count(3, 10000000);
	GUEST_SYNC3(5, before, nw_count);
}

int main(void)
{
	struct vsnix_vcpu_events ev;
	struct vsnix_test_vcpu *vcpu;
	struct vsnix_test_vm *vm;
	struct ucall uc;
	bool ok;

	vsnix_dev_fd();
	if (!vsnix_cap(VSNIX_CAP_VCPU_EVENTS))
		tap_skip_all("no VSNIX_CAP_VCPU_EVENTS");
	tap_plan(6);
	vm = vm_create_long(0);
	vcpu = vcpu_create_long(vm, 0, guest_main);
	vm_set_idt_gate(vm, 2, (uintptr_t)nw_handler);

	ok = vcpu_run_sync_is(vcpu, &uc, 1) && !vcpu_inject_nmi(vcpu) && !vcpu_inject_nmi(vcpu) &&
	     !ioctl(vcpu->fd, VSNIX_GET_VCPU_EVENTS, &ev) && ev.nmi_pending == 1;
	ok = ok && vcpu_run_sync_is(vcpu, &uc, 2);
	tap_ok(ok && uc.args[1] == 1, "two NMIs injected before RUN: the handler runs for the first alone (%lu)",
	       (unsigned long)uc.args[1]);
	ok = ok && !vcpu_inject_nmi(vcpu) && !ioctl(vcpu->fd, VSNIX_GET_VCPU_EVENTS, &ev) &&
	     ev.nmi_masked == 1;
	tap_ok(ok, "inside the NMI handler: NMIs masked (nmi_masked %u)", ev.nmi_masked);
	ok = ok && vcpu_run_sync_is(vcpu, &uc, 3);
	tap_ok(ok && uc.args[2] == 1, "the NMI injected in the handler waits for its IRET (%lu seen)",
	       (unsigned long)uc.args[2]);
	tap_ok(ok && uc.args[1] == 2,
	       "and is delivered right after the IRET, IF=0 (count %lu, %lu spins)",
	       (unsigned long)uc.args[1], (unsigned long)GUEST_VAR(vm, nw_spins));

	ok = vcpu_run_sync_is(vcpu, &uc, 4) && !ioctl(vcpu->fd, VSNIX_GET_VCPU_EVENTS, &ev) &&
	     ev.nmi_masked == 0;
	ev.nmi_masked = 1;
	ev.nmi_pending = 1;
	ok = ok && !ioctl(vcpu->fd, VSNIX_SET_VCPU_EVENTS, &ev);
	ok = ok && vcpu_run_sync_is(vcpu, &uc, 5);
	tap_ok(ok && uc.args[1] == 2 && uc.args[2] == 3,
	       "SET_VCPU_EVENTS nmi_masked: pending NMI held until the next IRET (%lu, then %lu)",
	       (unsigned long)uc.args[1], (unsigned long)uc.args[2]);
	vm_destroy(vm);
	tap_ok(kernel_healthy(), "kernel not tainted by an oops or WARN");
	tap_finish();
}
