// SPDX-License-Identifier: GPL-2.0
/*
 * Validation of VSNIX_SET_MEMORY_REGION requests. Pure (no VM state beyond
 * the slot array passed in) so that KUnit can test it on its own.
 */
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/overflow.h>
#include "vsnix.h"

#define VSNIX_MEM_FLAGS_KNOWN	(VSNIX_MEM_READONLY | VSNIX_MEM_NOEXEC | \
				 VSNIX_MEM_PIN | VSNIX_MEM_LOG_DIRTY)
#define VSNIX_MEM_ALIGN		4096ULL

static bool vsnix_ranges_overlap(u64 a, u64 alen, u64 b, u64 blen)
{
	return a < b + blen && b < a + alen;
}

int vsnix_memregion_check(const struct vsnix_memory_region *r,
			  struct vsnix_memslot *const *slots,
			  unsigned int nslots, u64 max_bytes)
{
	u64 end;
	unsigned int i;

	if (r->slot >= nslots)
		return -EINVAL;
	if (r->flags & ~VSNIX_MEM_FLAGS_KNOWN)
		return -EINVAL;
	if (r->reserved[0] || r->reserved[1])
		return -EINVAL;
	if (r->memory_size == 0)	/* deletion: only the slot id matters */
		return 0;
	if ((r->guest_phys_addr | r->memory_size | r->userspace_addr) &
	    (VSNIX_MEM_ALIGN - 1))
		return -EINVAL;
	if (r->memory_size > max_bytes)
		return -EINVAL;
	if (check_add_overflow(r->guest_phys_addr, r->memory_size, &end) ||
	    end > (1ULL << VSNIX_GPA_BITS))
		return -EINVAL;
	if (check_add_overflow(r->userspace_addr, r->memory_size, &end))
		return -EINVAL;

	for (i = 0; i < nslots; i++) {
		const struct vsnix_memslot *s = slots[i];

		if (!s)
			continue;
		/* A live slot is replaced only by deleting it first. */
		if (i == r->slot)
			return -EEXIST;
		if (vsnix_ranges_overlap(r->guest_phys_addr, r->memory_size,
					 s->gpa, s->size))
			return -EEXIST;
	}
	return 0;
}
