// SPDX-License-Identifier: GPL-2.0
/*
 * VSNIX_GET_LAPIC / VSNIX_SET_LAPIC: a vCPU's LAPIC saved and restored,
 * with its timer (the current count, or the TSC deadline).
 */
#include <linux/uaccess.h>
#include <asm/msr-index.h>
#include "x86.h"
#include "lapic.h"

long vsnix_lapic_get_state(struct vsnix_vcpu *vcpu, void __user *argp)
{
	struct vsnix_lapic *apic = vcpu->lapic;
	struct vsnix_lapic_state st = { };
	unsigned long flags;

	if (!apic)
		return -ENXIO;
	raw_spin_lock_irqsave(&apic->lock, flags);
	st.apic_base = apic->apic_base;
	memcpy(st.regs, apic->regs, sizeof(st.regs));
	st.regs[APIC_R_TMCCT >> 4] = vsnix_lapic_ccr_locked(apic);
	if (vsnix_lapic_timer_mode_locked(apic) == VAPIC_TIMER_TSC_DEADLINE)
		st.tsc_deadline = apic->tsc_deadline;
	raw_spin_unlock_irqrestore(&apic->lock, flags);
	return copy_to_user(argp, &st, sizeof(st)) ? -EFAULT : 0;
}

static bool state_valid(struct vsnix_vcpu *vcpu,
			const struct vsnix_lapic_state *st)
{
	u64 reserved = GENMASK_ULL(7, 0) | BIT_ULL(9);
	u8 maxphy = vsnix_x86_maxphyaddr(vcpu);

	if (st->flags || st->pad || memchr_inv(st->reserved, 0,
					       sizeof(st->reserved)))
		return false;
	if (maxphy < 64)
		reserved |= GENMASK_ULL(63, maxphy);
	if (st->apic_base & reserved)
		return false;
	return vsnix_apic_base_mode(st->apic_base) != VSNIX_APIC_INVALID;
}

long vsnix_lapic_set_state(struct vsnix_vcpu *vcpu, void __user *argp)
{
	struct vsnix_lapic *apic = vcpu->lapic;
	struct vsnix_lapic_state st;
	unsigned long flags;
	u64 tsc;

	if (!apic)
		return -ENXIO;
	if (copy_from_user(&st, argp, sizeof(st)))
		return -EFAULT;
	if (!state_valid(vcpu, &st))
		return -EINVAL;
	if (vsnix_ops->get_msr(vcpu, MSR_IA32_TSC, &tsc))
		return -EIO;

	raw_spin_lock_irqsave(&apic->lock, flags);
	apic->apic_base = st.apic_base;
	memcpy(apic->regs, st.regs, sizeof(apic->regs));
	/* What the hardware computes is not taken from the caller. */
	apic->regs[APIC_R_VERSION >> 4] = 0x00050014;
	apic->regs[APIC_R_ICR >> 4] &= ~VAPIC_ICR_PENDING;
	if (vsnix_lapic_mode(apic) == VSNIX_APIC_X2APIC)
		apic->regs[APIC_R_LDR >> 4] = vsnix_x2apic_ldr(st.regs[APIC_R_ID >> 4]);
	apic->esr_pending = 0;
	apic->extint_vector = -1;
	vsnix_lapic_update_ppr_locked(apic);
	if (vsnix_lapic_timer_mode_locked(apic) == VAPIC_TIMER_TSC_DEADLINE)
		vsnix_lapic_deadline_locked(apic, st.tsc_deadline, tsc);
	else
		vsnix_lapic_timer_resume_locked(apic, st.regs[APIC_R_TMCCT >> 4]);
	apic->regs[APIC_R_TMCCT >> 4] = 0;
	raw_spin_unlock_irqrestore(&apic->lock, flags);
	vsnix_x86_event_update(vcpu);
	return 0;
}
