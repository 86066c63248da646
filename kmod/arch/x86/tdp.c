// SPDX-License-Identifier: GPL-2.0
/*
 * Two-dimensional page tables (AMD NPT, Intel EPT): a 4-level radix tree of
 * 4 KiB pages mapping guest-physical to host-physical addresses. The vendor
 * encodes the entries (struct vsnix_tdp_format); the tree shape is common:
 * 9 index bits per level above the 12-bit page offset (AMD APM Vol 2,
 * 15.25.5; Intel SDM Vol 3, 29.3.2).
 *
 * Callers serialize changes (the core holds vm->mem_lock for writing) and
 * flush the guest TLBs after an unmap.
 */
#include <linux/bits.h>
#include <linux/errno.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/io.h>
#include <asm/mem_encrypt.h>
#include "x86.h"

#define TDP_LEVELS	4
#define TDP_ENTRIES	512
/*
 * Both formats keep the next table's or the page's physical address in
 * bits 51:12 (APM Vol 2, 5.3.3; SDM Vol 3, tables 29-1 to 29-6).
 */
#define TDP_ADDR_MASK	GENMASK_ULL(51, 12)
#define TDP_PAGE_SIZE	4096ULL

unsigned int vsnix_tdp_index(u64 gpa, int level)
{
	return (gpa >> vsnix_tdp_level_shift(level)) & (TDP_ENTRIES - 1);
}

unsigned int vsnix_tdp_level_shift(int level)
{
	return 12 + 9 * (level - 1);
}

bool vsnix_tdp_range_ok(u64 gpa, unsigned long npages)
{
	u64 limit = 1ULL << VSNIX_GPA_BITS;

	if (gpa & (TDP_PAGE_SIZE - 1) || gpa >= limit)
		return false;
	return npages <= (limit - gpa) / TDP_PAGE_SIZE;
}

static u64 *tdp_alloc_table(struct vsnix_tdp *tdp)
{
	u64 *table = vsnix_zalloc_page(GFP_KERNEL_ACCOUNT);

	if (!table)
		return NULL;
	tdp->nr_tables++;
	return table;
}

static void tdp_free_table(struct vsnix_tdp *tdp, u64 *table)
{
	vsnix_free_page(table);
	tdp->nr_tables--;
}

/*
 * The table a non-leaf entry points at. On an SME host the entry holds the
 * encryption bit (C-bit) among its address bits (APM Vol 2, 7.10.1); it is
 * no address bit and must go before the address becomes a pointer.
 */
static u64 *tdp_child(const struct vsnix_tdp *tdp, u64 entry)
{
	phys_addr_t pa;

	if (tdp->fmt->table_addr)
		pa = tdp->fmt->table_addr(entry);
	else
		pa = __sme_clr(entry & TDP_ADDR_MASK);
	return phys_to_virt(pa);
}

int vsnix_tdp_init(struct vsnix_tdp *tdp, const struct vsnix_tdp_format *fmt)
{
	tdp->fmt = fmt;
	tdp->nr_tables = 0;
	tdp->root = tdp_alloc_table(tdp);
	return tdp->root ? 0 : -ENOMEM;
}

static void tdp_free_level(struct vsnix_tdp *tdp, u64 *table, int level)
{
	unsigned int i;

	if (level > 1) {
		for (i = 0; i < TDP_ENTRIES; i++)
			if (tdp->fmt->present(table[i]))
				tdp_free_level(tdp, tdp_child(tdp, table[i]),
					       level - 1);
	}
	/* Leaves point at slot pages, which the slots own: not freed here. */
	tdp_free_table(tdp, table);
}

void vsnix_tdp_destroy(struct vsnix_tdp *tdp)
{
	if (!tdp->root)
		return;
	tdp_free_level(tdp, tdp->root, TDP_LEVELS);
	tdp->root = NULL;
}

static int tdp_map_one(struct vsnix_tdp *tdp, u64 gpa, struct page *page,
		       u32 mem_flags)
{
	const struct vsnix_tdp_format *fmt = tdp->fmt;
	u64 *table = tdp->root;
	unsigned int idx;
	int level;

	for (level = TDP_LEVELS; level > 1; level--) {
		u64 *child;

		idx = vsnix_tdp_index(gpa, level);
		if (fmt->present(table[idx])) {
			table = tdp_child(tdp, table[idx]);
			continue;
		}
		child = tdp_alloc_table(tdp);
		if (!child)
			return -ENOMEM;
		/* The child is zeroed before the hardware can see it. */
		WRITE_ONCE(table[idx], fmt->table_entry(virt_to_phys(child)));
		table = child;
	}
	idx = vsnix_tdp_index(gpa, 1);
	if (fmt->present(table[idx]))
		return -EEXIST;
	WRITE_ONCE(table[idx],
		   fmt->leaf_entry(page_to_phys(page),
				   !(mem_flags & VSNIX_MEM_READONLY),
				   !(mem_flags & VSNIX_MEM_NOEXEC)));
	return 0;
}

int vsnix_tdp_map(struct vsnix_tdp *tdp, u64 gpa, struct page **pages,
		  unsigned long npages, u32 mem_flags)
{
	unsigned long i;
	int ret;

	if (!tdp->root || !pages || !vsnix_tdp_range_ok(gpa, npages))
		return -EINVAL;
	for (i = 0; i < npages; i++) {
		if (!pages[i]) {
			ret = -EINVAL;
			goto undo;
		}
		ret = tdp_map_one(tdp, gpa + i * TDP_PAGE_SIZE, pages[i],
				  mem_flags);
		if (ret)
			goto undo;
	}
	return 0;

undo:
	/*
	 * Page i's own leaf was not written (-ENOMEM: its range may hold new
	 * empty tables to free) or belongs to someone else (-EEXIST).
	 */
	vsnix_tdp_unmap(tdp, gpa, ret == -ENOMEM ? i + 1 : i);
	return ret;
}

static bool tdp_table_empty(const u64 *table)
{
	unsigned int i;

	for (i = 0; i < TDP_ENTRIES; i++)
		if (table[i])
			return false;
	return true;
}

/*
 * Clear the leaves of [start, end) below a table covering the range that
 * begins at base; free the tables left empty. Returns true when this
 * table is empty afterwards.
 */
static bool tdp_unmap_level(struct vsnix_tdp *tdp, u64 *table, int level,
			    u64 base, u64 start, u64 end)
{
	u64 span = 1ULL << vsnix_tdp_level_shift(level);
	unsigned int idx;

	for (idx = vsnix_tdp_index(start, level); idx < TDP_ENTRIES; idx++) {
		u64 entry_base = base + idx * span;
		u64 entry = table[idx];

		if (entry_base >= end)
			break;
		if (!tdp->fmt->present(entry))
			continue;
		if (level == 1) {
			WRITE_ONCE(table[idx], 0);
			continue;
		}
		if (tdp_unmap_level(tdp, tdp_child(tdp, entry), level - 1,
				    entry_base, max(start, entry_base),
				    min(end, entry_base + span))) {
			WRITE_ONCE(table[idx], 0);
			tdp_free_table(tdp, tdp_child(tdp, entry));
		}
	}
	return tdp_table_empty(table);
}

void vsnix_tdp_unmap(struct vsnix_tdp *tdp, u64 gpa, unsigned long npages)
{
	if (!tdp->root || !npages || !vsnix_tdp_range_ok(gpa, npages))
		return;
	/* The root stays even when empty. */
	tdp_unmap_level(tdp, tdp->root, TDP_LEVELS, 0, gpa,
			gpa + npages * TDP_PAGE_SIZE);
}
