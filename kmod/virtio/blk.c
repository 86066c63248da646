// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-blk (virtio 1.2 section 5.2) served in the kernel, vhost style:
 * a guest's notify wakes the queue's work item, which pops the chains,
 * pins the guest pages of the data and hands a bio_vec iterator over them
 * to the backend file as an asynchronous kiocb (backends/blockfile.c).
 * The completion, maybe in interrupt context, only queues the request on
 * a lock-free list and wakes the work item again, which writes the
 * status byte, returns the chain and interrupts the driver.
 *
 * A notify from a vCPU of the VMM that owns the disk is served on that
 * vCPU's exit path when the queue is free (its lock): the chains are
 * popped and submitted there, and requests the backend finishes inside
 * the submit (a RAM disk, the page cache) are answered before the vCPU
 * re-enters the guest. That saves the worker's two wake-ups per request;
 * completions that come later still go through the work item. The vCPU
 * never waits for a disk there: a buffered transfer, FLUSH, DISCARD or
 * WRITE_ZEROES on a file with a disk under it puts its chain back, and
 * the work item serves it and the rest (direct I/O only submits; a tmpfs
 * file is memory).
 *
 * The work items adopt the VMM's mm (kthread_use_mm, as vhost's workers
 * do), so guest RAM is reached through the VMM's own page tables and
 * pinned with FOLL_PIN for the time of the I/O, whether the slot is
 * pinned (VSNIX_MEM_PIN) or faulted in on demand.
 */
#define pr_fmt(fmt) "vsnix: " fmt

#include <linux/blkdev.h>
#include <linux/file.h>
#include <linux/kthread.h>
#include <linux/llist.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_ids.h>
#include <linux/workqueue.h>
#include "virtio.h"
#include "../backends/backend.h"
#include "../devices/devices.h"

/* Requests in flight per queue before the queue waits for completions. */
#define BLK_MAX_INFLIGHT	128
/* Chains served in one run of a queue's work item (fairness). */
#define BLK_BUDGET		256
/* The largest data transfer of one request (the driver's limits stay below). */
#define BLK_MAX_XFER		(32U << 20)
#define BLK_SEG_MAX		(VSNIX_VQ_MAX_SEGS - 2)
#define BLK_MAX_RANGES		32	/* discard / write-zeroes ranges */

struct vsnix_blk_queue {
	struct vsnix_blk *blk;
	u16 index;
	bool broken;
	unsigned int inflight;		/* under lock */
	struct mutex lock;		/* who serves: work item or a vCPU */
	struct task_struct *owner;	/* a vCPU serving under lock, or NULL */
	bool inline_only;		/* under lock: a vCPU serves, defer waits */
	struct work_struct work;
	struct llist_head done;		/* completed requests */
	struct vsnix_vq_chain chain;	/* the chain being parsed */
};

struct vsnix_blk {
	struct vsnix_virtio_dev vdev;
	struct vsnix_virtio_ops ops;	/* nr_queues differs per device */
	struct vsnix_blk_backend *be;
	struct mm_struct *mm;		/* the VMM's (mmgrab) */
	struct workqueue_struct *wq;
	u64 capacity;			/* 512-byte sectors */
	bool read_only;
	bool running;			/* between start and stop */
	char serial[VIRTIO_BLK_ID_BYTES];
	atomic_t inflight;		/* all queues, for stop */
	wait_queue_head_t idle;
	u16 nr_queues;
	struct vsnix_blk_queue *queues[];
};

/* One read or write in flight. */
struct vsnix_blk_req {
	struct vsnix_blk_aio aio;
	struct vsnix_blk_queue *q;
	struct llist_node node;
	long ret;
	u64 status_gpa;
	u32 len;
	u16 head;
	bool write;			/* to the disk: the guest's OUT */
	unsigned int nr_pages;
	struct page **pages;
	struct bio_vec bvec[];
};

static struct vsnix_blk *to_blk(struct vsnix_virtio_dev *vdev)
{
	return container_of(vdev, struct vsnix_blk, vdev);
}

/* ------------------------------------------------------ configuration */

static u64 blk_features(struct vsnix_virtio_dev *vdev)
{
	struct vsnix_blk *blk = to_blk(vdev);
	u64 f = BIT_ULL(VIRTIO_BLK_F_SEG_MAX) | BIT_ULL(VIRTIO_BLK_F_BLK_SIZE) |
		BIT_ULL(VIRTIO_BLK_F_FLUSH) | BIT_ULL(VIRTIO_BLK_F_MQ);

	if (blk->read_only)
		f |= BIT_ULL(VIRTIO_BLK_F_RO);
	else
		f |= BIT_ULL(VIRTIO_BLK_F_DISCARD) |
		     BIT_ULL(VIRTIO_BLK_F_WRITE_ZEROES);
	return f;
}

/* struct virtio_blk_config (5.2.4), little-endian as virtio 1.x says. */
static void blk_fill_config(struct vsnix_blk *blk, struct virtio_blk_config *c)
{
	memset(c, 0, sizeof(*c));
	c->capacity = (__force __virtio64)cpu_to_le64(blk->capacity);
	c->seg_max = (__force __virtio32)cpu_to_le32(BLK_SEG_MAX);
	c->blk_size = (__force __virtio32)cpu_to_le32(max_t(u32, blk->be->lbs,
							    SECTOR_SIZE));
	c->num_queues = (__force __virtio16)cpu_to_le16(blk->nr_queues);
	c->max_discard_sectors = (__force __virtio32)cpu_to_le32(U32_MAX);
	c->max_discard_seg = (__force __virtio32)cpu_to_le32(BLK_MAX_RANGES);
	c->discard_sector_alignment =
		(__force __virtio32)cpu_to_le32(PAGE_SIZE >> SECTOR_SHIFT);
	c->max_write_zeroes_sectors = (__force __virtio32)cpu_to_le32(U32_MAX);
	c->max_write_zeroes_seg = (__force __virtio32)cpu_to_le32(BLK_MAX_RANGES);
	c->write_zeroes_may_unmap = 1;
}

/*
 * The fields up to write_zeroes_may_unmap (and its padding): the secure
 * erase and zoned fields after it are not offered, and their size
 * differs between kernel headers.
 */
#define BLK_CONFIG_SIZE	offsetof(struct virtio_blk_config, max_secure_erase_sectors)

static void blk_config_read(struct vsnix_virtio_dev *vdev, u32 off, void *buf,
			    u32 len)
{
	struct virtio_blk_config c;

	blk_fill_config(to_blk(vdev), &c);
	memcpy(buf, (u8 *)&c + off, len);
}

/* Every field the driver could write (wce) needs CONFIG_WCE: ignored. */
static void blk_config_write(struct vsnix_virtio_dev *vdev, u32 off,
			     const void *buf, u32 len)
{
}

/* ------------------------------------------------------ pinning */

struct blk_pin {
	struct vsnix_blk *blk;
	struct vsnix_blk_req *req;
	struct vsnix_memslot *slot;	/* the last piece's, checked */
	unsigned int max_pages;
	unsigned int nr_bvec;
};

/* The checked slot under gpa, the last piece's when it holds gpa too. */
static struct vsnix_memslot *blk_pin_slot(struct blk_pin *p, u64 gpa)
{
	struct vsnix_memslot *s = p->slot;

	if (s && gpa >= s->gpa && gpa - s->gpa < s->size)
		return s;
	s = vsnix_memslot_find(p->blk->vdev.vm, gpa);
	if (!s || s->mm != current->mm ||
	    (!p->req->write && (s->flags & VSNIX_MEM_READONLY)))
		return NULL;
	p->slot = s;
	return s;
}

/*
 * Pins the guest pages under [gpa, gpa + n) through the VMM's page tables
 * (this work item uses its mm), one run per memory slot: the slot is
 * looked up and checked under vm->srcu (held by blk_rw for the whole
 * chain), so a page outside guest RAM is never reached.
 */
static int blk_pin_piece(void *arg, u64 gpa, u32 n)
{
	struct blk_pin *p = arg;
	struct vsnix_blk_req *req = p->req;
	unsigned int gup = req->write ? 0 : FOLL_WRITE;
	int got, i;

	while (n) {
		struct vsnix_memslot *s = blk_pin_slot(p, gpa);
		u64 run;
		unsigned int npages;

		if (!s)
			return -EFAULT;
		run = min_t(u64, n, s->gpa + s->size - gpa);
		npages = DIV_ROUND_UP(offset_in_page(gpa) + run, PAGE_SIZE);
		if (npages > p->max_pages - req->nr_pages)
			return -EFAULT;
		got = pin_user_pages_fast((s->uaddr + (gpa - s->gpa)) & PAGE_MASK,
					  npages, gup, req->pages + req->nr_pages);
		if (got > 0)
			req->nr_pages += got;
		if (got != npages)
			return -EFAULT;
		for (i = 0; i < npages; i++) {
			struct bio_vec *bv = &req->bvec[p->nr_bvec++];
			u32 chunk = min_t(u64, run, PAGE_SIZE - offset_in_page(gpa));

			bv->bv_page = req->pages[req->nr_pages - npages + i];
			bv->bv_offset = offset_in_page(gpa);
			bv->bv_len = chunk;
			if (!req->write)
				vsnix_memslot_mark_dirty(s, gpa);
			gpa += chunk;
			run -= chunk;
			n -= chunk;
		}
	}
	return 0;
}

static void blk_req_free(struct vsnix_blk_req *req)
{
	/* The device wrote the pages of a read: dirty them. */
	unpin_user_pages_dirty_lock(req->pages, req->nr_pages, !req->write);
	kvfree(req);
}

/* ------------------------------------------------------ requests */

static int blk_status(struct vsnix_blk *blk, u64 gpa, u8 status)
{
	return vsnix_guest_write(blk->vdev.vm, gpa, &status, 1);
}

static void blk_aio_done(struct vsnix_blk_aio *aio, long ret)
{
	struct vsnix_blk_req *req = container_of(aio, struct vsnix_blk_req,
						 aio);
	struct vsnix_blk_queue *q = req->q;

	req->ret = ret;
	llist_add(&req->node, &q->done);
	/* Finished inside a vCPU's submit: that vCPU reaps it (blk_kick). */
	if (READ_ONCE(q->owner) == current)
		return;
	queue_work(q->blk->wq, &q->work);
}

/* Is [sector, + len bytes) on the disk? */
static bool blk_in_range(struct vsnix_blk *blk, u64 sector, u64 len)
{
	u64 n = len >> SECTOR_SHIFT;

	return sector <= blk->capacity && n <= blk->capacity - sector;
}

/* Not a virtio status: the request waits for the work item (blk_serve). */
#define BLK_S_DEFER	0xff

/*
 * IN and OUT: 0 when submitted, BLK_S_DEFER when a vCPU would have to
 * wait for it, else the status to answer at once.
 */
static u8 blk_rw(struct vsnix_blk_queue *q, const struct vsnix_vq_chain *c,
		 u64 sector, bool write, u64 status_gpa)
{
	struct vsnix_blk *blk = q->blk;
	u32 len = write ? c->out_len - sizeof(struct virtio_blk_outhdr) :
			  c->in_len - 1;
	u32 off = write ? sizeof(struct virtio_blk_outhdr) : 0;
	struct vsnix_blk_req *req;
	struct blk_pin pin;
	struct iov_iter iter;
	size_t max_pages;
	int idx, ret;

	if (write && blk->read_only)
		return VIRTIO_BLK_S_IOERR;	/* 5.2.6.2: nothing written */
	if (len % SECTOR_SIZE || len > BLK_MAX_XFER ||
	    !blk_in_range(blk, sector, len))
		return VIRTIO_BLK_S_IOERR;
	max_pages = (len >> PAGE_SHIFT) + 3 * c->nr_segs;
	req = kvmalloc(struct_size(req, bvec, max_pages) +
		       max_pages * sizeof(struct page *), GFP_KERNEL_ACCOUNT);
	if (!req)
		return VIRTIO_BLK_S_IOERR;
	req->q = q;
	req->head = c->head;
	req->status_gpa = status_gpa;
	req->len = len;
	req->write = write;
	req->nr_pages = 0;
	req->pages = (struct page **)&req->bvec[max_pages];
	pin = (struct blk_pin){ .blk = blk, .req = req,
				.max_pages = max_pages };
	idx = srcu_read_lock(&blk->vdev.vm->srcu);
	ret = vsnix_vq_walk(c, !write, off, len, blk_pin_piece, &pin);
	srcu_read_unlock(&blk->vdev.vm->srcu, idx);
	if (ret) {
		pr_info_ratelimited("virtio-blk: a request's buffer is not guest RAM\n");
		blk_req_free(req);
		return VIRTIO_BLK_S_IOERR;
	}
	iov_iter_bvec(&iter, write ? ITER_SOURCE : ITER_DEST, req->bvec,
		      pin.nr_bvec, len);
	req->aio.done = blk_aio_done;
	q->inflight++;
	atomic_inc(&blk->inflight);
	if (!blk->be->ops->submit(blk->be, &req->aio, &iter,
				  sector << SECTOR_SHIFT, write, q->inline_only))
		return 0;
	/* Buffered on a disk: nothing was done; the work item does it. */
	q->inflight--;
	if (atomic_dec_and_test(&blk->inflight))
		wake_up(&blk->idle);
	blk_req_free(req);
	return BLK_S_DEFER;
}

/* DISCARD and WRITE_ZEROES: the ranges follow the header (5.2.6). */
static u8 blk_zero(struct vsnix_blk *blk, struct vsnix_virtqueue *vq,
		   const struct vsnix_vq_chain *c, bool discard)
{
	struct virtio_blk_discard_write_zeroes r[BLK_MAX_RANGES];
	u32 len = c->out_len - sizeof(struct virtio_blk_outhdr);
	unsigned int i, n = len / sizeof(r[0]);
	int ret;

	if (blk->read_only)
		return VIRTIO_BLK_S_IOERR;
	if (!n || len % sizeof(r[0]) || n > BLK_MAX_RANGES ||
	    vsnix_vq_read(vq, c, sizeof(struct virtio_blk_outhdr), r, len))
		return VIRTIO_BLK_S_IOERR;
	for (i = 0; i < n; i++) {
		u64 sector = le64_to_cpu((__force __le64)r[i].sector);
		u64 bytes = (u64)le32_to_cpu((__force __le32)r[i].num_sectors)
			    << SECTOR_SHIFT;
		u32 flags = le32_to_cpu((__force __le32)r[i].flags);

		/*
		 * Bit 0 is unmap; Linux sets it on discards too (where the
		 * spec wants 0), so it is taken for both. Others: reserved.
		 */
		if (flags & ~VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP)
			return VIRTIO_BLK_S_UNSUPP;
		if (!blk_in_range(blk, sector, bytes))
			return VIRTIO_BLK_S_IOERR;
		if (!bytes)
			continue;
		ret = blk->be->ops->zero(blk->be, sector << SECTOR_SHIFT, bytes,
					 discard ||
					 (flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP));
		/* Discard is a hint: a file that cannot punch holes is fine. */
		if (ret && !(discard && ret == -EOPNOTSUPP))
			return VIRTIO_BLK_S_IOERR;
	}
	return VIRTIO_BLK_S_OK;
}

/* FLUSH, DISCARD and WRITE_ZEROES: done before the status is written. */
static u8 blk_sync_op(struct vsnix_blk *blk, struct vsnix_virtqueue *vq,
		      const struct vsnix_vq_chain *c, u32 type)
{
	if (type == VIRTIO_BLK_T_FLUSH)
		return blk->be->ops->flush(blk->be) ? VIRTIO_BLK_S_IOERR :
						      VIRTIO_BLK_S_OK;
	return blk_zero(blk, vq, c, type == VIRTIO_BLK_T_DISCARD);
}

/* The device-writable byte that ends the chain: the status (5.2.6). */
static bool blk_status_gpa(const struct vsnix_vq_chain *c, u64 *gpa)
{
	int i;

	for (i = c->nr_segs - 1; i >= 0; i--) {
		if (!c->segs[i].device_writes)
			return false;
		if (c->segs[i].len) {
			*gpa = c->segs[i].gpa + c->segs[i].len - 1;
			return true;
		}
	}
	return false;
}

/*
 * Serves one chain. Returns true when it answered at once (pushed),
 * false when the request is in flight, -EAGAIN when a vCPU serving
 * inline would wait for the disk (nothing was done: the work item serves
 * it), -errno when the chain cannot be answered at all (the device then
 * needs a reset).
 */
static int blk_request(struct vsnix_blk_queue *q,
		       const struct vsnix_vq_chain *c)
{
	struct vsnix_blk *blk = q->blk;
	struct vsnix_virtqueue *vq = &blk->vdev.vqs[q->index];
	struct virtio_blk_outhdr hdr;
	u32 written = 1;
	u64 status_gpa;
	u8 st;

	if (!c->in_len || !blk_status_gpa(c, &status_gpa)) {
		pr_info_ratelimited("virtio-blk: a request without a status byte: device needs reset\n");
		return -EPROTO;
	}
	if (c->out_len < sizeof(hdr) ||
	    vsnix_vq_read(vq, c, 0, &hdr, sizeof(hdr))) {
		st = VIRTIO_BLK_S_IOERR;
		goto answer;
	}
	switch (le32_to_cpu((__force __le32)hdr.type)) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		st = blk_rw(q, c, le64_to_cpu((__force __le64)hdr.sector),
			    hdr.type == cpu_to_le32(VIRTIO_BLK_T_OUT),
			    status_gpa);
		if (st == BLK_S_DEFER)
			return -EAGAIN;
		if (!st)
			return 0;
		break;
	case VIRTIO_BLK_T_FLUSH:
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		/* fsync and fallocate wait for the disk: not on a vCPU. */
		if (q->inline_only && !blk->be->memory_only)
			return -EAGAIN;
		st = blk_sync_op(blk, vq, c, le32_to_cpu((__force __le32)hdr.type));
		break;
	case VIRTIO_BLK_T_GET_ID:
		written = min_t(u32, c->in_len - 1, VIRTIO_BLK_ID_BYTES);
		st = vsnix_vq_write(vq, c, 0, blk->serial, written) ?
		     VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
		written = st ? 1 : written + 1;
		break;
	default:
		st = VIRTIO_BLK_S_UNSUPP;
		break;
	}
answer:
	if (blk_status(blk, status_gpa, st))
		written = 0;
	vsnix_vq_push(vq, c->head, written);
	return 1;
}

/* Answers the completed requests; true when any was pushed. */
static bool blk_reap(struct vsnix_blk_queue *q, bool guest)
{
	struct llist_node *list = llist_del_all(&q->done);
	struct vsnix_blk_req *req, *tmp;
	struct vsnix_blk *blk = q->blk;
	bool pushed = false;

	llist_for_each_entry_safe(req, tmp, list, node) {
		bool ok = req->ret == req->len;
		u32 written = req->write ? 1 : req->len + 1;

		if (guest) {
			if (blk_status(blk, req->status_gpa,
				       ok ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR))
				written = 0;
			vsnix_vq_push(&blk->vdev.vqs[q->index], req->head,
				      ok ? written : min_t(u32, written, 1));
			pushed = true;
		}
		if (!ok)
			pr_info_ratelimited("virtio-blk: host I/O error %ld on a %u-byte %s\n",
					    req->ret, req->len,
					    req->write ? "write" : "read");
		blk_req_free(req);
		q->inflight--;
		if (atomic_dec_and_test(&blk->inflight))
			wake_up(&blk->idle);
	}
	return pushed;
}

/* Pops and serves chains; true when any was answered at once. */
static bool blk_serve(struct vsnix_blk_queue *q)
{
	struct vsnix_virtqueue *vq = &q->blk->vdev.vqs[q->index];
	unsigned int budget = BLK_BUDGET;
	bool pushed = false;
	int ret;

	if (!vq->enabled)
		return false;
	do {
		vsnix_vq_disable_kicks(vq);
		while (q->inflight < BLK_MAX_INFLIGHT) {
			if (!budget--) {
				queue_work(q->blk->wq, &q->work);
				return pushed;
			}
			ret = vsnix_vq_pop(vq, &q->chain);
			if (!ret)
				break;
			if (ret > 0)
				ret = blk_request(q, &q->chain);
			if (ret == -EAGAIN) {
				/* The same chain, popped again by the worker. */
				vsnix_vq_unpop(vq);
				queue_work(q->blk->wq, &q->work);
				return pushed;
			}
			if (ret < 0) {
				/* virtqueue.c asked for a reset already. */
				q->broken = true;
				if (ret == -EPROTO)
					vsnix_virtio_needs_reset(&q->blk->vdev);
				return pushed;
			}
			pushed |= ret;
			cond_resched();
		}
		/* Full: a completion wakes us; kicks stay off meanwhile. */
		if (q->inflight >= BLK_MAX_INFLIGHT)
			return pushed;
	} while (vsnix_vq_enable_kicks(vq));
	return pushed;
}

static void blk_queue_work(struct work_struct *work)
{
	struct vsnix_blk_queue *q = container_of(work, struct vsnix_blk_queue,
						 work);
	struct vsnix_blk *blk = q->blk;
	bool has_mm, guest, pushed;

	/* The VMM may be exiting: then only the host side is cleaned up. */
	has_mm = mmget_not_zero(blk->mm);
	if (has_mm)
		kthread_use_mm(blk->mm);
	mutex_lock(&q->lock);
	guest = has_mm && READ_ONCE(blk->running);
	pushed = blk_reap(q, guest);
	if (guest && !q->broken)
		pushed |= blk_serve(q);
	if (pushed)
		vsnix_vq_notify(&blk->vdev.vqs[q->index]);
	mutex_unlock(&q->lock);
	if (has_mm) {
		kthread_unuse_mm(blk->mm);
		mmput(blk->mm);
	}
}

/* ------------------------------------------------------ life cycle */

static int blk_start(struct vsnix_virtio_dev *vdev)
{
	struct vsnix_blk *blk = to_blk(vdev);
	u16 i;

	for (i = 0; i < blk->nr_queues; i++)
		blk->queues[i]->broken = false;
	WRITE_ONCE(blk->running, true);
	for (i = 0; i < blk->nr_queues; i++)
		if (vdev->vqs[i].enabled)
			queue_work(blk->wq, &blk->queues[i]->work);
	return 0;
}

static void blk_stop(struct vsnix_virtio_dev *vdev)
{
	struct vsnix_blk *blk = to_blk(vdev);
	u16 i;

	lockdep_assert_held(&vdev->lock);
	WRITE_ONCE(blk->running, false);
	/* No chain is popped after this; completions only clean up. */
	for (i = 0; i < blk->nr_queues; i++) {
		flush_work(&blk->queues[i]->work);
		/* A vCPU serving inline finishes; the next sees !running. */
		mutex_lock(&blk->queues[i]->lock);
		mutex_unlock(&blk->queues[i]->lock);
	}
	wait_event(blk->idle, !atomic_read(&blk->inflight));
	for (i = 0; i < blk->nr_queues; i++)
		flush_work(&blk->queues[i]->work);
}

/*
 * Serves queue q on the notifying vCPU's exit path (the file comment);
 * called with q->lock held, drops it.
 */
static void blk_serve_inline(struct vsnix_blk_queue *q)
{
	struct vsnix_blk *blk = q->blk;
	bool pushed = false;

	lockdep_assert_held(&q->lock);
	WRITE_ONCE(q->owner, current);
	q->inline_only = true;
	if (READ_ONCE(blk->running) && !q->broken) {
		pushed = blk_reap(q, true);
		pushed |= blk_serve(q);
		/* What the backend finished inside the submits above. */
		pushed |= blk_reap(q, true);
	}
	q->inline_only = false;
	if (pushed)
		vsnix_vq_notify(&blk->vdev.vqs[q->index]);
	WRITE_ONCE(q->owner, NULL);
	mutex_unlock(&q->lock);
	/* A completion that saw owner == current before the store above. */
	smp_mb();
	if (!llist_empty(&q->done))
		queue_work(blk->wq, &q->work);
}

static void blk_kick(struct vsnix_virtio_dev *vdev, u16 q)
{
	struct vsnix_blk *blk = to_blk(vdev);
	struct vsnix_blk_queue *bq;

	if (q >= blk->nr_queues || !READ_ONCE(blk->running))
		return;
	bq = blk->queues[q];
	/* Guest RAM is reached through the VMM's mm: only its threads. */
	if (current->mm == blk->mm && !(current->flags & PF_KTHREAD) &&
	    mutex_trylock(&bq->lock)) {
		blk_serve_inline(bq);
		return;
	}
	queue_work(blk->wq, &bq->work);
}

static void blk_free(struct vsnix_blk *blk)
{
	u16 i;

	if (blk->wq)
		destroy_workqueue(blk->wq);
	for (i = 0; i < blk->nr_queues; i++)
		kvfree(blk->queues[i]);
	if (blk->be)
		blk->be->ops->close(blk->be);
	if (blk->mm)
		mmdrop(blk->mm);
	kfree(blk);
}

static void blk_destroy(struct vsnix_virtio_dev *vdev)
{
	blk_free(to_blk(vdev));
}

static const struct vsnix_virtio_ops blk_ops = {
	.device_id = VIRTIO_ID_BLOCK,
	.queue_max_size = 256,
	.config_size = BLK_CONFIG_SIZE,
	.features = blk_features,
	.config_read = blk_config_read,
	.config_write = blk_config_write,
	.start = blk_start,
	.stop = blk_stop,
	.kick = blk_kick,
	.destroy = blk_destroy,
};

static int blk_check_config(const struct vsnix_virtio_blk_config *cfg)
{
	if (cfg->flags & ~VSNIX_VIRTIO_BLK_RO || cfg->pad ||
	    !vsnix_dev_all_zero(cfg->reserved, sizeof(cfg->reserved))) {
		pr_warn_ratelimited("virtio-blk: unknown flags or nonzero reserved fields\n");
		return -EINVAL;
	}
	if (cfg->nr_queues > VSNIX_VIRTIO_BLK_MAX_QUEUES) {
		pr_warn_ratelimited("virtio-blk: %u queues, at most %u\n",
				    cfg->nr_queues, VSNIX_VIRTIO_BLK_MAX_QUEUES);
		return -EINVAL;
	}
	return 0;
}

/* The device, its queues and its backend, not yet on the bus. */
static struct vsnix_blk *blk_alloc(struct vsnix_vm *vm, u16 nr_queues)
{
	struct vsnix_blk *blk;
	u16 i;

	blk = kzalloc(struct_size(blk, queues, nr_queues), GFP_KERNEL_ACCOUNT);
	if (!blk)
		return NULL;
	blk->nr_queues = nr_queues;
	init_waitqueue_head(&blk->idle);
	for (i = 0; i < nr_queues; i++) {
		struct vsnix_blk_queue *q;

		q = kvzalloc(sizeof(*q), GFP_KERNEL_ACCOUNT);
		if (!q)
			goto err;
		q->blk = blk;
		q->index = i;
		INIT_WORK(&q->work, blk_queue_work);
		mutex_init(&q->lock);
		init_llist_head(&q->done);
		blk->queues[i] = q;
	}
	blk->wq = alloc_workqueue("vsnix-blk", WQ_UNBOUND | WQ_MEM_RECLAIM, 0);
	if (!blk->wq)
		goto err;
	blk->mm = current->mm;
	mmgrab(blk->mm);
	blk->ops = blk_ops;
	blk->ops.nr_queues = nr_queues;
	blk->vdev.vm = vm;
	blk->vdev.ops = &blk->ops;
	mutex_init(&blk->vdev.lock);
	return blk;
err:
	blk_free(blk);
	return NULL;
}

int vsnix_virtio_blk_create(struct vsnix_vm *vm,
			    const struct vsnix_virtio_blk_config *cfg)
{
	struct vsnix_blk_backend *be;
	struct vsnix_blk *blk;
	struct file *file;
	int ret;

	ret = blk_check_config(cfg);
	if (ret)
		return ret;
	file = fget(cfg->fd);
	if (!file) {
		pr_warn_ratelimited("virtio-blk: fd %d is not an open file\n",
				    cfg->fd);
		return -EBADF;
	}
	be = vsnix_blockfile_open(file, "virtio-blk");
	if (IS_ERR(be)) {
		fput(file);
		return PTR_ERR(be);
	}
	blk = blk_alloc(vm, cfg->nr_queues ? cfg->nr_queues : 1);
	if (!blk) {
		be->ops->close(be);
		return -ENOMEM;
	}
	blk->be = be;
	blk->capacity = be->size >> SECTOR_SHIFT;
	blk->read_only = be->read_only || (cfg->flags & VSNIX_VIRTIO_BLK_RO);
	memcpy(blk->serial, cfg->serial, sizeof(blk->serial));
	ret = vsnix_virtio_pci_create(vm, &blk->vdev, &cfg->pci);
	if (ret < 0)
		blk_free(blk);
	return ret;
}
