// SPDX-License-Identifier: GPL-2.0
/*
 * Two-dimensional page tables (AMD NPT, Intel EPT): a 4-level radix tree
 * mapping guest-physical to host-physical 4 KiB pages, or 2 MiB pages with a
 * leaf at level 2. The vendor encodes the entries (struct vsnix_tdp_format);
 * the tree shape is common: 9 index bits per level above the 12-bit page
 * offset (AMD APM Vol 2, 15.25.5; Intel SDM Vol 3, 29.3.2).
 *
 * Every change is made under tdp->lock (the VM's mmu_lock, a spinlock also
 * taken by the MMU notifier): nothing here sleeps with it held, so tables
 * come from the caller's spare page. Callers flush the guest TLBs after an
 * unmap or a write-protect.
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

int vsnix_tdp_init(struct vsnix_tdp *tdp, const struct vsnix_tdp_format *fmt,
		   spinlock_t *lock)
{
	tdp->fmt = fmt;
	tdp->lock = lock;
	tdp->nr_tables = 0;
	tdp->root = tdp_alloc_table(tdp);
	return tdp->root ? 0 : -ENOMEM;
}

/* A leaf: a level-1 entry, or a 2 MiB page (the size bit, bit 7). */
static bool tdp_is_leaf(const struct vsnix_tdp *tdp, u64 entry, int level)
{
	return level == 1 || (tdp->fmt->huge_bit && (entry & tdp->fmt->huge_bit));
}

static void tdp_free_level(struct vsnix_tdp *tdp, u64 *table, int level)
{
	unsigned int i;

	if (level > 1) {
		for (i = 0; i < TDP_ENTRIES; i++)
			if (tdp->fmt->present(table[i]) &&
			    !tdp_is_leaf(tdp, table[i], level))
				tdp_free_level(tdp, tdp_child(tdp, table[i]),
					       level - 1);
	}
	/* Leaves point at guest pages, which the host owns: not freed here. */
	tdp_free_table(tdp, table);
}

void vsnix_tdp_destroy(struct vsnix_tdp *tdp)
{
	if (!tdp->root)
		return;
	tdp_free_level(tdp, tdp->root, TDP_LEVELS);
	tdp->root = NULL;
}

/*
 * Install a leaf for gpa at level 1 (4 KiB) or 2 (2 MiB; pa and gpa
 * aligned). Tables missing on the way come from *spare: -ENOMEM when it is
 * needed and NULL (the caller allocates one without the lock and retries).
 * -EEXIST: level 2 was asked where a table of 4 KiB leaves is. A 2 MiB
 * leaf already covering a level-1 request is left as it is (0).
 */
int vsnix_tdp_set_leaf(struct vsnix_tdp *tdp, u64 gpa, phys_addr_t pa,
		       int level, bool writable, bool executable, u64 **spare)
{
	const struct vsnix_tdp_format *fmt = tdp->fmt;
	u64 *table = tdp->root;
	unsigned int idx;
	int l;
	u64 e;

	lockdep_assert_held(tdp->lock);
	if (level == 2 && !fmt->huge_bit)
		return -EEXIST;
	for (l = TDP_LEVELS; l > level; l--) {
		idx = vsnix_tdp_index(gpa, l);
		e = table[idx];
		if (fmt->present(e)) {
			if (tdp_is_leaf(tdp, e, l))
				return 0;
			table = tdp_child(tdp, e);
			continue;
		}
		if (!*spare)
			return -ENOMEM;
		/* The spare is zeroed before the hardware can see it. */
		WRITE_ONCE(table[idx], fmt->table_entry(virt_to_phys(*spare)));
		table = *spare;
		*spare = NULL;
		tdp->nr_tables++;
	}
	idx = vsnix_tdp_index(gpa, level);
	if (level == 2 && fmt->present(table[idx]) &&
	    !tdp_is_leaf(tdp, table[idx], 2))
		return -EEXIST;
	e = fmt->leaf_entry(pa, writable, executable);
	if (level == 2)
		e |= fmt->huge_bit;
	WRITE_ONCE(table[idx], e);
	return 0;
}

/* The leaf mapping gpa (and its level), or 0. */
u64 vsnix_tdp_lookup(struct vsnix_tdp *tdp, u64 gpa, int *level)
{
	u64 *table = tdp->root;
	int l;

	lockdep_assert_held(tdp->lock);
	for (l = TDP_LEVELS; l >= 1; l--) {
		u64 e = table[vsnix_tdp_index(gpa, l)];

		if (!tdp->fmt->present(e))
			return 0;
		if (tdp_is_leaf(tdp, e, l)) {
			*level = l;
			return e;
		}
		table = tdp_child(tdp, e);
	}
	return 0;
}

/* One spare table page for vsnix_tdp_set_leaf(), taken without the lock. */
u64 *vsnix_tdp_alloc_spare(void)
{
	return vsnix_zalloc_page(GFP_KERNEL_ACCOUNT);
}

static int tdp_map_one(struct vsnix_tdp *tdp, u64 gpa, struct page *page,
		       u32 mem_flags, u64 **spare)
{
	int level;

	if (vsnix_tdp_lookup(tdp, gpa, &level))
		return -EEXIST;
	return vsnix_tdp_set_leaf(tdp, gpa, page_to_phys(page), 1,
				  !(mem_flags & (VSNIX_MEM_READONLY |
						 VSNIX_MEM_LOG_DIRTY)),
				  !(mem_flags & VSNIX_MEM_NOEXEC), spare);
}

/*
 * Map pinned pages up front (VSNIX_MEM_PIN slots); takes tdp->lock for each
 * page, so that tables can be allocated between them.
 */
int vsnix_tdp_map(struct vsnix_tdp *tdp, u64 gpa, struct page **pages,
		  unsigned long npages, u32 mem_flags)
{
	u64 *spare = NULL;
	unsigned long i;
	int ret = 0;

	if (!tdp->root || !pages || !vsnix_tdp_range_ok(gpa, npages))
		return -EINVAL;
	for (i = 0; i < npages; i++) {
		if (!pages[i]) {
			ret = -EINVAL;
			break;
		}
		spin_lock(tdp->lock);
		ret = tdp_map_one(tdp, gpa + i * TDP_PAGE_SIZE, pages[i],
				  mem_flags, &spare);
		spin_unlock(tdp->lock);
		if (ret == -ENOMEM) {
			spare = vsnix_tdp_alloc_spare();
			if (spare) {
				i--;
				continue;
			}
		}
		if (ret)
			break;
		cond_resched();
	}
	vsnix_free_page(spare);
	if (ret) {
		/* Page i's own leaf was not written; tables may have been. */
		spin_lock(tdp->lock);
		vsnix_tdp_unmap(tdp, gpa, ret == -EEXIST ? i : i + 1);
		spin_unlock(tdp->lock);
	}
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

struct tdp_range_op {
	u64 start, end;
	bool wrprotect;		/* else unmap */
	bool changed;		/* a present leaf was cleared or changed */
};

/*
 * Clear (or write-protect) the leaves of [start, end) below a table covering
 * the range that begins at base; a 2 MiB leaf that overlaps the range goes
 * whole. Tables left empty are freed. Returns true when this table is empty
 * afterwards.
 */
static bool tdp_range_level(struct vsnix_tdp *tdp, u64 *table, int level,
			    u64 base, struct tdp_range_op *op)
{
	u64 span = 1ULL << vsnix_tdp_level_shift(level);
	u64 wbit = tdp->fmt->write_bit;
	unsigned int idx;

	for (idx = vsnix_tdp_index(max(op->start, base), level);
	     idx < TDP_ENTRIES; idx++) {
		u64 entry_base = base + idx * span;
		u64 entry = table[idx];

		if (entry_base >= op->end)
			break;
		if (!tdp->fmt->present(entry))
			continue;
		if (tdp_is_leaf(tdp, entry, level)) {
			if (!op->wrprotect) {
				WRITE_ONCE(table[idx], 0);
				op->changed = true;
			} else if (entry & wbit) {
				WRITE_ONCE(table[idx], entry & ~wbit);
				op->changed = true;
			}
			continue;
		}
		if (tdp_range_level(tdp, tdp_child(tdp, entry), level - 1,
				    entry_base, op) && !op->wrprotect) {
			WRITE_ONCE(table[idx], 0);
			tdp_free_table(tdp, tdp_child(tdp, entry));
		}
	}
	return tdp_table_empty(table);
}

static bool tdp_range(struct vsnix_tdp *tdp, u64 gpa, unsigned long npages,
		      bool wrprotect)
{
	struct tdp_range_op op = {
		.start = gpa, .end = gpa + npages * TDP_PAGE_SIZE,
		.wrprotect = wrprotect,
	};

	lockdep_assert_held(tdp->lock);
	if (!tdp->root || !npages || !vsnix_tdp_range_ok(gpa, npages))
		return false;
	/* The root stays even when empty. */
	tdp_range_level(tdp, tdp->root, TDP_LEVELS, 0, &op);
	return op.changed;
}

/* Returns true when a leaf was cleared: the TLBs then need a flush. */
bool vsnix_tdp_unmap(struct vsnix_tdp *tdp, u64 gpa, unsigned long npages)
{
	return tdp_range(tdp, gpa, npages, false);
}

/* Drop write permission; true when a leaf changed (flush the TLBs). */
bool vsnix_tdp_wrprotect(struct vsnix_tdp *tdp, u64 gpa, unsigned long npages)
{
	return tdp_range(tdp, gpa, npages, true);
}
