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

#define SVM_RESET_CR0		0x60000010ULL	/* CD, NW, ET */
#define SVM_RESET_PAT		0x0007040600070406ULL
#define SVM_RESET_DR6		0xffff0ff0ULL
#define SVM_RESET_DR7		0x400ULL
#define SVM_APIC_BASE_DEFAULT	0xfee00000ULL
#define SVM_APIC_BASE_VALID	(MSR_IA32_APICBASE_BSP | MSR_IA32_APICBASE_ENABLE | \
				 BIT_ULL(10) | GENMASK_ULL(51, 12))
#define SVM_MTRR_DEF_VALID	(0xffULL | BIT_ULL(10) | BIT_ULL(11))

static void svm_reset_seg(struct vmcb_seg *seg, u16 attrib)
{
	seg->selector = 0;
	seg->attrib = attrib;
	seg->limit = 0xffff;
	seg->base = 0;
}

/* The state after RESET (APM Vol 2, 14.1.3 "Processor Initialization State"). */
void svm_init_vmcb_state(struct vsnix_vcpu *vcpu)
{
	struct svm_vcpu *sv = to_svm(vcpu);
	struct vmcb_save_area *save = &sv->vmcb->save;

	memset(save, 0, sizeof(*save));
	svm_reset_seg(&save->cs, 0x009b);
	save->cs.selector = 0xf000;
	save->cs.base = 0xffff0000;
	svm_reset_seg(&save->ds, 0x0093);
	svm_reset_seg(&save->es, 0x0093);
	svm_reset_seg(&save->fs, 0x0093);
	svm_reset_seg(&save->gs, 0x0093);
	svm_reset_seg(&save->ss, 0x0093);
	svm_reset_seg(&save->ldtr, 0x0082);
	svm_reset_seg(&save->tr, 0x008b);
	save->gdtr.limit = 0xffff;
	save->idtr.limit = 0xffff;

	save->cr0 = SVM_RESET_CR0;
	/* VMRUN requires EFER.SVME (APM 15.5.1); the guest never sees it. */
	save->efer = EFER_SVME;
	save->dr6 = SVM_RESET_DR6;
	save->dr7 = SVM_RESET_DR7;
	save->g_pat = SVM_RESET_PAT;
	save->rflags = X86_EFLAGS_FIXED;
	save->rip = 0xfff0;

	memset(vcpu->gpr, 0, sizeof(vcpu->gpr));
	vcpu->gpr[VSNIX_RDX] = 0x600;	/* processor signature, as KVM */
	vcpu->rip = 0xfff0;
	vcpu->rflags = X86_EFLAGS_FIXED;

	sv->apic_base = SVM_APIC_BASE_DEFAULT | MSR_IA32_APICBASE_ENABLE |
			(vcpu->id == 0 ? MSR_IA32_APICBASE_BSP : 0);
	sv->misc_enable = MSR_IA32_MISC_ENABLE_FAST_STRING;
	sv->tsc_aux = 0;
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
	sregs->efer = save->efer & ~EFER_SVME;
	sregs->apic_base = sv->apic_base;
	if (vsnix_lapic_in_kernel(vcpu)) {
		sregs->cr8 = vsnix_lapic_get_cr8(vcpu);
		sregs->apic_base = vsnix_lapic_get_base(vcpu);
	}
}

static u64 svm_efer_valid(void)
{
	u64 valid = EFER_SCE | EFER_LME | EFER_LMA;

	if (boot_cpu_has(X86_FEATURE_NX))
		valid |= EFER_NX;
	return valid;
}

static u64 svm_cr4_valid(void)
{
	u64 valid = X86_CR4_VME | X86_CR4_PVI | X86_CR4_TSD | X86_CR4_DE |
		    X86_CR4_PSE | X86_CR4_PAE | X86_CR4_MCE | X86_CR4_PGE |
		    X86_CR4_PCE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT;

	if (boot_cpu_has(X86_FEATURE_UMIP))
		valid |= X86_CR4_UMIP;
	if (boot_cpu_has(X86_FEATURE_FSGSBASE))
		valid |= X86_CR4_FSGSBASE;
	if (boot_cpu_has(X86_FEATURE_PCID))
		valid |= X86_CR4_PCIDE;
	if (boot_cpu_has(X86_FEATURE_XSAVE))
		valid |= X86_CR4_OSXSAVE;
	if (boot_cpu_has(X86_FEATURE_SMEP))
		valid |= X86_CR4_SMEP;
	if (boot_cpu_has(X86_FEATURE_SMAP))
		valid |= X86_CR4_SMAP;
	return valid;
}

/*
 * The VMRUN consistency checks (APM 15.5.1) and the architectural rules a
 * MOV to CR would enforce, so that a bad SET_SREGS fails here with
 * -EINVAL instead of as VMEXIT_INVALID.
 */
static int svm_check_sregs(const struct vsnix_sregs *s)
{
	bool pg = s->cr0 & X86_CR0_PG;
	bool lme = s->efer & EFER_LME;

	if (s->cr0 >> 32)
		return -EINVAL;
	if ((s->cr0 & X86_CR0_NW) && !(s->cr0 & X86_CR0_CD))
		return -EINVAL;
	if (pg && !(s->cr0 & X86_CR0_PE))
		return -EINVAL;
	if (s->cr4 & ~svm_cr4_valid())
		return -EINVAL;
	if (s->cr3 & GENMASK_ULL(63, 52))
		return -EINVAL;
	if (s->cr8 > 15)
		return -EINVAL;
	if (s->efer & ~svm_efer_valid())
		return -EINVAL;
	/* LMA is what LME and CR0.PG make it. */
	if (!!(s->efer & EFER_LMA) != (lme && pg))
		return -EINVAL;
	if (lme && pg && !(s->cr4 & X86_CR4_PAE))
		return -EINVAL;
	if (lme && pg && s->cs.l && s->cs.db)
		return -EINVAL;
	/* As VMX demands it: a 64-bit CS only in long mode, on both vendors. */
	if (s->cs.l && !s->cs.unusable && !(s->efer & EFER_LMA))
		return -EINVAL;
	if ((s->cr4 & X86_CR4_PCIDE) && !lme)
		return -EINVAL;
	if (s->apic_base & ~SVM_APIC_BASE_VALID)
		return -EINVAL;
	return 0;
}

int svm_set_sregs(struct vsnix_vcpu *vcpu, const struct vsnix_sregs *sregs)
{
	struct svm_vcpu *sv = to_svm(vcpu);
	struct vmcb_save_area *save = &sv->vmcb->save;
	int err;

	err = svm_check_sregs(sregs);
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
	/* The CPL is the VMCB's own field: SS.DPL, 0 in real mode (15.5.1). */
	save->cpl = (sregs->cr0 & X86_CR0_PE) ? sregs->ss.dpl & 3 : 0;
	sv->vmcb->control.int_ctl &= ~V_TPR_MASK;
	sv->vmcb->control.int_ctl |= sregs->cr8 & V_TPR_MASK;
	sv->apic_base = sregs->apic_base;

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
 * MSRs the guest may read and write. host: from the MSR ioctls, which may
 * also set what the guest cannot (APIC_BASE). 0, -ENOENT (unknown MSR:
 * #GP for the guest), -EINVAL (bad value: #GP for the guest).
 */
static int svm_msr_read(struct vsnix_vcpu *vcpu, u32 index, u64 *data)
{
	struct svm_vcpu *sv = to_svm(vcpu);
	struct vmcb_save_area *save = &sv->vmcb->save;

	if (vsnix_lapic_in_kernel(vcpu) && vsnix_lapic_msr(index))
		return vsnix_lapic_rdmsr(vcpu, index, data);

	switch (index) {
	case MSR_EFER:
		*data = save->efer & ~EFER_SVME;
		return 0;
	case MSR_IA32_CR_PAT:
		*data = save->g_pat;
		return 0;
	case MSR_IA32_TSC:
		*data = rdtsc() + sv->vmcb->control.tsc_offset;
		return 0;
	case MSR_IA32_APICBASE:
		*data = sv->apic_base;
		return 0;
	case MSR_TSC_AUX:
		if (!svm_has_tsc_aux)
			return -ENOENT;
		*data = sv->tsc_aux;
		return 0;
	case MSR_MTRRcap:	/* no variable or fixed MTRRs, no WC */
	case MSR_IA32_UCODE_REV:
	case MSR_IA32_MCG_CAP:
	case MSR_IA32_MCG_STATUS:
	case MSR_IA32_DEBUGCTLMSR:
	case MSR_K7_HWCR:
	/*
	 * The legacy performance counters exist on every AMD CPU (APM Vol 2,
	 * 13.2.1), and the core ones where CPUID says so: no guest PMU here,
	 * so they read 0 and take only 0.
	 */
	case MSR_K7_EVNTSEL0 ... MSR_K7_PERFCTR3:
	case MSR_F15H_PERF_CTL0 ... MSR_F15H_PERF_CTR5:
		*data = 0;
		return 0;
	case MSR_MTRRdefType:
		*data = sv->mtrr_def_type;
		return 0;
	case MSR_IA32_MISC_ENABLE:
		*data = sv->misc_enable;
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
	struct vmcb_save_area *save = &to_svm(vcpu)->vmcb->save;
	u64 old = save->efer;
	bool paging = save->cr0 & X86_CR0_PG;

	if (efer & ~svm_efer_valid())
		return -EINVAL;
	if (!host) {
		/* LMA is read-only to the guest; LME is fixed while paging. */
		efer = (efer & ~EFER_LMA) | (old & EFER_LMA);
		if (paging && ((efer ^ old) & EFER_LME))
			return -EINVAL;
	} else if (paging) {
		/* The same rules as SET_SREGS (svm_check_sregs). */
		if (!!(efer & EFER_LMA) != !!(efer & EFER_LME))
			return -EINVAL;
		if ((efer & EFER_LME) && !(save->cr4 & X86_CR4_PAE))
			return -EINVAL;
	} else if (efer & EFER_LMA) {
		return -EINVAL;
	}
	save->efer = efer | EFER_SVME;
	return 0;
}

static int svm_msr_write(struct vsnix_vcpu *vcpu, u32 index, u64 data,
			 bool host)
{
	struct svm_vcpu *sv = to_svm(vcpu);
	struct vmcb_save_area *save = &sv->vmcb->save;

	if (vsnix_lapic_in_kernel(vcpu) && vsnix_lapic_msr(index))
		return vsnix_lapic_wrmsr(vcpu, index, data);

	switch (index) {
	case MSR_EFER:
		return svm_set_efer(vcpu, data, host);
	case MSR_IA32_CR_PAT:
		if (!svm_pat_valid(data))
			return -EINVAL;
		save->g_pat = data;
		return 0;
	case MSR_IA32_TSC:
		sv->vmcb->control.tsc_offset = data - rdtsc();
		return 0;
	case MSR_IA32_APICBASE:
		if (data & ~SVM_APIC_BASE_VALID)
			return -EINVAL;
		/* There is no APIC to move: the guest may only rewrite it. */
		if (!host && data != sv->apic_base)
			return -EINVAL;
		sv->apic_base = data;
		return 0;
	case MSR_TSC_AUX:
		if (!svm_has_tsc_aux)
			return -ENOENT;
		/* Bits 63:32 are reserved (APM Vol 3, RDTSCP). */
		if (data >> 32)
			return -EINVAL;
		sv->tsc_aux = data;
		return 0;
	case MSR_IA32_UCODE_REV:	/* Linux writes 0 before CPUID */
		return 0;
	case MSR_IA32_MCG_STATUS:
	case MSR_IA32_DEBUGCTLMSR:
	case MSR_K7_HWCR:
	case MSR_K7_EVNTSEL0 ... MSR_K7_PERFCTR3:
	case MSR_F15H_PERF_CTL0 ... MSR_F15H_PERF_CTR5:
		return data ? -EINVAL : 0;
	case MSR_MTRRdefType:
		if (data & ~SVM_MTRR_DEF_VALID)
			return -EINVAL;
		sv->mtrr_def_type = data;
		return 0;
	case MSR_IA32_MISC_ENABLE:
		sv->misc_enable = data;
		return 0;
	case MSR_IA32_SPEC_CTRL:
		if (!svm_spec_ctrl_valid || (data & ~svm_spec_ctrl_valid))
			return svm_spec_ctrl_valid ? -EINVAL : -ENOENT;
		sv->spec_ctrl = data;
		return 0;
	case MSR_IA32_PRED_CMD:
		if (!boot_cpu_has(X86_FEATURE_IBPB))
			return -ENOENT;
		if (data & ~PRED_CMD_IBPB)
			return -EINVAL;
		if (data)
			wrmsrl(MSR_IA32_PRED_CMD, PRED_CMD_IBPB);
		return 0;
	}

	/* The VMLOAD/VMSAVE set: the MSR ioctls, and guest SYSCALL-MSR writes. */
	switch (index) {
	case MSR_FS_BASE:
	case MSR_GS_BASE:
	case MSR_KERNEL_GS_BASE:
	case MSR_LSTAR:
	case MSR_CSTAR:
	case MSR_IA32_SYSENTER_ESP:
	case MSR_IA32_SYSENTER_EIP:
		/* Canonical 48-bit addresses, as WRMSR would require. */
		if ((u64)((s64)(data << 16) >> 16) != data)
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

int svm_get_msr(struct vsnix_vcpu *vcpu, u32 index, u64 *data)
{
	return svm_msr_read(vcpu, index, data);
}

int svm_set_msr(struct vsnix_vcpu *vcpu, u32 index, u64 data)
{
	return svm_msr_write(vcpu, index, data, true);
}

int svm_guest_rdmsr(struct vsnix_vcpu *vcpu, u32 index, u64 *data)
{
	return svm_msr_read(vcpu, index, data);
}

int svm_guest_wrmsr(struct vsnix_vcpu *vcpu, u32 index, u64 data)
{
	return svm_msr_write(vcpu, index, data, false);
}
