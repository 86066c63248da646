/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The contract between the x86 layer and a vendor backend (SVM or VMX):
 * the ops table each vendor fills. The core never calls it: it goes
 * through core/arch.h, which arch.c implements with these hooks.
 */
#ifndef VSNIX_X86_VENDOR_H
#define VSNIX_X86_VENDOR_H

#include "../../core/vsnix.h"

struct vsnix_x86_event;

/*
 * One table per vendor (kmod/arch/x86/svm, kmod/arch/x86/vmx). Unless said
 * otherwise, callbacks run in process context, may sleep, with the vCPU's
 * mutex held for vcpu ops and vm->lock for vm ops.
 */
struct vsnix_arch_ops {
	const char *name;
	u32 vendor;			/* VSNIX_VENDOR_* */

	/* Module init: does this CPU have the feature? -ENODEV + a message. */
	int (*hardware_probe)(void);
	void (*hardware_unprobe)(void);
	/*
	 * Enter/leave root mode on the calling CPU; IRQs off. enable returns
	 * -EBUSY when another hypervisor holds the CPU (it prints nothing:
	 * the core prints one line naming the fix). disable must be safe on a
	 * CPU that is not enabled (reboot and panic paths call it blindly).
	 */
	int (*cpu_enable)(void);
	void (*cpu_disable)(void);
	/*
	 * disable for NMI and crash context: no lock, no message, no list
	 * change; the CPU is about to halt or be reset.
	 */
	void (*cpu_emergency_disable)(void);

	int (*vm_init)(struct vsnix_vm *vm);
	void (*vm_destroy)(struct vsnix_vm *vm);
	/*
	 * Map pinned pages [gpa, +npages) with the slot's VSNIX_MEM_* flags:
	 * READONLY drops write permission, NOEXEC execute permission,
	 * LOG_DIRTY write permission until the first write. Takes mmu_lock.
	 */
	int (*tdp_map)(struct vsnix_vm *vm, u64 gpa, struct page **pages,
		       unsigned long npages, u32 mem_flags);
	/* Can TDP entries refuse instruction fetches (VSNIX_MEM_NOEXEC)? */
	bool (*tdp_noexec)(void);
	/* Can TDP map 2 MiB pages? */
	bool (*tdp_huge)(void);
	/*
	 * With mmu_lock held: unmap, or drop write permission from,
	 * [gpa, +npages). True when an entry changed: the caller then calls
	 * vsnix_vm_flush_tlbs() before it drops mmu_lock.
	 */
	bool (*tdp_unmap)(struct vsnix_vm *vm, u64 gpa, unsigned long npages);
	bool (*tdp_wrprotect)(struct vsnix_vm *vm, u64 gpa,
			      unsigned long npages);

	/* Allocate backend state; vcpu starts in the x86 reset state. */
	int (*vcpu_create)(struct vsnix_vcpu *vcpu);
	void (*vcpu_free)(struct vsnix_vcpu *vcpu);

	/*
	 * Enter the guest once and come back at the first exit. Called with
	 * preemption disabled and IRQs on; vcpu_run calls
	 * vsnix_vcpu_enter_prepare() with IRQs off just before the entry and
	 * must not enter when it returns false. Before entering it handles
	 * VSNIX_REQ_TLB_FLUSH and a change of vcpu->cpu (migration), then sets
	 * vcpu->cpu. With IRQs off it checks that root mode is on for this CPU
	 * (a per-CPU flag) and returns -EIO if not. Returns VSNIX_RAN (an exit to handle), VSNIX_SKIPPED
	 * (the entry was refused) or -errno when the entry itself failed
	 * (after filling run->fail_entry; RUN then returns 0 to userspace).
	 */
	int (*vcpu_run)(struct vsnix_vcpu *vcpu);
	/*
	 * Handle the exit vcpu_run came back with; preemptible, may sleep.
	 * Returns 1: resume the guest; 0: run is filled, return to userspace;
	 * -errno: RUN fails with it.
	 */
	int (*handle_exit)(struct vsnix_vcpu *vcpu);

	void (*get_regs)(struct vsnix_vcpu *vcpu, struct vsnix_regs *regs);
	int (*set_regs)(struct vsnix_vcpu *vcpu, const struct vsnix_regs *regs);
	void (*get_sregs)(struct vsnix_vcpu *vcpu, struct vsnix_sregs *sregs);
	int (*set_sregs)(struct vsnix_vcpu *vcpu,
			 const struct vsnix_sregs *sregs);
	/* 0 or -ENOENT (not supported) / -EINVAL (bad value). */
	int (*get_msr)(struct vsnix_vcpu *vcpu, u32 index, u64 *data);
	int (*set_msr)(struct vsnix_vcpu *vcpu, u32 index, u64 data);
	/*
	 * Event hooks for the x86 event layer (arch/x86/events.c), which
	 * decides what to deliver. inject_* and enable_*_window run inside
	 * vcpu_run, IRQs off, right before the entry: each loads one event
	 * for this entry, or asks for an exit as soon as the guest can take
	 * an interrupt / NMI (the vendor drops both at the next entry).
	 * *_allowed: the same conditions, read at that point (RFLAGS.IF,
	 * interrupt shadow, NMI blocking). The get/set hooks may also run
	 * outside vcpu_run (mutex held). get_exit_event: after an exit, the
	 * event whose delivery the exit cut short (type NONE if none).
	 */
	void (*inject_irq)(struct vsnix_vcpu *vcpu,
			   const struct vsnix_x86_event *e);
	void (*inject_nmi)(struct vsnix_vcpu *vcpu);
	void (*inject_exception)(struct vsnix_vcpu *vcpu,
				 const struct vsnix_x86_event *e);
	void (*enable_irq_window)(struct vsnix_vcpu *vcpu);
	void (*enable_nmi_window)(struct vsnix_vcpu *vcpu);
	bool (*interrupt_allowed)(struct vsnix_vcpu *vcpu);
	bool (*nmi_allowed)(struct vsnix_vcpu *vcpu);
	u8 (*get_interrupt_shadow)(struct vsnix_vcpu *vcpu);
	void (*set_interrupt_shadow)(struct vsnix_vcpu *vcpu, u8 shadow);
	bool (*get_nmi_mask)(struct vsnix_vcpu *vcpu);
	void (*set_nmi_mask)(struct vsnix_vcpu *vcpu, bool masked);
	void (*get_exit_event)(struct vsnix_vcpu *vcpu,
			       struct vsnix_x86_event *e);
	/*
	 * Optional (NULL: every interrupt goes through inject_irq). set_virq:
	 * right before the entry, hand one interrupt vector to the CPU, which
	 * takes it itself once the guest can (SVM V_IRQ); enable_irq_window
	 * then asks for an exit once the guest may take one more. virq_taken:
	 * right after the exit, whether the guest took it.
	 */
	void (*set_virq)(struct vsnix_vcpu *vcpu, u8 vector);
	bool (*virq_taken)(struct vsnix_vcpu *vcpu);
	/* DR0-3, DR6, DR7; set: -EINVAL for bits 63:32 of DR6/DR7. */
	void (*get_debugregs)(struct vsnix_vcpu *vcpu,
			      struct vsnix_debugregs *dr);
	int (*set_debugregs)(struct vsnix_vcpu *vcpu,
			     const struct vsnix_debugregs *dr);
	/*
	 * INIT, after vsnix_x86_vcpu_init_state set the registers (SDM Vol
	 * 3, 9.1.1): what is left in the vendor's state (shadow, activity).
	 */
	void (*vcpu_reset)(struct vsnix_vcpu *vcpu);
};

extern const struct vsnix_arch_ops *vsnix_ops;

/* The vendors' tables (svm/svm.c, vmx/vmx.c); arch.c picks one at load. */
extern const struct vsnix_arch_ops vsnix_svm_ops;
extern const struct vsnix_arch_ops vsnix_vmx_ops;

#endif /* VSNIX_X86_VENDOR_H */
