// SPDX-License-Identifier: GPL-2.0
/*
 * SVM backend: the event hooks of the x86 event layer (arch/x86/events.c).
 * EVENTINJ loads one event per VMRUN (AMD APM Vol 2, 15.20); V_IRQ hands
 * one external interrupt to the CPU, which takes it when the guest can
 * (15.21.4); a virtual interrupt with the VINTR intercept is the interrupt
 * window; EXITINTINFO is the event an exit cut short (15.7.2). Without vNMI the
 * CPU does not track NMI blocking for the guest: it is kept here, until
 * the guest's IRET has run.
 */
#include <linux/kernel.h>
#include <linux/percpu.h>
#include <asm/debugreg.h>
#include <asm/processor-flags.h>
#include <asm/traps.h>
#include "svm.h"
#include "../events.h"
#include "../lapic.h"

/* The NMI handler's IRET is still to be intercepted. */
static bool svm_nmi_wants_iret(struct svm_vcpu *sv)
{
	return sv->nmi_masked && !sv->nmi_iret_pending;
}

static bool svm_shadowed(struct svm_vcpu *sv)
{
	return sv->vmcb->control.int_state & SVM_INTERRUPT_SHADOW_MASK;
}

/* This entry single-steps its shadow (svm_shadow_entry). */
static bool svm_shadow_steps(struct svm_vcpu *sv)
{
	/* An event delivered at this entry runs its handler first. */
	return svm_shadowed(sv) &&
	       !(sv->vmcb->control.event_inj & SVM_EVTINJ_VALID);
}

/*
 * Before the layer picks this entry's event: nothing loaded, no window,
 * and a shadow only where the exit left it: an emulated instruction (RIP
 * moved) ends it (SDM Vol 3, 6.8.3); svm_set_interrupt_shadow moves
 * exit_rip with it.
 */
void svm_clear_events(struct vsnix_vcpu *vcpu)
{
	struct svm_vcpu *sv = to_svm(vcpu);
	struct vmcb *vmcb = sv->vmcb;

	if (vcpu->rip != sv->exit_rip)
		vmcb->control.int_state &= ~SVM_INTERRUPT_SHADOW_MASK;

	vmcb->control.event_inj = 0;
	vmcb->control.event_inj_err = 0;
	vmcb->control.int_ctl &= ~(V_IRQ_MASK | V_IGN_TPR_MASK |
				   V_INTR_PRIO_MASK);
	svm_clr_intercept(vmcb, INTERCEPT_VINTR);
	if (sv->irq_iret && !svm_nmi_wants_iret(sv))
		svm_clr_intercept(vmcb, INTERCEPT_IRET);
	sv->irq_iret = false;
	sv->virq_loaded = false;
	sv->shadow_step = false;
}

/*
 * CR8 is V_TPR for the guest (V_INTR_MASKING, APM Vol 2, 15.21.1): MOV
 * from CR8 reads it, MOV to CR8 writes it, with no exit, and the exit
 * takes it into the TPR (vsnix_lapic_sync_cr8). A write is intercepted
 * (svm_exit_cr8_write) only where the exit could not tell: where a lower
 * TPR would unmask a vector waiting in IRR, which the write must deliver
 * before the next instruction (SDM Vol 3, 10.8.6.1), where TPR[3:0] is
 * set, which a write of the same CR8 clears (10.8.6.1), and while V_IRQ
 * is set (svm_virq_cr8_exits, after this). Anything that
 * raises IRR kicks the vCPU out first, so the next entry decides again.
 */
void svm_load_cr8(struct vsnix_vcpu *vcpu, struct vmcb *vmcb)
{
	vmcb->control.int_ctl = (vmcb->control.int_ctl & ~V_TPR_MASK) |
				vsnix_lapic_get_cr8(vcpu);
	if ((vsnix_lapic_get_tpr(vcpu) & 0xf) ||
	    vsnix_lapic_tpr_threshold(vcpu))
		svm_set_intercept(vmcb, INTERCEPT_CR8_WRITE);
	else
		svm_clr_intercept(vmcb, INTERCEPT_CR8_WRITE);
}

/*
 * Whatever the exit, the step is over: TF is the guest's again, and so is
 * DR6.BS, sticky (SDM Vol 3, 17.2.3), which svm_shadow_entry cleared: a
 * #DB with BS and no breakpoint (B0-B3) is our trap. Any other exit at
 * the same RIP came before the trap, which has priority over interrupts
 * (SDM Vol 3, 6.9): the instruction has not run and its shadow still
 * holds, whatever int_state says now (QEMU 7.2 saves 0).
 */
static void svm_shadow_step_exited(struct vsnix_vcpu *vcpu)
{
	struct svm_vcpu *sv = to_svm(vcpu);
	struct vmcb *vmcb = sv->vmcb;
	bool trap = sv->exit_code == SVM_EXIT_EXCP_BASE + DB_VECTOR &&
		    (vmcb->save.dr6 & DR_STEP) &&
		    !(vmcb->save.dr6 & DR_TRAP_BITS);

	sv->shadow_step = false;
	if (!sv->shadow_step_guest_tf) {
		vcpu->rflags &= ~X86_EFLAGS_TF;
		if (trap)
			vmcb->save.dr6 &= ~DR_STEP;
		sv->shadow_step_trapped = trap;
	}
	vmcb->save.dr6 |= sv->shadow_step_dr6_bs ? DR_STEP : 0;
	if (!trap && vcpu->rip == sv->shadow_step_rip &&
	    !(vmcb->control.exit_int_info & SVM_EXITINTINFO_VALID))
		vmcb->control.int_state |= SVM_INTERRUPT_SHADOW_MASK;
}

/* Right after #VMEXIT, GIF clear. */
void svm_events_exited(struct vsnix_vcpu *vcpu)
{
	struct svm_vcpu *sv = to_svm(vcpu);

	sv->shadow_step_trapped = false;
	if (sv->shadow_step && !sv->lost_state)
		svm_shadow_step_exited(vcpu);

	/* The guest's CR8 writes since the entry: into the TPR, PPR. */
	if (vcpu->lapic && !sv->lost_state)
		vsnix_lapic_sync_cr8(vcpu, sv->vmcb->control.int_ctl &
				     V_TPR_MASK);

	/* Still before the IRET: the TF of svm_enable_nmi_window is ours. */
	if (sv->nmi_singlestep && vcpu->rip == sv->nmi_iret_rip &&
	    !sv->nmi_singlestep_guest_tf)
		vcpu->rflags &= ~X86_EFLAGS_TF;
	/* The IRET that the intercept stopped has run: NMIs are open. */
	if (sv->nmi_iret_pending && vcpu->rip != sv->nmi_iret_rip) {
		sv->nmi_iret_pending = false;
		sv->nmi_masked = false;
	}
	sv->vmcb->control.event_inj = 0;
	vsnix_x86_events_exited(vcpu);
}

void svm_inject_irq(struct vsnix_vcpu *vcpu,
			   const struct vsnix_x86_event *e)
{
	to_svm(vcpu)->vmcb->control.event_inj = e->vector |
		SVM_EVTINJ_TYPE_INTR | SVM_EVTINJ_VALID;
}

/*
 * While V_IRQ is set, CR8 writes exit (svm_load_cr8): with V_IGN_TPR a
 * TPR raised over the interrupt would not hold it back, and QEMU 7.2's
 * TCG aborts on a MOV to CR8 that it lets through then (its CR8 write
 * re-raises the virtual interrupt without the iothread lock: "assertion
 * failed: (qemu_mutex_iothread_locked())" in tcg_handle_interrupt).
 */
static void svm_virq_cr8_exits(struct vsnix_vcpu *vcpu, struct vmcb *vmcb)
{
	if (vcpu->lapic)
		svm_set_intercept(vmcb, INTERCEPT_CR8_WRITE);
}

/*
 * A virtual interrupt (APM 15.21.4): the CPU takes it once RFLAGS.IF=1,
 * no shadow, and its priority beats V_TPR, or V_IGN_TPR: the LAPIC
 * already weighed TPR and PPR. No exit; taking it clears V_IRQ.
 */
void svm_set_virq(struct vsnix_vcpu *vcpu, u8 vector)
{
	struct svm_vcpu *sv = to_svm(vcpu);
	struct vmcb *vmcb = sv->vmcb;

	sv->virq_loaded = true;
	vmcb->control.int_vector = vector;
	vmcb->control.int_ctl |= V_IRQ_MASK | V_IGN_TPR_MASK |
				 ((vector >> 4) << V_INTR_PRIO_SHIFT);
	svm_virq_cr8_exits(vcpu, vmcb);
}

/*
 * V_IRQ is written back at #VMEXIT (15.21.4): clear when the guest took
 * the interrupt. A VINTR intercept (an NMI window) comes instead of it.
 */
bool svm_virq_taken(struct vsnix_vcpu *vcpu)
{
	struct svm_vcpu *sv = to_svm(vcpu);

	/* A VMCB that holds the host's state (svm.c) says nothing. */
	return !(sv->vmcb->control.int_ctl & V_IRQ_MASK) &&
	       sv->exit_code != SVM_EXIT_VINTR && !sv->lost_state;
}

void svm_inject_nmi(struct vsnix_vcpu *vcpu)
{
	struct svm_vcpu *sv = to_svm(vcpu);

	sv->vmcb->control.event_inj = NMI_VECTOR | SVM_EVTINJ_TYPE_NMI |
				      SVM_EVTINJ_VALID;
	/* NMIs stay blocked until the handler's IRET (15.21.4). */
	sv->nmi_masked = true;
	sv->nmi_iret_pending = false;
	svm_set_intercept(sv->vmcb, INTERCEPT_IRET);
}

void svm_inject_exception(struct vsnix_vcpu *vcpu,
				 const struct vsnix_x86_event *e)
{
	struct vmcb *vmcb = to_svm(vcpu)->vmcb;
	bool has_err;

	/*
	 * INT n, INT3, INTO and INT1 are not read back from EXITINTINFO:
	 * RIP is at the instruction, which runs again.
	 */
	if (e->type != VSNIX_X86_EV_EXCEPTION)
		return;
	/* Real mode pushes no error code (SDM Vol 3, "8086 Emulation"). */
	has_err = e->has_error_code && (vmcb->save.cr0 & X86_CR0_PE);
	vmcb->control.event_inj = e->vector | SVM_EVTINJ_TYPE_EXEPT |
				  SVM_EVTINJ_VALID |
				  (has_err ? SVM_EVTINJ_VALID_ERR : 0);
	vmcb->control.event_inj_err = e->error_code;
}

/* A virtual interrupt exits (VINTR) as soon as the guest could take it. */
static void svm_open_vintr_window(struct vsnix_vcpu *vcpu, struct vmcb *vmcb)
{
	svm_virq_cr8_exits(vcpu, vmcb);
	vmcb->control.int_ctl |= V_IRQ_MASK | V_IGN_TPR_MASK |
				 V_INTR_PRIO_MASK;
	svm_set_intercept(vmcb, INTERCEPT_VINTR);
}

/*
 * The shadow of STI or MOV SS holds interrupts and NMIs until the next
 * instruction has run (APM Vol 2, 15.21.5; SDM Vol 3, 6.8.3). An entry in
 * a shadow single-steps that instruction (TF, #DB intercepted) for an
 * exit right after it, where the layer delivers what waits; windows and
 * V_IRQ wait for that exit (svm_enable_irq_window, vsnix_x86_load_virq).
 * They would rely on VMRUN loading the shadow from the VMCB, which QEMU
 * 7.2's TCG does not: it delivered interrupts and NMIs inside it, and a
 * VINTR window never exits with IF=0 (MOV SS) while an NMI waits. As
 * with KVM's NMI single-step, a PUSHF in the shadow sees our TF.
 */
void svm_shadow_entry(struct vsnix_vcpu *vcpu)
{
	struct svm_vcpu *sv = to_svm(vcpu);
	struct vmcb *vmcb = sv->vmcb;

	if (!svm_shadow_steps(sv))
		return;
	sv->shadow_step = true;
	sv->shadow_step_rip = vcpu->rip;
	sv->shadow_step_guest_tf = vcpu->rflags & X86_EFLAGS_TF;
	sv->shadow_step_dr6_bs = vmcb->save.dr6 & DR_STEP;
	vmcb->save.dr6 &= ~DR_STEP;
	vmcb->save.rflags |= X86_EFLAGS_TF;
}

/*
 * With an interrupt in V_IRQ (svm_set_virq) the guest takes it at once
 * (the layer made sure) and then runs its handler without exits: the
 * handler's IRET, intercepted before it runs (15.9), is where it may take
 * the next one. A handler that sets IF itself waits for the next exit.
 */
void svm_enable_irq_window(struct vsnix_vcpu *vcpu)
{
	struct svm_vcpu *sv = to_svm(vcpu);

	if (sv->virq_loaded) {
		sv->irq_iret = true;
		svm_set_intercept(sv->vmcb, INTERCEPT_IRET);
	} else if (svm_shadow_steps(sv)) {
		/* svm_shadow_entry exits right after the shadow. */
	} else {
		svm_open_vintr_window(vcpu, sv->vmcb);
	}
}

/*
 * NMI blocked by an NMI handler: the IRET intercept is set. At that exit
 * the IRET has not run yet: single-step it (TF, with #DB intercepted) so
 * that the exit right after it opens NMIs; a single-step trap follows an
 * IRET even when the IRET clears TF (SDM Vol 3, 17.3.1.4). A shadow ends
 * with the next instruction: the VINTR window, when IF=1.
 */
void svm_enable_nmi_window(struct vsnix_vcpu *vcpu)
{
	struct svm_vcpu *sv = to_svm(vcpu);

	if (sv->nmi_masked && sv->nmi_iret_pending) {
		if (!sv->nmi_singlestep) {
			sv->nmi_singlestep = true;
			sv->nmi_singlestep_guest_tf = vcpu->rflags &
						      X86_EFLAGS_TF;
		}
		sv->vmcb->save.rflags |= X86_EFLAGS_TF;
	} else if (!sv->nmi_masked && svm_shadow_steps(sv)) {
		/* svm_shadow_entry exits right after the shadow. */
	} else if (!sv->nmi_masked) {
		/* With a V_IRQ loaded, the VINTR exit comes before it. */
		svm_open_vintr_window(vcpu, sv->vmcb);
	}
}

/* The single-step of svm_enable_nmi_window, right after that IRET. */
static bool svm_nmi_singlestep_done(struct svm_vcpu *sv)
{
	if (!sv->nmi_singlestep || sv->nmi_singlestep_guest_tf)
		return false;
	sv->nmi_singlestep = false;
	return true;
}

/* A #DB exit: true when it is one of our single-steps, not the guest's. */
bool svm_singlestep_done(struct vsnix_vcpu *vcpu)
{
	struct svm_vcpu *sv = to_svm(vcpu);
	bool shadow = sv->shadow_step_trapped;

	sv->shadow_step_trapped = false;
	if (svm_nmi_singlestep_done(sv)) {
		sv->vmcb->save.dr6 &= ~DR_STEP;
		return true;
	}
	/* svm_shadow_step_exited put DR6 back. */
	return shadow;
}

bool svm_interrupt_allowed(struct vsnix_vcpu *vcpu)
{
	/* GIF is always set for the guest: CLGI and STGI raise #UD. */
	return (vcpu->rflags & X86_EFLAGS_IF) && !svm_shadowed(to_svm(vcpu));
}

bool svm_nmi_allowed(struct vsnix_vcpu *vcpu)
{
	struct svm_vcpu *sv = to_svm(vcpu);

	return !sv->nmi_masked && !svm_shadowed(sv);
}

/* One shadow bit covers STI and MOV SS (APM 15.21.5). */
u8 svm_get_interrupt_shadow(struct vsnix_vcpu *vcpu)
{
	return svm_shadowed(to_svm(vcpu)) ? VSNIX_X86_SHADOW_STI : 0;
}

void svm_set_interrupt_shadow(struct vsnix_vcpu *vcpu, u8 shadow)
{
	struct vmcb *vmcb = to_svm(vcpu)->vmcb;

	if (shadow)
		vmcb->control.int_state |= SVM_INTERRUPT_SHADOW_MASK;
	else
		vmcb->control.int_state &= ~SVM_INTERRUPT_SHADOW_MASK;
	/* It holds for the RIP userspace set (svm_clear_events). */
	to_svm(vcpu)->exit_rip = vcpu->rip;
}

bool svm_get_nmi_mask(struct vsnix_vcpu *vcpu)
{
	return to_svm(vcpu)->nmi_masked;
}

void svm_set_nmi_mask(struct vsnix_vcpu *vcpu, bool masked)
{
	struct svm_vcpu *sv = to_svm(vcpu);

	sv->nmi_masked = masked;
	sv->nmi_iret_pending = false;
	sv->nmi_singlestep = false;
	if (masked)
		svm_set_intercept(sv->vmcb, INTERCEPT_IRET);
	else
		svm_clr_intercept(sv->vmcb, INTERCEPT_IRET);
}

void svm_get_exit_event(struct vsnix_vcpu *vcpu,
			       struct vsnix_x86_event *e)
{
	struct vmcb *vmcb = to_svm(vcpu)->vmcb;
	u32 info = vmcb->control.exit_int_info;
	u32 type = info & SVM_EXITINTINFO_TYPE_MASK;
	u8 vector = info & SVM_EXITINTINFO_VEC_MASK;

	e->type = VSNIX_X86_EV_NONE;
	if (!(info & SVM_EXITINTINFO_VALID))
		return;
	e->vector = vector;
	e->has_error_code = false;
	e->error_code = 0;
	e->insn_len = 0;
	switch (type) {
	case SVM_EXITINTINFO_TYPE_INTR:
		e->type = VSNIX_X86_EV_IRQ;
		break;
	case SVM_EXITINTINFO_TYPE_NMI:
		e->type = VSNIX_X86_EV_NMI;
		break;
	case SVM_EXITINTINFO_TYPE_EXEPT:
		/*
		 * Exceptions are vectors 0-31 (APM 8.2); QEMU's TCG reports
		 * a V_IRQ whose delivery an exit cut short so.
		 */
		if (vector >= 32) {
			e->type = VSNIX_X86_EV_IRQ;
			break;
		}
		/* INT3 and INTO run again from their instruction. */
		if (vector == BP_VECTOR || vector == OF_VECTOR)
			return;
		e->type = VSNIX_X86_EV_EXCEPTION;
		e->has_error_code = info & SVM_EXITINTINFO_VALID_ERR;
		e->error_code = e->has_error_code ?
				vmcb->control.exit_int_info_err : 0;
		break;
	default:
		/* INTn: runs again from its instruction. */
		break;
	}
}

/* From now on DR0-3 are the guest's at each entry; no more DR exits. */
void svm_dr_activate(struct svm_vcpu *sv)
{
	int i;

	for (i = 0; i < 4; i++) {
		svm_clr_intercept(sv->vmcb, INTERCEPT_DR0_READ + i);
		svm_clr_intercept(sv->vmcb, INTERCEPT_DR0_WRITE + i);
	}
	svm_clr_intercept(sv->vmcb, INTERCEPT_DR4_WRITE);
	svm_clr_intercept(sv->vmcb, INTERCEPT_DR5_WRITE);
	svm_clr_intercept(sv->vmcb, INTERCEPT_DR7_WRITE);
	sv->dr_active = true;
}

void svm_get_debugregs(struct vsnix_vcpu *vcpu,
			      struct vsnix_debugregs *dr)
{
	struct svm_vcpu *sv = to_svm(vcpu);

	memcpy(dr->db, sv->dr, sizeof(dr->db));
	dr->dr6 = sv->vmcb->save.dr6;
	dr->dr7 = sv->vmcb->save.dr7;
}

int svm_set_debugregs(struct vsnix_vcpu *vcpu,
			     const struct vsnix_debugregs *dr)
{
	struct svm_vcpu *sv = to_svm(vcpu);

	memcpy(sv->dr, dr->db, sizeof(sv->dr));
	/* DR6 bits that read as 1, DR7 bit 10 (SDM Vol 3, 18.2.3-4). */
	sv->vmcb->save.dr6 = dr->dr6 | 0xffff0ff0;
	sv->vmcb->save.dr7 = dr->dr7 | 0x400;
	if (!sv->dr_active && (memchr_inv(sv->dr, 0, sizeof(sv->dr)) ||
			       (dr->dr7 & 0xff)))
		svm_dr_activate(sv);
	return 0;
}

/*
 * INIT, after vsnix_x86_vcpu_init_state set the registers and DRs: only
 * the interrupt shadow is left (APM Vol 2, 14.1.3).
 */
void svm_vcpu_reset(struct vsnix_vcpu *vcpu)
{
	to_svm(vcpu)->vmcb->control.int_state = 0;
}
