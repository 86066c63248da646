// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-net: the guest pages under a descriptor chain as bio_vecs, so
 * that the tap copies a frame straight from or into guest RAM (one copy
 * each way, as vhost-net does) instead of through a bounce buffer.
 *
 * The chain's segments were checked to lie in guest RAM when it was
 * popped; here each piece is looked up again in the current slot set
 * under vm->srcu, which the caller holds until the tap is done: a pinned
 * slot's pages (VSNIX_MEM_PIN) cannot go away meanwhile, and the pages of
 * other slots are pinned through the VMM's page tables (the worker uses
 * its mm), so an munmap racing with the copy cannot free them.
 */
#define pr_fmt(fmt) "vsnix: " fmt

#include <linux/mm.h>
#include <linux/srcu.h>
#include "net.h"

/* One run of [gpa, gpa + len) inside slot s, page by page. */
static int net_map_run(struct vsnix_memslot *s, struct net_pages *pg,
		       u64 gpa, u32 len, bool write)
{
	unsigned int npages = DIV_ROUND_UP(offset_in_page(gpa) + len, PAGE_SIZE);
	unsigned int first = pg->nr_pin, i;
	int got;

	if (npages > NET_MAX_BVEC - pg->nr_bv)
		return -E2BIG;
	if (!s->pages) {
		if (s->mm != current->mm)
			return -EFAULT;
		got = pin_user_pages_fast((s->uaddr + (gpa - s->gpa)) & PAGE_MASK,
					  npages, write ? FOLL_WRITE : 0,
					  pg->pin + first);
		if (got > 0)
			pg->nr_pin += got;
		if (got != npages)
			return -EFAULT;
	}
	for (i = 0; i < npages; i++) {
		struct bio_vec *bv = &pg->bv[pg->nr_bv++];
		u32 chunk = min_t(u32, len, PAGE_SIZE - offset_in_page(gpa));

		bv->bv_page = s->pages ? s->pages[(gpa - s->gpa) >> PAGE_SHIFT] :
					 pg->pin[first + i];
		bv->bv_offset = offset_in_page(gpa);
		bv->bv_len = chunk;
		if (write)
			vsnix_memslot_mark_dirty(s, gpa);
		gpa += chunk;
		len -= chunk;
	}
	return 0;
}

struct net_map {
	struct vsnix_vm *vm;
	struct net_pages *pg;
	bool write;
};

/* [gpa, gpa + len): one run per memory slot. */
static int net_map_range(void *arg, u64 gpa, u32 len)
{
	struct net_map *m = arg;

	while (len) {
		struct vsnix_memslot *s = vsnix_memslot_find(m->vm, gpa);
		u32 run;
		int ret;

		if (!s || (m->write && (s->flags & VSNIX_MEM_READONLY)))
			return -EFAULT;
		run = min_t(u64, len, s->gpa + s->size - gpa);
		ret = net_map_run(s, m->pg, gpa, run, m->write);
		if (ret)
			return ret;
		gpa += run;
		len -= run;
	}
	return 0;
}

int vsnix_net_map(struct vsnix_net *net, struct net_pages *pg,
		  const struct vsnix_vq_chain *c, bool write, u32 off, u32 len)
{
	struct net_map m = { .vm = net->vdev.vm, .pg = pg, .write = write };

	RCU_LOCKDEP_WARN(!srcu_read_lock_held(&m.vm->srcu),
			 "guest pages mapped outside vm->srcu");
	return vsnix_vq_walk(c, write, off, len, net_map_range, &m);
}

void vsnix_net_unmap(struct net_pages *pg, bool dirty)
{
	unpin_user_pages_dirty_lock(pg->pin, pg->nr_pin, dirty);
	pg->nr_pin = 0;
	pg->nr_bv = 0;
}
