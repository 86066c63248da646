// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-net: the guest memory under a descriptor chain, for the tap to
 * copy a frame straight from or into guest RAM (one copy each way, as
 * vhost-net does) instead of through a bounce buffer.
 *
 * Two forms. User addresses (RX): the VMM's addresses of the slot, in an
 * ITER_IOVEC; the worker runs in the VMM's mm, so the tap's copy_to_user
 * walks (and faults in) the VMM's page tables as vhost-net's does, with
 * no pinning per frame; a racing munmap makes the copy fail, never reach
 * a freed page. Pinned pages (TX, whose first entry is the header's
 * checked copy in host memory, and slots pinned for their life,
 * VSNIX_MEM_PIN): bio_vecs of pages held for the copy.
 *
 * The chain's segments were checked to lie in guest RAM when it was
 * popped; here each piece is looked up again in the current slot set
 * under vm->srcu, which the caller holds until the tap is done, so a slot
 * deleted meanwhile waits for the copy. A read-only slot is never mapped
 * for writing.
 */
#define pr_fmt(fmt) "vsnix: " fmt

#include <linux/mm.h>
#include <linux/srcu.h>
#include "net.h"

/* A run's pages dirty in the slot's log, before the tap writes them. */
static void net_mark_dirty(struct vsnix_memslot *s, u64 gpa, u32 len)
{
	u64 end = gpa + len;

	for (; gpa < end; gpa = (gpa | ~PAGE_MASK) + 1)
		vsnix_memslot_mark_dirty(s, gpa);
}

/* One run of [gpa, gpa + len) inside slot s, as the VMM's addresses. */
static int net_map_user(struct vsnix_memslot *s, struct net_pages *pg,
			u64 gpa, u32 len, bool write)
{
	unsigned long hva = s->uaddr + (gpa - s->gpa);
	struct iovec *last = pg->nr ? &pg->iov[pg->nr - 1] : NULL;

	if (s->pages)
		return -EAGAIN;
	if (s->mm != current->mm)
		return -EFAULT;
	if (write)
		net_mark_dirty(s, gpa, len);
	/* Buffers that follow each other in the VMM's memory: one entry. */
	if (last && (unsigned long)last->iov_base + last->iov_len == hva) {
		last->iov_len += len;
		return 0;
	}
	if (pg->nr == NET_MAX_BVEC)
		return -E2BIG;
	pg->iov[pg->nr].iov_base = (void __user *)hva;
	pg->iov[pg->nr].iov_len = len;
	pg->nr++;
	return 0;
}

/* One run of [gpa, gpa + len) inside slot s, page by page. */
static int net_map_pages(struct vsnix_memslot *s, struct net_pages *pg,
			 u64 gpa, u32 len, bool write)
{
	unsigned int npages = DIV_ROUND_UP(offset_in_page(gpa) + len, PAGE_SIZE);
	unsigned int first = pg->nr_pin, i;
	int got;

	if (npages > NET_MAX_BVEC - pg->nr)
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
	if (write)
		net_mark_dirty(s, gpa, len);
	for (i = 0; i < npages; i++) {
		struct bio_vec *bv = &pg->bv[pg->nr++];
		u32 chunk = min_t(u32, len, PAGE_SIZE - offset_in_page(gpa));

		bv->bv_page = s->pages ? s->pages[(gpa - s->gpa) >> PAGE_SHIFT] :
					 pg->pin[first + i];
		bv->bv_offset = offset_in_page(gpa);
		bv->bv_len = chunk;
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
		ret = m->pg->user ? net_map_user(s, m->pg, gpa, run, m->write) :
				    net_map_pages(s, m->pg, gpa, run, m->write);
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

void vsnix_net_iter(struct net_pages *pg, struct iov_iter *iter,
		    unsigned int dir, size_t len)
{
	if (pg->user)
		iov_iter_init(iter, dir, pg->iov, pg->nr, len);
	else
		iov_iter_bvec(iter, dir, pg->bv, pg->nr, len);
}

void vsnix_net_unmap(struct net_pages *pg, bool dirty)
{
	if (pg->nr_pin)
		unpin_user_pages_dirty_lock(pg->pin, pg->nr_pin, dirty);
	pg->nr_pin = 0;
	pg->nr = 0;
}
