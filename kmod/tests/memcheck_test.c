// SPDX-License-Identifier: GPL-2.0
/* KUnit: validation of VSNIX_SET_MEMORY_REGION requests (core/memcheck.c). */
#include <kunit/test.h>
#include "../core/vsnix.h"

#define MiB (1ULL << 20)

static struct vsnix_memory_region region(u32 slot, u64 gpa, u64 size,
					 u64 uaddr)
{
	struct vsnix_memory_region r = {
		.slot = slot,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = uaddr,
	};
	return r;
}

static void memcheck_accepts_valid(struct kunit *test)
{
	struct vsnix_memslot *slots[4] = { };
	struct vsnix_memory_region r = region(0, 0, 16 * MiB, 0x7f0000000000);

	KUNIT_EXPECT_EQ(test, 0, vsnix_memregion_check(&r, slots, 4, 64 * MiB));
	r.flags = VSNIX_MEM_READONLY;
	KUNIT_EXPECT_EQ(test, 0, vsnix_memregion_check(&r, slots, 4, 64 * MiB));
	r.flags = VSNIX_MEM_NOEXEC;
	KUNIT_EXPECT_EQ(test, 0, vsnix_memregion_check(&r, slots, 4, 64 * MiB));
	r.flags = VSNIX_MEM_READONLY | VSNIX_MEM_NOEXEC;
	KUNIT_EXPECT_EQ(test, 0, vsnix_memregion_check(&r, slots, 4, 64 * MiB));
}

static void memcheck_rejects_bad_fields(struct kunit *test)
{
	struct vsnix_memslot *slots[4] = { };
	struct vsnix_memory_region r = region(4, 0, 4096, 0x10000);

	KUNIT_EXPECT_EQ(test, -EINVAL, vsnix_memregion_check(&r, slots, 4, MiB));
	r = region(0, 0, 4096, 0x10000);
	r.flags = 1u << 7;
	KUNIT_EXPECT_EQ(test, -EINVAL, vsnix_memregion_check(&r, slots, 4, MiB));
	r = region(0, 0, 4096, 0x10000);
	r.reserved[1] = 1;
	KUNIT_EXPECT_EQ(test, -EINVAL, vsnix_memregion_check(&r, slots, 4, MiB));
}

static void memcheck_rejects_misaligned(struct kunit *test)
{
	struct vsnix_memslot *slots[2] = { };
	struct vsnix_memory_region r;

	r = region(0, 0x800, 4096, 0x10000);
	KUNIT_EXPECT_EQ(test, -EINVAL, vsnix_memregion_check(&r, slots, 2, MiB));
	r = region(0, 0, 4095, 0x10000);
	KUNIT_EXPECT_EQ(test, -EINVAL, vsnix_memregion_check(&r, slots, 2, MiB));
	r = region(0, 0, 4096, 0x10001);
	KUNIT_EXPECT_EQ(test, -EINVAL, vsnix_memregion_check(&r, slots, 2, MiB));
}

static void memcheck_rejects_wrap_and_limits(struct kunit *test)
{
	struct vsnix_memslot *slots[2] = { };
	struct vsnix_memory_region r;

	/* Ends exactly at 2^48: allowed; one page further: refused. */
	r = region(0, (1ULL << VSNIX_GPA_BITS) - 4096, 4096, 0x10000);
	KUNIT_EXPECT_EQ(test, 0, vsnix_memregion_check(&r, slots, 2, MiB));
	r = region(0, 1ULL << VSNIX_GPA_BITS, 4096, 0x10000);
	KUNIT_EXPECT_EQ(test, -EINVAL, vsnix_memregion_check(&r, slots, 2, MiB));
	r = region(0, 0xfffffffffffff000ULL, 8192, 0x10000);
	KUNIT_EXPECT_EQ(test, -EINVAL, vsnix_memregion_check(&r, slots, 2, MiB));
	r = region(0, 0, 8192, 0xfffffffffffff000ULL);
	KUNIT_EXPECT_EQ(test, -EINVAL, vsnix_memregion_check(&r, slots, 2, MiB));
	r = region(0, 0, 2 * MiB, 0x10000);
	KUNIT_EXPECT_EQ(test, -EINVAL, vsnix_memregion_check(&r, slots, 2, MiB));
}

static void memcheck_overlap_and_reuse(struct kunit *test)
{
	struct vsnix_memslot s0 = { .id = 0, .gpa = 0x100000, .size = 0x100000 };
	struct vsnix_memslot *slots[3] = { &s0, NULL, NULL };
	struct vsnix_memory_region r;

	r = region(1, 0x1ff000, 0x2000, 0x10000);	/* last page overlaps */
	KUNIT_EXPECT_EQ(test, -EEXIST, vsnix_memregion_check(&r, slots, 3, 64 * MiB));
	r = region(1, 0x0ff000, 0x1000, 0x10000);	/* ends where s0 starts */
	KUNIT_EXPECT_EQ(test, 0, vsnix_memregion_check(&r, slots, 3, 64 * MiB));
	r = region(1, 0x200000, 0x1000, 0x10000);	/* starts where s0 ends */
	KUNIT_EXPECT_EQ(test, 0, vsnix_memregion_check(&r, slots, 3, 64 * MiB));
	r = region(1, 0, 0x400000, 0x10000);		/* covers s0 */
	KUNIT_EXPECT_EQ(test, -EEXIST, vsnix_memregion_check(&r, slots, 3, 64 * MiB));
	r = region(0, 0x800000, 0x1000, 0x10000);	/* slot 0 is live */
	KUNIT_EXPECT_EQ(test, -EEXIST, vsnix_memregion_check(&r, slots, 3, 64 * MiB));
	r = region(0, 0, 0, 0);				/* deleting it is fine */
	KUNIT_EXPECT_EQ(test, 0, vsnix_memregion_check(&r, slots, 3, 64 * MiB));
}

static struct kunit_case memcheck_cases[] = {
	KUNIT_CASE(memcheck_accepts_valid),
	KUNIT_CASE(memcheck_rejects_bad_fields),
	KUNIT_CASE(memcheck_rejects_misaligned),
	KUNIT_CASE(memcheck_rejects_wrap_and_limits),
	KUNIT_CASE(memcheck_overlap_and_reuse),
	{}
};

static struct kunit_suite memcheck_suite = {
	.name = "vsnix_memcheck",
	.test_cases = memcheck_cases,
};

kunit_test_suite(memcheck_suite);
