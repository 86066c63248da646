// SPDX-License-Identifier: GPL-2.0
/*
 * The in-kernel local APIC, one per vCPU (Intel SDM Vol 3, chapter 10):
 * its registers through the xAPIC page and the x2APIC MSRs, priorities,
 * EOI, IPIs and the APIC bus (vsnix_apic_deliver). The timer is in
 * lapic_timer.c, save/restore in lapic_state.c.
 *
 * Locking: each LAPIC has a raw spinlock, taken with IRQs off, because
 * messages arrive from any context (a device's hrtimer, another vCPU's
 * IPI). No path holds two of them: a sender decodes under its own lock,
 * drops it, then takes each target's in turn. The event layer and the
 * chipset are called with no LAPIC lock held.
 */
#define pr_fmt(fmt) "vsnix: " fmt

#include <linux/kernel.h>
#include <linux/slab.h>
#include <asm/msr-index.h>
#include "x86.h"
#include "lapic.h"
#include "../../core/irq.h"

#define VAPIC_VERSION_VALUE	0x00050014	/* 6 LVT entries, integrated */
#define VAPIC_REG(off)		((off) >> 4)

static inline u32 *reg(struct vsnix_lapic *apic, u32 off)
{
	return &apic->regs[VAPIC_REG(off)];
}

enum vsnix_apic_mode vsnix_lapic_mode(struct vsnix_lapic *apic)
{
	return vsnix_apic_base_mode(READ_ONCE(apic->apic_base));
}

bool vsnix_lapic_in_kernel(struct vsnix_vcpu *vcpu)
{
	return vcpu->lapic;
}

/* Bit 'vec' of the 256-bit register array at off (ISR, TMR, IRR). */
static void vec_set(struct vsnix_lapic *apic, u32 off, u8 vec, bool on)
{
	u32 *w = reg(apic, off + (vec / 32) * 16);

	if (on)
		*w |= BIT(vec % 32);
	else
		*w &= ~BIT(vec % 32);
}

static bool vec_test(struct vsnix_lapic *apic, u32 off, u8 vec)
{
	return *reg(apic, off + (vec / 32) * 16) & BIT(vec % 32);
}

/* The 8 words of ISR/TMR/IRR sit 16 bytes apart; gather them. */
static int highest(struct vsnix_lapic *apic, u32 off)
{
	u32 bits[8];
	int i;

	for (i = 0; i < 8; i++)
		bits[i] = *reg(apic, off + i * 16);
	return vsnix_apic_highest_vector(bits);
}

void vsnix_lapic_update_ppr_locked(struct vsnix_lapic *apic)
{
	lockdep_assert_held(&apic->lock);
	*reg(apic, APIC_R_PPR) = vsnix_apic_ppr(*reg(apic, APIC_R_TPR),
						highest(apic, APIC_R_ISR));
}

/* Power-up values (SDM Vol 3, 10.4.7.1), but ID and APIC_BASE. */
static void lapic_reset_regs_locked(struct vsnix_lapic *apic)
{
	u32 id = *reg(apic, APIC_R_ID);
	int i;

	lockdep_assert_held(&apic->lock);
	memset(apic->regs, 0, sizeof(apic->regs));
	*reg(apic, APIC_R_ID) = id;
	*reg(apic, APIC_R_VERSION) = VAPIC_VERSION_VALUE;
	*reg(apic, APIC_R_DFR) = 0xffffffff;
	*reg(apic, APIC_R_SVR) = 0xff;
	for (i = APIC_R_LVT_TIMER; i <= APIC_R_LVT_ERROR; i += 16)
		*reg(apic, i) = VAPIC_LVT_MASKED;
	*reg(apic, APIC_R_LVT_CMCI) = VAPIC_LVT_MASKED;
	/*
	 * Firmware leaves the BSP in virtual-wire mode (MP spec 3.6.2.2):
	 * LINT0 ExtINT passes the 8259's INTR, LINT1 is NMI.
	 */
	if (apic->vcpu->id == 0) {
		*reg(apic, APIC_R_LVT_LINT0) = VSNIX_APIC_DM_EXTINT << 8;
		*reg(apic, APIC_R_LVT_LINT1) = VSNIX_APIC_DM_NMI << 8;
	}
	if (vsnix_lapic_mode(apic) == VSNIX_APIC_X2APIC)
		*reg(apic, APIC_R_LDR) = vsnix_x2apic_ldr(id);
	apic->esr_pending = 0;
	apic->extint_vector = -1;
	apic->virq_vector = -1;
	vsnix_lapic_timer_stop_locked(apic);
	apic->tsc_deadline = 0;
	vsnix_lapic_update_ppr_locked(apic);
}

void vsnix_lapic_init_reset(struct vsnix_vcpu *vcpu)
{
	struct vsnix_lapic *apic = vcpu->lapic;
	unsigned long flags;

	if (!apic)
		return;
	raw_spin_lock_irqsave(&apic->lock, flags);
	lapic_reset_regs_locked(apic);
	raw_spin_unlock_irqrestore(&apic->lock, flags);
}

/* ---------------------------------------------------------- creation */

int vsnix_lapic_vm_enable(struct vsnix_vm *vm, unsigned long flags)
{
	int r = 0;

	if (flags)
		return -EINVAL;
	mutex_lock(&vm->lock);
	if (vm->lapic)
		r = -EEXIST;
	else if (atomic_read(&vm->nr_vcpus))
		r = -EBUSY;	/* every vCPU has one, or none has */
	else
		vm->lapic = true;
	mutex_unlock(&vm->lock);
	return r;
}

int vsnix_lapic_create(struct vsnix_vcpu *vcpu)
{
	struct vsnix_lapic *apic;
	unsigned long flags;

	lockdep_assert_held(&vcpu->vm->lock);
	if (!vcpu->vm->lapic)
		return 0;
	apic = kzalloc(sizeof(*apic), GFP_KERNEL_ACCOUNT);
	if (!apic)
		return -ENOMEM;
	apic->vcpu = vcpu;
	raw_spin_lock_init(&apic->lock);
	vsnix_lapic_timer_init(apic);
	/* SDM Vol 3, 10.4.4: enabled at 0xfee00000 after reset. */
	apic->apic_base = VAPIC_BASE_DEFAULT | VAPIC_BASE_EN |
			  (vcpu->id == 0 ? VAPIC_BASE_BSP : 0);
	raw_spin_lock_irqsave(&apic->lock, flags);
	*reg(apic, APIC_R_ID) = vcpu->id << 24;
	lapic_reset_regs_locked(apic);
	raw_spin_unlock_irqrestore(&apic->lock, flags);
	vcpu->lapic = apic;
	return 0;
}

void vsnix_lapic_free(struct vsnix_vcpu *vcpu)
{
	struct vsnix_lapic *apic = vcpu->lapic;

	if (!apic)
		return;
	hrtimer_cancel(&apic->timer);
	vcpu->lapic = NULL;
	kfree(apic);
}

/* ---------------------------------------------------------- receiving */

void vsnix_lapic_irr_locked(struct vsnix_lapic *apic, u8 vec)
{
	lockdep_assert_held(&apic->lock);
	/*
	 * Again while the guest may have taken it from V_IRQ: on hardware it
	 * sat in ISR then, and this one would wait in IRR (SDM Vol 3, 10.8.4).
	 */
	if (apic->virq_vector == vec)
		apic->virq_again = true;
	vec_set(apic, APIC_R_IRR, vec, true);
}

/* An error of the ESR (SDM Vol 3, 10.5.3); the error LVT may signal it. */
static void lapic_error_locked(struct vsnix_lapic *apic, u32 esr_bit)
{
	u32 lvt = *reg(apic, APIC_R_LVT_ERROR);

	apic->esr_pending |= esr_bit;
	if (!(lvt & VAPIC_LVT_MASKED) && (lvt & 0xff) >= 16)
		vsnix_lapic_irr_locked(apic, lvt & 0xff);
}

/* A fixed interrupt arrives: IRR, and TMR for its trigger mode. */
static bool lapic_set_irr(struct vsnix_lapic *apic, u8 vector, bool level)
{
	unsigned long flags;
	bool ok = vector >= 16;

	raw_spin_lock_irqsave(&apic->lock, flags);
	if (ok) {
		vsnix_lapic_irr_locked(apic, vector);
		vec_set(apic, APIC_R_TMR, vector, level);
	} else {
		lapic_error_locked(apic, VAPIC_ESR_RECV_ILLEGAL);
	}
	raw_spin_unlock_irqrestore(&apic->lock, flags);
	vsnix_x86_event_update(apic->vcpu);
	return ok;
}

static bool lapic_accept(struct vsnix_vcpu *vcpu,
			 const struct vsnix_apic_irq *irq)
{
	struct vsnix_lapic *apic = vcpu->lapic;

	switch (irq->delivery_mode) {
	case VSNIX_APIC_DM_FIXED:
	case VSNIX_APIC_DM_LOWEST:
		return lapic_set_irr(apic, irq->vector, irq->level_trigger);
	case VSNIX_APIC_DM_NMI:
		vsnix_x86_queue_nmi(vcpu);
		return true;
	case VSNIX_APIC_DM_INIT:
		/* INIT level de-assert only syncs arbitration IDs (10.6.1). */
		if (irq->level_trigger && !irq->assert)
			return false;
		vsnix_x86_queue_init(vcpu);
		return true;
	case VSNIX_APIC_DM_SIPI:
		vsnix_x86_queue_sipi(vcpu, irq->vector);
		return true;
	case VSNIX_APIC_DM_EXTINT:
		/* Through an IOAPIC pin: the next entry asks the 8259. */
		WRITE_ONCE(apic->extint_request, true);
		vsnix_x86_event_update(vcpu);
		return true;
	default:	/* SMI: no SMM in vsnix */
		return false;
	}
}

static bool lapic_matches(struct vsnix_vcpu *vcpu,
			  const struct vsnix_apic_irq *irq)
{
	struct vsnix_lapic *apic = vcpu->lapic;
	enum vsnix_apic_mode mode = vsnix_lapic_mode(apic);

	if (mode != VSNIX_APIC_XAPIC && mode != VSNIX_APIC_X2APIC)
		return false;
	switch (irq->shorthand) {
	case VSNIX_APIC_SH_SELF:
		return vcpu == irq->source;
	case VSNIX_APIC_SH_ALL:
		return true;
	case VSNIX_APIC_SH_ALL_BUT_SELF:
		return vcpu != irq->source;
	}
	return vsnix_apic_match_dest(mode, READ_ONCE(*reg(apic, APIC_R_ID)),
				     READ_ONCE(*reg(apic, APIC_R_LDR)),
				     READ_ONCE(*reg(apic, APIC_R_DFR)),
				     irq->dest, irq->logical);
}

/*
 * Lowest priority (SDM Vol 3, 10.6.2.4): the matching LAPIC with the
 * lowest PPR; ties go to the lowest vCPU id.
 */
static struct vsnix_vcpu *lapic_lowest(struct vsnix_vm *vm,
				       const struct vsnix_apic_irq *irq)
{
	struct vsnix_vcpu *best = NULL;
	u32 best_ppr = 0x100;
	int i;

	for (i = 0; i < VSNIX_MAX_VCPUS; i++) {
		struct vsnix_vcpu *vcpu = READ_ONCE(vm->vcpus[i]);
		u32 ppr;

		if (!vcpu || !vcpu->lapic || !lapic_matches(vcpu, irq))
			continue;
		ppr = READ_ONCE(*reg(vcpu->lapic, APIC_R_PPR)) & 0xf0;
		if (ppr < best_ppr) {
			best = vcpu;
			best_ppr = ppr;
		}
	}
	return best;
}

int vsnix_apic_deliver(struct vsnix_vm *vm, const struct vsnix_apic_irq *irq)
{
	int i, n = 0;

	if (!vm->lapic)
		return -ENODEV;
	if (irq->delivery_mode == VSNIX_APIC_DM_LOWEST &&
	    irq->shorthand == VSNIX_APIC_SH_NONE) {
		struct vsnix_vcpu *vcpu = lapic_lowest(vm, irq);

		return vcpu ? lapic_accept(vcpu, irq) : 0;
	}
	for (i = 0; i < VSNIX_MAX_VCPUS; i++) {
		struct vsnix_vcpu *vcpu = READ_ONCE(vm->vcpus[i]);

		if (vcpu && vcpu->lapic && lapic_matches(vcpu, irq))
			n += lapic_accept(vcpu, irq);
	}
	return n;
}

int vsnix_arch_msi(struct vsnix_vm *vm, u64 address, u32 data)
{
	struct vsnix_apic_irq irq;

	if (vsnix_apic_decode_msi(address, data, &irq)) {
		pr_warn_ratelimited("MSI to 0x%llx is not an APIC message\n",
				    address);
		return -EINVAL;
	}
	return vsnix_apic_deliver(vm, &irq);
}

/* ---------------------------------------------------------- the event layer */

/* The 8259's vector by INTA, held until the event layer injects it. */
static int lapic_extint(struct vsnix_vcpu *vcpu, struct vsnix_lapic *apic)
{
	enum vsnix_apic_mode mode = vsnix_lapic_mode(apic);
	u32 lint0 = READ_ONCE(*reg(apic, APIC_R_LVT_LINT0));
	bool wired;
	int vec;

	/*
	 * A disabled LAPIC passes INTR straight through (10.4.3); the 8259
	 * is wired to the BSP, as the MP spec's virtual-wire mode has it.
	 */
	wired = (mode == VSNIX_APIC_DISABLED && !vcpu->id) ||
		(!(lint0 & VAPIC_LVT_MASKED) &&
		 ((lint0 >> 8) & 7) == VSNIX_APIC_DM_EXTINT);
	if (!wired && !READ_ONCE(apic->extint_request))
		return -1;
	if (!vsnix_pic_intr_pending(vcpu->vm))
		return -1;
	WRITE_ONCE(apic->extint_request, false);
	vec = vsnix_pic_ack(vcpu->vm);
	return vec < 0 ? -1 : vec & 0xff;
}

int vsnix_lapic_pending_vector(struct vsnix_vcpu *vcpu)
{
	struct vsnix_lapic *apic = vcpu->lapic;
	unsigned long flags;
	int vec, irrv;

	if (!apic)
		return -1;
	raw_spin_lock_irqsave(&apic->lock, flags);
	vec = apic->extint_vector;
	raw_spin_unlock_irqrestore(&apic->lock, flags);
	if (vec >= 0)
		return vec;

	vec = lapic_extint(vcpu, apic);
	raw_spin_lock_irqsave(&apic->lock, flags);
	if (vec >= 0) {
		apic->extint_vector = vec;
	} else if (vsnix_lapic_mode(apic) != VSNIX_APIC_DISABLED) {
		irrv = highest(apic, APIC_R_IRR);
		if (vsnix_apic_deliverable(irrv, *reg(apic, APIC_R_PPR)))
			vec = irrv;
	}
	raw_spin_unlock_irqrestore(&apic->lock, flags);
	return vec;
}

/* IRR -> ISR at INTA (SDM Vol 3, 10.8.4), or the held 8259 vector. */
static void lapic_ack_locked(struct vsnix_lapic *apic, int vector)
{
	lockdep_assert_held(&apic->lock);
	if (apic->extint_vector == vector) {
		apic->extint_vector = -1;
	} else if (vec_test(apic, APIC_R_IRR, vector)) {
		vec_set(apic, APIC_R_IRR, vector, false);
		vec_set(apic, APIC_R_ISR, vector, true);
		vsnix_lapic_update_ppr_locked(apic);
	}
}

void vsnix_lapic_ack_vector(struct vsnix_vcpu *vcpu, int vector)
{
	struct vsnix_lapic *apic = vcpu->lapic;
	unsigned long flags;

	if (!apic || vector < 0 || vector > 255)
		return;
	raw_spin_lock_irqsave(&apic->lock, flags);
	lapic_ack_locked(apic, vector);
	raw_spin_unlock_irqrestore(&apic->lock, flags);
}

/*
 * V_IRQ leaves the vector in IRR until the exit tells whether the guest
 * took it; meanwhile the same vector may come again (an IPI sent once
 * the handler ran, before its EOI). Watch for that from here.
 */
void vsnix_lapic_virq_loaded(struct vsnix_vcpu *vcpu, int vector)
{
	struct vsnix_lapic *apic = vcpu->lapic;
	unsigned long flags;

	if (!apic)
		return;
	raw_spin_lock_irqsave(&apic->lock, flags);
	apic->virq_vector = vector;
	apic->virq_again = false;
	raw_spin_unlock_irqrestore(&apic->lock, flags);
}

/*
 * The exit after vsnix_lapic_virq_loaded(): IRR -> ISR if the guest took
 * the vector, and one that came again meanwhile stays in IRR rather than
 * merging with the one taken (the IPI that vmexit_ipi waits for).
 */
void vsnix_lapic_virq_exited(struct vsnix_vcpu *vcpu, int vector, bool taken)
{
	struct vsnix_lapic *apic = vcpu->lapic;
	unsigned long flags;

	if (!apic)
		return;
	raw_spin_lock_irqsave(&apic->lock, flags);
	if (taken && vector >= 0 && vector <= 255) {
		lapic_ack_locked(apic, vector);
		if (apic->virq_again && apic->virq_vector == vector)
			vec_set(apic, APIC_R_IRR, vector, true);
	}
	apic->virq_vector = -1;
	apic->virq_again = false;
	raw_spin_unlock_irqrestore(&apic->lock, flags);
}

bool vsnix_lapic_vector_is_extint(struct vsnix_vcpu *vcpu, int vector)
{
	struct vsnix_lapic *apic = vcpu->lapic;
	unsigned long flags;
	bool extint;

	if (!apic)
		return false;
	raw_spin_lock_irqsave(&apic->lock, flags);
	extint = apic->extint_vector >= 0 && apic->extint_vector == vector;
	raw_spin_unlock_irqrestore(&apic->lock, flags);
	return extint;
}

/* ---------------------------------------------------------- registers */

/* What a register write asks for once the lock is dropped. */
struct lapic_after {
	bool send;
	struct vsnix_apic_irq ipi;
	int eoi_level;		/* vector for the IOAPIC, -1: none */
	bool update;
};

/* SDM Vol 3, 10.8.5: the highest ISR bit is done. */
static void lapic_eoi_locked(struct vsnix_lapic *apic,
			     struct lapic_after *after)
{
	int isrv = highest(apic, APIC_R_ISR);

	if (isrv < 0)
		return;
	vec_set(apic, APIC_R_ISR, isrv, false);
	if (vec_test(apic, APIC_R_TMR, isrv))
		after->eoi_level = isrv;
	vsnix_lapic_update_ppr_locked(apic);
	after->update = true;
}

static void lapic_send_locked(struct vsnix_lapic *apic, bool x2apic,
			      struct lapic_after *after)
{
	u64 icr = ((u64)*reg(apic, APIC_R_ICR2) << 32) | *reg(apic, APIC_R_ICR);

	vsnix_apic_decode_icr(icr, x2apic, &after->ipi);
	after->ipi.source = apic->vcpu;
	if ((after->ipi.delivery_mode == VSNIX_APIC_DM_FIXED ||
	     after->ipi.delivery_mode == VSNIX_APIC_DM_LOWEST) &&
	    after->ipi.vector < 16) {
		lapic_error_locked(apic, VAPIC_ESR_SEND_ILLEGAL);
		after->update = true;
		return;
	}
	after->send = true;
}

static u32 lvt_valid_bits(u32 off)
{
	switch (off) {
	case APIC_R_LVT_TIMER:
		return 0x700ff;		/* vector, mask, timer mode */
	case APIC_R_LVT_LINT0:
	case APIC_R_LVT_LINT1:
		return 0x1a7ff;		/* + mode, polarity, trigger */
	case APIC_R_LVT_ERROR:
		return 0x100ff;
	default:
		return 0x107ff;		/* thermal, perf, CMCI */
	}
}

static void lapic_write_lvt_locked(struct vsnix_lapic *apic, u32 off, u32 val)
{
	val &= lvt_valid_bits(off);
	/* SDM Vol 3, 10.9: a software-disabled APIC keeps its LVTs masked. */
	if (!(*reg(apic, APIC_R_SVR) & VAPIC_SVR_ENABLE))
		val |= VAPIC_LVT_MASKED;
	if (off == APIC_R_LVT_TIMER)
		vsnix_lapic_timer_lvt_locked(apic, val);
	*reg(apic, off) = val;
}

static void lapic_write_svr_locked(struct vsnix_lapic *apic, u32 val)
{
	int i;

	*reg(apic, APIC_R_SVR) = val & 0x3ff;
	if (val & VAPIC_SVR_ENABLE)
		return;
	for (i = APIC_R_LVT_TIMER; i <= APIC_R_LVT_ERROR; i += 16)
		*reg(apic, i) |= VAPIC_LVT_MASKED;
	*reg(apic, APIC_R_LVT_CMCI) |= VAPIC_LVT_MASKED;
}

/* Registers written the same way in both modes; -EINVAL: not one. */
static int lapic_write_common(struct vsnix_lapic *apic, u32 off, u32 val,
			      struct lapic_after *after)
{
	switch (off) {
	case APIC_R_TPR:
		*reg(apic, APIC_R_TPR) = val & 0xff;
		vsnix_lapic_update_ppr_locked(apic);
		after->update = true;
		return 0;
	case APIC_R_SVR:
		lapic_write_svr_locked(apic, val);
		after->update = true;
		return 0;
	case APIC_R_LVT_CMCI:
	case APIC_R_LVT_TIMER ... APIC_R_LVT_ERROR:
		if (off & 0xf)
			return -EINVAL;
		lapic_write_lvt_locked(apic, off, val);
		return 0;
	case APIC_R_TMICT:
		vsnix_lapic_timer_tmict_locked(apic, val);
		return 0;
	case APIC_R_TDCR:
		*reg(apic, APIC_R_TDCR) = val & 0xb;
		return 0;
	}
	return -EINVAL;
}

/* xAPIC page write; read-only and unknown registers ignore it. */
static void lapic_write_xapic_locked(struct vsnix_lapic *apic, u32 off,
				     u32 val, struct lapic_after *after)
{
	if (!lapic_write_common(apic, off, val, after))
		return;
	switch (off) {
	case APIC_R_ID:
		*reg(apic, APIC_R_ID) = val & 0xff000000;
		break;
	case APIC_R_EOI:
		lapic_eoi_locked(apic, after);
		break;
	case APIC_R_LDR:
		*reg(apic, APIC_R_LDR) = val & 0xff000000;
		break;
	case APIC_R_DFR:
		*reg(apic, APIC_R_DFR) = val | 0x0fffffff;
		break;
	case APIC_R_ESR:
		/* A write loads the errors seen since the last one (10.5.3). */
		*reg(apic, APIC_R_ESR) = apic->esr_pending;
		apic->esr_pending = 0;
		break;
	case APIC_R_ICR2:
		*reg(apic, APIC_R_ICR2) = val & 0xff000000;
		break;
	case APIC_R_ICR:
		*reg(apic, APIC_R_ICR) = val & 0x000ccfff;
		lapic_send_locked(apic, false, after);
		break;
	}
}

/*
 * x2APIC MSR write (SDM Vol 3, 10.12.1.2): -EINVAL (#GP) for read-only
 * and absent registers and for reserved bits.
 */
static int lapic_write_x2apic_locked(struct vsnix_lapic *apic, u32 off,
				     u64 val, struct lapic_after *after)
{
	if (off == APIC_R_ICR) {
		*reg(apic, APIC_R_ICR) = (u32)val & 0x000ccfff;
		*reg(apic, APIC_R_ICR2) = val >> 32;
		lapic_send_locked(apic, true, after);
		return 0;
	}
	if (val >> 32)
		return -EINVAL;
	if (!lapic_write_common(apic, off, val, after))
		return 0;
	switch (off) {
	case APIC_R_EOI:
	case APIC_R_ESR:
		if (val)
			return -EINVAL;
		if (off == APIC_R_EOI) {
			lapic_eoi_locked(apic, after);
		} else {
			*reg(apic, APIC_R_ESR) = apic->esr_pending;
			apic->esr_pending = 0;
		}
		return 0;
	case APIC_R_SELF_IPI:
		if (val & ~0xffull)
			return -EINVAL;
		after->ipi = (struct vsnix_apic_irq) {
			.vector = val, .shorthand = VSNIX_APIC_SH_SELF,
			.source = apic->vcpu,
		};
		after->send = true;
		return 0;
	}
	return -EINVAL;
}

static void lapic_after(struct vsnix_lapic *apic, struct lapic_after *after)
{
	struct vsnix_vcpu *vcpu = apic->vcpu;

	if (after->eoi_level >= 0)
		vsnix_ioapic_eoi(vcpu->vm, after->eoi_level);
	if (after->send)
		vsnix_apic_deliver(vcpu->vm, &after->ipi);
	if (after->update)
		vsnix_x86_event_update(vcpu);
}

/* A register's value as the guest reads it, lock held. */
static u32 lapic_read_locked(struct vsnix_lapic *apic, u32 off)
{
	if (off == APIC_R_TMCCT)
		return vsnix_lapic_ccr_locked(apic);
	if (off >= 0x400)
		return 0;
	return *reg(apic, off);
}

/* Registers an x2APIC RDMSR may read (SDM Vol 3, table 10-6). */
static bool x2apic_readable(u32 off)
{
	switch (off) {
	case APIC_R_ID: case APIC_R_VERSION: case APIC_R_TPR: case APIC_R_PPR:
	case APIC_R_LDR: case APIC_R_SVR: case APIC_R_ESR: case APIC_R_ICR:
	case APIC_R_LVT_TIMER ... APIC_R_LVT_ERROR:
	case APIC_R_TMICT: case APIC_R_TMCCT: case APIC_R_TDCR:
		return !(off & 0xf);
	case APIC_R_ISR ... APIC_R_IRR + 0x70:
		return !(off & 0xf);
	}
	return false;
}

bool vsnix_lapic_mmio(struct vsnix_vcpu *vcpu, u64 gpa, unsigned int len,
		      bool write, u64 *val)
{
	struct vsnix_lapic *apic = vcpu->lapic;
	struct lapic_after after = { .eoi_level = -1 };
	unsigned long flags;
	u64 base;
	u32 off, v;

	if (!apic || vsnix_lapic_mode(apic) != VSNIX_APIC_XAPIC)
		return false;
	base = READ_ONCE(apic->apic_base) & PAGE_MASK;
	if (gpa < base || gpa - base >= PAGE_SIZE)
		return false;
	off = gpa - base;

	raw_spin_lock_irqsave(&apic->lock, flags);
	if (!write) {
		/* 32-bit registers on 16-byte lines (10.4.1). */
		v = (off & 0xf) < 4 ? lapic_read_locked(apic, off & ~0xf) : 0;
		*val = (v >> (8 * (off & 3))) & (len >= 4 ? ~0u : BIT(8 * len) - 1);
	} else if (!(off & 0xf) && len >= 4) {
		lapic_write_xapic_locked(apic, off, (u32)*val, &after);
	}
	raw_spin_unlock_irqrestore(&apic->lock, flags);
	lapic_after(apic, &after);
	return true;
}

/* ---------------------------------------------------------- MSRs */

bool vsnix_lapic_msr(u32 index)
{
	return index == MSR_IA32_APICBASE || index == VAPIC_MSR_TSC_DEADLINE ||
	       (index >= VAPIC_X2APIC_FIRST && index <= VAPIC_X2APIC_LAST);
}

u64 vsnix_lapic_get_base(struct vsnix_vcpu *vcpu)
{
	return vcpu->lapic ? READ_ONCE(vcpu->lapic->apic_base) : 0;
}

/*
 * IA32_APIC_BASE write: mode transitions (SDM Vol 3, 10.12.5) for the
 * guest; the host (SET_SREGS) may jump to any valid mode.
 */
static int lapic_set_base(struct vsnix_vcpu *vcpu, u64 val, bool host)
{
	struct vsnix_lapic *apic = vcpu->lapic;
	u8 maxphy = vsnix_x86_maxphyaddr(vcpu);	/* takes a mutex */
	enum vsnix_apic_mode from, to;
	unsigned long flags;
	u64 old;

	raw_spin_lock_irqsave(&apic->lock, flags);
	old = apic->apic_base;
	/* BSP is the platform's to set, not the guest's. */
	if (!host)
		val = (val & ~VAPIC_BASE_BSP) | (old & VAPIC_BASE_BSP);
	/* EXTD only where CPUID offers x2APIC (SDM Vol 3, 10.12.1). */
	if (!host && (val & VAPIC_BASE_EXTD) && !to_x86(vcpu)->feat.x2apic) {
		raw_spin_unlock_irqrestore(&apic->lock, flags);
		return -EINVAL;
	}
	/* From itself, any valid value is a valid transition. */
	if (!vsnix_apic_base_write_ok(host ? val : old, val, maxphy)) {
		raw_spin_unlock_irqrestore(&apic->lock, flags);
		return -EINVAL;
	}
	from = vsnix_apic_base_mode(old);
	to = vsnix_apic_base_mode(val);
	WRITE_ONCE(apic->apic_base, val);
	if (to == VSNIX_APIC_DISABLED && from != to) {
		*reg(apic, APIC_R_ID) = vcpu->id << 24;
		lapic_reset_regs_locked(apic);
	} else if (to == VSNIX_APIC_X2APIC && from != to) {
		/* 10.12.5.1: x2APIC ID from the initial APIC ID; LDR derived. */
		*reg(apic, APIC_R_ID) = vcpu->id;
		*reg(apic, APIC_R_LDR) = vsnix_x2apic_ldr(vcpu->id);
		*reg(apic, APIC_R_ICR2) = 0;
	}
	raw_spin_unlock_irqrestore(&apic->lock, flags);
	vsnix_x86_event_update(vcpu);
	return 0;
}

int vsnix_lapic_rdmsr(struct vsnix_vcpu *vcpu, u32 index, u64 *data)
{
	struct vsnix_lapic *apic = vcpu->lapic;
	unsigned long flags;
	u32 off = (index - VAPIC_X2APIC_FIRST) << 4;

	if (!apic)
		return -EINVAL;
	if (index == MSR_IA32_APICBASE) {
		*data = READ_ONCE(apic->apic_base);
		return 0;
	}
	/* IA32_TSC_DEADLINE exists only with CPUID.1:ECX[24] (10.5.4.1). */
	if (index == VAPIC_MSR_TSC_DEADLINE && !to_x86(vcpu)->feat.tsc_deadline)
		return -EINVAL;
	raw_spin_lock_irqsave(&apic->lock, flags);
	if (index == VAPIC_MSR_TSC_DEADLINE) {
		*data = vsnix_lapic_timer_mode_locked(apic) ==
			VAPIC_TIMER_TSC_DEADLINE ? apic->tsc_deadline : 0;
		raw_spin_unlock_irqrestore(&apic->lock, flags);
		return 0;
	}
	if (vsnix_lapic_mode(apic) != VSNIX_APIC_X2APIC ||
	    !x2apic_readable(off)) {
		raw_spin_unlock_irqrestore(&apic->lock, flags);
		return -EINVAL;
	}
	*data = lapic_read_locked(apic, off);
	if (off == APIC_R_ICR)
		*data |= (u64)*reg(apic, APIC_R_ICR2) << 32;
	raw_spin_unlock_irqrestore(&apic->lock, flags);
	return 0;
}

int vsnix_lapic_wrmsr(struct vsnix_vcpu *vcpu, u32 index, u64 data)
{
	struct vsnix_lapic *apic = vcpu->lapic;
	struct lapic_after after = { .eoi_level = -1 };
	unsigned long flags;
	u32 off = (index - VAPIC_X2APIC_FIRST) << 4;
	int r = 0;

	if (!apic)
		return -EINVAL;
	if (index == MSR_IA32_APICBASE)
		return lapic_set_base(vcpu, data, false);
	if (index == VAPIC_MSR_TSC_DEADLINE)
		return to_x86(vcpu)->feat.tsc_deadline ?
		       vsnix_lapic_write_deadline(vcpu, data) : -EINVAL;

	raw_spin_lock_irqsave(&apic->lock, flags);
	if (vsnix_lapic_mode(apic) != VSNIX_APIC_X2APIC)
		r = -EINVAL;
	else
		r = lapic_write_x2apic_locked(apic, off, data, &after);
	raw_spin_unlock_irqrestore(&apic->lock, flags);
	lapic_after(apic, &after);
	return r;
}

/* ---------------------------------------------------------- PV EOI */

/*
 * May the guest's next EOI go through the PV EOI flag (lapic_pv_eoi.c)?
 * Only where host and guest agree on the vector it retires, and no other
 * interrupt waits for it, so that skipping the exit delays nothing: a
 * LAPIC vector in V_IRQ (virq >= 0) with IRR otherwise empty and ISR
 * empty, or nothing in V_IRQ, IRR empty and ISR not. Never for a
 * level-triggered vector (the IOAPIC needs the EOI) nor an 8259 one.
 */
bool vsnix_lapic_pv_eoi_safe(struct vsnix_vcpu *vcpu, int virq)
{
	struct vsnix_lapic *apic = vcpu->lapic;
	int irr, isr, eoi_vec, i;
	unsigned long flags;
	u32 others[8];
	bool safe;

	raw_spin_lock_irqsave(&apic->lock, flags);
	for (i = 0; i < 8; i++)
		others[i] = *reg(apic, APIC_R_IRR + i * 16);
	if (virq >= 0)
		others[virq / 32] &= ~BIT(virq % 32);
	irr = vsnix_apic_highest_vector(others);
	isr = highest(apic, APIC_R_ISR);
	eoi_vec = virq >= 0 ? virq : isr;
	safe = irr < 0 && apic->extint_vector < 0 && eoi_vec >= 0 &&
	       (virq < 0 || isr < 0) && !vec_test(apic, APIC_R_TMR, eoi_vec);
	raw_spin_unlock_irqrestore(&apic->lock, flags);
	return safe;
}

/* The EOI the guest signalled through the PV EOI flag (SDM Vol 3, 10.8.5). */
void vsnix_lapic_eoi(struct vsnix_vcpu *vcpu)
{
	struct vsnix_lapic *apic = vcpu->lapic;
	struct lapic_after after = { .eoi_level = -1 };
	unsigned long flags;

	raw_spin_lock_irqsave(&apic->lock, flags);
	lapic_eoi_locked(apic, &after);
	raw_spin_unlock_irqrestore(&apic->lock, flags);
	lapic_after(apic, &after);
}

/* ---------------------------------------------------------- CR8 */

u64 vsnix_lapic_get_cr8(struct vsnix_vcpu *vcpu)
{
	return (READ_ONCE(*reg(vcpu->lapic, APIC_R_TPR)) >> 4) & 0xf;
}

int vsnix_lapic_set_cr8(struct vsnix_vcpu *vcpu, u64 cr8)
{
	struct vsnix_lapic *apic = vcpu->lapic;
	unsigned long flags;

	/* SDM Vol 3, 10.8.6.1: CR8[3:0] is TPR[7:4]; the rest reserved. */
	if (cr8 > 15)
		return -EINVAL;
	raw_spin_lock_irqsave(&apic->lock, flags);
	*reg(apic, APIC_R_TPR) = cr8 << 4;
	vsnix_lapic_update_ppr_locked(apic);
	raw_spin_unlock_irqrestore(&apic->lock, flags);
	vsnix_x86_event_update(vcpu);
	return 0;
}

void vsnix_lapic_sync_cr8(struct vsnix_vcpu *vcpu, u8 cr8)
{
	struct vsnix_lapic *apic = vcpu->lapic;
	unsigned long flags;

	if (vsnix_lapic_get_cr8(vcpu) == (cr8 & 0xf))
		return;
	raw_spin_lock_irqsave(&apic->lock, flags);
	*reg(apic, APIC_R_TPR) = (cr8 & 0xf) << 4;
	vsnix_lapic_update_ppr_locked(apic);
	raw_spin_unlock_irqrestore(&apic->lock, flags);
}

u8 vsnix_lapic_get_tpr(struct vsnix_vcpu *vcpu)
{
	return READ_ONCE(*reg(vcpu->lapic, APIC_R_TPR)) & 0xff;
}

u8 vsnix_lapic_tpr_threshold(struct vsnix_vcpu *vcpu)
{
	struct vsnix_lapic *apic = vcpu->lapic;
	unsigned long flags;
	int irrv, tpr;

	raw_spin_lock_irqsave(&apic->lock, flags);
	irrv = highest(apic, APIC_R_IRR);
	tpr = *reg(apic, APIC_R_TPR) & 0xf0;
	raw_spin_unlock_irqrestore(&apic->lock, flags);
	if (irrv < 16 || (irrv & 0xf0) > tpr)
		return 0;
	return irrv >> 4;
}

/* SET_SREGS: its APIC base and CR8 go to the LAPIC; 0 or -EINVAL. */
int vsnix_lapic_set_sregs(struct vsnix_vcpu *vcpu, u64 apic_base, u64 cr8)
{
	if (!vcpu->lapic)
		return 0;
	if (cr8 > 15)
		return -EINVAL;
	if (apic_base != vsnix_lapic_get_base(vcpu) &&
	    lapic_set_base(vcpu, apic_base, true))
		return -EINVAL;
	return vsnix_lapic_set_cr8(vcpu, cr8);
}
