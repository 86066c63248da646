// SPDX-License-Identifier: GPL-2.0
/*
 * vSnix VMX: guest register state. GPRs, RIP and RFLAGS live in the
 * vcpu's register cache; segments, control registers and most MSRs in the
 * VMCS (SDM Vol 3, 24.4), which is made current around every access.
 */
#include <linux/kernel.h>
#include <asm/msr.h>
#include <asm/processor.h>
#include <asm/processor-flags.h>
#include <asm/spec-ctrl.h>
#include "vmx.h"
#include "../lapic.h"
#include "vmcs.h"

#define VMX_RESET_PAT		0x0007040600070406ull
#define VMX_EFER_VALID		(EFER_SCE | EFER_LME | EFER_LMA | EFER_NX)

struct vmx_seg_fields {
	u32 selector, base, limit, ar;
};

/* ES, CS, SS, DS, FS, GS, LDTR, TR: SDM Appendix B field encodings. */
enum { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_LDTR, SEG_TR };

static const struct vmx_seg_fields vmx_segs[] = {
	[SEG_ES] = { GUEST_ES_SELECTOR, GUEST_ES_BASE, GUEST_ES_LIMIT, GUEST_ES_AR_BYTES },
	[SEG_CS] = { GUEST_CS_SELECTOR, GUEST_CS_BASE, GUEST_CS_LIMIT, GUEST_CS_AR_BYTES },
	[SEG_SS] = { GUEST_SS_SELECTOR, GUEST_SS_BASE, GUEST_SS_LIMIT, GUEST_SS_AR_BYTES },
	[SEG_DS] = { GUEST_DS_SELECTOR, GUEST_DS_BASE, GUEST_DS_LIMIT, GUEST_DS_AR_BYTES },
	[SEG_FS] = { GUEST_FS_SELECTOR, GUEST_FS_BASE, GUEST_FS_LIMIT, GUEST_FS_AR_BYTES },
	[SEG_GS] = { GUEST_GS_SELECTOR, GUEST_GS_BASE, GUEST_GS_LIMIT, GUEST_GS_AR_BYTES },
	[SEG_LDTR] = { GUEST_LDTR_SELECTOR, GUEST_LDTR_BASE, GUEST_LDTR_LIMIT,
		       GUEST_LDTR_AR_BYTES },
	[SEG_TR] = { GUEST_TR_SELECTOR, GUEST_TR_BASE, GUEST_TR_LIMIT, GUEST_TR_AR_BYTES },
};

static bool vmx_canonical(u64 addr)
{
	return (u64)((s64)(addr << 16) >> 16) == addr;
}

/*
 * CR0 bits the guest reads from the shadow and whose writes exit: the
 * VMX-fixed ones, PG, and CD/NW, which Bochs clears in the guest's CR0 at
 * VM entry (the guest then read 0x10 after RESET, not 0x60000010 as on
 * SVM; selftests/x86_probe).
 */
u64 vmx_cr0_mask(void)
{
	return vmx_cfg.cr0_must1 | vmx_cfg.cr0_must0 | X86_CR0_PG |
	       X86_CR0_CD | X86_CR0_NW;
}

/*
 * CR4 bits the guest may flip without an exit: those every x86-64 CPU has
 * and that need no check against the guest's CPUID or PDPTE reload.
 * Every other bit is in the guest/host mask (SDM Vol 3, 25.6.6), so a MOV
 * to CR4 that changes it exits and vmx_set_cr4_pdptes checks it.
 */
u64 vmx_cr4_guest_owned(void)
{
	u64 owned = X86_CR4_VME | X86_CR4_PVI | X86_CR4_TSD | X86_CR4_DE |
		    X86_CR4_PSE | X86_CR4_MCE | X86_CR4_PGE | X86_CR4_PCE |
		    X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT;

	return owned & ~(vmx_cfg.cr4_must1 | vmx_cfg.cr4_must0);
}

static u64 vmx_cr4_mask(void)
{
	return ~vmx_cr4_guest_owned();
}

/* The guest's view: owned bits from the register, masked from the shadow. */
u64 vmx_guest_cr0_locked(void)
{
	u64 mask = vmx_cr0_mask();

	return (vmcs_read(GUEST_CR0) & ~mask) |
	       (vmcs_read(CR0_READ_SHADOW) & mask);
}

u64 vmx_guest_cr4_locked(void)
{
	u64 mask = vmx_cr4_mask();

	return (vmcs_read(GUEST_CR4) & ~mask) |
	       (vmcs_read(CR4_READ_SHADOW) & mask);
}

static void vmx_write_cr0(u64 cr0)
{
	vmcs_write(CR0_READ_SHADOW, cr0);
	vmcs_write(GUEST_CR0, (cr0 | vmx_cfg.cr0_must1) & ~vmx_cfg.cr0_must0);
}

static void vmx_write_cr4(u64 cr4)
{
	vmcs_write(CR4_READ_SHADOW, cr4);
	vmcs_write(GUEST_CR4, (cr4 | vmx_cfg.cr4_must1) & ~vmx_cfg.cr4_must0);
}

static void vmx_set_ia32e(bool on)
{
	u64 entry = vmcs_read(VM_ENTRY_CONTROLS);

	if (on)
		entry |= VM_ENTRY_IA32E_MODE;
	else
		entry &= ~(u64)VM_ENTRY_IA32E_MODE;
	vmcs_write(VM_ENTRY_CONTROLS, entry);
}

static bool vmx_cr0_valid(u64 cr0)
{
	if (cr0 >> 32 || (cr0 & vmx_cfg.cr0_must0))
		return false;
	if ((cr0 & X86_CR0_PG) && !(cr0 & X86_CR0_PE))
		return false;
	return !((cr0 & X86_CR0_NW) && !(cr0 & X86_CR0_CD));
}

static bool vmx_cr4_valid(u64 cr4)
{
	return !(cr4 >> 32) && !(cr4 & (vmx_cfg.cr4_must0 | X86_CR4_VMXE));
}

static bool vmx_cr3_valid(u64 cr3)
{
	return !(cr3 >> boot_cpu_data.x86_phys_bits);
}

/*
 * PAE paging without IA-32e mode: with EPT, VM entry loads the PDPTEs from
 * the VMCS (SDM 26.3.2.4), so a CR write we emulate must load them.
 * Reads guest memory, so callers run this before taking the VMCS.
 */
struct vmx_pdptes {
	bool valid;
	u64 e[4];
};

static void vmx_read_pdptes(struct vsnix_vcpu *vcpu, u64 cr3,
			    struct vmx_pdptes *p)
{
	u64 rsvd = GENMASK_ULL(63, boot_cpu_data.x86_phys_bits) |
		   GENMASK_ULL(8, 5) | GENMASK_ULL(2, 1);
	unsigned int i;

	p->valid = !vsnix_guest_read(vcpu->vm, cr3 & 0xffffffe0ull, p->e,
				     sizeof(p->e));
	/* SDM 4.4.1: a present PDPTE with reserved bits set is invalid. */
	for (i = 0; p->valid && i < 4; i++)
		if ((p->e[i] & 1) && (p->e[i] & rsvd))
			p->valid = false;
}

static bool vmx_pae_paging(u64 cr0, u64 cr4, u64 efer)
{
	return (cr0 & X86_CR0_PG) && (cr4 & X86_CR4_PAE) && !(efer & EFER_LMA);
}

static int vmx_write_pdptes(const struct vmx_pdptes *p)
{
	if (!p || !p->valid)
		return -EINVAL;
	vmcs_write(GUEST_PDPTR0, p->e[0]);
	vmcs_write(GUEST_PDPTR1, p->e[1]);
	vmcs_write(GUEST_PDPTR2, p->e[2]);
	vmcs_write(GUEST_PDPTR3, p->e[3]);
	return 0;
}

/*
 * A guest MOV to CR0 that touched a masked bit. Paging on with EFER.LME
 * enters IA-32e mode: EFER.LMA and the "IA-32e mode guest" entry control
 * follow CR0.PG (SDM 26.2.1.3, 26.3.1.1; Vol 3 9.8.5).
 */
static int vmx_set_cr0_pdptes(struct vsnix_vcpu *vcpu, u64 cr0,
			      const struct vmx_pdptes *p)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	u64 old = vmx_guest_cr0_locked();
	u64 cr4 = vmx_guest_cr4_locked();
	u64 efer = vmcs_read(GUEST_IA32_EFER);

	if (!vmx_cr0_valid(cr0))
		return -EINVAL;
	if (!(old & X86_CR0_PG) && (cr0 & X86_CR0_PG) && (efer & EFER_LME)) {
		if (!(cr4 & X86_CR4_PAE) ||
		    (vmcs_read(GUEST_CS_AR_BYTES) & VMX_AR_L_MASK))
			return -EINVAL;
		efer |= EFER_LMA;
	} else if ((old & X86_CR0_PG) && !(cr0 & X86_CR0_PG)) {
		efer &= ~EFER_LMA;
	}
	if (vmx_pae_paging(cr0, cr4, efer) && !vmx_pae_paging(old, cr4, efer) &&
	    vmx_write_pdptes(p))
		return -EINVAL;
	vmcs_write(GUEST_IA32_EFER, efer);
	vmx_set_ia32e(efer & EFER_LMA);
	vmx_write_cr0(cr0);
	if ((old ^ cr0) & (X86_CR0_PG | X86_CR0_WP))
		vmx->need_flush = true;
	return 0;
}

static int vmx_set_cr4_pdptes(struct vsnix_vcpu *vcpu, u64 cr4,
			      const struct vmx_pdptes *p)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	u64 old = vmx_guest_cr4_locked();
	u64 cr0 = vmx_guest_cr0_locked();
	u64 efer = vmcs_read(GUEST_IA32_EFER);

	if (!vmx_cr4_valid(cr4) || !vsnix_x86_cr4_valid(vcpu, cr4))
		return -EINVAL;
	if ((efer & EFER_LMA) && !(cr4 & X86_CR4_PAE))
		return -EINVAL;
	/* SDM 4.10.1: PCIDE needs IA-32e mode and CR3[11:0] == 0. */
	if ((cr4 & X86_CR4_PCIDE) && !(old & X86_CR4_PCIDE) &&
	    (!(efer & EFER_LMA) || (vmcs_read(GUEST_CR3) & 0xfff)))
		return -EINVAL;
	if (vmx_pae_paging(cr0, cr4, efer) &&
	    ((old ^ cr4) & (X86_CR4_PAE | X86_CR4_PSE | X86_CR4_PGE)) &&
	    vmx_write_pdptes(p))
		return -EINVAL;
	vmx_write_cr4(cr4);
	if ((old ^ cr4) & (X86_CR4_PAE | X86_CR4_PSE | X86_CR4_PGE |
			   X86_CR4_PCIDE | X86_CR4_SMEP | X86_CR4_SMAP))
		vmx->need_flush = true;
	return 0;
}

/* Entry points for the exit handlers: take the VMCS themselves. */
static int vmx_set_cr_common(struct vsnix_vcpu *vcpu, int cr, u64 val)
{
	struct vmx_pdptes p;
	u64 cr3;
	int r;

	r = vmx_vmcs_get(vcpu);
	if (r)
		return r;
	cr3 = cr == 3 ? val : vmcs_read(GUEST_CR3);
	vmx_vmcs_put(vcpu);

	vmx_read_pdptes(vcpu, cr3, &p);

	r = vmx_vmcs_get(vcpu);
	if (r)
		return r;
	if (cr == 0) {
		r = vmx_set_cr0_pdptes(vcpu, val, &p);
	} else if (cr == 4) {
		r = vmx_set_cr4_pdptes(vcpu, val, &p);
	} else {
		/* Only when the CPU forces CR3-load exiting. */
		bool pcid = vmx_guest_cr4_locked() & X86_CR4_PCIDE;

		if (pcid)
			val &= ~BIT_ULL(63);
		r = -EINVAL;
		if (vmx_cr3_valid(val) &&
		    (!vmx_pae_paging(vmx_guest_cr0_locked(),
				     vmx_guest_cr4_locked(),
				     vmcs_read(GUEST_IA32_EFER)) ||
		     !vmx_write_pdptes(&p))) {
			vmcs_write(GUEST_CR3, val);
			to_vmx(vcpu)->need_flush = true;
			r = 0;
		}
	}
	vmx_vmcs_put(vcpu);
	return r;
}

int vmx_set_cr0_locked(struct vsnix_vcpu *vcpu, u64 cr0)
{
	return vmx_set_cr_common(vcpu, 0, cr0);
}

int vmx_set_cr4_locked(struct vsnix_vcpu *vcpu, u64 cr4)
{
	return vmx_set_cr_common(vcpu, 4, cr4);
}

int vmx_set_cr3_locked(struct vsnix_vcpu *vcpu, u64 cr3)
{
	return vmx_set_cr_common(vcpu, 3, cr3);
}

/* ------------------------------------------------------------ segments */

static void vmx_get_segment(int seg, struct vsnix_segment *s)
{
	const struct vmx_seg_fields *f = &vmx_segs[seg];
	u32 ar = vmcs_read(f->ar);

	memset(s, 0, sizeof(*s));
	s->selector = vmcs_read(f->selector);
	s->base = vmcs_read(f->base);
	s->limit = vmcs_read(f->limit);
	s->type = ar & 0xf;
	s->s = !!(ar & VMX_AR_S_MASK);
	s->dpl = VMX_AR_DPL(ar);
	s->present = !!(ar & VMX_AR_P_MASK);
	s->avl = !!(ar & BIT(12));
	s->l = !!(ar & VMX_AR_L_MASK);
	s->db = !!(ar & VMX_AR_DB_MASK);
	s->g = !!(ar & VMX_AR_G_MASK);
	s->unusable = !!(ar & VMX_AR_UNUSABLE_MASK);
}

/* Access rights: SDM 24.4.1, table 24-2. */
static u32 vmx_segment_ar(const struct vsnix_segment *s, bool unusable)
{
	return (s->type & 0xf) | (s->s ? VMX_AR_S_MASK : 0) |
	       ((s->dpl & 3) << VMX_AR_DPL_SHIFT) |
	       (s->present ? VMX_AR_P_MASK : 0) | (s->avl ? BIT(12) : 0) |
	       (s->l ? VMX_AR_L_MASK : 0) | (s->db ? VMX_AR_DB_MASK : 0) |
	       (s->g ? VMX_AR_G_MASK : 0) |
	       (unusable ? VMX_AR_UNUSABLE_MASK : 0);
}

static int vmx_bad_sreg(const char *what)
{
	pr_info_ratelimited("vsnix: SET_SREGS: %s\n", what);
	return -EINVAL;
}

/*
 * The checks of SDM 26.3.1.2 (guest segment registers) that an
 * unrestricted guest is still subject to, so that bad input fails here
 * and not at VM entry. Fills *s_out with the value to load.
 */
static int vmx_check_segment(int seg, const struct vsnix_segment *in,
			     struct vsnix_segment *s, bool *unusable,
			     bool ia32e, bool pe)
{
	*s = *in;
	if (s->pad || s->dpl > 3 || s->type > 15 || s->present > 1 ||
	    s->s > 1 || s->l > 1 || s->db > 1 || s->g > 1 || s->avl > 1 ||
	    s->unusable > 1)
		return vmx_bad_sreg("segment field out of range");
	*unusable = s->unusable || !s->present;
	if ((seg == SEG_CS || seg == SEG_TR) && *unusable)
		return vmx_bad_sreg("CS and TR must be present and usable");
	if (*unusable)
		return 0;
	if (seg != SEG_LDTR && seg != SEG_TR)
		s->type |= 1;	/* accessed: VM entry requires it */
	if ((s->limit & 0xfff) != 0xfff && s->g)
		return vmx_bad_sreg("G=1 needs limit[11:0] all ones");
	if ((s->limit >> 20) && !s->g)
		return vmx_bad_sreg("limit above 1 MiB needs G=1");

	switch (seg) {
	case SEG_TR:
		if (s->s || (s->type != 11 && (ia32e || s->type != 3)) ||
		    (s->selector & 4) || !vmx_canonical(s->base))
			return vmx_bad_sreg("TR must be a busy TSS in the GDT");
		break;
	case SEG_LDTR:
		if (s->s || s->type != 2 || (s->selector & 4) ||
		    !vmx_canonical(s->base))
			return vmx_bad_sreg("LDTR must be an LDT in the GDT");
		break;
	case SEG_CS:
		if (!s->s || (s->type != 3 && !(s->type & 8)) ||
		    (s->type == 3 && s->dpl))
			return vmx_bad_sreg("CS must be a code segment");
		if (s->l && !ia32e)
			return vmx_bad_sreg("64-bit CS outside IA-32e mode");
		if (s->l && s->db)
			return vmx_bad_sreg("CS with L=1 needs D=0");
		if (s->base >> 32)
			return vmx_bad_sreg("CS base above 4 GiB");
		break;
	case SEG_SS:
		if (!s->s || (s->type != 3 && s->type != 7))
			return vmx_bad_sreg("SS must be a writable data segment");
		if (!pe && s->dpl)
			return vmx_bad_sreg("SS.DPL must be 0 in real mode");
		if (s->base >> 32)
			return vmx_bad_sreg("SS base above 4 GiB");
		break;
	default:
		if (!s->s || ((s->type & 8) && !(s->type & 2)))
			return vmx_bad_sreg("data segment must be readable");
		if ((seg == SEG_DS || seg == SEG_ES) ? s->base >> 32 :
		    !vmx_canonical(s->base))
			return vmx_bad_sreg("data segment base out of range");
		break;
	}
	return 0;
}

static void vmx_put_segment(int seg, const struct vsnix_segment *s,
			    bool unusable)
{
	const struct vmx_seg_fields *f = &vmx_segs[seg];

	vmcs_write(f->selector, s->selector);
	vmcs_write(f->base, s->base);
	vmcs_write(f->limit, s->limit);
	vmcs_write(f->ar, vmx_segment_ar(s, unusable));
}

/* ------------------------------------------------------------ regs */

void vmx_get_regs(struct vsnix_vcpu *vcpu, struct vsnix_regs *regs)
{
	vsnix_x86_get_regs(vcpu, regs);
}

int vmx_set_regs(struct vsnix_vcpu *vcpu, const struct vsnix_regs *regs)
{
	int ret = vsnix_x86_set_regs(vcpu, regs);

	if (ret)
		return ret;
	to_vmx(vcpu)->regs_dirty = true;
	to_vmx(vcpu)->shutdown = false;
	return 0;
}

void vmx_get_sregs(struct vsnix_vcpu *vcpu, struct vsnix_sregs *sregs)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);

	memset(sregs, 0, sizeof(*sregs));
	if (vmx_vmcs_get(vcpu))
		return;
	vmx_get_segment(SEG_CS, &sregs->cs);
	vmx_get_segment(SEG_DS, &sregs->ds);
	vmx_get_segment(SEG_ES, &sregs->es);
	vmx_get_segment(SEG_FS, &sregs->fs);
	vmx_get_segment(SEG_GS, &sregs->gs);
	vmx_get_segment(SEG_SS, &sregs->ss);
	vmx_get_segment(SEG_TR, &sregs->tr);
	vmx_get_segment(SEG_LDTR, &sregs->ldt);
	sregs->gdt.base = vmcs_read(GUEST_GDTR_BASE);
	sregs->gdt.limit = vmcs_read(GUEST_GDTR_LIMIT);
	sregs->idt.base = vmcs_read(GUEST_IDTR_BASE);
	sregs->idt.limit = vmcs_read(GUEST_IDTR_LIMIT);
	sregs->cr0 = vmx_guest_cr0_locked();
	sregs->cr3 = vmcs_read(GUEST_CR3);
	sregs->cr4 = vmx_guest_cr4_locked();
	sregs->efer = vmcs_read(GUEST_IA32_EFER);
	vmx_vmcs_put(vcpu);
	sregs->cr2 = vmx->cr2;
	sregs->cr8 = vmx->cr8;
	sregs->apic_base = vsnix_x86_apic_base(vcpu);
	if (vsnix_lapic_in_kernel(vcpu))
		sregs->cr8 = vsnix_lapic_get_cr8(vcpu);
}

int vmx_set_sregs(struct vsnix_vcpu *vcpu, const struct vsnix_sregs *sregs)
{
	/* CS first and SS sixth: the DPL checks below index them. */
	static const int order[] = { SEG_CS, SEG_DS, SEG_ES, SEG_FS, SEG_GS,
				     SEG_SS, SEG_TR, SEG_LDTR };
	const struct vsnix_segment *in[] = { &sregs->cs, &sregs->ds,
		&sregs->es, &sregs->fs, &sregs->gs, &sregs->ss, &sregs->tr,
		&sregs->ldt };
	struct vsnix_segment segs[ARRAY_SIZE(order)];
	bool unusable[ARRAY_SIZE(order)];
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	u64 efer = sregs->efer;
	struct vmx_pdptes p = { };
	unsigned int i;
	int r;

	/* The architectural checks are the x86 layer's (both vendors). */
	r = vsnix_x86_check_sregs(vcpu, sregs);
	if (r)
		return r;
	/* What VM entry adds: the VMX fixed CR0/CR4 bits, the segments. */
	if (!vmx_cr0_valid(sregs->cr0))
		return vmx_bad_sreg("invalid CR0");
	if (!vmx_cr4_valid(sregs->cr4))
		return vmx_bad_sreg("invalid CR4 (reserved, unsupported or VMXE)");
	for (i = 0; i < ARRAY_SIZE(order); i++) {
		r = vmx_check_segment(order[i], in[i], &segs[i], &unusable[i],
				      efer & EFER_LMA, sregs->cr0 & X86_CR0_PE);
		if (r)
			return r;
	}
	/* SDM 26.3.1.2: CPL is SS.DPL; CS must agree with it. */
	if ((segs[0].type == 9 || segs[0].type == 11) &&
	    segs[0].dpl != segs[5].dpl)
		return vmx_bad_sreg("non-conforming CS.DPL must equal SS.DPL");
	if ((segs[0].type == 13 || segs[0].type == 15) &&
	    segs[0].dpl > segs[5].dpl)
		return vmx_bad_sreg("conforming CS.DPL above SS.DPL");
	if (vmx_pae_paging(sregs->cr0, sregs->cr4, efer)) {
		vmx_read_pdptes(vcpu, sregs->cr3, &p);
		if (!p.valid)
			return vmx_bad_sreg("PAE PDPTEs unreadable or reserved bits set");
	}
	/* With the LAPIC, its own rules (x2APIC, EXTD). */
	if (!vsnix_lapic_in_kernel(vcpu)) {
		r = vsnix_x86_set_apic_base(vcpu, sregs->apic_base, true);
		if (r)
			return r;
	} else if (vsnix_lapic_set_sregs(vcpu, sregs->apic_base, sregs->cr8)) {
		return vmx_bad_sreg("APIC base transition");
	}

	r = vmx_vmcs_get(vcpu);
	if (r)
		return r;
	for (i = 0; i < ARRAY_SIZE(order); i++)
		vmx_put_segment(order[i], &segs[i], unusable[i]);
	vmcs_write(GUEST_GDTR_BASE, sregs->gdt.base);
	vmcs_write(GUEST_GDTR_LIMIT, sregs->gdt.limit);
	vmcs_write(GUEST_IDTR_BASE, sregs->idt.base);
	vmcs_write(GUEST_IDTR_LIMIT, sregs->idt.limit);
	vmx_write_cr0(sregs->cr0);
	vmx_write_cr4(sregs->cr4);
	vmcs_write(GUEST_CR3, sregs->cr3);
	vmcs_write(GUEST_IA32_EFER, efer);
	vmx_set_ia32e(efer & EFER_LMA);
	if (p.valid)
		vmx_write_pdptes(&p);
	vmcs_write(GUEST_ACTIVITY_STATE, GUEST_ACTIVITY_ACTIVE);
	vmx_vmcs_put(vcpu);

	vmx->cr2 = sregs->cr2;
	vmx->cr8 = sregs->cr8;
	vmx->need_flush = true;
	vmx->shutdown = false;
	return 0;
}

/*
 * VMCS fields of a new vCPU that the x86 layer's reset does not reach
 * (activity, interruptibility, DEBUGCTL); it then applies the
 * architectural state (vsnix_x86_vcpu_reset). VMCS held.
 */
void vmx_set_reset_state(struct vsnix_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	struct vsnix_segment seg = {
		.limit = 0xffff, .present = 1, .s = 1, .type = 3,
	};
	int i;

	for (i = SEG_ES; i <= SEG_GS; i++)
		vmx_put_segment(i, &seg, false);
	seg.selector = 0xf000;
	seg.base = 0xffff0000;
	seg.type = 11;
	vmx_put_segment(SEG_CS, &seg, false);
	seg = (struct vsnix_segment){ .limit = 0xffff, .present = 1, .type = 2 };
	vmx_put_segment(SEG_LDTR, &seg, false);
	seg.type = 11;	/* VM entry wants a busy TSS (SDM 26.3.1.2) */
	vmx_put_segment(SEG_TR, &seg, false);
	vmcs_write(GUEST_GDTR_BASE, 0);
	vmcs_write(GUEST_GDTR_LIMIT, 0xffff);
	vmcs_write(GUEST_IDTR_BASE, 0);
	vmcs_write(GUEST_IDTR_LIMIT, 0xffff);

	vmx_write_cr0(X86_CR0_CD | X86_CR0_NW | X86_CR0_ET);
	vmx_write_cr4(0);
	vmcs_write(GUEST_CR3, 0);
	vmcs_write(GUEST_IA32_EFER, 0);
	vmx_set_ia32e(false);
	vmcs_write(GUEST_IA32_PAT, VMX_RESET_PAT);
	vmcs_write(GUEST_IA32_DEBUGCTL, 0);
	vmcs_write(GUEST_DR7, 0x400);
	vmcs_write(GUEST_SYSENTER_CS, 0);
	vmcs_write(GUEST_SYSENTER_ESP, 0);
	vmcs_write(GUEST_SYSENTER_EIP, 0);
	vmcs_write(GUEST_ACTIVITY_STATE, GUEST_ACTIVITY_ACTIVE);
	vmcs_write(GUEST_INTERRUPTIBILITY_INFO, 0);
	vmcs_write(GUEST_PENDING_DBG_EXCEPTIONS, 0);
	vmcs_write(GUEST_RFLAGS, X86_EFLAGS_FIXED);
	vmcs_write(GUEST_RIP, 0xfff0);
	vmcs_write(GUEST_RSP, 0);

	memset(vcpu->gpr, 0, sizeof(vcpu->gpr));
	vcpu->gpr[VSNIX_RDX] = 0x600;	/* processor signature: family 6 */
	vcpu->rip = 0xfff0;
	vcpu->rflags = X86_EFLAGS_FIXED;
	vmx->exit_rip = vcpu->rip;
	vmx->cr2 = 0;
	vmx->cr8 = 0;
	memset(vmx->dr, 0, sizeof(vmx->dr));
	vmx->dr6 = 0xffff0ff0;
	vmx->dr7 = 0x400;
	vmx->spec_ctrl = 0;
	vmx->pkru = 0;		/* SDM Vol 3, 9.1.1: PKRU is 0 after reset */
	vmx->tsc_aux = 0;
	memset(vmx->msrs, 0, sizeof(vmx->msrs));
	vmx->need_flush = true;
}

/* ------------------------------------------------------------ MSRs */

const u32 vmx_swapped_msr_index[VMX_NR_SWAPPED_MSRS] = {
	[VMX_MSR_KERNEL_GS_BASE] = MSR_KERNEL_GS_BASE,
	[VMX_MSR_STAR] = MSR_STAR,
	[VMX_MSR_LSTAR] = MSR_LSTAR,
	[VMX_MSR_CSTAR] = MSR_CSTAR,
	[VMX_MSR_SFMASK] = MSR_SYSCALL_MASK,
};

static int vmx_swapped_msr(u32 index)
{
	int i;

	for (i = 0; i < VMX_NR_SWAPPED_MSRS; i++)
		if (vmx_swapped_msr_index[i] == index)
			return i;
	return -1;
}

/* MSRs kept in the VMCS: field, or 0 when not one of them. */
static u32 vmx_vmcs_msr_field(u32 index)
{
	switch (index) {
	case MSR_EFER:			return GUEST_IA32_EFER;
	case MSR_IA32_CR_PAT:		return GUEST_IA32_PAT;
	case MSR_FS_BASE:		return GUEST_FS_BASE;
	case MSR_GS_BASE:		return GUEST_GS_BASE;
	case MSR_IA32_SYSENTER_CS:	return GUEST_SYSENTER_CS;
	case MSR_IA32_SYSENTER_ESP:	return GUEST_SYSENTER_ESP;
	case MSR_IA32_SYSENTER_EIP:	return GUEST_SYSENTER_EIP;
	default:			return 0;
	}
}

static u64 vmx_spec_ctrl_valid_bits(void)
{
	u64 bits = SPEC_CTRL_IBRS;

	if (boot_cpu_has(X86_FEATURE_STIBP))
		bits |= SPEC_CTRL_STIBP;
	if (boot_cpu_has(X86_FEATURE_SPEC_CTRL_SSBD))
		bits |= SPEC_CTRL_SSBD;
	return bits;
}

/*
 * The MSRs that live in the VMCS or that vmx_run.c switches (the x86
 * layer's allow-list sends them here).
 */
static int vmx_vendor_get_msr(struct vsnix_vcpu *vcpu, u32 index, u64 *data)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	u32 field = vmx_vmcs_msr_field(index);
	int i = vmx_swapped_msr(index);

	if (field) {
		int r = vmx_vmcs_get(vcpu);

		if (r)
			return r;
		*data = vmcs_read(field);
		vmx_vmcs_put(vcpu);
		return 0;
	}
	if (i >= 0) {
		*data = vmx->msrs[i];
		return 0;
	}
	switch (index) {
	case MSR_TSC_AUX:
		if (!vmx_cfg.rdtscp)
			return -ENOENT;
		*data = vmx->tsc_aux;
		return 0;
	case MSR_IA32_SPEC_CTRL:
		if (!vmx_cfg.spec_ctrl)
			return -ENOENT;
		*data = vmx->spec_ctrl;
		return 0;
	default:
		return -ENOENT;
	}
}

/* SDM 11.12.2: each PAT entry is 0, 1, 4, 5, 6 or 7. */
static bool vmx_pat_valid(u64 pat)
{
	int i;

	for (i = 0; i < 8; i++) {
		u8 type = pat >> (i * 8);

		if (type > 7 || type == 2 || type == 3)
			return false;
	}
	return true;
}

static int vmx_set_efer_locked(u64 value)
{
	u64 old = vmcs_read(GUEST_IA32_EFER);
	bool pg = vmx_guest_cr0_locked() & X86_CR0_PG;

	if (value & ~VMX_EFER_VALID)
		return -EINVAL;
	/* LMA is read-only; LME cannot change while paging is on. */
	value = (value & ~EFER_LMA) | (old & EFER_LMA);
	if (pg && ((value ^ old) & EFER_LME))
		return -EINVAL;
	vmcs_write(GUEST_IA32_EFER, value);
	return 0;
}

static int vmx_set_vmcs_msr(struct vsnix_vcpu *vcpu, u32 index, u32 field,
			    u64 data)
{
	int r;

	if (index == MSR_IA32_CR_PAT && !vmx_pat_valid(data))
		return -EINVAL;
	if (index == MSR_IA32_SYSENTER_CS && data >> 32)
		return -EINVAL;
	if ((index == MSR_FS_BASE || index == MSR_GS_BASE ||
	     index == MSR_IA32_SYSENTER_ESP || index == MSR_IA32_SYSENTER_EIP) &&
	    !vmx_canonical(data))
		return -EINVAL;
	r = vmx_vmcs_get(vcpu);
	if (r)
		return r;
	if (index == MSR_EFER)
		r = vmx_set_efer_locked(data);
	else
		vmcs_write(field, data);
	vmx_vmcs_put(vcpu);
	return r;
}

static int vmx_vendor_set_msr(struct vsnix_vcpu *vcpu, u32 index, u64 data,
			      bool host)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	u32 field = vmx_vmcs_msr_field(index);
	int i = vmx_swapped_msr(index);

	if (field)
		return vmx_set_vmcs_msr(vcpu, index, field, data);
	if (i >= 0) {
		/* They are written to the real MSRs before each entry. */
		if (i == VMX_MSR_SFMASK ? data >> 32 :
		    i != VMX_MSR_STAR && !vmx_canonical(data))
			return -EINVAL;
		vmx->msrs[i] = data;
		return 0;
	}
	switch (index) {
	case MSR_TSC_AUX:
		if (!vmx_cfg.rdtscp)
			return -ENOENT;
		if (data >> 32)
			return -EINVAL;
		vmx->tsc_aux = data;
		return 0;
	case MSR_IA32_SPEC_CTRL:
		if (!vmx_cfg.spec_ctrl)
			return -ENOENT;
		if (data & ~vmx_spec_ctrl_valid_bits())
			return -EINVAL;
		vmx->spec_ctrl = data;
		return 0;
	default:
		return -ENOENT;
	}
}

static void vmx_set_tsc_offset(struct vsnix_vcpu *vcpu, u64 offset)
{
	if (vmx_vmcs_get(vcpu))
		return;
	vmcs_write(TSC_OFFSET, offset);
	vmx_vmcs_put(vcpu);
}

/*
 * RESET/INIT: DR0-3 and DR6 back in software with MOV DR intercepted until
 * the guest touches one (vmx_exit_dr); DR7 in the VMCS.
 */
static void vmx_set_dr(struct vsnix_vcpu *vcpu, const u64 *dr03, u64 dr6,
		       u64 dr7)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);

	memcpy(vmx->dr, dr03, sizeof(vmx->dr));
	vmx->dr6 = dr6;
	vmx->dr7 = dr7;
	vmx->dr_active = false;
	if (vmx_vmcs_get(vcpu))
		return;
	vmcs_write(GUEST_DR7, dr7);
	vmx_vmcs_put(vcpu);
}

/*
 * "Enable RDTSCP" also governs RDPID, "enable INVPCID" INVPCID: with the
 * control 0 the instruction raises #UD (SDM Vol 3, 25.6.2 and 26.3), as
 * the guest's CPUID says it must when the feature is hidden. VMCS held.
 */
void vmx_update_secondary_locked(struct vsnix_vcpu *vcpu)
{
	const struct vsnix_x86_features *f = &to_x86(vcpu)->feat;
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	u32 proc2 = vmx_cfg.proc2_ctls;

	if (!f->rdtscp && !f->rdpid)
		proc2 &= ~SECONDARY_EXEC_ENABLE_RDTSCP;
	if (!f->invpcid)
		proc2 &= ~SECONDARY_EXEC_ENABLE_INVPCID;
	if (proc2 != vmx->proc2_ctls) {
		vmcs_write(SECONDARY_VM_EXEC_CONTROL, proc2);
		vmx->proc2_ctls = proc2;
	}
}

const struct vsnix_x86_vendor_ops vmx_x86_ops = {
	.get_msr = vmx_vendor_get_msr,
	.set_msr = vmx_vendor_set_msr,
	.set_tsc_offset = vmx_set_tsc_offset,
	.set_dr = vmx_set_dr,
};
