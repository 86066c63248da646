// SPDX-License-Identifier: GPL-2.0
/*
 * The MSRs a guest may touch, once for both vendors: one allow-list with,
 * per MSR, where it lives (here, in the vendor's VMCB/VMCS, or in the
 * LAPIC), when it exists (the guest's CPUID) and what a write may set.
 * Anything not listed is #GP for the guest and -ENOENT for GET/SET_MSRS.
 *
 * Reset values (SDM Vol 3, 9.1.1 table 9-1; Vol 4 table 2-2):
 *   IA32_APIC_BASE   0xfee00900 (BSP), 0xfee00800 (AP)
 *   MISC_ENABLE      0x1801: fast strings on, BTS and PEBS unavailable
 *   BIOS_SIGN_ID     0x100000000 (microcode revision 1; read-only)
 *   MTRRs            0 (MTRRcap 0x508: 8 variable, fixed, WC)
 *   MCG_CAP          VSNIX_MCE_BANKS banks, MCG_CTL present; the rest 0
 *   TSC              0 at VM creation, for every vCPU of the VM
 *   HWCR             TscFreqSel (bit 24): the TSC counts at one rate
 *   TSC_ADJUST, DEBUGCTL, SYSCFG   0
 */
#include <linux/kernel.h>
#include <linux/uaccess.h>
#include <asm/cpufeature.h>
#include <asm/msr.h>
#include <asm/processor.h>
#include "x86.h"
#include "intr.h"
#include "lapic.h"

#define MSR_MTRR_PHYS_BASE0	0x200	/* PHYSBASE0, PHYSMASK0, ... */

#define APIC_BASE_DEFAULT	0xfee00000ULL
#define MISC_ENABLE_RESET	(MSR_IA32_MISC_ENABLE_FAST_STRING | \
				 MSR_IA32_MISC_ENABLE_BTS_UNAVAIL | \
				 MSR_IA32_MISC_ENABLE_PEBS_UNAVAIL)
#define UCODE_REV_VALUE		0x100000000ULL
/* MTRRcap: VCNT, FIX (bit 8), WC (bit 10); no SMRR (SDM 12.11.2.1). */
#define MTRR_CAP_VALUE		(VSNIX_MTRR_VAR | BIT(8) | BIT(10))
#define MCG_CTL_P		BIT_ULL(8)
#define MCG_CAP_VALUE		(VSNIX_MCE_BANKS | MCG_CTL_P)
/* MCG_STATUS: RIPV, EIPV, MCIP (SDM 15.3.1.2). */
#define MCG_STATUS_VALID	GENMASK_ULL(2, 0)
/* HWCR bits a guest may change: McStatusWrEn (18), TscFreqSel (24). */
#define HWCR_TSC_FREQ_SEL	BIT_ULL(24)
#define HWCR_WRITABLE		(BIT_ULL(18) | HWCR_TSC_FREQ_SEL)
#define NB_CFG_ENABLE_CF8_EXT_CFG	BIT_ULL(46)

static const struct vsnix_x86_vendor_ops *vendor(void)
{
	return vsnix_ops->vendor == VSNIX_VENDOR_SVM ? &svm_x86_ops :
						       &vmx_x86_ops;
}

/* When an MSR exists for this guest. */
enum msr_feat {
	F_ALWAYS, F_MTRR, F_MCG, F_MCA, F_MCG_CTL, F_AMD, F_TSC_ADJUST,
	F_IBPB, F_FLUSH_L1D,
};

enum msr_where {
	W_X86,		/* struct vsnix_x86_msrs, or a constant */
	W_VENDOR,	/* VMCB/VMCS or switched by the vendor */
};

struct msr_desc {
	u32 index;
	u32 count;		/* a range of MSRs (MTRRs, MC banks) */
	u8 where;
	u8 feat;
};

static const struct msr_desc msr_list[] = {
	{ MSR_IA32_TSC,			1, W_X86, F_ALWAYS },
	{ MSR_IA32_APICBASE,		1, W_X86, F_ALWAYS },
	{ MSR_IA32_TSC_ADJUST,		1, W_X86, F_TSC_ADJUST },
	{ MSR_IA32_SPEC_CTRL,		1, W_VENDOR, F_ALWAYS },
	{ MSR_IA32_PRED_CMD,		1, W_X86, F_IBPB },
	{ MSR_IA32_UCODE_REV,		1, W_X86, F_ALWAYS },
	{ MSR_MTRRcap,			1, W_X86, F_MTRR },
	{ MSR_IA32_FLUSH_CMD,		1, W_X86, F_FLUSH_L1D },
	{ MSR_IA32_SYSENTER_CS,		3, W_VENDOR, F_ALWAYS },
	{ MSR_IA32_MCG_CAP,		1, W_X86, F_MCG },
	{ MSR_IA32_MCG_STATUS,		1, W_X86, F_MCG },
	{ MSR_IA32_MCG_CTL,		1, W_X86, F_MCG_CTL },
	{ MSR_IA32_MISC_ENABLE,		1, W_X86, F_ALWAYS },
	{ MSR_IA32_DEBUGCTLMSR,		1, W_X86, F_ALWAYS },
	{ MSR_MTRR_PHYS_BASE0,	2 * VSNIX_MTRR_VAR, W_X86, F_MTRR },
	{ MSR_MTRRfix64K_00000,		1, W_X86, F_MTRR },
	{ MSR_MTRRfix16K_80000,		2, W_X86, F_MTRR },
	{ MSR_MTRRfix4K_C0000,		8, W_X86, F_MTRR },
	{ MSR_IA32_CR_PAT,		1, W_VENDOR, F_ALWAYS },
	{ MSR_MTRRdefType,		1, W_X86, F_MTRR },
	{ MSR_IA32_MC0_CTL,	4 * VSNIX_MCE_BANKS, W_X86, F_MCA },
	{ MSR_EFER,			1, W_VENDOR, F_ALWAYS },
	{ MSR_STAR,			4, W_VENDOR, F_ALWAYS },  /* ..SFMASK */
	{ MSR_FS_BASE,			3, W_VENDOR, F_ALWAYS },  /* ..KGS */
	{ MSR_TSC_AUX,			1, W_VENDOR, F_ALWAYS },
	{ MSR_K7_HWCR,			1, W_X86, F_AMD },
	/*
	 * SYSCFG (APM Vol 2, 7.9.1): Linux reads it while setting up MTRRs
	 * and SME. No MtrrFixDram*, SME or SNP for guests: it reads 0 and
	 * takes only 0.
	 */
	{ MSR_AMD64_SYSCFG,		1, W_X86, F_AMD },
	/*
	 * NB_CFG (BKDG for family 10h-16h; Linux's amd_bus.c sets
	 * EnableCf8ExtCfg, bit 46, unchecked, on family 10h-16h): reads 0;
	 * that bit is taken and dropped (the platform's extended config
	 * space is ECAM), anything else is #GP.
	 */
	{ MSR_AMD64_NB_CFG,		1, W_X86, F_AMD },
	/*
	 * The legacy performance counters exist on every AMD CPU (APM Vol 2,
	 * 13.2.1), the core ones with PerfCtrExtCore: no guest PMU here, so
	 * they read 0 and take only 0 (guests probe them without CPUID).
	 */
	{ MSR_K7_EVNTSEL0,		8, W_X86, F_AMD },  /* ..PERFCTR3 */
	{ MSR_F15H_PERF_CTL0,		12, W_X86, F_AMD }, /* ..PERF_CTR5 */
};

static const struct msr_desc *msr_find(u32 index)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(msr_list); i++)
		if (index - msr_list[i].index < msr_list[i].count)
			return &msr_list[i];
	return NULL;
}

static bool msr_present(const struct vsnix_x86_features *f, u8 feat)
{
	switch (feat) {
	case F_MTRR:		return f->mtrr;
	case F_MCG:		return f->mce || f->mca;
	case F_MCA:
	case F_MCG_CTL:		return f->mca;
	case F_AMD:		return f->amd;
	case F_TSC_ADJUST:	return f->tsc_adjust;
	case F_IBPB:		return boot_cpu_has(X86_FEATURE_IBPB);
	case F_FLUSH_L1D:	return boot_cpu_has(X86_FEATURE_FLUSH_L1D);
	default:		return true;
	}
}

/* ------------------------------------------------------------ TSC */

static u64 guest_tsc(struct vsnix_x86_msrs *m)
{
	return rdtsc() + m->tsc_offset;
}

static void set_tsc_offset(struct vsnix_vcpu *vcpu, u64 offset)
{
	to_x86(vcpu)->msrs.tsc_offset = offset;
	vendor()->set_tsc_offset(vcpu, offset);
}

/*
 * SDM Vol 3, 18.17.3: a guest WRMSR that moves the TSC by X adds X to
 * TSC_ADJUST, and a write of TSC_ADJUST moves the TSC by the change. The
 * host (GET/SET_MSRS, to restore a vCPU) sets each on its own.
 */
static void write_tsc(struct vsnix_vcpu *vcpu, u64 data, bool host)
{
	struct vsnix_x86_msrs *m = &to_x86(vcpu)->msrs;

	if (!host)
		m->tsc_adjust += data - guest_tsc(m);
	set_tsc_offset(vcpu, data - rdtsc());
}

static void write_tsc_adjust(struct vsnix_vcpu *vcpu, u64 data, bool host)
{
	struct vsnix_x86_msrs *m = &to_x86(vcpu)->msrs;

	if (!host)
		set_tsc_offset(vcpu, m->tsc_offset + (data - m->tsc_adjust));
	m->tsc_adjust = data;
}

void vsnix_x86_vm_init(struct vsnix_vm *vm)
{
	to_x86_vm(vm)->tsc_base = rdtsc();
}

/* ------------------------------------------------------------ APIC base */

u64 vsnix_x86_apic_base(struct vsnix_vcpu *vcpu)
{
	u64 v;

	if (vsnix_lapic_in_kernel(vcpu) &&
	    !vsnix_lapic_rdmsr(vcpu, MSR_IA32_APICBASE, &v))
		return v;
	return to_x86(vcpu)->msrs.apic_base;
}

/*
 * Without an in-kernel LAPIC there is no APIC to move or disable: the
 * guest may write back the value it reads, anything else is #GP. The host
 * may set any value without reserved bits (SDM Vol 3, 10.4.4: BSP, EN,
 * base below MAXPHYADDR; no x2APIC without a LAPIC).
 */
int vsnix_x86_set_apic_base(struct vsnix_vcpu *vcpu, u64 data, bool host)
{
	struct vsnix_x86_vcpu *x = to_x86(vcpu);
	u64 valid = MSR_IA32_APICBASE_BSP | MSR_IA32_APICBASE_ENABLE |
		    GENMASK_ULL(x->feat.maxphyaddr - 1, 12);

	if (vsnix_lapic_in_kernel(vcpu))
		return vsnix_lapic_wrmsr(vcpu, MSR_IA32_APICBASE, data);
	if (data & ~valid)
		return -EINVAL;
	if (!host && data != x->msrs.apic_base)
		return -EINVAL;
	x->msrs.apic_base = data;
	return 0;
}

/* ------------------------------------------------------------ MTRR, MCA */

/* UC, WC, WT, WP, WB (SDM Vol 3, table 12-8). */
static bool mtrr_type_ok(u8 t)
{
	return t == 0 || t == 1 || t == 4 || t == 5 || t == 6;
}

static u64 *mtrr_fixed_slot(struct vsnix_x86_msrs *m, u32 index)
{
	if (index == MSR_MTRRfix64K_00000)
		return &m->mtrr_fixed[0];
	if (index - MSR_MTRRfix16K_80000 < 2)
		return &m->mtrr_fixed[1 + index - MSR_MTRRfix16K_80000];
	return &m->mtrr_fixed[3 + index - MSR_MTRRfix4K_C0000];
}

/* SDM Vol 3, 12.11.2: reserved bits and memory types of each MTRR. */
static int mtrr_write(struct vsnix_x86_vcpu *x, u32 index, u64 data)
{
	struct vsnix_x86_msrs *m = &x->msrs;
	u64 phys_rsvd = GENMASK_ULL(63, x->feat.maxphyaddr);
	int i;

	if (index == MSR_MTRRcap)
		return -EINVAL;			/* read-only */
	if (index == MSR_MTRRdefType) {
		if ((data & ~(0xffULL | BIT(10) | BIT(11))) ||
		    !mtrr_type_ok(data & 0xff))
			return -EINVAL;
		m->mtrr_def_type = data;
		return 0;
	}
	if (index - MSR_MTRR_PHYS_BASE0 < 2 * VSNIX_MTRR_VAR) {
		bool is_mask = index & 1;

		/* PHYSBASE: type, 11:8 reserved; PHYSMASK: V bit 11. */
		if (data & phys_rsvd)
			return -EINVAL;
		if (is_mask ? data & GENMASK_ULL(10, 0) :
		    (data & GENMASK_ULL(11, 8)) || !mtrr_type_ok(data & 0xff))
			return -EINVAL;
		m->mtrr_var[index - MSR_MTRR_PHYS_BASE0] = data;
		return 0;
	}
	for (i = 0; i < 8; i++)
		if (!mtrr_type_ok(data >> (8 * i)))
			return -EINVAL;
	*mtrr_fixed_slot(m, index) = data;
	return 0;
}

static u64 mtrr_read(struct vsnix_x86_msrs *m, u32 index)
{
	if (index == MSR_MTRRcap)
		return MTRR_CAP_VALUE;
	if (index == MSR_MTRRdefType)
		return m->mtrr_def_type;
	if (index - MSR_MTRR_PHYS_BASE0 < 2 * VSNIX_MTRR_VAR)
		return m->mtrr_var[index - MSR_MTRR_PHYS_BASE0];
	return *mtrr_fixed_slot(m, index);
}

/*
 * SDM Vol 3, 15.3.1 and 15.3.2: MCG_CTL and MCi_CTL take all ones or all
 * zeros here (no error source to pick); the guest may only clear
 * MCi_STATUS (a non-zero write is #GP unless HWCR.McStatusWrEn, APM Vol 2
 * 9.3.2). The host may restore anything.
 */
static int mca_write(struct vsnix_x86_vcpu *x, u32 index, u64 data,
		     bool host)
{
	struct vsnix_x86_msrs *m = &x->msrs;
	u32 reg;

	switch (index) {
	case MSR_IA32_MCG_CAP:
		return host && data == MCG_CAP_VALUE ? 0 : -EINVAL;
	case MSR_IA32_MCG_STATUS:
		if (data & ~MCG_STATUS_VALID)
			return -EINVAL;
		m->mcg_status = data;
		return 0;
	case MSR_IA32_MCG_CTL:
		if (data && data != ~0ULL)
			return -EINVAL;
		m->mcg_ctl = data;
		return 0;
	}
	reg = index - MSR_IA32_MC0_CTL;
	if (reg % 4 == 0 && data && data != ~0ULL)
		return -EINVAL;
	if (reg % 4 == 1 && data && !host &&
	    !(m->hwcr & BIT_ULL(18) && x->feat.amd))
		return -EINVAL;
	m->mc_bank[reg] = data;
	return 0;
}

static u64 mca_read(struct vsnix_x86_msrs *m, u32 index)
{
	switch (index) {
	case MSR_IA32_MCG_CAP:		return MCG_CAP_VALUE;
	case MSR_IA32_MCG_STATUS:	return m->mcg_status;
	case MSR_IA32_MCG_CTL:		return m->mcg_ctl;
	}
	return m->mc_bank[index - MSR_IA32_MC0_CTL];
}

static bool is_mtrr(u32 index)
{
	return index == MSR_MTRRcap || index == MSR_MTRRdefType ||
	       index - MSR_MTRR_PHYS_BASE0 < 2 * VSNIX_MTRR_VAR ||
	       index == MSR_MTRRfix64K_00000 ||
	       index - MSR_MTRRfix16K_80000 < 2 ||
	       index - MSR_MTRRfix4K_C0000 < 8;
}

static bool is_mca(u32 index)
{
	return index - MSR_IA32_MCG_CAP < 3 ||
	       index - MSR_IA32_MC0_CTL < 4 * VSNIX_MCE_BANKS;
}

/* ------------------------------------------------------------ read/write */

static bool is_amd_perf(u32 index)
{
	return index - MSR_K7_EVNTSEL0 < 8 ||
	       index - MSR_F15H_PERF_CTL0 < 12;
}

static int x86_msr_read(struct vsnix_vcpu *vcpu, u32 index, u64 *data)
{
	struct vsnix_x86_msrs *m = &to_x86(vcpu)->msrs;

	if (is_mtrr(index)) {
		*data = mtrr_read(m, index);
		return 0;
	}
	if (is_mca(index)) {
		*data = mca_read(m, index);
		return 0;
	}
	if (is_amd_perf(index)) {
		*data = 0;
		return 0;
	}
	switch (index) {
	case MSR_IA32_TSC:
		*data = guest_tsc(m);
		return 0;
	case MSR_IA32_TSC_ADJUST:
		*data = m->tsc_adjust;
		return 0;
	case MSR_IA32_APICBASE:
		*data = vsnix_x86_apic_base(vcpu);
		return 0;
	case MSR_IA32_UCODE_REV:
		*data = UCODE_REV_VALUE;
		return 0;
	case MSR_IA32_MISC_ENABLE:
		*data = m->misc_enable;
		return 0;
	case MSR_IA32_DEBUGCTLMSR:
		*data = 0;
		return 0;
	case MSR_K7_HWCR:
		*data = m->hwcr;
		return 0;
	case MSR_AMD64_SYSCFG:
	case MSR_AMD64_NB_CFG:
		*data = 0;
		return 0;
	}
	/* PRED_CMD and FLUSH_CMD are write-only (SDM Vol 4, table 2-2). */
	return -EINVAL;
}

static int x86_msr_write(struct vsnix_vcpu *vcpu, u32 index, u64 data,
			 bool host)
{
	struct vsnix_x86_vcpu *x = to_x86(vcpu);
	struct vsnix_x86_msrs *m = &x->msrs;

	if (is_mtrr(index))
		return mtrr_write(x, index, data);
	if (is_mca(index))
		return mca_write(x, index, data, host);
	if (is_amd_perf(index))
		return data ? -EINVAL : 0;
	switch (index) {
	case MSR_IA32_TSC:
		write_tsc(vcpu, data, host);
		return 0;
	case MSR_IA32_TSC_ADJUST:
		write_tsc_adjust(vcpu, data, host);
		return 0;
	case MSR_IA32_APICBASE:
		return vsnix_x86_set_apic_base(vcpu, data, host);
	case MSR_IA32_UCODE_REV:
		/* Linux writes 0 before CPUID to latch it: nothing to do. */
		return 0;
	case MSR_IA32_MISC_ENABLE:
		/* Only fast strings may change; the rest is read-only. */
		if (!host && ((data ^ m->misc_enable) &
			      ~MSR_IA32_MISC_ENABLE_FAST_STRING))
			return -EINVAL;
		m->misc_enable = data;
		return 0;
	case MSR_IA32_DEBUGCTLMSR:
		/* No LBR or branch trace for guests: only 0. */
		return data ? -EINVAL : 0;
	case MSR_AMD64_SYSCFG:
		return data ? -EINVAL : 0;
	case MSR_AMD64_NB_CFG:
		return data & ~NB_CFG_ENABLE_CF8_EXT_CFG ? -EINVAL : 0;
	case MSR_K7_HWCR:
		if (data & ~HWCR_WRITABLE)
			return -EINVAL;
		m->hwcr = data;
		return 0;
	case MSR_IA32_PRED_CMD:
		if (data & ~PRED_CMD_IBPB)
			return -EINVAL;
		if (data)
			wrmsrl(MSR_IA32_PRED_CMD, PRED_CMD_IBPB);
		return 0;
	case MSR_IA32_FLUSH_CMD:
		if (data & ~L1D_FLUSH)
			return -EINVAL;
		if (data)
			wrmsrl(MSR_IA32_FLUSH_CMD, L1D_FLUSH);
		return 0;
	}
	return -EINVAL;
}

/*
 * The LAPIC's own MSRs, only with an in-kernel LAPIC: x2APIC (SDM Vol 3,
 * 10.12.1.2) and TSC_DEADLINE (10.5.4.1, CPUID.1:ECX.24 set by the LAPIC).
 */
static bool lapic_owned_msr(u32 index)
{
	return (index >= 0x800 && index <= 0x8ff) ||
	       index == MSR_IA32_TSC_DEADLINE;
}

static int msr_get(struct vsnix_vcpu *vcpu, u32 index, u64 *data)
{
	const struct msr_desc *d;

	if (index == VSNIX_MSR_KVM_PV_EOI_EN)
		return vsnix_lapic_pv_eoi_rdmsr(vcpu, data);
	if (lapic_owned_msr(index))
		return vsnix_lapic_in_kernel(vcpu) ?
		       vsnix_lapic_rdmsr(vcpu, index, data) : -ENOENT;
	d = msr_find(index);
	if (!d || !msr_present(&to_x86(vcpu)->feat, d->feat))
		return -ENOENT;
	if (d->where == W_VENDOR)
		return vendor()->get_msr(vcpu, index, data);
	return x86_msr_read(vcpu, index, data);
}

static int msr_set(struct vsnix_vcpu *vcpu, u32 index, u64 data, bool host)
{
	const struct msr_desc *d;

	if (index == VSNIX_MSR_KVM_PV_EOI_EN)
		return vsnix_lapic_pv_eoi_wrmsr(vcpu, data);
	if (lapic_owned_msr(index))
		return vsnix_lapic_in_kernel(vcpu) ?
		       vsnix_lapic_wrmsr(vcpu, index, data) : -ENOENT;
	d = msr_find(index);
	if (!d || !msr_present(&to_x86(vcpu)->feat, d->feat))
		return -ENOENT;
	if (d->where == W_VENDOR)
		return vendor()->set_msr(vcpu, index, data, host);
	return x86_msr_write(vcpu, index, data, host);
}

int vsnix_x86_get_msr(struct vsnix_vcpu *vcpu, u32 index, u64 *data)
{
	vsnix_x86_refresh_features(vcpu);
	return msr_get(vcpu, index, data);
}

int vsnix_x86_set_msr(struct vsnix_vcpu *vcpu, u32 index, u64 data)
{
	vsnix_x86_refresh_features(vcpu);
	return msr_set(vcpu, index, data, true);
}

int vsnix_x86_guest_rdmsr(struct vsnix_vcpu *vcpu, u32 index, u64 *data)
{
	return msr_get(vcpu, index, data);
}

int vsnix_x86_guest_wrmsr(struct vsnix_vcpu *vcpu, u32 index, u64 data)
{
	return msr_set(vcpu, index, data, false);
}

/* ------------------------------------------------------------ reset */

/* RESET values; INIT leaves MSRs alone (SDM Vol 3, 9.1.1). */
void vsnix_x86_msr_reset(struct vsnix_vcpu *vcpu)
{
	struct vsnix_x86_msrs *m = &to_x86(vcpu)->msrs;

	memset(m, 0, sizeof(*m));
	m->apic_base = APIC_BASE_DEFAULT | MSR_IA32_APICBASE_ENABLE |
		       (vcpu->id == 0 ? MSR_IA32_APICBASE_BSP : 0);
	m->misc_enable = MISC_ENABLE_RESET;
	/*
	 * The TSC counts at the P0 rate (AMD BKDG, Fam 10h rev C and later:
	 * HWCR[24] TscFreqSel), as the invariant TSC of CPUID 0x80000007
	 * says; a Linux guest without it warns "TSC doesn't count with P0
	 * frequency". The MSR exists only for AMD guests.
	 */
	m->hwcr = HWCR_TSC_FREQ_SEL;
	/* Every vCPU of the VM counts from the VM's creation. */
	set_tsc_offset(vcpu, -to_x86_vm(vcpu->vm)->tsc_base);
}

/* ------------------------------------------------------------ index list */

/*
 * VSNIX_GET_MSR_INDEX_LIST: every MSR of the allow-list this host can
 * give a guest (whether a guest sees one also depends on its CPUID: the
 * MTRRs on CPUID.MTRR, ...). x2APIC MSRs belong to the LAPIC: not listed.
 */
long vsnix_x86_msr_list(struct vsnix_vm *vm, void __user *argp)
{
	struct vsnix_msr_list hdr;
	u32 __user *out = argp + sizeof(hdr);
	unsigned int i, j, n = 0;

	if (copy_from_user(&hdr, argp, sizeof(hdr)))
		return -EFAULT;
	if (hdr.pad)
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(msr_list); i++)
		n += msr_list[i].count;
	if (hdr.nmsrs < n) {
		hdr.nmsrs = n;
		return copy_to_user(argp, &hdr, sizeof(hdr)) ? -EFAULT : -E2BIG;
	}
	for (i = 0, n = 0; i < ARRAY_SIZE(msr_list); i++) {
		for (j = 0; j < msr_list[i].count; j++, n++)
			if (put_user(msr_list[i].index + j, &out[n]))
				return -EFAULT;
	}
	hdr.nmsrs = n;
	return copy_to_user(argp, &hdr, sizeof(hdr)) ? -EFAULT : 0;
}
