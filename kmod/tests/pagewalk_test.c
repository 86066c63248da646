// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the guest page walker (arch/x86/pagewalk.c) over a fake guest RAM
 * of 64 KiB at GPA 0. Entry formats: Intel SDM Vol 3, 4.3 (32-bit), 4.4
 * (PAE), 4.5 (4-level).
 */
#include <kunit/test.h>
#include <asm/msr-index.h>
#include <asm/processor-flags.h>
#include "../arch/x86/x86.h"

#define RAM_SIZE	0x10000
#define P		0x1ULL		/* present */
#define RW		0x2ULL
#define PS		0x80ULL		/* large page */

static u8 *fake_ram;

/*
 * The core's accessors, replaced for this module: bounds-checked like the
 * real ones, over fake_ram. Nothing else in vsnix_kunit.ko defines them.
 */
int vsnix_guest_read(struct vsnix_vm *vm, u64 gpa, void *buf, size_t len)
{
	if (gpa >= RAM_SIZE || len > RAM_SIZE - gpa)
		return -EFAULT;
	memcpy(buf, fake_ram + gpa, len);
	return 0;
}

int vsnix_guest_write(struct vsnix_vm *vm, u64 gpa, const void *buf,
		      size_t len)
{
	if (gpa >= RAM_SIZE || len > RAM_SIZE - gpa)
		return -EFAULT;
	memcpy(fake_ram + gpa, buf, len);
	return 0;
}

const struct vsnix_arch_ops *vsnix_ops;

u8 vsnix_x86_maxphyaddr(struct vsnix_vcpu *vcpu)
{
	return 52;
}

static void put32(u64 gpa, u32 v)
{
	memcpy(fake_ram + gpa, &v, 4);
}

static void put64(u64 gpa, u64 v)
{
	memcpy(fake_ram + gpa, &v, 8);
}

static int pagewalk_init(struct kunit *test)
{
	fake_ram = kunit_kzalloc(test, RAM_SIZE, GFP_KERNEL);
	return fake_ram ? 0 : -ENOMEM;
}

static u64 walk(struct kunit *test, const struct vsnix_paging *pg, u64 gva,
		int want_ret)
{
	u64 gpa = 0;

	KUNIT_EXPECT_EQ_MSG(test, vsnix_gva_to_gpa(NULL, pg, gva, &gpa), want_ret,
			    "gva %llx", gva);
	return gpa;
}

static void pagewalk_no_paging(struct kunit *test)
{
	struct vsnix_paging pg = { .cr0 = X86_CR0_PE };

	KUNIT_EXPECT_EQ(test, walk(test, &pg, 0x12345, 0), 0x12345ull);
	/* Outside IA-32e, linear addresses are 32 bits. */
	KUNIT_EXPECT_EQ(test, walk(test, &pg, 0x100001000ULL, 0), 0x1000ull);
}

static void pagewalk_32bit(struct kunit *test)
{
	struct vsnix_paging pg = { .cr0 = X86_CR0_PE | X86_CR0_PG,
				   .cr3 = 0x1000 };

	put32(0x1000 + 1 * 4, 0x2000 | P | RW);		/* PDE 1 -> PT */
	put32(0x2000 + 5 * 4, 0x7000 | P);		/* PTE 5 */
	KUNIT_EXPECT_EQ(test, walk(test, &pg, 0x405123, 0), 0x7123ull);
	walk(test, &pg, 0x406000, -ENOENT);		/* PTE 6 absent */
	walk(test, &pg, 0x0, -ENOENT);			/* PDE 0 absent */

	/* PS without CR4.PSE is ignored: the entry points at a table. */
	put32(0x1000 + 2 * 4, 0x3000 | P | PS);
	walk(test, &pg, 0x812345, -ENOENT);
	/* With CR4.PSE: a 4 MiB page, PDE bits 20:13 = address bits 39:32. */
	put32(0x1000 + 2 * 4, 0x00c00000 | (1 << 13) | P | PS);
	pg.cr4 = X86_CR4_PSE;
	KUNIT_EXPECT_EQ(test, walk(test, &pg, 0x812345, 0), 0x100c12345ull);

	/* A page table outside guest RAM. */
	put32(0x1000 + 3 * 4, 0x40000000 | P);
	walk(test, &pg, 0xc00000, -EFAULT);
	/* CR3 outside guest RAM. */
	pg.cr3 = 0x80000000;
	walk(test, &pg, 0x405123, -EFAULT);
}

static void pagewalk_pae(struct kunit *test)
{
	struct vsnix_paging pg = { .cr0 = X86_CR0_PE | X86_CR0_PG,
				   .cr4 = X86_CR4_PAE, .cr3 = 0x4020 };

	put64(0x4020, 0x5000 | P);			/* PDPTE 0 */
	put64(0x5000, 0x200000 | P | RW | PS);		/* 2 MiB page */
	put64(0x5008, 0x6000 | P | RW);			/* PD 1 -> PT */
	put64(0x6000, 0x8000 | P);
	KUNIT_EXPECT_EQ(test, walk(test, &pg, 0x1234, 0), 0x201234ull);
	KUNIT_EXPECT_EQ(test, walk(test, &pg, 0x200abc, 0), 0x8abcull);
	walk(test, &pg, 0x40000000, -ENOENT);		/* PDPTE 1 absent */
	walk(test, &pg, 0x201000, -ENOENT);
}

static void pagewalk_4level(struct kunit *test)
{
	struct vsnix_paging pg = { .cr0 = X86_CR0_PE | X86_CR0_PG,
				   .cr4 = X86_CR4_PAE, .efer = EFER_LME | EFER_LMA,
				   .cr3 = 0x9000 };
	char buf[8];

	put64(0x9000, 0xa000 | P | RW);			/* PML4 0 */
	put64(0xa000, 0x40000000 | P | RW | PS);	/* 1 GiB page */
	put64(0xa008, 0xb000 | P | RW);			/* PDPT 1 -> PD */
	put64(0xb000, 0x600000 | P | RW | PS);		/* 2 MiB page */
	put64(0xb008, 0xc000 | P | RW);			/* PD 1 -> PT */
	put64(0xc000 + 3 * 8, 0x3000 | P);
	put64(0xc000 + 4 * 8, 0xd000 | P | RW);
	put64(0xc000 + 5 * 8, 0x7000 | P | RW);		/* not contiguous */
	put64(0x9008, 0x100000000ULL | P);		/* PML4 1: outside RAM */

	KUNIT_EXPECT_EQ(test, walk(test, &pg, 0x12345678, 0), 0x52345678ull);
	KUNIT_EXPECT_EQ(test, walk(test, &pg, 0x40001234, 0), 0x601234ull);
	KUNIT_EXPECT_EQ(test, walk(test, &pg, 0x40203456, 0), 0x3456ull);
	walk(test, &pg, 0x40206000, -ENOENT);
	walk(test, &pg, 0x8000000000ULL, -EFAULT);	/* table outside RAM */
	walk(test, &pg, 0x10000000000ULL, -ENOENT);	/* PML4 2 absent */
	walk(test, &pg, 0x0000800000000000ULL, -EFAULT);	/* non-canonical */
	/* Canonical upper half: PML4 511, absent. */
	walk(test, &pg, 0xffffff8000000000ULL, -ENOENT);

	/* A read across two pages that are apart in guest-physical memory. */
	memcpy(fake_ram + 0xdffc, "ABCD", 4);
	memcpy(fake_ram + 0x7000, "EFGH", 4);
	KUNIT_EXPECT_EQ(test, 0, vsnix_read_gva(NULL, &pg, 0x40204ffc, buf, 8));
	KUNIT_EXPECT_EQ(test, 0, memcmp(buf, "ABCDEFGH", 8));
	KUNIT_EXPECT_EQ(test, 0, vsnix_write_gva(NULL, &pg, 0x40204ffe, "wxyz", 4));
	KUNIT_EXPECT_EQ(test, 0, memcmp(fake_ram + 0xdffe, "wx", 2));
	KUNIT_EXPECT_EQ(test, 0, memcmp(fake_ram + 0x7000, "yz", 2));
	/* The second page not present: the whole read fails. */
	KUNIT_EXPECT_EQ(test, -ENOENT, vsnix_read_gva(NULL, &pg, 0x40205ffc, buf, 8));
}

/*
 * Bits at and above the guest's MAXPHYADDR are reserved, not address: an
 * entry or CR3 with them set fails, and the result never carries them
 * (as an SME C-bit, bit 47, would if it were kept).
 */
static void pagewalk_maxphyaddr(struct kunit *test)
{
	struct vsnix_paging pg = { .cr0 = X86_CR0_PE | X86_CR0_PG,
				   .cr4 = X86_CR4_PAE, .efer = EFER_LME | EFER_LMA,
				   .cr3 = 0x9000, .maxphyaddr = 40 };
	u64 bit47 = BIT_ULL(47);

	put64(0x9000, 0xa000 | P | RW);			/* PML4 0 */
	put64(0xa000, 0xb000 | P | RW);			/* PDPT 0 */
	put64(0xb000, 0xc000 | P | RW);			/* PD 0 */
	put64(0xc000 + 1 * 8, 0x5000 | P);		/* a good PTE */
	put64(0xc000 + 2 * 8, bit47 | 0x5000 | P);	/* leaf: bit 47 */
	put64(0xb000 + 1 * 8, bit47 | 0xc000 | P | RW);	/* table: bit 47 */
	put64(0xa000 + 1 * 8, bit47 | 0x40000000 | P | PS);	/* 1 GiB */
	put64(0xc000 + 3 * 8, BIT_ULL(39) | 0x5000 | P);	/* below 40 */

	KUNIT_EXPECT_EQ(test, walk(test, &pg, 0x1abc, 0), 0x5abcull);
	walk(test, &pg, 0x2abc, -EFAULT);
	walk(test, &pg, 0x201abc, -EFAULT);
	walk(test, &pg, 0x40000abc, -EFAULT);
	KUNIT_EXPECT_EQ(test, walk(test, &pg, 0x3abc, 0), BIT_ULL(39) | 0x5abc);
	pg.cr3 = bit47 | 0x9000;
	walk(test, &pg, 0x1abc, -EFAULT);

	/* PAE: the PDPTE too. */
	pg.efer = 0;
	pg.cr3 = 0x4020;
	put64(0x4020, bit47 | 0xb000 | P);
	walk(test, &pg, 0x1abc, -EFAULT);
	put64(0x4020, 0xb000 | P);
	KUNIT_EXPECT_EQ(test, walk(test, &pg, 0x1abc, 0), 0x5abcull);

	/* 32-bit paging, PSE-36: PDE bits 20:13 reach bit 39 only. */
	pg.cr4 = X86_CR4_PSE;
	pg.cr3 = 0x1000;
	pg.maxphyaddr = 36;
	put32(0x1000, 0x00400000 | (1 << 17) | P | PS);	/* bit 36 */
	walk(test, &pg, 0x1234, -EFAULT);
	pg.maxphyaddr = 40;
	KUNIT_EXPECT_EQ(test, walk(test, &pg, 0x1234, 0),
			BIT_ULL(36) | 0x401234);
}

static void pagewalk_mode(struct kunit *test)
{
	struct vsnix_sregs s = { };
	struct vsnix_paging pg;

	s.cs.base = 0xf0000;
	vsnix_x86_paging_from_sregs(&s, 0x2, &pg);
	KUNIT_EXPECT_EQ(test, pg.mode, VSNIX_MODE_REAL);
	KUNIT_EXPECT_EQ(test, pg.cs_base, 0xf0000ull);

	s.cr0 = X86_CR0_PE;
	vsnix_x86_paging_from_sregs(&s, 0x2, &pg);
	KUNIT_EXPECT_EQ(test, pg.mode, VSNIX_MODE_PROT16);
	vsnix_x86_paging_from_sregs(&s, 0x2 | X86_EFLAGS_VM, &pg);
	KUNIT_EXPECT_EQ(test, pg.mode, VSNIX_MODE_REAL);
	s.cs.db = 1;
	vsnix_x86_paging_from_sregs(&s, 0x2, &pg);
	KUNIT_EXPECT_EQ(test, pg.mode, VSNIX_MODE_PROT32);

	/* IA-32e compatibility mode decodes as 32-bit code. */
	s.efer = EFER_LME | EFER_LMA;
	vsnix_x86_paging_from_sregs(&s, 0x2, &pg);
	KUNIT_EXPECT_EQ(test, pg.mode, VSNIX_MODE_PROT32);
	s.cs.db = 0;
	s.cs.l = 1;
	vsnix_x86_paging_from_sregs(&s, 0x2, &pg);
	KUNIT_EXPECT_EQ(test, pg.mode, VSNIX_MODE_LONG64);
	KUNIT_EXPECT_EQ(test, pg.cs_base, 0ull);	/* ignored in 64-bit */
}

static struct kunit_case pagewalk_cases[] = {
	KUNIT_CASE(pagewalk_no_paging),
	KUNIT_CASE(pagewalk_32bit),
	KUNIT_CASE(pagewalk_pae),
	KUNIT_CASE(pagewalk_4level),
	KUNIT_CASE(pagewalk_maxphyaddr),
	KUNIT_CASE(pagewalk_mode),
	{}
};

static struct kunit_suite pagewalk_suite = {
	.name = "vsnix_pagewalk",
	.init = pagewalk_init,
	.test_cases = pagewalk_cases,
};

kunit_test_suite(pagewalk_suite);
