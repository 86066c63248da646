// SPDX-License-Identifier: GPL-2.0
/*
 * SVM backend: guest register state in the VMCB (reset state, REGS, SREGS),
 * and the MSRs vsnix emulates.
 */
#include <linux/kernel.h>
#include <asm/cpufeature.h>
#include <asm/msr.h>
#include <asm/processor-flags.h>
#include "svm.h"
#include "../events.h"
#include "../lapic.h"

#define SVM_RESET_PAT		0x0007040600070406ULL
#define SVM_RESET_DR6		0xffff0ff0ULL
#define SVM_RESET_DR7		0x400ULL

/*
 * The VMCB fields VMRUN needs before the x86 layer applies the reset state
 * (vsnix_x86_vcpu_reset): VMRUN requires EFER.SVME (APM 15.5.1), which the
 * guest never sees.
 */
void svm_init_vmcb_state(struct vsnix_vcpu *vcpu)
{
	struct vmcb_save_area *save = &to_svm(vcpu)->vmcb->save;

	memset(save, 0, sizeof(*save));
	save->efer = EFER_SVME;
	save->dr6 = SVM_RESET_DR6;
	save->dr7 = SVM_RESET_DR7;
	save->g_pat = SVM_RESET_PAT;
	save->rflags = X86_EFLAGS_FIXED;
}

/* ------------------------------------------------------------ REGS */

void svm_get_regs(struct vsnix_vcpu *vcpu, struct vsnix_regs *regs)
{
	vsnix_x86_get_regs(vcpu, regs);
}

int svm_set_regs(struct vsnix_vcpu *vcpu, const struct vsnix_regs *regs)
{
	struct svm_vcpu *sv = to_svm(vcpu);
	int ret = vsnix_x86_set_regs(vcpu, regs);

	if (ret)
		return ret;
	if (sv->shutdown) {
		sv->reset_seen |= SVM_RESET_REGS;
		if (sv->reset_seen == (SVM_RESET_REGS | SVM_RESET_SREGS))
			sv->shutdown = false;
	}
	return 0;
}

/* ------------------------------------------------------------ SREGS */

/* VMCB attribute word (APM 15.5.1, "Segment State in the VMCB"). */
static void svm_seg_to_user(const struct vmcb_seg *s, struct vsnix_segment *u)
{
	u16 a = s->attrib;

	memset(u, 0, sizeof(*u));
	u->base = s->base;
	u->limit = s->limit;
	u->selector = s->selector;
	u->type = a & SVM_SELECTOR_TYPE_MASK;
	u->s = !!(a & SVM_SELECTOR_S_MASK);
	u->dpl = (a & SVM_SELECTOR_DPL_MASK) >> SVM_SELECTOR_DPL_SHIFT;
	u->present = !!(a & SVM_SELECTOR_P_MASK);
	u->avl = !!(a & SVM_SELECTOR_AVL_MASK);
	u->l = !!(a & SVM_SELECTOR_L_MASK);
	u->db = !!(a & SVM_SELECTOR_DB_MASK);
	u->g = !!(a & SVM_SELECTOR_G_MASK);
	/* SVM has no "unusable" bit: a segment that is not present is. */
	u->unusable = !u->present;
}

static void svm_seg_from_user(struct vmcb_seg *s, const struct vsnix_segment *u)
{
	s->base = u->base;
	s->limit = u->limit;
	s->selector = u->selector;
	if (u->unusable) {
		s->attrib = 0;
		return;
	}
	s->attrib = (u->type & SVM_SELECTOR_TYPE_MASK) |
		    (u->s ? SVM_SELECTOR_S_MASK : 0) |
		    ((u->dpl & 3) << SVM_SELECTOR_DPL_SHIFT) |
		    (u->present ? SVM_SELECTOR_P_MASK : 0) |
		    (u->avl ? SVM_SELECTOR_AVL_MASK : 0) |
		    (u->l ? SVM_SELECTOR_L_MASK : 0) |
		    (u->db ? SVM_SELECTOR_DB_MASK : 0) |
		    (u->g ? SVM_SELECTOR_G_MASK : 0);
}

void svm_get_sregs(struct vsnix_vcpu *vcpu, struct vsnix_sregs *sregs)
{
	struct svm_vcpu *sv = to_svm(vcpu);
	const struct vmcb_save_area *save = &sv->vmcb->save;

	memset(sregs, 0, sizeof(*sregs));
	svm_seg_to_user(&save->cs, &sregs->cs);
	svm_seg_to_user(&save->ds, &sregs->ds);
	svm_seg_to_user(&save->es, &sregs->es);
	svm_seg_to_user(&save->fs, &sregs->fs);
	svm_seg_to_user(&save->gs, &sregs->gs);
	svm_seg_to_user(&save->ss, &sregs->ss);
	svm_seg_to_user(&save->tr, &sregs->tr);
	svm_seg_to_user(&save->ldtr, &sregs->ldt);
	sregs->gdt.base = save->gdtr.base;
	sregs->gdt.limit = save->gdtr.limit;
	sregs->idt.base = save->idtr.base;
	sregs->idt.limit = save->idtr.limit;
	sregs->cr0 = save->cr0;
	sregs->cr2 = save->cr2;
	sregs->cr3 = save->cr3;
	sregs->cr4 = save->cr4;
	sregs->cr8 = sv->vmcb->control.int_ctl & V_TPR_MASK;
	sregs->efer = svm_guest_efer(sv);
	sregs->apic_base = vsnix_x86_apic_base(vcpu);
	if (vsnix_lapic_in_kernel(vcpu))
		sregs->cr8 = vsnix_lapic_get_cr8(vcpu);
}

/* The guest's EFER: the VMCB's, and LME where svm_sync_lme keeps it. */
u64 svm_guest_efer(struct svm_vcpu *sv)
{
	return (sv->vmcb->save.efer & ~EFER_SVME) |
	       (sv->lme_hidden ? EFER_LME : 0);
}

/*
 * At #VMEXIT, QEMU's TCG (7.2 and later) loads the host's CR0 while the
 * guest's CR4 and EFER are still in place, and its CR0 load refuses PG
 * when EFER.LME is set and CR4.PAE clear (cpu_x86_update_cr0): the host
 * runs on with paging off and GIF clear, deaf to interrupts and NMIs.
 * With paging off LME does nothing until CR0.PG is set (APM Vol 2,
 * 14.6.1), and PG with LME and no PAE is #GP: while PAE is clear, LME
 * stays out of the VMCB and MOV to CR0 exits (svm_exit_write_cr0).
 * Call after any change to the guest's EFER or CR4.
 */
void svm_sync_lme(struct svm_vcpu *sv, bool lme)
{
	struct vmcb *vmcb = sv->vmcb;

	sv->lme_hidden = lme && !(vmcb->save.cr4 & X86_CR4_PAE);
	vmcb->save.efer &= ~EFER_LME;
	if (lme && !sv->lme_hidden)
		vmcb->save.efer |= EFER_LME;
	if (sv->lme_hidden)
		svm_set_intercept(vmcb, INTERCEPT_CR0_WRITE);
	else
		svm_clr_intercept(vmcb, INTERCEPT_CR0_WRITE);
}

int svm_set_sregs(struct vsnix_vcpu *vcpu, const struct vsnix_sregs *sregs)
{
	struct svm_vcpu *sv = to_svm(vcpu);
	struct vmcb_save_area *save = &sv->vmcb->save;
	int err;

	/* The checks are the x86 layer's; here only the VMCB format. */
	err = vsnix_x86_check_sregs(vcpu, sregs);
	/* With the LAPIC, its own rules (x2APIC, EXTD): below. */
	if (!err && !vsnix_lapic_in_kernel(vcpu))
		err = vsnix_x86_set_apic_base(vcpu, sregs->apic_base, true);
	if (err)
		return err;
	if (vsnix_lapic_set_sregs(vcpu, sregs->apic_base, sregs->cr8))
		return -EINVAL;

	svm_seg_from_user(&save->cs, &sregs->cs);
	svm_seg_from_user(&save->ds, &sregs->ds);
	svm_seg_from_user(&save->es, &sregs->es);
	svm_seg_from_user(&save->fs, &sregs->fs);
	svm_seg_from_user(&save->gs, &sregs->gs);
	svm_seg_from_user(&save->ss, &sregs->ss);
	svm_seg_from_user(&save->tr, &sregs->tr);
	svm_seg_from_user(&save->ldtr, &sregs->ldt);
	save->gdtr.base = sregs->gdt.base;
	save->gdtr.limit = sregs->gdt.limit;
	save->idtr.base = sregs->idt.base;
	save->idtr.limit = sregs->idt.limit;
	save->cr0 = sregs->cr0;
	save->cr2 = sregs->cr2;
	save->cr3 = sregs->cr3;
	save->cr4 = sregs->cr4;
	save->efer = sregs->efer | EFER_SVME;
	svm_sync_lme(sv, sregs->efer & EFER_LME);
	/* The CPL is the VMCB's own field: SS.DPL, 0 in real mode (15.5.1). */
	save->cpl = (sregs->cr0 & X86_CR0_PE) ? sregs->ss.dpl & 3 : 0;
	sv->vmcb->control.int_ctl &= ~V_TPR_MASK;
	sv->vmcb->control.int_ctl |= sregs->cr8 & V_TPR_MASK;

	if (sv->shutdown) {
		sv->reset_seen |= SVM_RESET_SREGS;
		if (sv->reset_seen == (SVM_RESET_REGS | SVM_RESET_SREGS))
			sv->shutdown = false;
		/* Whatever the shutdown left in these is not a state. */
		save->dr6 = SVM_RESET_DR6;
		save->dr7 = SVM_RESET_DR7;
		save->g_pat = SVM_RESET_PAT;
		sv->vmcb->control.int_state = 0;
		sv->vmcb->control.event_inj = 0;
		vsnix_x86_set_injected(vcpu, NULL);
	}
	return 0;
}

/* ------------------------------------------------------------ MSRs */

/* PAT entries: UC, WC, WT, WP, WB, UC- (Intel SDM 12.12.2, AMD APM 7.8.1). */
static bool svm_pat_valid(u64 pat)
{
	int i;

	for (i = 0; i < 8; i++) {
		u8 t = (pat >> (i * 8)) & 0xff;

		if (t != 0 && t != 1 && t != 4 && t != 5 && t != 6 && t != 7)
			return false;
	}
	return true;
}

/*
 * The MSRs that live in the VMCB or that svm.c switches (the x86 layer's
 * allow-list sends them here): 0, -ENOENT (not on this host), -EINVAL
 * (bad value: #GP for the guest).
 */
static int svm_vendor_get_msr(struct vsnix_vcpu *vcpu, u32 index, u64 *data)
{
	struct svm_vcpu *sv = to_svm(vcpu);
	struct vmcb_save_area *save = &sv->vmcb->save;

	switch (index) {
	case MSR_EFER:
		*data = svm_guest_efer(sv);
		return 0;
	case MSR_IA32_CR_PAT:
		*data = save->g_pat;
		return 0;
	case MSR_TSC_AUX:
		if (!svm_has_tsc_aux)
			return -ENOENT;
		*data = sv->tsc_aux;
		return 0;
	case MSR_IA32_SPEC_CTRL:
		if (!svm_spec_ctrl_valid)
			return -ENOENT;
		*data = sv->spec_ctrl;
		return 0;
	case MSR_FS_BASE:
		*data = save->fs.base;
		return 0;
	case MSR_GS_BASE:
		*data = save->gs.base;
		return 0;
	case MSR_KERNEL_GS_BASE:
		*data = save->kernel_gs_base;
		return 0;
	case MSR_STAR:
		*data = save->star;
		return 0;
	case MSR_LSTAR:
		*data = save->lstar;
		return 0;
	case MSR_CSTAR:
		*data = save->cstar;
		return 0;
	case MSR_SYSCALL_MASK:
		*data = save->sfmask;
		return 0;
	case MSR_IA32_SYSENTER_CS:
		*data = save->sysenter_cs;
		return 0;
	case MSR_IA32_SYSENTER_ESP:
		*data = save->sysenter_esp;
		return 0;
	case MSR_IA32_SYSENTER_EIP:
		*data = save->sysenter_eip;
		return 0;
	}
	return -ENOENT;
}

static int svm_set_efer(struct vsnix_vcpu *vcpu, u64 efer, bool host)
{
	struct svm_vcpu *sv = to_svm(vcpu);
	struct vmcb_save_area *save = &sv->vmcb->save;
	u64 old = svm_guest_efer(sv);
	bool paging = save->cr0 & X86_CR0_PG;
	u64 valid = EFER_SCE | EFER_LME | EFER_LMA;

	if (boot_cpu_has(X86_FEATURE_NX))
		valid |= EFER_NX;
	if (efer & ~valid)
		return -EINVAL;
	if (!host) {
		/* LMA is read-only to the guest; LME is fixed while paging. */
		efer = (efer & ~EFER_LMA) | (old & EFER_LMA);
		if (paging && ((efer ^ old) & EFER_LME))
			return -EINVAL;
	} else if (paging) {
		/* The same rules as SET_SREGS (vsnix_x86_check_sregs). */
		if (!!(efer & EFER_LMA) != !!(efer & EFER_LME))
			return -EINVAL;
		if ((efer & EFER_LME) && !(save->cr4 & X86_CR4_PAE))
			return -EINVAL;
	} else if (efer & EFER_LMA) {
		return -EINVAL;
	}
	save->efer = efer | EFER_SVME;
	svm_sync_lme(sv, efer & EFER_LME);
	return 0;
}

static int svm_set_vmcb_msr(struct vmcb_save_area *save, u32 index, u64 data)
{
	switch (index) {
	case MSR_FS_BASE:
	case MSR_GS_BASE:
	case MSR_KERNEL_GS_BASE:
	case MSR_LSTAR:
	case MSR_CSTAR:
	case MSR_IA32_SYSENTER_ESP:
	case MSR_IA32_SYSENTER_EIP:
		/* Canonical 48-bit addresses, as WRMSR would require. */
		if (!vsnix_canonical(data))
			return -EINVAL;
		break;
	}
	switch (index) {
	case MSR_FS_BASE:
		save->fs.base = data;
		return 0;
	case MSR_GS_BASE:
		save->gs.base = data;
		return 0;
	case MSR_KERNEL_GS_BASE:
		save->kernel_gs_base = data;
		return 0;
	case MSR_STAR:
		save->star = data;
		return 0;
	case MSR_LSTAR:
		save->lstar = data;
		return 0;
	case MSR_CSTAR:
		save->cstar = data;
		return 0;
	case MSR_SYSCALL_MASK:
		save->sfmask = data;
		return 0;
	case MSR_IA32_SYSENTER_CS:
		save->sysenter_cs = data;
		return 0;
	case MSR_IA32_SYSENTER_ESP:
		save->sysenter_esp = data;
		return 0;
	case MSR_IA32_SYSENTER_EIP:
		save->sysenter_eip = data;
		return 0;
	}
	return -ENOENT;
}

static int svm_vendor_set_msr(struct vsnix_vcpu *vcpu, u32 index, u64 data,
			      bool host)
{
	struct svm_vcpu *sv = to_svm(vcpu);

	switch (index) {
	case MSR_EFER:
		return svm_set_efer(vcpu, data, host);
	case MSR_IA32_CR_PAT:
		if (!svm_pat_valid(data))
			return -EINVAL;
		sv->vmcb->save.g_pat = data;
		return 0;
	case MSR_TSC_AUX:
		if (!svm_has_tsc_aux)
			return -ENOENT;
		/* Bits 63:32 are reserved (APM Vol 3, RDTSCP). */
		if (data >> 32)
			return -EINVAL;
		sv->tsc_aux = data;
		return 0;
	case MSR_IA32_SPEC_CTRL:
		if (!svm_spec_ctrl_valid || (data & ~svm_spec_ctrl_valid))
			return svm_spec_ctrl_valid ? -EINVAL : -ENOENT;
		sv->spec_ctrl = data;
		return 0;
	}
	return svm_set_vmcb_msr(&sv->vmcb->save, index, data);
}

static void svm_set_tsc_offset(struct vsnix_vcpu *vcpu, u64 offset)
{
	to_svm(vcpu)->vmcb->control.tsc_offset = offset;
}

/*
 * RESET/INIT: DR0-3 back in software and intercepted again until the
 * guest touches them (svm_exit_dr); DR6 and DR7 live in the VMCB.
 */
static void svm_set_dr(struct vsnix_vcpu *vcpu, const u64 *dr03, u64 dr6,
		       u64 dr7)
{
	struct svm_vcpu *sv = to_svm(vcpu);
	struct vmcb *vmcb = sv->vmcb;
	int i;

	for (i = 0; i < 4; i++) {
		sv->dr[i] = dr03[i];
		svm_set_intercept(vmcb, INTERCEPT_DR0_READ + i);
		svm_set_intercept(vmcb, INTERCEPT_DR0_WRITE + i);
	}
	svm_set_intercept(vmcb, INTERCEPT_DR4_WRITE);
	svm_set_intercept(vmcb, INTERCEPT_DR5_WRITE);
	svm_set_intercept(vmcb, INTERCEPT_DR7_WRITE);
	sv->dr_active = false;
	vmcb->save.dr6 = dr6;
	vmcb->save.dr7 = dr7;
}

const struct vsnix_x86_vendor_ops svm_x86_ops = {
	.get_msr = svm_vendor_get_msr,
	.set_msr = svm_vendor_set_msr,
	.set_tsc_offset = svm_set_tsc_offset,
	.set_dr = svm_set_dr,
};
