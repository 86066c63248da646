/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The x86 interrupt contracts between the event layer (events.c), the
 * local APIC (lapic.c) and the chipset (ioapic.c, pic.c). Each side is
 * owned by one file; until it lands, stub_*.c holds a placeholder that
 * builds and does nothing (those files go away as the pieces land).
 */
#ifndef VSNIX_X86_INTR_H
#define VSNIX_X86_INTR_H

#include "../../core/vsnix.h"
#include "vendor.h"

/* Delivery modes as encoded in the ICR, LVTs and MSI data (SDM Vol 3, 10.6.1). */
#define VSNIX_APIC_DM_FIXED	0
#define VSNIX_APIC_DM_LOWEST	1
#define VSNIX_APIC_DM_SMI	2
#define VSNIX_APIC_DM_NMI	4
#define VSNIX_APIC_DM_INIT	5
#define VSNIX_APIC_DM_SIPI	6
#define VSNIX_APIC_DM_EXTINT	7

/* Destination shorthands of the ICR (SDM Vol 3, 10.6.1). */
#define VSNIX_APIC_SH_NONE		0
#define VSNIX_APIC_SH_SELF		1
#define VSNIX_APIC_SH_ALL		2
#define VSNIX_APIC_SH_ALL_BUT_SELF	3

/*
 * One interrupt message on the APIC bus: an IPI (ICR), an IOAPIC
 * redirection entry or an MSI (SDM Vol 3, 10.11) all become one of these.
 */
struct vsnix_apic_irq {
	u32 dest;		/* APIC ID (physical) or MDA (logical) */
	u8 vector;
	u8 delivery_mode;	/* VSNIX_APIC_DM_* */
	bool logical;		/* destination mode */
	u8 shorthand;		/* VSNIX_APIC_SH_*; needs source */
	bool level_trigger;	/* trigger mode (remote IRR in the IOAPIC) */
	bool assert;		/* level: assert / de-assert (INIT level) */
	struct vsnix_vcpu *source;	/* sender of an IPI, NULL otherwise */
};

/* ------------------------------------------- implemented by the LAPIC */

/*
 * Deliver to every vCPU the message addresses. Any thread, any context
 * (IRQs may be off; does not sleep). Returns the number of vCPUs that
 * accepted it, or -errno (-ENODEV: the VM has no in-kernel LAPIC).
 */
int vsnix_apic_deliver(struct vsnix_vm *vm, const struct vsnix_apic_irq *irq);

/*
 * Asked by the event layer before each entry, with the vCPU's mutex held
 * and preemption and IRQs possibly off (must not sleep; also asked,
 * preemptible, by a halted vCPU): the highest-priority vector the LAPIC (or,
 * through LINT0 in ExtINT mode, the PIC) wants to inject now, per
 * IRR/ISR/PPR (SDM Vol 3, 10.8.3), or -1.
 */
int vsnix_lapic_pending_vector(struct vsnix_vcpu *vcpu);
/* The vector returned above is being injected: IRR -> ISR (or PIC INTA). */
void vsnix_lapic_ack_vector(struct vsnix_vcpu *vcpu, int vector);
/*
 * The vector returned above goes into V_IRQ for this entry; at its exit,
 * whether the guest took it (then IRR -> ISR). vCPU thread, IRQs off.
 */
void vsnix_lapic_virq_loaded(struct vsnix_vcpu *vcpu, int vector);
void vsnix_lapic_virq_exited(struct vsnix_vcpu *vcpu, int vector, bool taken);
/*
 * Is the vector returned above the 8259's (ExtINT)? Taking it sets no ISR
 * bit, so PPR holds back nothing else (SDM Vol 3, 10.8.3). Same context.
 */
bool vsnix_lapic_vector_is_extint(struct vsnix_vcpu *vcpu, int vector);
/* True when the vCPU has a LAPIC (the VM opted in). */
bool vsnix_lapic_in_kernel(struct vsnix_vcpu *vcpu);
/*
 * IA32_APIC_BASE (0x1b) and the x2APIC MSRs (0x800-0x8ff), called by the
 * MSR layer when vsnix_lapic_in_kernel(): 0, or -EINVAL to inject #GP.
 */
int vsnix_lapic_rdmsr(struct vsnix_vcpu *vcpu, u32 index, u64 *data);
int vsnix_lapic_wrmsr(struct vsnix_vcpu *vcpu, u32 index, u64 data);

/* -------------------------------------------- implemented by events.c */

/*
 * Interrupt state of the vCPU changed (new IRR bit, NMI, timer): make it
 * re-evaluate before its next entry, wake it if it sleeps in HLT, kick it
 * out of the guest if it runs. Any thread, any context, does not sleep.
 */
void vsnix_x86_event_update(struct vsnix_vcpu *vcpu);
/* Latch an NMI / INIT / SIPI for the vCPU (SDM Vol 3, 10.6.1, 8.4.4). */
void vsnix_x86_queue_nmi(struct vsnix_vcpu *vcpu);
void vsnix_x86_queue_init(struct vsnix_vcpu *vcpu);
void vsnix_x86_queue_sipi(struct vsnix_vcpu *vcpu, u8 vector);

/* -------------------------------------------- implemented by the chipset */

/* The 8259 pair's INTR output and its interrupt acknowledge (vector). */
bool vsnix_pic_intr_pending(struct vsnix_vm *vm);
int vsnix_pic_ack(struct vsnix_vm *vm);
/* A LAPIC EOI of a level-triggered vector: IOAPIC EOI broadcast (clears remote IRR). */
void vsnix_ioapic_eoi(struct vsnix_vm *vm, u8 vector);

#endif /* VSNIX_X86_INTR_H */
