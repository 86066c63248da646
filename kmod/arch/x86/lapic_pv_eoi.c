// SPDX-License-Identifier: GPL-2.0
/*
 * PV EOI, the end of interrupt of Linux's KVM paravirtual interface
 * (Linux's Documentation/virt/kvm/x86/msr.rst, MSR_KVM_PV_EOI_EN): the
 * guest names a 4-byte-aligned word of its RAM. Before an entry where the
 * guest's next EOI is unambiguous (vsnix_lapic_pv_eoi_safe), the host sets
 * bit 0 there; the guest clears it instead of writing the EOI register,
 * with no exit. After the exit a cleared bit is that EOI, done here, and
 * a bit still set is taken back, so the flag is never set while the guest
 * is not running under this rule. A Linux guest saves one exit for most
 * interrupts (a network receive path takes hundreds a second).
 */
#include "x86.h"
#include "lapic.h"

#define PV_EOI_ENABLED		BIT_ULL(0)
#define PV_EOI_RESERVED		BIT_ULL(1)	/* the word is 4-byte aligned */

static u64 pv_eoi_gpa(const struct vsnix_lapic *apic)
{
	return apic->pv_eoi_msr & ~(PV_EOI_ENABLED | PV_EOI_RESERVED);
}

int vsnix_lapic_pv_eoi_rdmsr(struct vsnix_vcpu *vcpu, u64 *data)
{
	if (!vcpu->lapic || !to_x86(vcpu)->feat.pv_eoi)
		return -ENOENT;
	*data = vcpu->lapic->pv_eoi_msr;
	return 0;
}

/* The word must be guest RAM, as KVM requires (else #GP). */
int vsnix_lapic_pv_eoi_wrmsr(struct vsnix_vcpu *vcpu, u64 data)
{
	struct vsnix_lapic *apic = vcpu->lapic;
	u64 gpa = data & ~(PV_EOI_ENABLED | PV_EOI_RESERVED);

	if (!apic || !to_x86(vcpu)->feat.pv_eoi)
		return -ENOENT;
	if (data & PV_EOI_RESERVED)
		return -EINVAL;
	if ((data & PV_EOI_ENABLED) && !vsnix_guest_range_ok(vcpu->vm, gpa, 4))
		return -EINVAL;
	/* In an exit or between RUNs the flag is synced already. */
	vsnix_lapic_pv_eoi_sync(vcpu);
	apic->pv_eoi_msr = data;
	return 0;
}

void vsnix_lapic_pv_eoi_arm(struct vsnix_vcpu *vcpu, int virq)
{
	struct vsnix_lapic *apic = vcpu->lapic;
	const u8 set = 1;

	lockdep_assert_irqs_disabled();
	if (!apic || !(apic->pv_eoi_msr & PV_EOI_ENABLED) ||
	    apic->pv_eoi_pending)
		return;
	if (!vsnix_lapic_pv_eoi_safe(vcpu, virq))
		return;
	/* Not in the host's page tables now: this entry goes without it. */
	if (vsnix_guest_write_atomic(vcpu->vm, pv_eoi_gpa(apic), &set, 1))
		return;
	apic->pv_eoi_pending = true;
}

void vsnix_lapic_pv_eoi_sync(struct vsnix_vcpu *vcpu)
{
	struct vsnix_lapic *apic = vcpu->lapic;
	const u8 clear = 0;
	u8 flag;

	if (!apic || !apic->pv_eoi_pending)
		return;
	apic->pv_eoi_pending = false;
	/* The VMM unmapped that RAM meanwhile: nothing to read the EOI from. */
	if (vsnix_guest_read(vcpu->vm, pv_eoi_gpa(apic), &flag, 1)) {
		pr_info_ratelimited("vsnix: VM %u vCPU %u: PV EOI word at %#llx is gone\n",
				    vcpu->vm->id, vcpu->id, pv_eoi_gpa(apic));
		return;
	}
	if (flag & 1) {
		vsnix_guest_write(vcpu->vm, pv_eoi_gpa(apic), &clear, 1);
		return;
	}
	vcpu->stat.pv_eoi++;
	vsnix_lapic_eoi(vcpu);
}

void vsnix_lapic_pv_eoi_reset(struct vsnix_vcpu *vcpu)
{
	if (!vcpu->lapic)
		return;
	vsnix_lapic_pv_eoi_sync(vcpu);
	vcpu->lapic->pv_eoi_msr = 0;
}
