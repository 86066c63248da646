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
#include <linux/math64.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <asm/cpufeature.h>
#include <asm/processor.h>
#include <asm/fpu/types.h>
#include <asm/fpu/xcr.h>
#include <asm/processor-flags.h>
#include <asm/tsc.h>
#include "x86.h"
#include "lapic.h"

#define L1_ECX_PCID		BIT(17)
/* Leaf 1 ECX: x2APIC (21), TSC deadline (24): only with the LAPIC. */
#define L1_ECX_X2APIC		BIT(21)
#define L1_ECX_TSC_DEADLINE	BIT(24)
#define L1_ECX_XSAVE		BIT(26)
#define L1_ECX_OSXSAVE		BIT(27)
#define L1_ECX_HYPERVISOR	BIT(31)
/* Leaf 1: what needs the AVX state (YMM) in XCR0: FMA, AVX, F16C. */
#define L1_ECX_AVX_DEPS		(BIT(12) | BIT(28) | BIT(29))
#define L7_EBX_FSGSBASE		BIT(0)
#define L7_EBX_TSC_ADJUST	BIT(1)
#define L7_EBX_SMEP		BIT(7)
/* Leaf 1 EDX: APIC (9), follows IA32_APIC_BASE.EN with the LAPIC. */
#define L1_EDX_APIC		BIT(9)
#define L7_EBX_INVPCID		BIT(10)
#define L7_EBX_SMAP		BIT(20)
/* Leaf 7 EBX: AVX2 (5) needs YMM; AVX512F/DQ/IFMA/PF/ER/CD/BW/VL AVX-512. */
#define L7_EBX_AVX2		BIT(5)
#define L7_EBX_AVX512		(BIT(16) | BIT(17) | BIT(21) | BIT(26) | \
				 BIT(27) | BIT(28) | BIT(30) | BIT(31))
#define L7_ECX_UMIP		BIT(2)
#define L7_ECX_PKU		BIT(3)
#define L7_ECX_OSPKE		BIT(4)
/* VBMI, VBMI2, VNNI, BITALG, VPOPCNTDQ: AVX-512; VAES, VPCLMULQDQ: YMM. */
#define L7_ECX_AVX512		(BIT(1) | BIT(6) | BIT(11) | BIT(12) | BIT(14))
#define L7_ECX_AVX		(BIT(9) | BIT(10))
#define L7_ECX_RDPID		BIT(22)
#define L7_EDX_AVX512		(BIT(2) | BIT(3))
/* Leaf 0xD subleaf 1 EAX. */
#define LD1_EAX_XSAVES		BIT(3)
#define LD1_EAX_XFD		BIT(4)
#define LE1_EDX_RDTSCP		BIT(27)
#define LE7_EDX_INVTSC		BIT(8)

/*
 * The allow-list: per leaf (and subleaf, or ANY), the bits of each
 * register the guest may see. A leaf not listed is dropped (CPUID then
 * answers 0); a bit not listed is cleared. KEEP: a register of numbers
 * (signature, sizes, cache descriptors), not of feature flags.
 */
#define KEEP	0xffffffffu
#define ANY	0xffffffffu

struct cpuid_allow {
	u32 function, index;
	u32 eax, ebx, ecx, edx;
};

static const struct cpuid_allow cpuid_allow[] = {
	{ 0, ANY, KEEP, KEEP, KEEP, KEEP },		/* max leaf, vendor */
	/*
	 * Leaf 1 ECX: SSE3, PCLMULQDQ, SSSE3, FMA, CX16, SSE4.1, SSE4.2,
	 * MOVBE, POPCNT, AES, XSAVE, AVX, F16C, RDRAND, hypervisor. EDX: FPU,
	 * VME, DE, PSE, TSC, MSR, PAE, MCE, CX8, APIC, SEP, MTRR, PGE, MCA,
	 * CMOV, PAT, PSE36, CLFSH, MMX, FXSR, SSE, SSE2, SS, HTT (SDM Vol 2,
	 * CPUID, tables 3-10 and 3-11). Not PCID, x2APIC, TSC deadline,
	 * MONITOR, VMX, SMX, perfmon and thermal bits.
	 */
	{ 1, ANY, KEEP, KEEP, 0xf6d83203, 0x1f8bfbff },
	{ 2, ANY, KEEP, KEEP, KEEP, KEEP },		/* cache descriptors */
	{ 4, ANY, KEEP, KEEP, KEEP, KEEP },		/* cache parameters */
	{ 5, ANY, 0, 0, 0, 0 },				/* MONITOR/MWAIT */
	{ 6, ANY, 0, 0, 0, 0 },				/* power management */
	/*
	 * Leaf 7.0 EBX: FSGSBASE, TSC_ADJUST, BMI1, HLE, AVX2, FDP_EXCPTN,
	 * SMEP, BMI2, ERMS, RTM, FPU CS/DS deprecated, AVX512F/DQ, RDSEED,
	 * ADX, SMAP, AVX512IFMA, CLFLUSHOPT, CLWB, AVX512PF/ER/CD, SHA,
	 * AVX512BW/VL. ECX: PREFETCHWT1, AVX512VBMI, UMIP, AVX512VBMI2, GFNI,
	 * VAES, VPCLMULQDQ, AVX512VNNI/BITALG/VPOPCNTDQ, MOVDIRI, MOVDIR64B.
	 * EDX: AVX512_4VNNIW/4FMAPS, FSRM, MD_CLEAR, SERIALIZE, IBRS/IBPB,
	 * STIBP, L1D_FLUSH, SSBD. Not SGX, INVPCID, PKU, LA57, RDPID, WAITPKG,
	 * PT, AMX, ARCH_CAPABILITIES.
	 */
	{ 7, 0, KEEP, 0xfdbf2bfb, 0x18005f47, 0x9c00441c },
	{ 7, ANY, 0, 0, 0, 0 },				/* subleaves 1, 2 */
	{ 0xb, ANY, KEEP, KEEP, KEEP, KEEP },		/* topology */
	{ 0xd, ANY, KEEP, KEEP, KEEP, KEEP },		/* see below */
	{ 0xa, ANY, 0, 0, 0, 0 },			/* perfmon */
	{ 0x15, ANY, KEEP, KEEP, KEEP, KEEP },		/* TSC/crystal ratio */
	{ 0x16, ANY, KEEP, KEEP, KEEP, KEEP },		/* frequencies */
	{ 0x80000000, ANY, KEEP, KEEP, KEEP, KEEP },
	/*
	 * 8000_0001h ECX: LAHF, ABM, SSE4A, MISALIGNSSE, 3DNOWPREFETCH, XOP,
	 * FMA4, TBM. EDX: the leaf 1 bits AMD mirrors, SYSCALL, NX, MMXEXT,
	 * FFXSR, 1 GiB pages, LM, 3DNOWEXT, 3DNOW (APM Vol 3, E.4.2). Not
	 * SVM, IBS, SKINIT, WDT, LWP, perfctr, RDTSCP.
	 */
	{ 0x80000001, ANY, KEEP, KEEP, 0x002109e1, 0xe7d3fbff },
	{ 0x80000002, ANY, KEEP, KEEP, KEEP, KEEP },	/* brand string */
	{ 0x80000003, ANY, KEEP, KEEP, KEEP, KEEP },
	{ 0x80000004, ANY, KEEP, KEEP, KEEP, KEEP },
	{ 0x80000005, ANY, KEEP, KEEP, KEEP, KEEP },	/* L1 caches, TLBs */
	{ 0x80000006, ANY, KEEP, KEEP, KEEP, KEEP },	/* L2/L3 */
	{ 0x80000007, ANY, 0, 0, 0, BIT(8) },		/* invariant TSC */
	/*
	 * 8000_0008h: address sizes (EAX), core count (ECX); EBX: CLZERO,
	 * XSAVEERPTR, WBNOINVD, IBPB, IBRS, STIBP, SSBD (APM Vol 3, E.4.7).
	 */
	{ 0x80000008, ANY, KEEP, 0x0100d205, KEEP, 0 },
	{ 0x8000000a, ANY, 0, 0, 0, 0 },		/* SVM */
	{ 0x8000001d, ANY, KEEP, KEEP, KEEP, KEEP },	/* cache topology */
	{ 0x8000001e, ANY, KEEP, KEEP, KEEP, KEEP },	/* topology */
	{ 0x8000001f, ANY, 0, 0, 0, 0 },		/* SEV */
};

static const struct cpuid_allow *cpuid_allowed(u32 function, u32 index)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cpuid_allow); i++) {
		const struct cpuid_allow *a = &cpuid_allow[i];

		if (a->function == function &&
		    (a->index == ANY || a->index == index))
			return a;
	}
	return NULL;
}

#define VSNIX_CPUID_SIGNATURE	"vSnixvSnixvS"
#define HYPERVISOR_LEAF		0x40000000
/* The timing leaf of the hypervisor range: TSC and APIC bus kHz. */
#define HYPERVISOR_TIMING_LEAF	0x40000010
/* The LAPIC timer's input (lapic.h): never faster than the TSC. */
#define APIC_BUS_KHZ		vsnix_apic_bus_khz(tsc_khz)

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
 * Filter one host entry for the guest through the allow-list, and what
 * the guest may use depends on XCR0: AVX-family bits only with the YMM
 * state, AVX-512 bits only with its three components. Returns false when
 * the entry is to be dropped altogether. Pure.
 */
bool vsnix_cpuid_filter_entry(struct vsnix_cpuid_entry *e, u64 supported_xcr0)
{
	const struct cpuid_allow *a = cpuid_allowed(e->function, e->index);
	bool ymm = supported_xcr0 & XFEATURE_MASK_YMM;
	bool avx512 = (supported_xcr0 & XFEATURE_MASK_AVX512) ==
		      XFEATURE_MASK_AVX512;

	if (!a)
		return false;
	e->eax &= a->eax;
	e->ebx &= a->ebx;
	e->ecx &= a->ecx;
	e->edx &= a->edx;

	switch (e->function) {
	case 1:
		if (!supported_xcr0)
			e->ecx &= ~L1_ECX_XSAVE;
		if (!ymm)
			e->ecx &= ~L1_ECX_AVX_DEPS;
		e->ecx |= L1_ECX_HYPERVISOR;
		break;
	case 7:
		if (e->index != 0)
			break;
		/* Emulated by the MSR layer whatever the host has. */
		e->ebx |= L7_EBX_TSC_ADJUST;
		if (!ymm)
			e->ebx &= ~L7_EBX_AVX2;
		if (!ymm)
			e->ecx &= ~L7_ECX_AVX;
		if (!avx512) {
			e->ebx &= ~L7_EBX_AVX512;
			e->ecx &= ~L7_ECX_AVX512;
			e->edx &= ~L7_EDX_AVX512;
		}
		/* Subleaves 1 and 2 are empty: say so (EAX = max subleaf). */
		e->eax = 0;
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
	case 0x80000007:
		/*
		 * Invariant TSC (APM Vol 3, E.4.6; SDM Vol 3, 17.17.1) whatever
		 * the host says: the guest's TSC is the host's plus one offset
		 * for the whole VM, at the rate leaf 0x40000010 states and the
		 * TSC-deadline timer assumes. Without it an AMD Linux guest
		 * with 2+ CPUs calls its TSCs unsynchronized, and any Linux
		 * guest lets a jiffies or PM-timer watchdog judge the TSC; it
		 * then runs on the PM timer, one exit per clock read.
		 */
		e->edx |= LE7_EDX_INVTSC;
		break;
	}
	return true;
}

/*
 * CR4 bits that a guest with this CPUID may set (SDM Vol 3, 2.5 and
 * each bit's CPUID flag): the base bits of every 64-bit CPU,
 * then one bit per feature. Never VMXE, SMXE, LA57 (the guest walker
 * knows 4 levels), KL, CET, PKS. Pure; the host's own support is checked
 * by the caller.
 */
u64 vsnix_cpuid_cr4_allowed(u32 l1_ecx, u32 l1_edx, u32 l7_ebx, u32 l7_ecx)
{
	u64 cr4 = X86_CR4_VME | X86_CR4_PVI | X86_CR4_TSD | X86_CR4_DE |
		  X86_CR4_PSE | X86_CR4_PAE | X86_CR4_MCE | X86_CR4_PGE |
		  X86_CR4_PCE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT;
	if (l1_ecx & L1_ECX_PCID)
		cr4 |= X86_CR4_PCIDE;
	if (l1_ecx & L1_ECX_XSAVE)
		cr4 |= X86_CR4_OSXSAVE;
	if (l7_ebx & L7_EBX_FSGSBASE)
		cr4 |= X86_CR4_FSGSBASE;
	if (l7_ebx & L7_EBX_SMEP)
		cr4 |= X86_CR4_SMEP;
	if (l7_ebx & L7_EBX_SMAP)
		cr4 |= X86_CR4_SMAP;
	if (l7_ecx & L7_ECX_UMIP)
		cr4 |= X86_CR4_UMIP;
	if (l7_ecx & L7_ECX_PKU)
		cr4 |= X86_CR4_PKE;
	return cr4;
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
void vsnix_cpuid_apply_lapic(struct vsnix_cpuid_entry *e, bool in_kernel,
			     u64 apic_base)
{
	if (e->function != 1)
		return;
	/*
	 * x2APIC and TSC deadline as userspace's CPUID says (a guest may be
	 * given an xAPIC-only CPU), but only with the in-kernel LAPIC.
	 */
	if (!in_kernel) {
		e->ecx &= ~(L1_ECX_X2APIC | L1_ECX_TSC_DEADLINE);
		return;
	}
	if (apic_base & BIT_ULL(11))
		e->edx |= L1_EDX_APIC;
	else
		e->edx &= ~L1_EDX_APIC;
}

/*
 * The best ratio p/q for num/den with p <= max_p: the last convergent of
 * the continued fraction that fits, or the semiconvergent after it when
 * that is closer. Pure.
 */
static void best_ratio(u64 num, u64 den, u64 max_p, u64 *p, u64 *q)
{
	u64 n = num, d = den, p0 = 0, q0 = 1, p1 = 1, q1 = 0, a, k, r;

	while (d) {
		a = div64_u64(n, d);
		if (a * p1 + p0 > max_p || a * q1 + q0 > U32_MAX) {
			k = div64_u64(max_p - p0, p1);
			/* |k*p1+p0 - x*(k*q1+q0)| < |p1 - x*q1|, x = num/den */
			if (k && abs((s64)((k * p1 + p0) * den - num * (k * q1 + q0))) * q1 <
				 abs((s64)(p1 * den - num * q1)) * (k * q1 + q0)) {
				p1 = k * p1 + p0;
				q1 = k * q1 + q0;
			}
			break;
		}
		r = n - a * d;
		swap(p0, p1);
		swap(q0, q1);
		p1 += a * p0;
		q1 += a * q0;
		n = d;
		d = r;
	}
	*p = p1;
	*q = q1;
}

/*
 * Leaves 0x15 (TSC/crystal ratio, crystal Hz) and 0x16 (base, max, bus
 * MHz) for a TSC of tsc_khz and a crystal of crystal_khz (SDM Vol 2,
 * CPUID). The crystal is the APIC timer's clock: Linux's
 * native_calibrate_tsc() sets lapic_timer_period from it, trusts the TSC
 * rate without refining it, and computes it as crystal_khz * EBX / EAX in
 * 32 bits. So EBX stays below 2^32 / crystal_khz; where no such ratio
 * comes within 10 ppm, EAX = EBX = 0 ("not enumerated"): the guest then
 * takes leaf 0x16's MHz and refines the rate itself. Pure.
 */
void vsnix_cpuid_tsc_leaves(u32 tsc_khz, u32 crystal_khz,
			    struct vsnix_cpuid_entry *l15,
			    struct vsnix_cpuid_entry *l16)
{
	u64 p, q, got;

	best_ratio(tsc_khz, crystal_khz, U32_MAX / crystal_khz, &p, &q);
	got = q ? div64_u64((u64)crystal_khz * p, q) : 0;
	if (abs((s64)got - tsc_khz) * 100000 > tsc_khz)
		p = q = 0;
	*l15 = (struct vsnix_cpuid_entry) {
		.function = 0x15, .eax = q, .ebx = p,
		.ecx = crystal_khz * 1000,
	};
	*l16 = (struct vsnix_cpuid_entry) {
		.function = 0x16, .eax = tsc_khz / 1000, .ebx = tsc_khz / 1000,
		.ecx = crystal_khz / 1000,
	};
}

/*
 * Intel guests learn the TSC rate from leaves 0x15/0x16, which Linux reads
 * only on Intel (native_calibrate_tsc, cpu_khz_from_cpuid): given there
 * whatever the host's own say, leaf 0's max raised to 0x16.
 */
static bool tsc_leaves_wanted(void)
{
	return boot_cpu_data.x86_vendor == X86_VENDOR_INTEL && tsc_khz &&
	       APIC_BUS_KHZ;
}

static int add_tsc_leaves(struct vsnix_cpuid_entry *entries, u32 max,
			  u32 *nent)
{
	u32 i;

	if (*nent + 2 > max)
		return -E2BIG;
	vsnix_cpuid_tsc_leaves(tsc_khz, APIC_BUS_KHZ, &entries[*nent],
			       &entries[*nent + 1]);
	*nent += 2;
	for (i = 0; i < *nent; i++)
		if (entries[i].function == 0 && entries[i].eax < 0x16)
			entries[i].eax = 0x16;
	return 0;
}

/*
 * 0x40000100: Linux's KVM paravirtual interface, at the next base a guest
 * scans (Linux's Documentation/virt/kvm/x86/cpuid.rst): signature
 * "KVMKVMKVM\0\0\0", then in 0x40000101 EAX only what vsnix implements.
 * A Linux guest that finds it uses x2APIC without interrupt remapping
 * (x86_init.hyper.x2apic_available) and the PV EOI flag (lapic_pv_eoi.c).
 */
static void add_kvm_pv_leaves(struct vsnix_cpuid_entry *entries, u32 *nent)
{
	struct vsnix_cpuid_entry *e = &entries[(*nent)++];

	*e = (struct vsnix_cpuid_entry) {
		.function = VSNIX_KVM_CPUID_SIGNATURE,
		.eax = VSNIX_KVM_CPUID_FEATURES,
	};
	/* Field by field: one 12-byte copy would span fields (fortify). */
	memcpy(&e->ebx, "KVMK", 4);
	memcpy(&e->ecx, "VMKV", 4);
	memcpy(&e->edx, "M\0\0\0", 4);
	entries[(*nent)++] = (struct vsnix_cpuid_entry) {
		.function = VSNIX_KVM_CPUID_FEATURES,
		.eax = VSNIX_KVM_FEATURES,
	};
}

/*
 * 0x40000000: the signature, max leaf 0x40000010 (TSC kHz, bus kHz); the
 * KVM range after it.
 */
static int add_hypervisor_leaves(struct vsnix_cpuid_entry *entries, u32 max,
				 u32 *nent)
{
	struct vsnix_cpuid_entry *e;

	if (*nent + 4 > max)
		return -E2BIG;
	e = &entries[(*nent)++];
	*e = (struct vsnix_cpuid_entry) {
		.function = HYPERVISOR_LEAF, .eax = HYPERVISOR_TIMING_LEAF,
	};
	memcpy(&e->ebx, VSNIX_CPUID_SIGNATURE, 4);
	memcpy(&e->ecx, VSNIX_CPUID_SIGNATURE + 4, 4);
	memcpy(&e->edx, VSNIX_CPUID_SIGNATURE + 8, 4);
	entries[(*nent)++] = (struct vsnix_cpuid_entry) {
		.function = HYPERVISOR_TIMING_LEAF, .eax = tsc_khz,
		.ebx = APIC_BUS_KHZ,
	};
	add_kvm_pv_leaves(entries, nent);
	return 0;
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
	/* The in-kernel LAPIC (VSNIX_CAP_LAPIC) has both, whatever the host. */
	if (function == 1)
		e.ecx |= L1_ECX_X2APIC | L1_ECX_TSC_DEADLINE;
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
	bool tsc = tsc_leaves_wanted();

	*nent = 0;
	max_basic = min_t(u32, cpuid_eax(0), 0x3f);
	for (f = 0; f <= max_basic && !ret; f++) {
		if (tsc && (f == 0x15 || f == 0x16))
			continue;
		ret = add_leaf(entries, max, nent, f, xcr0);
	}
	if (!ret && tsc)
		ret = add_tsc_leaves(entries, max, nent);
	if (!ret)
		ret = add_hypervisor_leaves(entries, max, nent);

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
