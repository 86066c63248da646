/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The in-kernel local APIC (lapic.c, lapic_state.c) and its pure logic
 * (apic_logic.c, KUnit-tested). The contract with the event layer and
 * the chipset is intr.h; this header is what the core, the vendors and
 * the MMIO path call.
 */
#ifndef VSNIX_X86_LAPIC_H
#define VSNIX_X86_LAPIC_H

#include <linux/hrtimer.h>
#include "intr.h"

/* Register offsets of the xAPIC page (SDM Vol 3, table 10-1). */
#define APIC_R_ID		0x020
#define APIC_R_VERSION		0x030
#define APIC_R_TPR		0x080
#define APIC_R_APR		0x090
#define APIC_R_PPR		0x0a0
#define APIC_R_EOI		0x0b0
#define APIC_R_RRD		0x0c0
#define APIC_R_LDR		0x0d0
#define APIC_R_DFR		0x0e0
#define APIC_R_SVR		0x0f0
#define APIC_R_ISR		0x100
#define APIC_R_TMR		0x180
#define APIC_R_IRR		0x200
#define APIC_R_ESR		0x280
#define APIC_R_LVT_CMCI		0x2f0
#define APIC_R_ICR		0x300
#define APIC_R_ICR2		0x310
#define APIC_R_LVT_TIMER	0x320
#define APIC_R_LVT_THERMAL	0x330
#define APIC_R_LVT_PERF		0x340
#define APIC_R_LVT_LINT0	0x350
#define APIC_R_LVT_LINT1	0x360
#define APIC_R_LVT_ERROR	0x370
#define APIC_R_TMICT		0x380
#define APIC_R_TMCCT		0x390
#define APIC_R_TDCR		0x3e0
#define APIC_R_SELF_IPI		0x3f0	/* x2APIC only */

#define VAPIC_LVT_MASKED		BIT(16)
#define VAPIC_LVT_LEVEL		BIT(15)
#define VAPIC_LVT_TIMER_MODE	(3u << 17)
#define VAPIC_TIMER_ONESHOT	0
#define VAPIC_TIMER_PERIODIC	1
#define VAPIC_TIMER_TSC_DEADLINE	2
#define VAPIC_SVR_ENABLE		BIT(8)
#define VAPIC_ICR_PENDING	BIT(12)

/* ESR bits (SDM Vol 3, 10.5.3). */
#define VAPIC_ESR_SEND_ILLEGAL	BIT(5)
#define VAPIC_ESR_RECV_ILLEGAL	BIT(6)
#define VAPIC_ESR_ILLEGAL_REG	BIT(7)

/* IA32_APIC_BASE (SDM Vol 3, 10.4.4 and 10.12.1). */
#define VAPIC_BASE_BSP		BIT_ULL(8)
#define VAPIC_BASE_EXTD		BIT_ULL(10)
#define VAPIC_BASE_EN		BIT_ULL(11)
#define VAPIC_BASE_DEFAULT	0xfee00000ULL

/*
 * Linux's KVM paravirtual interface, the part vsnix offers (Linux's
 * Documentation/virt/kvm/x86/cpuid.rst and msr.rst): its CPUID range,
 * KVM_FEATURE_NOP_IO_DELAY (bit 1: a hint, nothing to serve) and
 * KVM_FEATURE_PV_EOI (bit 6) with its MSR.
 */
#define VSNIX_KVM_CPUID_SIGNATURE	0x40000100
#define VSNIX_KVM_CPUID_FEATURES	0x40000101
#define VSNIX_KVM_FEATURE_NOP_IO_DELAY	BIT(1)
#define VSNIX_KVM_FEATURE_PV_EOI	BIT(6)
#define VSNIX_KVM_FEATURES	(VSNIX_KVM_FEATURE_NOP_IO_DELAY | \
				 VSNIX_KVM_FEATURE_PV_EOI)
#define VSNIX_MSR_KVM_PV_EOI_EN		0x4b564d04

#define VAPIC_X2APIC_FIRST	0x800
#define VAPIC_X2APIC_LAST		0x8ff
#define VAPIC_MSR_TSC_DEADLINE	0x6e0

/* The APIC bus clock the timer counts: 1 GHz, or the TSC's rate if slower. */
#define VAPIC_BUS_MAX_KHZ	1000000U
/* A periodic timer fires at most this often, whatever the guest asks. */
#define VAPIC_MIN_PERIOD_NS	50000ULL

enum vsnix_apic_mode {
	VSNIX_APIC_DISABLED,
	VSNIX_APIC_XAPIC,
	VSNIX_APIC_X2APIC,
	VSNIX_APIC_INVALID,	/* EN = 0, EXTD = 1 */
};

struct vsnix_lapic {
	struct vsnix_vcpu *vcpu;
	/* Registers, timer state: taken from any context (hrtimer, IPIs). */
	raw_spinlock_t lock;
	u64 apic_base;
	u32 regs[VSNIX_LAPIC_NR_REGS];
	u32 esr_pending;	/* errors since the last ESR write */
	int extint_vector;	/* PIC vector taken by INTA, -1: none */
	bool extint_request;	/* an ExtINT message came through the IOAPIC */
	/*
	 * The IRR vector in the CPU's V_IRQ (events.c) from the entry to its
	 * exit, or -1; virq_again: it came again meanwhile (lapic_irr_locked).
	 */
	int virq_vector;
	bool virq_again;

	/*
	 * PV EOI (lapic_pv_eoi.c), vCPU thread only: the MSR, and whether
	 * the flag in guest memory was set for the entry just made.
	 */
	u64 pv_eoi_msr;
	bool pv_eoi_pending;

	struct hrtimer timer;
	bool timer_armed;
	u64 period_ns;		/* one-shot/periodic: the initial count's length */
	ktime_t expires;	/* of the armed timer */
	u64 tsc_deadline;	/* guest TSC; 0 once fired or disarmed */
};

/* ------------------------------------------------ pure (apic_logic.c) */

/* Highest set bit of a 256-bit IRR/ISR/TMR (8 words), -1 when empty. */
int vsnix_apic_highest_vector(const u32 *bits);
/* PPR from TPR and the highest in-service vector (SDM Vol 3, 10.8.3.1). */
u32 vsnix_apic_ppr(u32 tpr, int isrv);
/* Is vector irrv above the processor priority (SDM Vol 3, 10.8.3.1)? */
bool vsnix_apic_deliverable(int irrv, u32 ppr);
enum vsnix_apic_mode vsnix_apic_base_mode(u64 apic_base);
/*
 * May the guest move IA32_APIC_BASE from old to new (SDM Vol 3, 10.12.5)?
 * maxphyaddr bounds the base; false means #GP.
 */
bool vsnix_apic_base_write_ok(u64 old, u64 new, u8 maxphyaddr);
/* x2APIC logical ID from the x2APIC ID (SDM Vol 3, 10.12.10.2). */
u32 vsnix_x2apic_ldr(u32 id);
/*
 * Does a LAPIC in 'mode' with this ID, LDR and DFR accept a message to
 * dest in physical (logical = false) or logical mode (SDM Vol 3, 10.6.2)?
 */
bool vsnix_apic_match_dest(enum vsnix_apic_mode mode, u32 id, u32 ldr,
			   u32 dfr, u32 dest, bool logical);
/* ICR (xAPIC: ICR2 << 32 | ICR; x2APIC: the 64-bit MSR) to a message. */
void vsnix_apic_decode_icr(u64 icr, bool x2apic, struct vsnix_apic_irq *irq);
/* Divide configuration register to the divisor 1..128 (SDM Vol 3, 10.5.4). */
u32 vsnix_apic_timer_divisor(u32 tdcr);
/* The timer's bus clock in kHz for a TSC of tsc_khz (0: unknown). */
u32 vsnix_apic_bus_khz(u32 tsc_khz);
/* Length of count ticks at that divisor and bus clock, in ns, rounded up. */
u64 vsnix_apic_timer_ns(u32 count, u32 divisor, u32 bus_khz);
/* Whole ticks at that divisor and bus clock in ns nanoseconds. */
u64 vsnix_apic_timer_ticks(u64 ns, u32 divisor, u32 bus_khz);
/*
 * An MSI's address and data (SDM Vol 3, 10.11.1-10.11.2) to a message;
 * -EINVAL for an address outside 0xfeexxxxx.
 */
int vsnix_apic_decode_msi(u64 address, u32 data, struct vsnix_apic_irq *irq);

/* ------------------------------------------------ lapic.c */

/* VSNIX_CREATE_LAPIC: 0, -EBUSY once vCPUs exist, -EEXIST the second time. */
int vsnix_lapic_vm_enable(struct vsnix_vm *vm, unsigned long flags);
/* Per vCPU, called at its creation / destruction; no-op without LAPIC. */
int vsnix_lapic_create(struct vsnix_vcpu *vcpu);
void vsnix_lapic_free(struct vsnix_vcpu *vcpu);
/*
 * An access to the vCPU's xAPIC page: false when gpa is not in it (or the
 * APIC is not in xAPIC mode), then the MMIO bus serves it.
 */
bool vsnix_lapic_mmio(struct vsnix_vcpu *vcpu, u64 gpa, unsigned int len,
		      bool write, u64 *val);
/* MSRs the LAPIC owns: IA32_APIC_BASE, TSC_DEADLINE, 0x800-0x8ff. */
bool vsnix_lapic_msr(u32 index);
/* CR8 = TPR[7:4] (SDM Vol 3, 10.8.6.1). set: -EINVAL above 15. */
u64 vsnix_lapic_get_cr8(struct vsnix_vcpu *vcpu);
int vsnix_lapic_set_cr8(struct vsnix_vcpu *vcpu, u64 cr8);
/*
 * CR8 that the guest wrote without an exit (SVM V_TPR), taken at the exit
 * into TPR and PPR (TPR[3:0] = 0, as MOV to CR8 does). vCPU thread.
 */
void vsnix_lapic_sync_cr8(struct vsnix_vcpu *vcpu, u8 cr8);
/*
 * For a TPR shadow (VMX): the whole TPR byte, and the priority class of
 * the highest IRR vector when it is at or below TPR's class, i.e. held
 * by TPR alone or also by an ISR vector; else 0.
 */
u8 vsnix_lapic_get_tpr(struct vsnix_vcpu *vcpu);
u8 vsnix_lapic_tpr_threshold(struct vsnix_vcpu *vcpu);
/* APIC_BASE as SET_SREGS/GET_SREGS see it. */
u64 vsnix_lapic_get_base(struct vsnix_vcpu *vcpu);
/* SET_SREGS with a LAPIC: its apic_base and cr8. 0 or -EINVAL. */
int vsnix_lapic_set_sregs(struct vsnix_vcpu *vcpu, u64 apic_base, u64 cr8);
/*
 * INIT (SDM Vol 3, 10.4.7.3): registers back to their power-up values,
 * but the APIC ID and IA32_APIC_BASE. Called by the event layer.
 */
void vsnix_lapic_init_reset(struct vsnix_vcpu *vcpu);

/* vsnix_lapic_pv_eoi_arm() may set the flag before this entry (lapic.c). */
bool vsnix_lapic_pv_eoi_safe(struct vsnix_vcpu *vcpu, int virq);
/* An EOI as the guest's write of the EOI register makes it. */
void vsnix_lapic_eoi(struct vsnix_vcpu *vcpu);

/* lapic.c internals shared with lapic_timer.c and lapic_state.c. */
enum vsnix_apic_mode vsnix_lapic_mode(struct vsnix_lapic *apic);
void vsnix_lapic_update_ppr_locked(struct vsnix_lapic *apic);
/* A fixed interrupt into IRR, from any context: every IRR bit set goes here. */
void vsnix_lapic_irr_locked(struct vsnix_lapic *apic, u8 vec);

/* ------------------------------------------------ lapic_timer.c */

void vsnix_lapic_timer_init(struct vsnix_lapic *apic);
/* The rest with apic->lock held. */
void vsnix_lapic_timer_stop_locked(struct vsnix_lapic *apic);
u32 vsnix_lapic_timer_mode_locked(struct vsnix_lapic *apic);
/* A new LVT timer value (before it is stored): a mode change stops it. */
void vsnix_lapic_timer_lvt_locked(struct vsnix_lapic *apic, u32 lvt);
/* Initial count written: (re)start one-shot/periodic, 0 stops. */
void vsnix_lapic_timer_tmict_locked(struct vsnix_lapic *apic, u32 count);
/* Start from a current count 'ccr' of the initial count (restore). */
void vsnix_lapic_timer_resume_locked(struct vsnix_lapic *apic, u32 ccr);
u32 vsnix_lapic_ccr_locked(struct vsnix_lapic *apic);
/*
 * Arm at a guest TSC value, given the guest TSC now. A deadline already
 * passed sets IRR at once: true then, and the caller calls the event layer.
 */
bool vsnix_lapic_deadline_locked(struct vsnix_lapic *apic, u64 deadline,
				 u64 guest_tsc);
/* IA32_TSC_DEADLINE write (ignored outside TSC-deadline mode, 10.5.4.1). */
int vsnix_lapic_write_deadline(struct vsnix_vcpu *vcpu, u64 deadline);

/* ------------------------------------------------ lapic_pv_eoi.c */

/* MSR_KVM_PV_EOI_EN: -ENOENT without the CPUID feature, -EINVAL: #GP. */
int vsnix_lapic_pv_eoi_rdmsr(struct vsnix_vcpu *vcpu, u64 *data);
int vsnix_lapic_pv_eoi_wrmsr(struct vsnix_vcpu *vcpu, u64 data);
/*
 * Just before an entry, IRQs off: set the flag where the guest's next EOI
 * may skip its exit. virq: the LAPIC vector loaded in V_IRQ, or -1.
 */
void vsnix_lapic_pv_eoi_arm(struct vsnix_vcpu *vcpu, int virq);
/*
 * After the exit (or an entry that did not happen), before anything
 * looks at the LAPIC: a cleared flag is the guest's EOI. May sleep.
 */
void vsnix_lapic_pv_eoi_sync(struct vsnix_vcpu *vcpu);
/* RESET and INIT: PV EOI off, as the guest's kernel expects at boot. */
void vsnix_lapic_pv_eoi_reset(struct vsnix_vcpu *vcpu);

/* ------------------------------------------------ lapic_state.c */

long vsnix_lapic_get_state(struct vsnix_vcpu *vcpu, void __user *argp);
long vsnix_lapic_set_state(struct vsnix_vcpu *vcpu, void __user *argp);

#endif /* VSNIX_X86_LAPIC_H */
