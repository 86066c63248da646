// SPDX-License-Identifier: GPL-2.0
/*
 * The LAPIC timer (Intel SDM Vol 3, 10.5.4): one-shot, periodic and
 * TSC-deadline, on a host hrtimer. The hrtimer runs whatever the vCPU
 * does (in the guest, asleep in HLT, on another CPU): on expiry it sets
 * the IRR bit and calls the event layer, which wakes or kicks the vCPU.
 *
 * The hrtimer fires in hard-IRQ context and takes apic->lock; paths that
 * restart it hold that lock, so they only try to cancel. A callback that
 * raced with a restart sees a later apic->expires (or timer_armed false)
 * and does nothing.
 */
#include <linux/hrtimer.h>
#include <linux/math64.h>
#include <asm/msr-index.h>
#include <asm/tsc.h>
#include "lapic.h"

static u32 *timer_reg(struct vsnix_lapic *apic, u32 off)
{
	return &apic->regs[off >> 4];
}

u32 vsnix_lapic_timer_mode_locked(struct vsnix_lapic *apic)
{
	return (*timer_reg(apic, APIC_R_LVT_TIMER) >> 17) & 3;
}

static u32 timer_divisor(struct vsnix_lapic *apic)
{
	return vsnix_apic_timer_divisor(*timer_reg(apic, APIC_R_TDCR));
}

/* The guest's TSC runs at the host's rate (tsc_khz). */
static u32 bus_khz(void)
{
	return vsnix_apic_bus_khz(tsc_khz);
}

static u64 periodic_ns(u64 period_ns)
{
	return max(period_ns, VAPIC_MIN_PERIOD_NS);
}

/* The timer's interrupt into IRR; false when the LVT masks it. */
static bool timer_irq_locked(struct vsnix_lapic *apic)
{
	u32 lvt = *timer_reg(apic, APIC_R_LVT_TIMER);
	u8 vec = lvt & 0xff;

	lockdep_assert_held(&apic->lock);
	/* A masked timer counts but does not interrupt (10.5.4). */
	if ((lvt & VAPIC_LVT_MASKED) || vec < 16)
		return false;
	vsnix_lapic_irr_locked(apic, vec);
	*timer_reg(apic, APIC_R_TMR + (vec / 32) * 16) &= ~BIT(vec % 32);
	return true;
}

static enum hrtimer_restart lapic_timer_fn(struct hrtimer *t)
{
	struct vsnix_lapic *apic = container_of(t, struct vsnix_lapic, timer);
	enum hrtimer_restart ret = HRTIMER_NORESTART;
	ktime_t now = ktime_get();
	unsigned long flags;
	bool fired = false;
	u32 mode;

	raw_spin_lock_irqsave(&apic->lock, flags);
	/*
	 * Stopped, or restarted while we waited for the lock: a restart
	 * queued the timer again (it fires on its own; hrtimer_forward()
	 * must not touch a queued timer).
	 */
	if (!apic->timer_armed || ktime_after(apic->expires, now) ||
	    hrtimer_is_queued(t))
		goto out;
	mode = vsnix_lapic_timer_mode_locked(apic);
	fired = timer_irq_locked(apic);
	if (mode == VAPIC_TIMER_PERIODIC && apic->period_ns) {
		hrtimer_forward(t, now, ns_to_ktime(periodic_ns(apic->period_ns)));
		apic->expires = hrtimer_get_expires(t);
		ret = HRTIMER_RESTART;
	} else {
		apic->timer_armed = false;
		if (mode == VAPIC_TIMER_TSC_DEADLINE)
			apic->tsc_deadline = 0;	/* reads 0 once fired (10.5.4.1) */
	}
out:
	raw_spin_unlock_irqrestore(&apic->lock, flags);
	if (fired)
		vsnix_x86_event_update(apic->vcpu);
	return ret;
}

void vsnix_lapic_timer_init(struct vsnix_lapic *apic)
{
	hrtimer_init(&apic->timer, CLOCK_MONOTONIC, HRTIMER_MODE_ABS_HARD);
	apic->timer.function = lapic_timer_fn;
}

static void timer_start_locked(struct vsnix_lapic *apic, u64 ns)
{
	lockdep_assert_held(&apic->lock);
	apic->expires = ktime_add_safe(ktime_get(), ns_to_ktime(ns));
	apic->timer_armed = true;
	hrtimer_start(&apic->timer, apic->expires, HRTIMER_MODE_ABS_HARD);
}

void vsnix_lapic_timer_stop_locked(struct vsnix_lapic *apic)
{
	lockdep_assert_held(&apic->lock);
	apic->timer_armed = false;
	hrtimer_try_to_cancel(&apic->timer);
}

void vsnix_lapic_timer_lvt_locked(struct vsnix_lapic *apic, u32 lvt)
{
	u32 old = vsnix_lapic_timer_mode_locked(apic);
	u32 new = (lvt >> 17) & 3;

	lockdep_assert_held(&apic->lock);
	/*
	 * One-shot <-> periodic keeps counting; entering or leaving
	 * TSC-deadline mode disarms the timer (10.5.4.1).
	 */
	if (old == new || (old != VAPIC_TIMER_TSC_DEADLINE &&
			   new != VAPIC_TIMER_TSC_DEADLINE))
		return;
	vsnix_lapic_timer_stop_locked(apic);
	apic->tsc_deadline = 0;
	*timer_reg(apic, APIC_R_TMICT) = 0;
}

void vsnix_lapic_timer_tmict_locked(struct vsnix_lapic *apic, u32 count)
{
	u64 ns;

	lockdep_assert_held(&apic->lock);
	/* Ignored in TSC-deadline mode (10.5.4.1). */
	if (vsnix_lapic_timer_mode_locked(apic) == VAPIC_TIMER_TSC_DEADLINE)
		return;
	*timer_reg(apic, APIC_R_TMICT) = count;
	vsnix_lapic_timer_stop_locked(apic);
	if (!count)
		return;
	ns = vsnix_apic_timer_ns(count, timer_divisor(apic), bus_khz());
	apic->period_ns = ns;
	if (vsnix_lapic_timer_mode_locked(apic) == VAPIC_TIMER_PERIODIC)
		ns = periodic_ns(ns);
	timer_start_locked(apic, ns);
}

void vsnix_lapic_timer_resume_locked(struct vsnix_lapic *apic, u32 ccr)
{
	u32 tmict = *timer_reg(apic, APIC_R_TMICT);
	u32 div = timer_divisor(apic);

	lockdep_assert_held(&apic->lock);
	vsnix_lapic_timer_stop_locked(apic);
	if (vsnix_lapic_timer_mode_locked(apic) == VAPIC_TIMER_TSC_DEADLINE ||
	    !tmict || !ccr)
		return;
	apic->period_ns = vsnix_apic_timer_ns(tmict, div, bus_khz());
	timer_start_locked(apic, vsnix_apic_timer_ns(min(ccr, tmict), div,
						     bus_khz()));
}

u32 vsnix_lapic_ccr_locked(struct vsnix_lapic *apic)
{
	u32 tmict = *timer_reg(apic, APIC_R_TMICT);
	s64 left;

	lockdep_assert_held(&apic->lock);
	if (!apic->timer_armed ||
	    vsnix_lapic_timer_mode_locked(apic) == VAPIC_TIMER_TSC_DEADLINE)
		return 0;
	left = ktime_to_ns(ktime_sub(apic->expires, ktime_get()));
	if (left <= 0)
		return 0;
	return min_t(u64, vsnix_apic_timer_ticks(left, timer_divisor(apic),
						 bus_khz()), tmict);
}

bool vsnix_lapic_deadline_locked(struct vsnix_lapic *apic, u64 deadline,
				 u64 guest_tsc)
{
	u32 khz = tsc_khz ? tsc_khz : 1000000;
	u64 ns;

	lockdep_assert_held(&apic->lock);
	vsnix_lapic_timer_stop_locked(apic);
	apic->tsc_deadline = deadline;
	if (!deadline)
		return false;
	/*
	 * A deadline already passed fires now, in IRR before the guest's
	 * next instruction (as the WRMSR returns), not from an hrtimer the
	 * guest could run ahead of; the MSR then reads 0 (10.5.4.1).
	 */
	if (deadline <= guest_tsc) {
		apic->tsc_deadline = 0;
		return timer_irq_locked(apic);
	}
	ns = mul_u64_u32_div(deadline - guest_tsc, 1000000, khz);
	timer_start_locked(apic, min_t(u64, ns, KTIME_MAX / 2));
	return false;
}

int vsnix_lapic_write_deadline(struct vsnix_vcpu *vcpu, u64 deadline)
{
	struct vsnix_lapic *apic = vcpu->lapic;
	unsigned long flags;
	bool fired = false;
	u64 tsc;

	if (vsnix_ops->get_msr(vcpu, MSR_IA32_TSC, &tsc))
		return -EINVAL;
	raw_spin_lock_irqsave(&apic->lock, flags);
	if (vsnix_lapic_timer_mode_locked(apic) == VAPIC_TIMER_TSC_DEADLINE)
		fired = vsnix_lapic_deadline_locked(apic, deadline, tsc);
	raw_spin_unlock_irqrestore(&apic->lock, flags);
	if (fired)
		vsnix_x86_event_update(vcpu);
	return 0;
}
