// SPDX-License-Identifier: GPL-2.0
/*
 * Architectural vCPU state once for both vendors: the guest's features
 * from its CPUID, RESET and INIT, and the checks of SET_SREGS. Vendors
 * only convert to and from their VMCB/VMCS formats (set_sregs, set_regs,
 * the MSR and debug-register hooks).
 */
#include <linux/kernel.h>
#include <asm/cpufeature.h>
#include <asm/processor.h>
#include <asm/processor-flags.h>
#include "x86.h"
#include "lapic.h"

#define RESET_CR0	(X86_CR0_CD | X86_CR0_NW | X86_CR0_ET)
#define RESET_PAT	0x0007040600070406ULL
#define RESET_DR6	0xffff0ff0ULL
#define RESET_DR7	0x400ULL

/* "AuthenticAMD" and "HygonGenuine" as CPUID leaf 0 EBX, EDX, ECX. */
static bool cpuid_vendor_amd(u32 ebx, u32 ecx, u32 edx)
{
	return (ebx == 0x68747541 && edx == 0x69746e65 && ecx == 0x444d4163) ||
	       (ebx == 0x6f677948 && edx == 0x6e65476e && ecx == 0x656e6975);
}

/* CR4 bits this host's CPU can run a guest with (whatever its CPUID). */
static u64 host_cr4_bits(void)
{
	u64 cr4 = ~0ULL;

	if (!boot_cpu_has(X86_FEATURE_UMIP))
		cr4 &= ~X86_CR4_UMIP;
	if (!boot_cpu_has(X86_FEATURE_FSGSBASE))
		cr4 &= ~X86_CR4_FSGSBASE;
	if (!boot_cpu_has(X86_FEATURE_PCID))
		cr4 &= ~X86_CR4_PCIDE;
	if (!boot_cpu_has(X86_FEATURE_XSAVE))
		cr4 &= ~X86_CR4_OSXSAVE;
	if (!boot_cpu_has(X86_FEATURE_SMEP))
		cr4 &= ~X86_CR4_SMEP;
	if (!boot_cpu_has(X86_FEATURE_SMAP))
		cr4 &= ~X86_CR4_SMAP;
	if (!boot_cpu_has(X86_FEATURE_PKU))
		cr4 &= ~X86_CR4_PKE;
	return cr4;
}

/*
 * The guest's features, from its CPUID policy (which userspace may change
 * at any time): refreshed at each RUN, MSR ioctl and SET_SREGS, so that
 * exit handlers and the entry path read them without the CPUID lock.
 */
/* Linux's KVM range at 0x40000100 with KVM_FEATURE_PV_EOI (lapic.h). */
static bool cpuid_kvm_pv_eoi(struct vsnix_vcpu *vcpu)
{
	u32 a, b, c, d;

	vsnix_cpuid_lookup(vcpu, VSNIX_KVM_CPUID_SIGNATURE, 0, &a, &b, &c, &d);
	if (b != 0x4b4d564b || c != 0x564b4d56 || d != 0x4d ||
	    a < VSNIX_KVM_CPUID_FEATURES)
		return false;
	vsnix_cpuid_lookup(vcpu, VSNIX_KVM_CPUID_FEATURES, 0, &a, &b, &c, &d);
	return a & VSNIX_KVM_FEATURE_PV_EOI;
}

void vsnix_x86_refresh_features(struct vsnix_vcpu *vcpu)
{
	struct vsnix_x86_features *f = &to_x86(vcpu)->feat;
	u32 a, b, c, d, l1c, l1d, l7b, l7c, e1d;

	vsnix_cpuid_lookup(vcpu, 0, 0, &a, &b, &c, &d);
	f->amd = cpuid_vendor_amd(b, c, d);
	vsnix_cpuid_lookup(vcpu, 1, 0, &a, &b, &l1c, &l1d);
	vsnix_cpuid_lookup(vcpu, 7, 0, &a, &l7b, &l7c, &d);
	vsnix_cpuid_lookup(vcpu, 0x80000001, 0, &a, &b, &c, &e1d);
	f->mtrr = l1d & BIT(12);
	f->mce = l1d & BIT(7);
	f->mca = l1d & BIT(14);
	f->tsc_adjust = l7b & BIT(1);
	f->invpcid = l7b & BIT(10);
	f->rdpid = l7c & BIT(22);
	f->rdtscp = e1d & BIT(27);
	f->x2apic = l1c & BIT(21);
	f->tsc_deadline = l1c & BIT(24);
	f->pv_eoi = cpuid_kvm_pv_eoi(vcpu);
	f->cr4_allowed = vsnix_cpuid_cr4_allowed(l1c, l1d, l7b, l7c) &
			 host_cr4_bits();
	f->maxphyaddr = vsnix_x86_maxphyaddr(vcpu);
}

bool vsnix_x86_cr4_valid(struct vsnix_vcpu *vcpu, u64 cr4)
{
	return !(cr4 & ~to_x86(vcpu)->feat.cr4_allowed);
}

/* ------------------------------------------------------------ SREGS */

static int bad_sregs(const char *what)
{
	pr_info_ratelimited("vsnix: SET_SREGS: %s\n", what);
	return -EINVAL;
}

static bool seg_fields_ok(const struct vsnix_segment *s)
{
	return !s->pad && s->dpl <= 3 && s->type <= 15 && s->present <= 1 &&
	       s->s <= 1 && s->l <= 1 && s->db <= 1 && s->g <= 1 &&
	       s->avl <= 1 && s->unusable <= 1;
}

static u64 efer_valid(void)
{
	u64 valid = EFER_SCE | EFER_LME | EFER_LMA;

	if (boot_cpu_has(X86_FEATURE_NX))
		valid |= EFER_NX;
	return valid;
}

/*
 * What a MOV to CR or WRMSR EFER would refuse, and what neither VMRUN
 * (APM Vol 2, 15.5.1) nor VM entry (SDM Vol 3, 26.3.1.1) accepts: one
 * set of rules, so that SET_SREGS fails alike on both vendors. The
 * segment checks that VM entry alone makes stay in vmx_state.c.
 */
int vsnix_x86_check_sregs(struct vsnix_vcpu *vcpu,
			  const struct vsnix_sregs *s)
{
	const struct vsnix_segment *segs[] = { &s->cs, &s->ds, &s->es,
		&s->fs, &s->gs, &s->ss, &s->tr, &s->ldt };
	bool pg = s->cr0 & X86_CR0_PG, lme = s->efer & EFER_LME;
	unsigned int i;

	vsnix_x86_refresh_features(vcpu);
	if (s->reserved[0] | s->reserved[1] | s->reserved[2] |
	    s->reserved[3] | s->gdt.pad[0] | s->gdt.pad[1] | s->gdt.pad[2] |
	    s->idt.pad[0] | s->idt.pad[1] | s->idt.pad[2])
		return bad_sregs("reserved fields must be 0");
	for (i = 0; i < ARRAY_SIZE(segs); i++)
		if (!seg_fields_ok(segs[i]))
			return bad_sregs("segment field out of range");
	if ((s->cr0 >> 32) || (pg && !(s->cr0 & X86_CR0_PE)) ||
	    ((s->cr0 & X86_CR0_NW) && !(s->cr0 & X86_CR0_CD)))
		return bad_sregs("invalid CR0");
	if ((s->cr4 >> 32) || !vsnix_x86_cr4_valid(vcpu, s->cr4))
		return bad_sregs("CR4 bit reserved or hidden by the guest's CPUID");
	if (s->cr3 & GENMASK_ULL(63, boot_cpu_data.x86_phys_bits))
		return bad_sregs("CR3 above the physical address width");
	if (s->cr8 > 15)
		return bad_sregs("CR8 above 15");
	if (s->efer & ~efer_valid())
		return bad_sregs("unsupported EFER bits");
	/* LMA is what LME and CR0.PG make it (SDM Vol 3, 9.8.5). */
	if (!!(s->efer & EFER_LMA) != (lme && pg))
		return bad_sregs("EFER.LMA must equal EFER.LME and CR0.PG");
	if ((s->efer & EFER_LMA) && !(s->cr4 & X86_CR4_PAE))
		return bad_sregs("IA-32e mode needs CR4.PAE");
	if ((s->efer & EFER_LMA) && s->cs.l && s->cs.db)
		return bad_sregs("CS with L=1 needs D=0");
	if (s->cs.l && !s->cs.unusable && !(s->efer & EFER_LMA))
		return bad_sregs("64-bit CS outside IA-32e mode");
	if ((s->cr4 & X86_CR4_PCIDE) && !(s->efer & EFER_LMA))
		return bad_sregs("CR4.PCIDE outside IA-32e mode");
	if (!vsnix_canonical(s->gdt.base) || !vsnix_canonical(s->idt.base))
		return bad_sregs("GDT/IDT base not canonical");
	return 0;
}

/* ------------------------------------------------------------ RESET, INIT */

static void reset_seg(struct vsnix_segment *seg, u8 type, bool s)
{
	*seg = (struct vsnix_segment){
		.limit = 0xffff, .type = type, .s = s, .present = 1,
	};
}

/*
 * SDM Vol 3, 9.1.1 table 9-1 and APM Vol 2, 14.1.3: real mode at
 * F000:FFF0 (CS base FFFF0000), data segments 0 with a 64 KiB limit, CR0
 * 60000010H after RESET; INIT keeps CR0.CD and NW, and keeps the MSRs
 * (MTRRs, PAT, APIC base, TSC...), but EFER goes back to 0 (table 9-1).
 * EDX holds the processor signature, CPUID.1:EAX.
 */
int vsnix_x86_vcpu_reset(struct vsnix_vcpu *vcpu, bool init)
{
	const struct vsnix_x86_vendor_ops *v =
		vsnix_ops->vendor == VSNIX_VENDOR_SVM ? &svm_x86_ops :
							&vmx_x86_ops;
	static const u64 zero_dr[4];
	struct vsnix_regs regs = { .rip = 0xfff0, .rflags = X86_EFLAGS_FIXED };
	struct vsnix_sregs s = { };
	u32 sig, b, c, d;
	int r;

	vsnix_x86_refresh_features(vcpu);
	/* INIT too: a kexec'd kernel must not find its RAM written. */
	vsnix_lapic_pv_eoi_reset(vcpu);
	if (init) {
		vsnix_ops->get_sregs(vcpu, &s);
		s.cr0 = (s.cr0 & (X86_CR0_CD | X86_CR0_NW)) | X86_CR0_ET;
	} else {
		vsnix_x86_msr_reset(vcpu);
		s.cr0 = RESET_CR0;
	}
	reset_seg(&s.cs, 0xb, true);
	s.cs.selector = 0xf000;
	s.cs.base = 0xffff0000;
	reset_seg(&s.ds, 0x3, true);
	s.es = s.fs = s.gs = s.ss = s.ds;
	reset_seg(&s.ldt, 0x2, false);
	reset_seg(&s.tr, 0xb, false);	/* busy TSS, as VM entry wants */
	s.gdt = (struct vsnix_dtable){ .limit = 0xffff };
	s.idt = (struct vsnix_dtable){ .limit = 0xffff };
	s.cr2 = s.cr3 = s.cr4 = s.cr8 = s.efer = 0;
	s.apic_base = vsnix_x86_apic_base(vcpu);
	r = vsnix_ops->set_sregs(vcpu, &s);
	if (r)
		return r;

	vsnix_cpuid_lookup(vcpu, 1, 0, &sig, &b, &c, &d);
	regs.rdx = sig;
	r = vsnix_ops->set_regs(vcpu, &regs);
	if (r)
		return r;
	v->set_dr(vcpu, zero_dr, RESET_DR6, RESET_DR7);
	if (init)
		return 0;
	/* The vendor-held MSRs: PAT to its default, the others 0. */
	r = v->set_msr(vcpu, MSR_IA32_CR_PAT, RESET_PAT, true);
	for (b = MSR_IA32_SYSENTER_CS; !r && b <= MSR_IA32_SYSENTER_EIP; b++)
		r = v->set_msr(vcpu, b, 0, true);
	for (b = MSR_STAR; !r && b <= MSR_SYSCALL_MASK; b++)
		r = v->set_msr(vcpu, b, 0, true);
	for (b = MSR_FS_BASE; !r && b <= MSR_KERNEL_GS_BASE; b++)
		r = v->set_msr(vcpu, b, 0, true);
	/* TSC_AUX and SPEC_CTRL exist only where the host has them. */
	if (!r)
		v->set_msr(vcpu, MSR_TSC_AUX, 0, true);
	if (!r)
		v->set_msr(vcpu, MSR_IA32_SPEC_CTRL, 0, true);
	return r;
}

int vsnix_x86_vcpu_init_state(struct vsnix_vcpu *vcpu)
{
	return vsnix_x86_vcpu_reset(vcpu, true);
}
