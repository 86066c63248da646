// SPDX-License-Identifier: GPL-2.0
/*
 * NMIs that come before the vCPU takes the first (Intel SDM Vol 3, 6.7.1):
 * a CPU takes an NMI at its next instruction boundary, so a second NMI
 * finds the first one's handler running and is latched, a third is lost.
 * A vCPU takes it only at its next entry; vsnix keeps the second so the
 * guest sees what the CPU would: two NMIs queued before RUN give two
 * deliveries (the second after the first handler's IRET), three give two.
 * kvm-unit-tests' apic "multiple nmi" sends two NMIs to one vCPU at once.
 */
#include "vsnix_util.h"

volatile uint64_t nq_count;
extern char nq_handler[];

/* Counts, keeps the registers it uses, returns with IRET. */
asm(".pushsection .text\n"
	"nq_handler:\n"
	"  lock incq nq_count(%rip)\n"
	"  iretq\n"
	".popsection\n");

/* Bounded wait until nq_count reaches want: a missing NMI ends it. */
static void wait_count(uint64_t want)
{
	uint64_t k;

	for (k = 0; k < 2000000 && nq_count < want; k++)
		asm volatile("pause");
}

static void guest_main(void)
{
	uint64_t before;

	asm volatile("cli");
	GUEST_SYNC(1);			/* two NMIs injected */
	wait_count(3);
	GUEST_SYNC2(2, nq_count);
	before = nq_count;
	GUEST_SYNC(3);			/* three NMIs injected */
	wait_count(before + 3);
	GUEST_SYNC2(4, nq_count - before);
}

int main(void)
{
	struct vsnix_test_vcpu *vcpu;
	struct vsnix_test_vm *vm;
	struct ucall uc;
	bool ok;

	vsnix_dev_fd();
	tap_plan(3);
	vm = vm_create_long(0);
	vcpu = vcpu_create_long(vm, 0, guest_main);
	vm_set_idt_gate(vm, 2, (uintptr_t)nq_handler);

	ok = vcpu_run_sync_is(vcpu, &uc, 1) && !vcpu_inject_nmi(vcpu) && !vcpu_inject_nmi(vcpu) &&
	     vcpu_run_sync_is(vcpu, &uc, 2);
	tap_ok(ok && uc.args[1] == 2,
	       "two NMIs before the vCPU took one: two deliveries (%lu)",
	       (unsigned long)uc.args[1]);
	ok = ok && vcpu_run_sync_is(vcpu, &uc, 3) && !vcpu_inject_nmi(vcpu) &&
	     !vcpu_inject_nmi(vcpu) && !vcpu_inject_nmi(vcpu) && vcpu_run_sync_is(vcpu, &uc, 4);
	tap_ok(ok && uc.args[1] == 2,
	       "three NMIs: the third is lost, as on a CPU (%lu deliveries)",
	       (unsigned long)uc.args[1]);
	vm_destroy(vm);
	tap_ok(kernel_healthy(), "kernel not tainted by an oops or WARN");
	tap_finish();
}
