// SPDX-License-Identifier: GPL-2.0
/* KUnit: CPUID filtering, run-time CPUID fields and XCR0 rules (cpuid.c). */
#include <kunit/test.h>
#include <asm/fpu/types.h>
#include <asm/processor-flags.h>
#include "../arch/x86/x86.h"

#define XCR0_X87_SSE_AVX	(XFEATURE_MASK_FP | XFEATURE_MASK_SSE | \
				 XFEATURE_MASK_YMM)

static struct vsnix_cpuid_entry entry(u32 function, u32 index)
{
	struct vsnix_cpuid_entry e = {
		.function = function, .index = index,
		.eax = ~0u, .ebx = ~0u, .ecx = ~0u, .edx = ~0u,
	};
	return e;
}

static void cpuid_filter_leaf1(struct kunit *test)
{
	struct vsnix_cpuid_entry e = entry(1, 0);

	KUNIT_ASSERT_TRUE(test, vsnix_cpuid_filter_entry(&e, XCR0_X87_SSE_AVX));
	KUNIT_EXPECT_FALSE(test, e.ecx & BIT(5));	/* VMX */
	KUNIT_EXPECT_FALSE(test, e.ecx & BIT(6));	/* SMX */
	KUNIT_EXPECT_FALSE(test, e.ecx & BIT(3));	/* MONITOR */
	KUNIT_EXPECT_FALSE(test, e.ecx & BIT(15));	/* PDCM */
	KUNIT_EXPECT_FALSE(test, e.ecx & BIT(17));	/* PCID */
	KUNIT_EXPECT_FALSE(test, e.ecx & BIT(21));	/* x2APIC */
	KUNIT_EXPECT_FALSE(test, e.ecx & BIT(24));	/* TSC deadline */
	KUNIT_EXPECT_FALSE(test, e.ecx & BIT(27));	/* OSXSAVE */
	KUNIT_EXPECT_TRUE(test, e.ecx & BIT(26));	/* XSAVE kept */
	KUNIT_EXPECT_TRUE(test, e.ecx & BIT(30));	/* RDRAND kept */
	KUNIT_EXPECT_TRUE(test, e.ecx & BIT(31));	/* hypervisor */

	e = entry(1, 0);
	e.ecx = 0;
	KUNIT_ASSERT_TRUE(test, vsnix_cpuid_filter_entry(&e, 0));
	KUNIT_EXPECT_EQ(test, e.ecx, (u32)BIT(31));	/* set even if host lacks it */
	e = entry(1, 0);
	KUNIT_ASSERT_TRUE(test, vsnix_cpuid_filter_entry(&e, 0));
	KUNIT_EXPECT_FALSE(test, e.ecx & BIT(26));	/* no XSAVE without XCR0 */
}

static void cpuid_filter_leaf7_and_ext(struct kunit *test)
{
	struct vsnix_cpuid_entry e = entry(7, 0);

	KUNIT_ASSERT_TRUE(test, vsnix_cpuid_filter_entry(&e, XCR0_X87_SSE_AVX));
	KUNIT_EXPECT_FALSE(test, e.ebx & BIT(2));	/* SGX */
	KUNIT_EXPECT_FALSE(test, e.ebx & BIT(10));	/* INVPCID */
	KUNIT_EXPECT_TRUE(test, e.ebx & BIT(18));	/* RDSEED kept */
	KUNIT_EXPECT_FALSE(test, e.ecx & BIT(4));	/* OSPKE */

	e = entry(0x80000001, 0);
	KUNIT_ASSERT_TRUE(test, vsnix_cpuid_filter_entry(&e, XCR0_X87_SSE_AVX));
	KUNIT_EXPECT_FALSE(test, e.ecx & BIT(2));	/* SVM */

	e = entry(0x8000000a, 0);
	KUNIT_ASSERT_TRUE(test, vsnix_cpuid_filter_entry(&e, XCR0_X87_SSE_AVX));
	KUNIT_EXPECT_EQ(test, e.eax | e.ebx | e.ecx | e.edx, 0u);

	e = entry(0xa, 0);
	KUNIT_ASSERT_TRUE(test, vsnix_cpuid_filter_entry(&e, XCR0_X87_SSE_AVX));
	KUNIT_EXPECT_EQ(test, e.eax | e.ebx | e.ecx | e.edx, 0u);

	e = entry(0x12, 0);				/* SGX leaf dropped */
	KUNIT_EXPECT_FALSE(test, vsnix_cpuid_filter_entry(&e, XCR0_X87_SSE_AVX));
	e = entry(0x40000000, 0);			/* host's hypervisor leaf */
	KUNIT_EXPECT_FALSE(test, vsnix_cpuid_filter_entry(&e, XCR0_X87_SSE_AVX));
}

static void cpuid_filter_xsave_leaf(struct kunit *test)
{
	struct vsnix_cpuid_entry e = entry(0xd, 0);

	KUNIT_ASSERT_TRUE(test, vsnix_cpuid_filter_entry(&e, XCR0_X87_SSE_AVX));
	KUNIT_EXPECT_EQ(test, e.eax, (u32)XCR0_X87_SSE_AVX);
	KUNIT_EXPECT_EQ(test, e.edx, 0u);

	e = entry(0xd, 1);
	KUNIT_ASSERT_TRUE(test, vsnix_cpuid_filter_entry(&e, XCR0_X87_SSE_AVX));
	KUNIT_EXPECT_FALSE(test, e.eax & BIT(3));	/* XSAVES */
	KUNIT_EXPECT_EQ(test, e.ecx | e.edx, 0u);	/* no IA32_XSS bits */

	e = entry(0xd, 2);				/* AVX: supported */
	KUNIT_EXPECT_TRUE(test, vsnix_cpuid_filter_entry(&e, XCR0_X87_SSE_AVX));
	e = entry(0xd, 9);				/* PKRU: not */
	KUNIT_EXPECT_FALSE(test, vsnix_cpuid_filter_entry(&e, XCR0_X87_SSE_AVX));
	e = entry(0xd, 18);				/* AMX: not */
	KUNIT_EXPECT_FALSE(test, vsnix_cpuid_filter_entry(&e, XCR0_X87_SSE_AVX));
	e = entry(0xd, 0);				/* no XSAVE at all */
	KUNIT_EXPECT_FALSE(test, vsnix_cpuid_filter_entry(&e, 0));
}

static void cpuid_dynamic_fields(struct kunit *test)
{
	struct vsnix_cpuid_entry e = entry(1, 0);

	vsnix_cpuid_apply_dynamic(&e, 5, 0, XFEATURE_MASK_FP);
	KUNIT_EXPECT_EQ(test, e.ebx >> 24, 5u);
	KUNIT_EXPECT_EQ(test, e.ebx & 0xffffff, 0xffffffu);
	KUNIT_EXPECT_FALSE(test, e.ecx & BIT(27));	/* CR4.OSXSAVE clear */
	vsnix_cpuid_apply_dynamic(&e, 5, X86_CR4_OSXSAVE, XFEATURE_MASK_FP);
	KUNIT_EXPECT_TRUE(test, e.ecx & BIT(27));
	e.ecx &= ~BIT(26);				/* no XSAVE: never */
	vsnix_cpuid_apply_dynamic(&e, 5, X86_CR4_OSXSAVE, XFEATURE_MASK_FP);
	KUNIT_EXPECT_FALSE(test, e.ecx & BIT(27));

	e = entry(0xb, 1);
	vsnix_cpuid_apply_dynamic(&e, 63, 0, XFEATURE_MASK_FP);
	KUNIT_EXPECT_EQ(test, e.edx, 63u);

	e = entry(7, 0);
	vsnix_cpuid_apply_dynamic(&e, 0, X86_CR4_PKE, XFEATURE_MASK_FP);
	KUNIT_EXPECT_TRUE(test, e.ecx & BIT(4));	/* PKU set in input */
	vsnix_cpuid_apply_dynamic(&e, 0, 0, XFEATURE_MASK_FP);
	KUNIT_EXPECT_FALSE(test, e.ecx & BIT(4));

	e = entry(0xd, 0);				/* x87+SSE: 512 + 64 */
	vsnix_cpuid_apply_dynamic(&e, 0, 0, XFEATURE_MASK_FPSSE);
	KUNIT_EXPECT_EQ(test, e.ebx, 576u);
}

static void xcr0_rules(struct kunit *test)
{
	u64 all = XCR0_X87_SSE_AVX | XFEATURE_MASK_AVX512;

	KUNIT_EXPECT_TRUE(test, vsnix_xcr0_valid(XFEATURE_MASK_FP, all));
	KUNIT_EXPECT_TRUE(test, vsnix_xcr0_valid(XFEATURE_MASK_FPSSE, all));
	KUNIT_EXPECT_TRUE(test, vsnix_xcr0_valid(XCR0_X87_SSE_AVX, all));
	KUNIT_EXPECT_TRUE(test, vsnix_xcr0_valid(all, all));
	KUNIT_EXPECT_FALSE(test, vsnix_xcr0_valid(0, all));		/* x87 off */
	KUNIT_EXPECT_FALSE(test, vsnix_xcr0_valid(XFEATURE_MASK_SSE, all));
	KUNIT_EXPECT_FALSE(test, vsnix_xcr0_valid(XFEATURE_MASK_FP |
						  XFEATURE_MASK_YMM, all));
	KUNIT_EXPECT_FALSE(test, vsnix_xcr0_valid(XCR0_X87_SSE_AVX |
						  XFEATURE_MASK_OPMASK, all));
	KUNIT_EXPECT_FALSE(test, vsnix_xcr0_valid(XFEATURE_MASK_FPSSE |
						  XFEATURE_MASK_AVX512, all));
	KUNIT_EXPECT_FALSE(test, vsnix_xcr0_valid(all, XCR0_X87_SSE_AVX));
	KUNIT_EXPECT_FALSE(test, vsnix_xcr0_valid(XFEATURE_MASK_FP |
						  XFEATURE_MASK_PKRU, all));
	KUNIT_EXPECT_FALSE(test, vsnix_xcr0_valid(XFEATURE_MASK_FP |
						  XFEATURE_MASK_BNDREGS, ~0ULL));
}

/* The allow-list: a bit or leaf not listed is gone, whatever the host has. */
static void cpuid_filter_allow_list(struct kunit *test)
{
	struct vsnix_cpuid_entry e = entry(1, 0);

	KUNIT_ASSERT_TRUE(test, vsnix_cpuid_filter_entry(&e, XFEATURE_MASK_FPSSE));
	KUNIT_EXPECT_TRUE(test, e.edx & BIT(12));	/* MTRR: emulated */
	KUNIT_EXPECT_TRUE(test, e.edx & BIT(14));	/* MCA: emulated */
	KUNIT_EXPECT_TRUE(test, e.edx & BIT(16));	/* PAT */
	KUNIT_EXPECT_FALSE(test, e.edx & BIT(18));	/* PSN */
	KUNIT_EXPECT_FALSE(test, e.edx & BIT(21));	/* DS */
	KUNIT_EXPECT_FALSE(test, e.edx & BIT(22));	/* ACPI */
	KUNIT_EXPECT_FALSE(test, e.edx & BIT(29));	/* TM */
	KUNIT_EXPECT_FALSE(test, e.ecx & BIT(28));	/* AVX: no YMM in XCR0 */
	KUNIT_EXPECT_FALSE(test, e.ecx & BIT(12));	/* FMA: no YMM */
	KUNIT_EXPECT_FALSE(test, e.ecx & BIT(11));	/* reserved bit */

	e = entry(7, 0);
	e.ebx = 0;					/* host without TSC_ADJUST */
	KUNIT_ASSERT_TRUE(test, vsnix_cpuid_filter_entry(&e, XCR0_X87_SSE_AVX));
	KUNIT_EXPECT_TRUE(test, e.ebx & BIT(1));	/* TSC_ADJUST emulated */
	KUNIT_EXPECT_EQ(test, e.eax, 0u);		/* no subleaf 1, 2 */
	e = entry(7, 0);
	KUNIT_ASSERT_TRUE(test, vsnix_cpuid_filter_entry(&e, XCR0_X87_SSE_AVX));
	KUNIT_EXPECT_TRUE(test, e.ebx & BIT(5));	/* AVX2 with YMM */
	KUNIT_EXPECT_FALSE(test, e.ebx & BIT(16));	/* AVX512F without it */
	KUNIT_EXPECT_FALSE(test, e.ebx & BIT(25));	/* PT */
	KUNIT_EXPECT_FALSE(test, e.ecx & BIT(16));	/* LA57 */
	KUNIT_EXPECT_FALSE(test, e.ecx & BIT(22));	/* RDPID */
	KUNIT_EXPECT_FALSE(test, e.edx & BIT(29));	/* ARCH_CAPABILITIES */
	e = entry(7, 1);
	KUNIT_ASSERT_TRUE(test, vsnix_cpuid_filter_entry(&e, XCR0_X87_SSE_AVX));
	KUNIT_EXPECT_EQ(test, e.eax | e.ebx | e.ecx | e.edx, 0u);

	e = entry(0x80000001, 0);
	KUNIT_ASSERT_TRUE(test, vsnix_cpuid_filter_entry(&e, XCR0_X87_SSE_AVX));
	KUNIT_EXPECT_FALSE(test, e.edx & BIT(27));	/* RDTSCP */
	KUNIT_EXPECT_TRUE(test, e.edx & BIT(29));	/* LM */
	KUNIT_EXPECT_TRUE(test, e.edx & BIT(20));	/* NX */
	e = entry(0x80000007, 0);
	KUNIT_ASSERT_TRUE(test, vsnix_cpuid_filter_entry(&e, XCR0_X87_SSE_AVX));
	KUNIT_EXPECT_EQ(test, e.edx, (u32)BIT(8));	/* invariant TSC only */
	/* Invariant TSC even where the host hides it (a nested host). */
	e.edx = 0;
	KUNIT_ASSERT_TRUE(test, vsnix_cpuid_filter_entry(&e, XCR0_X87_SSE_AVX));
	KUNIT_EXPECT_EQ(test, e.edx, (u32)BIT(8));

	e = entry(3, 0);				/* serial number */
	KUNIT_EXPECT_FALSE(test, vsnix_cpuid_filter_entry(&e, XCR0_X87_SSE_AVX));
	e = entry(0x80000019, 0);			/* not listed */
	KUNIT_EXPECT_FALSE(test, vsnix_cpuid_filter_entry(&e, XCR0_X87_SSE_AVX));
}

static void cpuid_cr4_allowed(struct kunit *test)
{
	u64 base = vsnix_cpuid_cr4_allowed(0, 0, 0, 0);
	u64 all = vsnix_cpuid_cr4_allowed(~0u, ~0u, ~0u, ~0u);

	KUNIT_EXPECT_TRUE(test, base & X86_CR4_PAE);
	KUNIT_EXPECT_TRUE(test, base & X86_CR4_PGE);
	KUNIT_EXPECT_TRUE(test, base & X86_CR4_OSFXSR);
	KUNIT_EXPECT_FALSE(test, base & X86_CR4_PCIDE);
	KUNIT_EXPECT_FALSE(test, base & X86_CR4_OSXSAVE);
	KUNIT_EXPECT_FALSE(test, base & X86_CR4_PKE);
	KUNIT_EXPECT_FALSE(test, base & X86_CR4_FSGSBASE);
	KUNIT_EXPECT_FALSE(test, base & X86_CR4_SMEP);
	KUNIT_EXPECT_FALSE(test, base & X86_CR4_SMAP);
	KUNIT_EXPECT_FALSE(test, base & X86_CR4_UMIP);
	KUNIT_EXPECT_TRUE(test, vsnix_cpuid_cr4_allowed(BIT(17), 0, 0, 0) &
				X86_CR4_PCIDE);
	KUNIT_EXPECT_TRUE(test, vsnix_cpuid_cr4_allowed(BIT(26), 0, 0, 0) &
				X86_CR4_OSXSAVE);
	KUNIT_EXPECT_TRUE(test, vsnix_cpuid_cr4_allowed(0, 0, 0, BIT(3)) &
				X86_CR4_PKE);
	KUNIT_EXPECT_TRUE(test, vsnix_cpuid_cr4_allowed(0, 0, BIT(7), 0) &
				X86_CR4_SMEP);
	/* Never, whatever CPUID says: VMX, SMX, 5-level paging. */
	KUNIT_EXPECT_FALSE(test, all & (X86_CR4_VMXE | X86_CR4_SMXE |
					X86_CR4_LA57));
	KUNIT_EXPECT_FALSE(test, all >> 32);
}

/* Linux's native_calibrate_tsc(): crystal_khz * EBX / EAX, in 32 bits. */
static u32 linux_tsc_khz(const struct vsnix_cpuid_entry *l15)
{
	u32 crystal_khz = l15->ecx / 1000;

	return crystal_khz * l15->ebx / l15->eax;
}

static void cpuid_tsc_leaves(struct kunit *test)
{
	static const u32 khz[] = { 2994374, 1000000, 3600000, 2100007, 800123, 4999999 };
	struct vsnix_cpuid_entry l15, l16;
	unsigned int i, exact = 0;

	for (i = 0; i < ARRAY_SIZE(khz); i++) {
		vsnix_cpuid_tsc_leaves(khz[i], 1000000, &l15, &l16);
		KUNIT_EXPECT_EQ(test, l15.ecx, 1000000000u);
		KUNIT_EXPECT_EQ(test, l16.eax, khz[i] / 1000);
		KUNIT_EXPECT_EQ(test, !l15.eax, !l15.ebx);
		if (!l15.eax)
			continue;
		KUNIT_EXPECT_LE(test, (u64)l15.ebx * 1000000, (u64)U32_MAX);
		/* Within 10 ppm of the rate after Linux's arithmetic. */
		KUNIT_EXPECT_LE(test, abs((s64)linux_tsc_khz(&l15) - khz[i]) * 100000,
				(s64)khz[i]);
		exact += linux_tsc_khz(&l15) == khz[i];
	}
	KUNIT_EXPECT_GE(test, exact, 4u);
	/* A 25 MHz crystal: any ratio fits. */
	vsnix_cpuid_tsc_leaves(2994374, 25000, &l15, &l16);
	KUNIT_EXPECT_EQ(test, linux_tsc_khz(&l15), 2994374u);
}

static struct kunit_case cpuid_cases[] = {
	KUNIT_CASE(cpuid_tsc_leaves),
	KUNIT_CASE(cpuid_filter_leaf1),
	KUNIT_CASE(cpuid_filter_allow_list),
	KUNIT_CASE(cpuid_cr4_allowed),
	KUNIT_CASE(cpuid_filter_leaf7_and_ext),
	KUNIT_CASE(cpuid_filter_xsave_leaf),
	KUNIT_CASE(cpuid_dynamic_fields),
	KUNIT_CASE(xcr0_rules),
	{}
};

static struct kunit_suite cpuid_suite = {
	.name = "vsnix_x86_cpuid",
	.test_cases = cpuid_cases,
};

kunit_test_suite(cpuid_suite);
