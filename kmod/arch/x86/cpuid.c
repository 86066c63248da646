// SPDX-License-Identifier: GPL-2.0
/*
 * The CPUID a guest sees: the host's leaves, with what vSnix does not
 * virtualize taken out (VMX, SVM, SGX, perfmon, x2APIC, ...), the
 * hypervisor bit and leaf 0x40000000 added, and XSAVE limited to the state
 * components the guest FPU code switches. Bit positions: Intel SDM Vol 2,
 * CPUID; AMD APM Vol 3, appendix E.
 *
 * The filter (vsnix_cpuid_filter_entry), the run-time fields
 * (vsnix_cpuid_apply_dynamic) and the XCR0 rules (vsnix_xcr0_valid) touch
 * no guest or core state and are KUnit-tested; besides collecting the host
 * leaves, CPUID runs only to size XSAVE components (leaf 0xD).
 */
#include <linux/bits.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <asm/cpufeature.h>
#include <asm/processor.h>
#include <asm/fpu/types.h>
#include <asm/fpu/xcr.h>
#include <asm/processor-flags.h>
#include "x86.h"

/* Leaf 1 ECX (SDM Vol 2, CPUID, table 3-10). */
#define L1_ECX_DTES64		BIT(2)
#define L1_ECX_MONITOR		BIT(3)
#define L1_ECX_DS_CPL		BIT(4)
#define L1_ECX_VMX		BIT(5)
#define L1_ECX_SMX		BIT(6)
#define L1_ECX_EST		BIT(7)
#define L1_ECX_TM2		BIT(8)
#define L1_ECX_XTPR		BIT(14)
#define L1_ECX_PDCM		BIT(15)
#define L1_ECX_PCID		BIT(17)
#define L1_ECX_X2APIC		BIT(21)
#define L1_ECX_TSC_DEADLINE	BIT(24)
#define L1_ECX_XSAVE		BIT(26)
#define L1_ECX_OSXSAVE		BIT(27)
#define L1_ECX_HYPERVISOR	BIT(31)
/* Leaf 1 EDX (table 3-11): debug store, thermal monitor, ACPI MSRs. */
#define L1_EDX_APIC		BIT(9)
#define L1_EDX_DS		BIT(21)
#define L1_EDX_ACPI		BIT(22)
#define L1_EDX_TM		BIT(29)
#define L1_EDX_PBE		BIT(31)
/* Leaf 7 subleaf 0. */
#define L7_EBX_SGX		BIT(2)
#define L7_EBX_INVPCID		BIT(10)
#define L7_EBX_PQM		BIT(12)
#define L7_EBX_MPX		BIT(14)
#define L7_EBX_PQE		BIT(15)
#define L7_EBX_INTEL_PT		BIT(25)
#define L7_ECX_PKU		BIT(3)
#define L7_ECX_OSPKE		BIT(4)
#define L7_ECX_WAITPKG		BIT(5)
#define L7_ECX_RDPID		BIT(22)
#define L7_ECX_SGX_LC		BIT(30)
#define L7_EDX_AMX_BF16		BIT(22)
#define L7_EDX_AMX_TILE		BIT(24)
#define L7_EDX_AMX_INT8		BIT(25)
/* Leaf 0xD subleaf 1 EAX. */
#define LD1_EAX_XSAVES		BIT(3)
#define LD1_EAX_XFD		BIT(4)
/* Leaf 8000_0001 ECX (APM Vol 3, E.4.2). */
#define LE1_ECX_SVM		BIT(2)
#define LE1_ECX_IBS		BIT(10)
#define LE1_ECX_SKINIT		BIT(12)
#define LE1_ECX_WDT		BIT(13)
#define LE1_ECX_LWP		BIT(15)
#define LE1_ECX_PERFCTR_CORE	BIT(23)
#define LE1_ECX_PERFCTR_NB	BIT(24)
#define LE1_ECX_PERFCTR_LLC	BIT(28)
#define LE1_EDX_RDTSCP		BIT(27)

#define VSNIX_CPUID_SIGNATURE	"vSnixvSnixvS"
#define HYPERVISOR_LEAF		0x40000000

/* XCR0 bits the guest FPU switching supports (SDM Vol 1, 13.1). */
#define VSNIX_XCR0_MASK		(XFEATURE_MASK_FP | XFEATURE_MASK_SSE | \
				 XFEATURE_MASK_YMM | XFEATURE_MASK_AVX512)

static bool has_significant_index(u32 function)
{
	return function == 4 || function == 7 || function == 0xb ||
	       function == 0xd || function == 0x8000001d;
}

bool vsnix_xcr0_valid(u64 xcr0, u64 supported)
{
	u64 avx512 = xcr0 & XFEATURE_MASK_AVX512;

	if (xcr0 & ~supported)
		return false;
	/* SDM Vol 1, 13.3: x87 always on; AVX needs SSE. */
	if (!(xcr0 & XFEATURE_MASK_FP))
		return false;
	if ((xcr0 & XFEATURE_MASK_YMM) && !(xcr0 & XFEATURE_MASK_SSE))
		return false;
	/* MPX: BNDREGS and BNDCSR together. */
	if (!(xcr0 & XFEATURE_MASK_BNDREGS) != !(xcr0 & XFEATURE_MASK_BNDCSR))
		return false;
	/* AVX-512: opmask, ZMM_Hi256, Hi16_ZMM all or none, and with AVX. */
	if (avx512 && (avx512 != XFEATURE_MASK_AVX512 ||
		       !(xcr0 & XFEATURE_MASK_YMM)))
		return false;
	/* AMX: TILECFG and TILEDATA together (SDM Vol 1, 13.3). */
	if (!(xcr0 & BIT_ULL(XFEATURE_XTILE_CFG)) !=
	    !(xcr0 & BIT_ULL(XFEATURE_XTILE_DATA)))
		return false;
	return true;
}

/* The XCR0 bits a guest may enable: the host's, within VSNIX_XCR0_MASK. */
u64 vsnix_x86_supported_xcr0(void)
{
	u64 xcr0;

	if (!boot_cpu_has(X86_FEATURE_OSXSAVE))
		return 0;
	xcr0 = xgetbv(XCR_XFEATURE_ENABLED_MASK) & VSNIX_XCR0_MASK;
	if ((xcr0 & XFEATURE_MASK_AVX512) != XFEATURE_MASK_AVX512)
		xcr0 &= ~XFEATURE_MASK_AVX512;
	return xcr0;
}

/*
 * Filter one host entry for the guest. Returns false when the entry is to
 * be dropped altogether. Pure.
 */
bool vsnix_cpuid_filter_entry(struct vsnix_cpuid_entry *e, u64 supported_xcr0)
{
	switch (e->function) {
	case 1:
		e->ecx &= ~(L1_ECX_DTES64 | L1_ECX_MONITOR | L1_ECX_DS_CPL |
			    L1_ECX_VMX | L1_ECX_SMX | L1_ECX_EST | L1_ECX_TM2 |
			    L1_ECX_XTPR | L1_ECX_PDCM | L1_ECX_PCID |
			    L1_ECX_X2APIC | L1_ECX_TSC_DEADLINE |
			    L1_ECX_OSXSAVE);
		if (!supported_xcr0)
			e->ecx &= ~L1_ECX_XSAVE;
		e->ecx |= L1_ECX_HYPERVISOR;
		e->edx &= ~(L1_EDX_DS | L1_EDX_ACPI | L1_EDX_TM | L1_EDX_PBE);
		break;
	case 5:		/* MONITOR/MWAIT */
	case 6:		/* thermal and power management */
	case 0xa:	/* architectural perfmon */
		e->eax = e->ebx = e->ecx = e->edx = 0;
		break;
	case 7:
		if (e->index != 0)
			break;
		e->ebx &= ~(L7_EBX_SGX | L7_EBX_INVPCID | L7_EBX_PQM |
			    L7_EBX_MPX | L7_EBX_PQE | L7_EBX_INTEL_PT);
		/*
		 * RDPID cannot be intercepted and would show the host's
		 * TSC_AUX (its CPU number); RDTSCP is hidden for the same
		 * reason below.
		 */
		e->ecx &= ~(L7_ECX_PKU | L7_ECX_OSPKE | L7_ECX_WAITPKG |
			    L7_ECX_SGX_LC | L7_ECX_RDPID);
		e->edx &= ~(L7_EDX_AMX_BF16 | L7_EDX_AMX_TILE |
			    L7_EDX_AMX_INT8);
		break;
	case 0xd:
		if (!supported_xcr0)
			return false;
		if (e->index == 0) {
			e->eax = lower_32_bits(supported_xcr0);
			e->edx = upper_32_bits(supported_xcr0);
			/* ECX: the size for all supported components. */
			e->ecx = vsnix_xsave_size(supported_xcr0);
			e->ebx = e->ecx;
		} else if (e->index == 1) {
			/* No XSAVES (needs IA32_XSS) and no XFD (AMX). */
			e->eax &= ~(LD1_EAX_XSAVES | LD1_EAX_XFD);
			e->ebx = vsnix_xsave_size(supported_xcr0);
			e->ecx = e->edx = 0;
		} else if (e->index >= 64 ||
			   !(supported_xcr0 & BIT_ULL(e->index))) {
			return false;
		}
		break;
	case 0xf:	/* resource director: monitoring */
	case 0x10:	/* resource director: allocation */
	case 0x12:	/* SGX */
	case 0x14:	/* processor trace */
	case 0x1d:	/* AMX tiles */
	case 0x1e:	/* AMX TMUL */
	case 0x1f:	/* v2 topology: 0xB is enough */
		return false;
	case 0x80000001:
		e->ecx &= ~(LE1_ECX_SVM | LE1_ECX_IBS | LE1_ECX_SKINIT |
			    LE1_ECX_WDT | LE1_ECX_LWP | LE1_ECX_PERFCTR_CORE |
			    LE1_ECX_PERFCTR_NB | LE1_ECX_PERFCTR_LLC);
		e->edx &= ~LE1_EDX_RDTSCP;
		break;
	case 0x8000000a:	/* SVM features */
	case 0x8000001f:	/* SEV */
	case 0x80000022:	/* AMD perfmon v2 */
		e->eax = e->ebx = e->ecx = e->edx = 0;
		break;
	}
	if ((e->function & 0xf0000000) == HYPERVISOR_LEAF)
		return false;	/* ours is added separately */
	return true;
}

/* Size of a standard-format XSAVE area holding the components in xcr0. */
unsigned int vsnix_xsave_size(u64 xcr0)
{
	unsigned int size = 512 + 64;	/* legacy area + header (13.4) */
	int i;

	for (i = 2; i < 64; i++) {
		u32 sz, off, ecx, edx;

		if (!(xcr0 & BIT_ULL(i)))
			continue;
		cpuid_count(0xd, i, &sz, &off, &ecx, &edx);
		size = max(size, off + sz);
	}
	return size;
}

bool vsnix_cpuid_needs_cr4(u32 function)
{
	return function == 1 || function == 7;
}

/*
 * Fields that depend on the vCPU: APIC ID (leaf 1 EBX[31:24], 0xB EDX,
 * 0x8000001E EAX),
 * OSXSAVE and OSPKE mirroring CR4 (SDM Vol 2, CPUID), the XSAVE size for
 * the current XCR0 (0xD EBX).
 */
void vsnix_cpuid_apply_dynamic(struct vsnix_cpuid_entry *e, u32 vcpu_id,
			       u64 cr4, u64 xcr0)
{
	switch (e->function) {
	case 1:
		e->ebx = (e->ebx & 0x00ffffff) | (vcpu_id << 24);
		e->ecx &= ~L1_ECX_OSXSAVE;
		if ((e->ecx & L1_ECX_XSAVE) && (cr4 & X86_CR4_OSXSAVE))
			e->ecx |= L1_ECX_OSXSAVE;
		break;
	case 7:
		if (e->index != 0)
			break;
		e->ecx &= ~L7_ECX_OSPKE;
		if ((e->ecx & L7_ECX_PKU) && (cr4 & X86_CR4_PKE))
			e->ecx |= L7_ECX_OSPKE;
		break;
	case 0xb:
		e->edx = vcpu_id;
		break;
	case 0x8000001e:	/* AMD extended APIC ID (APM Vol 3, E.4.14) */
		e->eax = vcpu_id;
		break;
	case 0xd:
		if (e->index <= 1 && (e->eax || e->ebx || e->ecx || e->edx))
			e->ebx = vsnix_xsave_size(xcr0);
		break;
	}
}

/*
 * With the in-kernel LAPIC: x2APIC and TSC-deadline are there, and
 * CPUID.1:EDX.APIC follows IA32_APIC_BASE.EN (SDM Vol 3, 10.4.3).
 */
void vsnix_cpuid_apply_lapic(struct vsnix_cpuid_entry *e, u64 apic_base)
{
	if (e->function != 1)
		return;
	e->ecx |= L1_ECX_X2APIC | L1_ECX_TSC_DEADLINE;
	if (apic_base & BIT_ULL(11))
		e->edx |= L1_EDX_APIC;
	else
		e->edx &= ~L1_EDX_APIC;
}

static int add_entry(struct vsnix_cpuid_entry *entries, u32 max, u32 *nent,
		     u32 function, u32 index, u64 supported_xcr0)
{
	struct vsnix_cpuid_entry e = { .function = function, .index = index };

	cpuid_count(function, index, &e.eax, &e.ebx, &e.ecx, &e.edx);
	if (has_significant_index(function))
		e.flags = VSNIX_CPUID_FLAG_SIGNIFICANT_INDEX;
	if (!vsnix_cpuid_filter_entry(&e, supported_xcr0))
		return 0;
	if (*nent >= max)
		return -E2BIG;
	entries[(*nent)++] = e;
	return 0;
}

/* Subleaves of one leaf, per the leaf's own rule for how many there are. */
static int add_leaf(struct vsnix_cpuid_entry *entries, u32 max, u32 *nent,
		    u32 function, u64 xcr0)
{
	u32 eax, ebx, ecx, edx, i, last = 0;
	int ret = 0;

	switch (function) {
	case 4:
	case 0x8000001d:
		/* Cache levels until type 0 (EAX[4:0]), which is kept. */
		for (i = 0; i < 16 && !ret; i++) {
			cpuid_count(function, i, &eax, &ebx, &ecx, &edx);
			ret = add_entry(entries, max, nent, function, i, xcr0);
			if (!(eax & 0x1f))
				break;
		}
		return ret;
	case 0xb:
		/* Levels until type 0 (ECX[15:8]), which is kept. */
		for (i = 0; i < 8 && !ret; i++) {
			cpuid_count(function, i, &eax, &ebx, &ecx, &edx);
			ret = add_entry(entries, max, nent, function, i, xcr0);
			if (!(ecx & 0xff00))
				break;
		}
		return ret;
	case 7:
		cpuid_count(7, 0, &eax, &ebx, &ecx, &edx);
		last = min_t(u32, eax, 2);	/* EAX: max subleaf */
		break;
	case 0xd:
		last = 63;	/* the filter keeps the supported ones */
		break;
	}
	for (i = 0; i <= last && !ret; i++)
		ret = add_entry(entries, max, nent, function, i, xcr0);
	return ret;
}

static int collect(struct vsnix_cpuid_entry *entries, u32 max, u32 *nent)
{
	u64 xcr0 = vsnix_x86_supported_xcr0();
	u32 max_basic, max_ext, f;
	int ret = 0;

	*nent = 0;
	max_basic = min_t(u32, cpuid_eax(0), 0x3f);
	for (f = 0; f <= max_basic && !ret; f++)
		ret = add_leaf(entries, max, nent, f, xcr0);

	if (!ret) {
		struct vsnix_cpuid_entry *e;

		if (*nent >= max)
			return -E2BIG;
		e = &entries[(*nent)++];
		*e = (struct vsnix_cpuid_entry) {
			.function = HYPERVISOR_LEAF, .eax = HYPERVISOR_LEAF,
		};
		memcpy(&e->ebx, VSNIX_CPUID_SIGNATURE, 4);
		memcpy(&e->ecx, VSNIX_CPUID_SIGNATURE + 4, 4);
		memcpy(&e->edx, VSNIX_CPUID_SIGNATURE + 8, 4);
	}

	max_ext = cpuid_eax(0x80000000);
	if (max_ext < 0x80000000 || max_ext > 0x8000ffff)
		return ret;
	max_ext = min_t(u32, max_ext, 0x80000000 + 0x3f);
	for (f = 0x80000000; f <= max_ext && !ret; f++)
		ret = add_leaf(entries, max, nent, f, xcr0);
	return ret;
}

int vsnix_x86_cpuid_supported(struct vsnix_cpuid_entry *entries, u32 max,
			      u32 *nent)
{
	return collect(entries, max, nent);
}

int vsnix_x86_cpuid_default(struct vsnix_cpuid_policy *policy)
{
	struct vsnix_cpuid_entry *entries;
	u32 nent;
	int ret;

	entries = kvcalloc(VSNIX_MAX_CPUID_ENTRIES, sizeof(*entries),
			   GFP_KERNEL_ACCOUNT);
	if (!entries)
		return -ENOMEM;
	ret = collect(entries, VSNIX_MAX_CPUID_ENTRIES, &nent);
	if (ret) {
		kvfree(entries);
		pr_err("vsnix: host CPUID has more than %d entries\n",
		       VSNIX_MAX_CPUID_ENTRIES);
		return ret;
	}
	policy->entries = entries;
	policy->nent = nent;
	return 0;
}
