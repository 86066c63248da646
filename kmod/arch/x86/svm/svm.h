/* SPDX-License-Identifier: GPL-2.0 */
/*
 * AMD SVM backend (AMD APM Vol 2, chapter 15): internal objects shared by
 * svm.c (root mode, VMCB, entry), svm_exit.c (exit handlers), svm_state.c
 * (register and MSR access) and svm_vmrun.S.
 */
#ifndef VSNIX_SVM_H
#define VSNIX_SVM_H

/* Offsets into struct svm_vmrun_args, for svm_vmrun.S. */
#define SVM_ARGS_VMCB_PA		0
#define SVM_ARGS_HOST_SAVE_PA		8
#define SVM_ARGS_GUEST_SPEC_CTRL	16
#define SVM_ARGS_HOST_SPEC_CTRL		24
#define SVM_ARGS_SWAP_SPEC_CTRL		32

#ifndef __ASSEMBLY__

#include <asm/irq_vectors.h>
#include <asm/svm.h>
#include "../x86.h"

extern const struct vsnix_arch_ops vsnix_svm_ops;

/* What svm_vmrun.S needs; layout fixed by the SVM_ARGS_* offsets. */
struct svm_vmrun_args {
	u64 vmcb_pa;
	u64 host_save_pa;	/* per-CPU page VMSAVEd before the entry */
	u64 guest_spec_ctrl;
	u64 host_spec_ctrl;
	u64 swap_spec_ctrl;	/* nonzero: wrmsr SPEC_CTRL around VMRUN */
};

/* gprs: vcpu->gpr[], indexed by enum vsnix_gpr (RAX and RSP unused). */
void __vsnix_svm_vmrun(u64 *gprs, struct svm_vmrun_args *args);

struct svm_vcpu {
	struct vsnix_x86_vcpu x86;	/* first: see to_x86() */
	struct vmcb *vmcb;
	u64 vmcb_pa;
	u32 asid;
	bool asid_shared;	/* the pool was empty: flush at each entry */

	u64 exit_code;		/* of the last exit, for handle_exit */
	bool shutdown;		/* VMCB undefined until SET_SREGS + SET_REGS */
	bool lost_state;	/* the exit saved the host's state: see svm.c */
	u8 reset_seen;		/* SVM_RESET_* since the shutdown */

	/* NMI blocking (no vNMI): from the injection until its IRET ran. */
	bool nmi_masked;
	bool nmi_iret_pending;	/* IRET intercepted at nmi_iret_rip */
	u64 nmi_iret_rip;
	bool nmi_singlestep;	/* TF set to trap right after that IRET */
	bool nmi_singlestep_guest_tf;	/* the guest had TF itself */
	/* This entry: TF set to exit right after the shadowed instruction. */
	bool shadow_step;
	bool shadow_step_guest_tf;	/* the guest had TF itself */
	bool shadow_step_dr6_bs;	/* the guest's DR6.BS, cleared for the step */
	bool shadow_step_trapped;	/* the exit is that #DB: not the guest's */
	u64 shadow_step_rip;
	u64 exit_rip;		/* where the shadow in int_state holds */
	/* This entry: an interrupt in V_IRQ; IRET intercepted after it. */
	bool virq_loaded;
	bool irq_iret;

	/* MSRs kept in software (everything else lives in the VMCB). */
	u64 spec_ctrl;

	u32 pkru;		/* guest PKRU while its CR4.PKE is set */
	u64 tsc_aux;		/* loaded for each entry (RDPID, RDTSCP) */
	bool lme_hidden;	/* EFER.LME kept out of the VMCB: svm_sync_lme */

	/* Guest DR0-3: loaded once the guest touched them or DR7. */
	bool dr_active;
	u64 dr[4];
};

#define SVM_RESET_SREGS	BIT(0)
#define SVM_RESET_REGS	BIT(1)

struct svm_vm {
	struct vsnix_x86_vm x86;	/* first: see to_x86_vm() */
	struct vsnix_tdp tdp;
};

static inline struct svm_vcpu *to_svm(struct vsnix_vcpu *vcpu)
{
	return vcpu->arch;
}

/* Host capabilities found at probe. */
extern bool svm_has_decode_assists;
extern bool svm_has_nrips;
extern bool svm_has_v_spec_ctrl;
extern bool svm_has_tsc_aux;	/* the host has MSR_TSC_AUX */
extern u64 svm_spec_ctrl_valid;	/* SPEC_CTRL bits a guest may set */

static inline void svm_set_intercept(struct vmcb *vmcb, u32 bit)
{
	vmcb->control.intercepts[bit / 32] |= BIT(bit % 32);
}

static inline void svm_clr_intercept(struct vmcb *vmcb, u32 bit)
{
	vmcb->control.intercepts[bit / 32] &= ~BIT(bit % 32);
}

/* svm_exit.c */
int svm_handle_exit(struct vsnix_vcpu *vcpu);

/* svm_events.c: the event hooks (struct vsnix_arch_ops) and their helpers. */
struct vsnix_x86_event;
void svm_clear_events(struct vsnix_vcpu *vcpu);
void svm_shadow_entry(struct vsnix_vcpu *vcpu);
void svm_load_cr8(struct vsnix_vcpu *vcpu, struct vmcb *vmcb);
void svm_events_exited(struct vsnix_vcpu *vcpu);
void svm_dr_activate(struct svm_vcpu *sv);
bool svm_singlestep_done(struct vsnix_vcpu *vcpu);
void svm_inject_irq(struct vsnix_vcpu *vcpu, const struct vsnix_x86_event *e);
void svm_inject_nmi(struct vsnix_vcpu *vcpu);
void svm_inject_exception(struct vsnix_vcpu *vcpu,
			  const struct vsnix_x86_event *e);
void svm_set_virq(struct vsnix_vcpu *vcpu, u8 vector);
bool svm_virq_taken(struct vsnix_vcpu *vcpu);
void svm_enable_irq_window(struct vsnix_vcpu *vcpu);
void svm_enable_nmi_window(struct vsnix_vcpu *vcpu);
bool svm_interrupt_allowed(struct vsnix_vcpu *vcpu);
bool svm_nmi_allowed(struct vsnix_vcpu *vcpu);
u8 svm_get_interrupt_shadow(struct vsnix_vcpu *vcpu);
void svm_set_interrupt_shadow(struct vsnix_vcpu *vcpu, u8 shadow);
bool svm_get_nmi_mask(struct vsnix_vcpu *vcpu);
void svm_set_nmi_mask(struct vsnix_vcpu *vcpu, bool masked);
void svm_get_exit_event(struct vsnix_vcpu *vcpu, struct vsnix_x86_event *e);
void svm_get_debugregs(struct vsnix_vcpu *vcpu, struct vsnix_debugregs *dr);
int svm_set_debugregs(struct vsnix_vcpu *vcpu,
		      const struct vsnix_debugregs *dr);
void svm_vcpu_reset(struct vsnix_vcpu *vcpu);

/* svm_state.c */
void svm_init_vmcb_state(struct vsnix_vcpu *vcpu);
void svm_get_regs(struct vsnix_vcpu *vcpu, struct vsnix_regs *regs);
int svm_set_regs(struct vsnix_vcpu *vcpu, const struct vsnix_regs *regs);
void svm_get_sregs(struct vsnix_vcpu *vcpu, struct vsnix_sregs *sregs);
int svm_set_sregs(struct vsnix_vcpu *vcpu, const struct vsnix_sregs *sregs);
u64 svm_guest_efer(struct svm_vcpu *sv);
void svm_sync_lme(struct svm_vcpu *sv, bool lme);

#endif /* __ASSEMBLY__ */
#endif /* VSNIX_SVM_H */
