// SPDX-License-Identifier: GPL-2.0
/* KUnit: the NPT/EPT radix tree (arch/x86/tdp.c) with a test entry format. */
#include <kunit/test.h>
#include <linux/gfp.h>
#include <linux/io.h>
#include <linux/mm.h>
#include "../arch/x86/x86.h"

#define T_PRESENT	BIT_ULL(0)
#define T_WRITE		BIT_ULL(1)
#define T_TABLE		BIT_ULL(2)
#define T_HUGE		BIT_ULL(7)
#define T_NOEXEC	BIT_ULL(63)
#define T_ADDR		GENMASK_ULL(51, 12)

static u64 t_table_entry(phys_addr_t table)
{
	return table | T_PRESENT | T_WRITE | T_TABLE;
}

static u64 t_leaf_entry(phys_addr_t page, bool writable, bool executable)
{
	return page | T_PRESENT | (writable ? T_WRITE : 0) |
	       (executable ? 0 : T_NOEXEC);
}

static bool t_present(u64 entry)
{
	return entry & T_PRESENT;
}

static const struct vsnix_tdp_format test_format = {
	.table_entry = t_table_entry,
	.leaf_entry = t_leaf_entry,
	.present = t_present,
	.write_bit = T_WRITE,
	.huge_bit = T_HUGE,
};

static DEFINE_SPINLOCK(t_lock);

static void t_unmap(struct vsnix_tdp *tdp, u64 gpa, unsigned long npages)
{
	spin_lock(&t_lock);
	vsnix_tdp_unmap(tdp, gpa, npages);
	spin_unlock(&t_lock);
}

/*
 * A format with a key bit among the address bits of its table entries, as
 * the SME encryption bit of NPT entries (APM Vol 2, 7.10.1): the tree code
 * must strip it, through table_addr, before it follows an entry.
 */
#define T_KEY		BIT_ULL(51)

static u64 t_keyed_table_entry(phys_addr_t table)
{
	return table | T_KEY | T_PRESENT | T_WRITE | T_TABLE;
}

static phys_addr_t t_keyed_table_addr(u64 entry)
{
	return entry & T_ADDR & ~T_KEY;
}

static const struct vsnix_tdp_format keyed_format = {
	.table_entry = t_keyed_table_entry,
	.leaf_entry = t_leaf_entry,
	.present = t_present,
	.table_addr = t_keyed_table_addr,
	.write_bit = T_WRITE,
};

/* Walk the tree like the hardware: the leaf entry for gpa, or 0. */
static u64 t_lookup(struct vsnix_tdp *tdp, u64 gpa)
{
	u64 *table = tdp->root;
	int level;

	for (level = 4; level > 1; level--) {
		u64 e = table[vsnix_tdp_index(gpa, level)];

		if (!(e & T_PRESENT) || !(e & T_TABLE))
			return 0;
		table = phys_to_virt(e & T_ADDR & ~T_KEY);
	}
	return table[vsnix_tdp_index(gpa, 1)];
}

static void tdp_index_math(struct kunit *test)
{
	u64 gpa = 0x00007fffffffffffULL & ~0xfffULL;

	KUNIT_EXPECT_EQ(test, vsnix_tdp_level_shift(1), 12u);
	KUNIT_EXPECT_EQ(test, vsnix_tdp_level_shift(4), 39u);
	KUNIT_EXPECT_EQ(test, vsnix_tdp_index(gpa, 4), 255u);
	KUNIT_EXPECT_EQ(test, vsnix_tdp_index(gpa, 3), 511u);
	KUNIT_EXPECT_EQ(test, vsnix_tdp_index(gpa, 1), 511u);
	KUNIT_EXPECT_EQ(test, vsnix_tdp_index(0x40201000ULL, 3), 1u);
	KUNIT_EXPECT_EQ(test, vsnix_tdp_index(0x40201000ULL, 2), 1u);
	KUNIT_EXPECT_EQ(test, vsnix_tdp_index(0x40201000ULL, 1), 1u);
}

static void tdp_range_checks(struct kunit *test)
{
	u64 top = 1ULL << VSNIX_GPA_BITS;

	KUNIT_EXPECT_TRUE(test, vsnix_tdp_range_ok(0, 1));
	KUNIT_EXPECT_TRUE(test, vsnix_tdp_range_ok(top - 4096, 1));
	KUNIT_EXPECT_FALSE(test, vsnix_tdp_range_ok(top - 4096, 2));
	KUNIT_EXPECT_FALSE(test, vsnix_tdp_range_ok(top, 1));
	KUNIT_EXPECT_FALSE(test, vsnix_tdp_range_ok(0x1001, 1));
	KUNIT_EXPECT_FALSE(test, vsnix_tdp_range_ok(~0xfffULL, 1));
	KUNIT_EXPECT_FALSE(test, vsnix_tdp_range_ok(0, ULONG_MAX));
}

static void tdp_map_unmap(struct kunit *test)
{
	struct page *pages[3], *third;
	struct vsnix_tdp tdp;
	int i;

	for (i = 0; i < 3; i++) {
		pages[i] = alloc_page(GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, pages[i]);
	}
	KUNIT_ASSERT_EQ(test, 0, vsnix_tdp_init(&tdp, &test_format, &t_lock));
	KUNIT_EXPECT_EQ(test, tdp.nr_tables, 1ul);

	/* Three pages across a 2 MiB boundary: PDPT, PD and two PTs. */
	KUNIT_ASSERT_EQ(test, 0, vsnix_tdp_map(&tdp, 0x1ff000, pages, 3, 0));
	KUNIT_EXPECT_EQ(test, tdp.nr_tables, 5ul);
	for (i = 0; i < 3; i++)
		KUNIT_EXPECT_EQ(test, t_lookup(&tdp, 0x1ff000 + i * 4096),
				page_to_phys(pages[i]) | T_PRESENT | T_WRITE);
	KUNIT_EXPECT_EQ(test, t_lookup(&tdp, 0x1fe000), 0ull);
	KUNIT_EXPECT_EQ(test, t_lookup(&tdp, 0x202000), 0ull);

	/* Overlap: refused, the existing mapping untouched, nothing leaked. */
	KUNIT_EXPECT_EQ(test, -EEXIST,
			vsnix_tdp_map(&tdp, 0x1fe000, pages, 3,
				      VSNIX_MEM_READONLY));
	KUNIT_EXPECT_EQ(test, t_lookup(&tdp, 0x1fe000), 0ull);
	KUNIT_EXPECT_EQ(test, t_lookup(&tdp, 0x1ff000),
			page_to_phys(pages[0]) | T_PRESENT | T_WRITE);
	KUNIT_EXPECT_EQ(test, tdp.nr_tables, 5ul);

	/* Emptying the first PT frees it; emptying all leaves the root. */
	t_unmap(&tdp, 0x1ff000, 1);
	KUNIT_EXPECT_EQ(test, t_lookup(&tdp, 0x1ff000), 0ull);
	KUNIT_EXPECT_EQ(test, tdp.nr_tables, 4ul);
	t_unmap(&tdp, 0x200000, 2);
	KUNIT_EXPECT_EQ(test, tdp.nr_tables, 1ul);

	/* Read-only mapping near the top of the 48-bit space. */
	KUNIT_ASSERT_EQ(test, 0, vsnix_tdp_map(&tdp, (1ULL << 48) - 4096,
					       pages, 1, VSNIX_MEM_READONLY));
	KUNIT_EXPECT_EQ(test, t_lookup(&tdp, (1ULL << 48) - 4096),
			page_to_phys(pages[0]) | T_PRESENT);

	/* No-execute, writable and read-only: each leaf gets the flags. */
	KUNIT_ASSERT_EQ(test, 0, vsnix_tdp_map(&tdp, 0x800000, pages, 1,
					       VSNIX_MEM_NOEXEC));
	KUNIT_ASSERT_EQ(test, 0, vsnix_tdp_map(&tdp, 0x801000, pages + 1, 1,
					       VSNIX_MEM_NOEXEC |
					       VSNIX_MEM_READONLY));
	KUNIT_EXPECT_EQ(test, t_lookup(&tdp, 0x800000),
			page_to_phys(pages[0]) | T_PRESENT | T_WRITE |
			T_NOEXEC);
	KUNIT_EXPECT_EQ(test, t_lookup(&tdp, 0x801000),
			page_to_phys(pages[1]) | T_PRESENT | T_NOEXEC);
	t_unmap(&tdp, 0x800000, 2);
	KUNIT_EXPECT_EQ(test, t_lookup(&tdp, 0x800000), 0ull);

	/* Bad requests. */
	KUNIT_EXPECT_EQ(test, -EINVAL, vsnix_tdp_map(&tdp, 1ULL << 48, pages, 1,
						     0));
	KUNIT_EXPECT_EQ(test, -EINVAL, vsnix_tdp_map(&tdp, 0x1800, pages, 1,
						     0));
	KUNIT_EXPECT_EQ(test, -EINVAL, vsnix_tdp_map(&tdp, 0, NULL, 1, 0));
	third = pages[2];
	pages[2] = NULL;
	KUNIT_EXPECT_EQ(test, -EINVAL, vsnix_tdp_map(&tdp, 0x40000000, pages, 3,
						     0));
	KUNIT_EXPECT_EQ(test, t_lookup(&tdp, 0x40000000), 0ull);
	KUNIT_EXPECT_EQ(test, tdp.nr_tables, 4ul);	/* root + top path */

	vsnix_tdp_destroy(&tdp);
	KUNIT_EXPECT_EQ(test, tdp.nr_tables, 0ul);
	KUNIT_EXPECT_NULL(test, tdp.root);
	__free_page(pages[0]);
	__free_page(pages[1]);
	__free_page(third);
}

/*
 * Every walk through an existing table (a second map below it, unmap,
 * destroy) must follow the address without the key bit: with it, the
 * pointer would be another (or no) kernel address.
 */
static void tdp_key_bit_stripped(struct kunit *test)
{
	struct page *pages[2];
	struct vsnix_tdp tdp;
	int i;

	for (i = 0; i < 2; i++) {
		pages[i] = alloc_page(GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, pages[i]);
	}
	KUNIT_ASSERT_EQ(test, 0, vsnix_tdp_init(&tdp, &keyed_format, &t_lock));
	KUNIT_ASSERT_EQ(test, 0, vsnix_tdp_map(&tdp, 0x1000, pages, 1, false));
	KUNIT_EXPECT_TRUE(test, (tdp.root[0] & T_KEY) != 0);
	/* The same PML4, PDPT, PD and PT: walked, not allocated again. */
	KUNIT_ASSERT_EQ(test, 0, vsnix_tdp_map(&tdp, 0x2000, pages + 1, 1,
					       false));
	KUNIT_EXPECT_EQ(test, tdp.nr_tables, 4ul);
	KUNIT_EXPECT_EQ(test, t_lookup(&tdp, 0x2000),
			page_to_phys(pages[1]) | T_PRESENT | T_WRITE);
	KUNIT_EXPECT_EQ(test, -EEXIST,
			vsnix_tdp_map(&tdp, 0x1000, pages + 1, 1, false));
	t_unmap(&tdp, 0x1000, 1);
	KUNIT_EXPECT_EQ(test, t_lookup(&tdp, 0x1000), 0ull);
	KUNIT_EXPECT_EQ(test, tdp.nr_tables, 4ul);
	vsnix_tdp_destroy(&tdp);
	KUNIT_EXPECT_EQ(test, tdp.nr_tables, 0ul);
	__free_page(pages[0]);
	__free_page(pages[1]);
}

/*
 * A 2 MiB leaf: the lookup finds it at level 2, a 4 KiB request inside it
 * leaves it alone, an unmap of one 4 KiB page in it removes it whole, and
 * write-protect drops only the write bit.
 */
static void tdp_huge_and_wrprotect(struct kunit *test)
{
	u64 *spare = vsnix_tdp_alloc_spare();
	struct vsnix_tdp tdp;
	int level = 0;
	u64 e;

	KUNIT_ASSERT_NOT_NULL(test, spare);
	KUNIT_ASSERT_EQ(test, 0, vsnix_tdp_init(&tdp, &test_format, &t_lock));
	spin_lock(&t_lock);
	/* PDPT and PD needed, one spare: -ENOMEM until a second is given. */
	KUNIT_EXPECT_EQ(test, -ENOMEM, vsnix_tdp_set_leaf(&tdp, 0x40000000,
							  0x200000, 2, true,
							  true, &spare));
	KUNIT_EXPECT_NULL(test, spare);
	spin_unlock(&t_lock);
	spare = vsnix_tdp_alloc_spare();
	KUNIT_ASSERT_NOT_NULL(test, spare);
	spin_lock(&t_lock);
	KUNIT_EXPECT_EQ(test, 0, vsnix_tdp_set_leaf(&tdp, 0x40000000, 0x200000,
						    2, true, true, &spare));
	e = vsnix_tdp_lookup(&tdp, 0x40123000, &level);
	KUNIT_EXPECT_EQ(test, level, 2);
	KUNIT_EXPECT_EQ(test, e, 0x200000 | T_PRESENT | T_WRITE | T_HUGE);
	KUNIT_EXPECT_EQ(test, 0, vsnix_tdp_set_leaf(&tdp, 0x40001000, 0x5000,
						    1, true, true, &spare));
	KUNIT_EXPECT_EQ(test, vsnix_tdp_lookup(&tdp, 0x40001000, &level), e);
	KUNIT_EXPECT_TRUE(test, vsnix_tdp_wrprotect(&tdp, 0x40000000, 1));
	KUNIT_EXPECT_EQ(test, vsnix_tdp_lookup(&tdp, 0x40000000, &level),
			0x200000 | T_PRESENT | T_HUGE);
	KUNIT_EXPECT_FALSE(test, vsnix_tdp_wrprotect(&tdp, 0x40000000, 1));
	KUNIT_EXPECT_TRUE(test, vsnix_tdp_unmap(&tdp, 0x401ff000, 1));
	KUNIT_EXPECT_EQ(test, vsnix_tdp_lookup(&tdp, 0x40000000, &level), 0ull);
	KUNIT_EXPECT_FALSE(test, vsnix_tdp_unmap(&tdp, 0x40000000, 512));
	spin_unlock(&t_lock);
	KUNIT_EXPECT_EQ(test, tdp.nr_tables, 1ul);	/* the root */
	vsnix_tdp_destroy(&tdp);
	vsnix_free_page(spare);
}

static struct kunit_case tdp_cases[] = {
	KUNIT_CASE(tdp_huge_and_wrprotect),
	KUNIT_CASE(tdp_index_math),
	KUNIT_CASE(tdp_range_checks),
	KUNIT_CASE(tdp_map_unmap),
	KUNIT_CASE(tdp_key_bit_stripped),
	{}
};

static struct kunit_suite tdp_suite = {
	.name = "vsnix_tdp",
	.test_cases = tdp_cases,
};

kunit_test_suite(tdp_suite);
