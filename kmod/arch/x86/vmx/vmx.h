/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vSnix Intel VMX backend with EPT: the ops table the core picks on Intel
 * hosts, and the state shared by the backend's files.
 */
#ifndef VSNIX_VMX_H
#define VSNIX_VMX_H

/* Offsets into struct vmx_enter_args, for vmx_vmenter.S. */
#define VMX_ARGS_FLAGS			0
#define VMX_ARGS_GUEST_SPEC_CTRL	8
#define VMX_ARGS_HOST_SPEC_CTRL		16

/* Bits of vmx_enter_args.flags. */
#define VMX_ENTER_RESUME_BIT		0	/* VMRESUME, else VMLAUNCH */
#define VMX_ENTER_SPEC_CTRL_BIT		1	/* switch IA32_SPEC_CTRL */

#ifndef __ASSEMBLY__

#include <linux/list.h>
#include "../x86.h"

extern const struct vsnix_arch_ops vsnix_vmx_ops;

/* What hardware_probe found and the control values computed from it. */
struct vmx_config {
	u32 revision_id;
	u32 vmcs_size;
	u32 pin_ctls;		/* without the preemption timer */
	bool preempt_timer;	/* VMX-preemption timer usable */
	u32 preempt_timer_value;	/* about 1 ms */
	u32 proc_ctls;		/* without the window-exiting bits */
	u32 proc2_ctls;
	u32 exit_ctls;
	u32 entry_ctls;		/* without IA-32e mode guest */
	u64 cr0_must1, cr0_must0;	/* from IA32_VMX_CR0_FIXED0/1 */
	u64 cr4_must1, cr4_must0;	/* from IA32_VMX_CR4_FIXED0/1 */
	bool invept_single;
	bool ept_2m;		/* 2 MiB EPT leaves (EPT_VPID_CAP bit 16) */
	bool invept_all;
	bool vpid;		/* VPID in use (INVVPID available) */
	bool rdtscp;
	bool spec_ctrl;		/* host has IA32_SPEC_CTRL */
	bool debugctl;		/* host has IA32_DEBUGCTL (emulators may not) */
	bool wbinvd_exiting;	/* secondary control "WBINVD exiting" set */
	bool tpr_shadow;	/* "use TPR shadow" without CR8 exiting */
	bool l1d_flush;		/* flush L1D before each entry (L1TF) */
	void *l1d_flush_buf;	/* software flush: no IA32_FLUSH_CMD */
};

extern struct vmx_config vmx_cfg;

/* The VM's EPT tables (vmx.c). */
struct vsnix_tdp *vmx_tdp(struct vsnix_vm *vm);

/* Software L1D flush: twice the 32 KiB L1D of the affected CPUs. */
#define VMX_L1D_FLUSH_ORDER	4
#define VMX_L1D_FLUSH_SIZE	(PAGE_SIZE << VMX_L1D_FLUSH_ORDER)

/* MSRs the VMCS does not switch; vmx_run.c swaps them around entries. */
enum vmx_swapped_msr {
	VMX_MSR_KERNEL_GS_BASE,
	VMX_MSR_STAR,
	VMX_MSR_LSTAR,
	VMX_MSR_CSTAR,
	VMX_MSR_SFMASK,
	VMX_NR_SWAPPED_MSRS,
};

extern const u32 vmx_swapped_msr_index[VMX_NR_SWAPPED_MSRS];

struct vmx_vcpu {
	struct vsnix_x86_vcpu x86;	/* first: see to_x86() */
	struct vsnix_vcpu *vcpu;
	void *vmcs;
	u64 vmcs_pa;
	void *msr_bitmap;
	u16 vpid;

	/* Where the VMCS is active (VMPTRLDed or not cleared); -1: clear. */
	int loaded_cpu;
	bool launched;
	struct list_head loaded_node;	/* on the per-CPU list while active */
	bool need_flush;

	/* Processor-based controls before the event windows are added. */
	u32 base_proc;
	/* The TPR shadow (vmx_tpr.c): NULL when CR8 accesses exit. */
	void *vapic_page;
	u8 tpr_threshold;	/* last written to the VMCS */
	u8 vtpr_entry;		/* VTPR as the last entry loaded it */

	/* Last values written to the VMCS, to skip VMWRITEs. */
	u32 pin_ctls;
	u32 proc_ctls;
	u32 proc2_ctls;
	u64 host_cr3, host_cr4, host_fs_base;

	/* Exit information, read before preemption comes back (SDM 24.9). */
	u32 exit_reason;
	u64 exit_qual;
	u64 exit_gpa;
	u32 exit_insn_len;
	u32 exit_intr_info;
	u32 idt_vectoring_info;
	u32 idt_vectoring_error;
	u64 exit_rip;
	bool regs_dirty;	/* set_regs since the last entry */

	/* Events (vmx_events.c): state for the entry being prepared. */
	u32 intr_state;		/* guest interruptibility for this entry */
	u32 want_proc;		/* proc_ctls with the windows asked for */
	bool entry_info_set;	/* VM_ENTRY_INTR_INFO_FIELD holds an event */

	/* Guest state the VMCS does not hold. */
	bool shutdown;		/* triple fault: reset through SET_(S)REGS */
	u64 cr2;
	u64 cr8;
	/*
	 * Guest DR0-3 and DR6: in software and MOV DR intercepted until the
	 * guest touches one, then loaded around each entry (dr_active) and
	 * MOV DR runs natively; DR7 is in the VMCS (vmx_exit_dr).
	 */
	bool dr_active;
	u64 dr[4], dr6, dr7;
	u64 spec_ctrl;		/* writes intercepted: always current */
	u32 pkru;		/* guest PKRU while its CR4.PKE is set */
	u64 tsc_aux;
	u64 msrs[VMX_NR_SWAPPED_MSRS];
};

static inline struct vmx_vcpu *to_vmx(struct vsnix_vcpu *vcpu)
{
	return vcpu->arch;
}

/* vmx.c: make the VMCS current on this CPU; preemption off, IRQs on. */
int vmx_vmcs_load(struct vmx_vcpu *vmx);
/* Outside vcpu_run: preempt_disable + load; put re-enables preemption. */
int vmx_vmcs_get(struct vsnix_vcpu *vcpu);
void vmx_vmcs_put(struct vsnix_vcpu *vcpu);
void vmx_flush_guest_tlb(struct vsnix_vcpu *vcpu);

/* What vmx_vmenter.S needs; layout fixed by the VMX_ARGS_* offsets. */
struct vmx_enter_args {
	u64 flags;		/* BIT(VMX_ENTER_*_BIT) */
	u64 guest_spec_ctrl;
	u64 host_spec_ctrl;
};

/*
 * vmx_vmenter.S: 0 after a VM exit, 1 VMfailValid, 2 VMfailInvalid,
 * 3 when a VMX instruction faulted.
 */
int __vsnix_vmx_enter(u64 *gprs, struct vmx_enter_args *args);
extern const char __vsnix_vmx_exit[];
/* vmx_vmenter.S: run the host NMI handler for an NMI that exited. */
void __vsnix_vmx_do_nmi(void);

/* vmx_run.c */
int vmx_vcpu_run(struct vsnix_vcpu *vcpu);

/* vmx_events.c: the event hooks (struct vsnix_arch_ops) and their helpers. */
struct vsnix_x86_event;
void vmx_clear_events(struct vsnix_vcpu *vcpu, struct vmx_vcpu *vmx);
void vmx_commit_windows(struct vmx_vcpu *vmx);
void vmx_inject_irq(struct vsnix_vcpu *vcpu, const struct vsnix_x86_event *e);
void vmx_inject_nmi(struct vsnix_vcpu *vcpu);
void vmx_inject_exception(struct vsnix_vcpu *vcpu,
			  const struct vsnix_x86_event *e);
void vmx_enable_irq_window(struct vsnix_vcpu *vcpu);
void vmx_enable_nmi_window(struct vsnix_vcpu *vcpu);
bool vmx_interrupt_allowed(struct vsnix_vcpu *vcpu);
bool vmx_nmi_allowed(struct vsnix_vcpu *vcpu);
u8 vmx_get_interrupt_shadow(struct vsnix_vcpu *vcpu);
void vmx_set_interrupt_shadow(struct vsnix_vcpu *vcpu, u8 shadow);
bool vmx_get_nmi_mask(struct vsnix_vcpu *vcpu);
void vmx_set_nmi_mask(struct vsnix_vcpu *vcpu, bool masked);
void vmx_get_exit_event(struct vsnix_vcpu *vcpu, struct vsnix_x86_event *e);
void vmx_get_debugregs(struct vsnix_vcpu *vcpu, struct vsnix_debugregs *dr);
int vmx_set_debugregs(struct vsnix_vcpu *vcpu,
		      const struct vsnix_debugregs *dr);
void vmx_vcpu_reset(struct vsnix_vcpu *vcpu);

/* vmx_tpr.c: CR8 as the LAPIC's TPR through the TPR shadow. */
void vmx_probe_tpr_shadow(bool true_ctls);
int vmx_tpr_create(struct vmx_vcpu *vmx);
void vmx_tpr_free(struct vmx_vcpu *vmx);
void vmx_tpr_setup_vmcs(struct vmx_vcpu *vmx);
void vmx_tpr_enter(struct vsnix_vcpu *vcpu, struct vmx_vcpu *vmx);
void vmx_tpr_exit(struct vsnix_vcpu *vcpu, struct vmx_vcpu *vmx);

/* vmx_exit.c */
int vmx_handle_exit(struct vsnix_vcpu *vcpu);

/* vmx_state.c (callers of the *_locked helpers hold the VMCS). */
void vmx_get_regs(struct vsnix_vcpu *vcpu, struct vsnix_regs *regs);
int vmx_set_regs(struct vsnix_vcpu *vcpu, const struct vsnix_regs *regs);
void vmx_get_sregs(struct vsnix_vcpu *vcpu, struct vsnix_sregs *sregs);
int vmx_set_sregs(struct vsnix_vcpu *vcpu, const struct vsnix_sregs *sregs);
void vmx_set_reset_state(struct vsnix_vcpu *vcpu);
u64 vmx_guest_cr0_locked(void);
u64 vmx_guest_cr4_locked(void);
/* CR0 bits in the guest/host mask (the guest reads the shadow). */
u64 vmx_cr0_mask(void);
/* CR4 bits the guest owns (no exit on MOV to CR4); the rest is masked. */
u64 vmx_cr4_guest_owned(void);
/* Secondary controls as the guest's CPUID says (RDTSCP, INVPCID). */
void vmx_update_secondary_locked(struct vsnix_vcpu *vcpu);
/* 0, or -EINVAL when the guest must get #GP. */
int vmx_set_cr0_locked(struct vsnix_vcpu *vcpu, u64 cr0);
int vmx_set_cr4_locked(struct vsnix_vcpu *vcpu, u64 cr4);
int vmx_set_cr3_locked(struct vsnix_vcpu *vcpu, u64 cr3);

#endif /* !__ASSEMBLY__ */
#endif /* VSNIX_VMX_H */
