// SPDX-License-Identifier: GPL-2.0
/*
 * Split virtqueues (virtio 1.2 section 2.7), the device side. The rings
 * live in guest memory and are reached only through vsnix_guest_read and
 * vsnix_guest_write, which work from the vCPU thread (the VMM's own page
 * tables) and from a device's worker (get_user_pages_remote on the VMM's
 * mm, held with mmget_not_zero for the copy: a VMM that is exiting makes
 * them fail with -EFAULT, never crash).
 *
 * Everything the guest controls is read once into host memory and
 * checked there: the avail index, the ring entry, each descriptor. A
 * malformed ring (2.7.5.3, 2.7.13.3) breaks the queue: nothing more is
 * served from it, and the device asks for a reset (DEVICE_NEEDS_RESET).
 */
#define pr_fmt(fmt) "vsnix: " fmt

#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>
#include "virtio.h"
#include "../core/trace.h"

/* Ring offsets (2.7.6, 2.7.8). */
#define AVAIL_FLAGS		0
#define AVAIL_IDX		2
#define AVAIL_RING(i)		(4 + 2 * (u64)(i))
#define USED_FLAGS		0
#define USED_IDX		2
#define USED_RING(i)		(4 + 8 * (u64)(i))

#define DESC_SIZE		16

struct vq_desc {
	__le64 addr;
	__le32 len;
	__le16 flags;
	__le16 next;
};

static int vq_get16(struct vsnix_virtqueue *vq, u64 gpa, u16 *v)
{
	__le16 le;
	int ret = vsnix_guest_read(vq->vdev->vm, gpa, &le, sizeof(le));

	*v = le16_to_cpu(le);
	return ret;
}

static int vq_put16(struct vsnix_virtqueue *vq, u64 gpa, u16 v)
{
	__le16 le = cpu_to_le16(v);

	return vsnix_guest_write(vq->vdev->vm, gpa, &le, sizeof(le));
}

static bool vq_event_idx(struct vsnix_virtqueue *vq)
{
	return vsnix_virtio_has(vq->vdev, VIRTIO_RING_F_EVENT_IDX);
}

/* The queue stops here; one message per event, ratelimited. */
static int vq_break(struct vsnix_virtqueue *vq, int err, const char *why,
		    u64 what)
{
	if (!vq->broken)
		pr_info_ratelimited("virtio: queue %u: %s (0x%llx): device needs reset\n",
				    vq->index, why, what);
	vq->broken = true;
	vsnix_virtio_needs_reset(vq->vdev);
	return err;
}

/* Descriptors read at once: a table is read ahead, not one at a time. */
#define DESC_AHEAD		16

/* The walk's state: the table being followed and what was taken. */
struct vq_walk {
	u64 table;		/* GPA of the descriptor table */
	u32 n;			/* its entries */
	bool indirect;
	bool seen_write;
	u64 ok_lo, ok_hi;	/* the memory slot the last segment was in */
	u32 first, nr;		/* descriptors [first, first + nr) are in d[] */
	struct vq_desc d[DESC_AHEAD];
};

/*
 * Is [addr, addr + len) guest RAM? One slot lookup per slot rather than
 * per segment: a request's buffers are nearly always in the same slot.
 * What was checked here is only a promise: every later access checks
 * its slot again, under vm->srcu.
 */
static bool vq_seg_in_ram(struct vsnix_virtqueue *vq, struct vq_walk *w,
			  u64 addr, u32 len)
{
	struct vsnix_vm *vm = vq->vdev->vm;

	if (addr + len < addr)
		return false;
	if (addr >= w->ok_lo && addr + len <= w->ok_hi)
		return true;
	/* A buffer across two adjacent slots: the slow check. */
	return vsnix_guest_slot_range(vm, addr, len, &w->ok_lo, &w->ok_hi) ||
	       vsnix_guest_range_ok(vm, addr, len);
}

/* Adds one buffer to the chain, checked (2.7.4.2, 2.7.5.3). */
static int vq_add_seg(struct vsnix_virtqueue *vq, struct vsnix_vq_chain *c,
		      struct vq_walk *w, u64 addr, u32 len, bool wr)
{
	u32 *total = wr ? &c->in_len : &c->out_len;

	if (!wr && w->seen_write)
		return vq_break(vq, -EINVAL, "readable after writable", addr);
	if (c->nr_segs >= VSNIX_VQ_MAX_SEGS)
		return vq_break(vq, -E2BIG, "chain too long", c->nr_segs);
	if (!vq_seg_in_ram(vq, w, addr, len))
		return vq_break(vq, -EFAULT, "buffer outside guest RAM", addr);
	if (*total + len < *total)
		return vq_break(vq, -EOVERFLOW, "chain length overflows", len);
	*total += len;
	w->seen_write |= wr;
	c->segs[c->nr_segs++] = (struct vsnix_vq_seg){ .gpa = addr,
		.len = len, .device_writes = wr };
	return 0;
}

/* An indirect descriptor (2.7.5.3.1): one level, alone, len % 16 == 0. */
static int vq_enter_indirect(struct vsnix_virtqueue *vq, struct vq_walk *w,
			     u64 addr, u32 len, u16 flags)
{
	if (!vsnix_virtio_has(vq->vdev, VIRTIO_RING_F_INDIRECT_DESC))
		return vq_break(vq, -EINVAL, "indirect not negotiated", addr);
	if (w->indirect)
		return vq_break(vq, -EINVAL, "indirect in indirect", addr);
	if (flags & VRING_DESC_F_NEXT)
		return vq_break(vq, -EINVAL, "indirect with next", addr);
	if (!len || len % DESC_SIZE || len / DESC_SIZE > vq->size)
		return vq_break(vq, -EINVAL, "bad indirect table length", len);
	if (!vsnix_guest_range_ok(vq->vdev->vm, addr, len))
		return vq_break(vq, -EFAULT, "indirect table outside guest RAM",
				addr);
	w->table = addr;
	w->n = len / DESC_SIZE;
	w->indirect = true;
	w->nr = 0;		/* d[] held the other table's */
	return 0;
}

/*
 * Descriptor i of the current table, from d[] or read with up to
 * DESC_AHEAD - 1 after it (drivers lay chains out in order, an indirect
 * table always). Reading ahead is harmless: the device may read the
 * whole table, and what was read is used only if the chain leads there.
 */
static int vq_desc_at(struct vsnix_virtqueue *vq, struct vq_walk *w, u32 i,
		      struct vq_desc *d)
{
	struct vsnix_vm *vm = vq->vdev->vm;
	u32 n = min_t(u32, DESC_AHEAD, w->n - i);

	if (i - w->first >= w->nr) {
		if (!vsnix_guest_read(vm, w->table + DESC_SIZE * i, w->d,
				      n * DESC_SIZE)) {
			w->first = i;
			w->nr = n;
		} else {
			/* The one asked for decides whether this is an error. */
			w->nr = 0;
			return vsnix_guest_read(vm, w->table + DESC_SIZE * i, d,
						sizeof(*d));
		}
	}
	*d = w->d[i - w->first];
	return 0;
}

/* Follows the chain from head; count bounds each table (no loop). */
static int vq_walk_chain(struct vsnix_virtqueue *vq, u16 head,
			 struct vsnix_vq_chain *c)
{
	struct vq_walk w = { .table = vq->desc_gpa, .n = vq->size };
	u32 i = head, count = 0;
	struct vq_desc d;
	u16 flags;
	int ret;

	c->head = head;
	c->nr_segs = 0;
	c->out_len = 0;
	c->in_len = 0;
	for (;;) {
		if (i >= w.n)
			return vq_break(vq, -EINVAL, "descriptor index out of range", i);
		if (++count > w.n)
			return vq_break(vq, -ELOOP, "loop in descriptor chain", head);
		if (vq_desc_at(vq, &w, i, &d))
			return vq_break(vq, -EFAULT, "descriptor table outside guest RAM",
					w.table);
		flags = le16_to_cpu(d.flags);
		if (flags & VRING_DESC_F_INDIRECT) {
			ret = vq_enter_indirect(vq, &w, le64_to_cpu(d.addr),
						le32_to_cpu(d.len), flags);
			if (ret)
				return ret;
			i = 0;
			count = 0;
			continue;
		}
		ret = vq_add_seg(vq, c, &w, le64_to_cpu(d.addr),
				 le32_to_cpu(d.len), flags & VRING_DESC_F_WRITE);
		if (ret)
			return ret;
		if (!(flags & VRING_DESC_F_NEXT))
			return 1;
		i = le16_to_cpu(d.next);
	}
}

int vsnix_vq_pop(struct vsnix_virtqueue *vq, struct vsnix_vq_chain *chain)
{
	u16 avail, head;

	if (vq->broken)
		return -EIO;
	if (!READ_ONCE(vq->enabled))
		return 0;
	if (vq_get16(vq, vq->avail_gpa + AVAIL_IDX, &avail))
		return vq_break(vq, -EFAULT, "avail ring outside guest RAM",
				vq->avail_gpa);
	if (avail == vq->last_avail_idx)
		return 0;
	/* 2.7.13.3: more new entries than the ring holds is an error. */
	if ((u16)(avail - vq->last_avail_idx) > vq->size)
		return vq_break(vq, -EINVAL, "avail index jump", avail);
	/* The entry and descriptors after the index (2.7.13, step 4). */
	virt_rmb();
	if (vq_get16(vq, vq->avail_gpa +
		     AVAIL_RING(vq->last_avail_idx & (vq->size - 1)), &head))
		return vq_break(vq, -EFAULT, "avail ring outside guest RAM",
				vq->avail_gpa);
	if (head >= vq->size)
		return vq_break(vq, -EINVAL, "head index out of range", head);
	vq->last_avail_idx++;
	return vq_walk_chain(vq, head, chain);
}

void vsnix_vq_unpop(struct vsnix_virtqueue *vq)
{
	vq->last_avail_idx--;
}

int vsnix_vq_push(struct vsnix_virtqueue *vq, u16 head, u32 written)
{
	struct { __le32 id, len; } e = { cpu_to_le32(head), cpu_to_le32(written) };
	u64 at = vq->used_gpa + USED_RING(vq->used_idx & (vq->size - 1));

	if (vq->broken)
		return -EIO;
	if (vsnix_guest_write(vq->vdev->vm, at, &e, sizeof(e)))
		return vq_break(vq, -EFAULT, "used ring outside guest RAM", at);
	/* The entry before the index (2.7.8.2). */
	virt_wmb();
	vq->used_idx++;
	if (vq_put16(vq, vq->used_gpa + USED_IDX, vq->used_idx))
		return vq_break(vq, -EFAULT, "used ring outside guest RAM",
				vq->used_gpa);
	/* One request done: written bytes went to the guest (used.len). */
	if (trace_vsnix_dev_complete_enabled())
		trace_vsnix_dev_complete(vq->vdev->vm->id, READ_ONCE(vq->vdev->id),
					 vq->index, 1, written);
	return 0;
}

/* 2.7.10: with EVENT_IDX, once the used index passes used_event. */
static bool vq_need_event(u16 event, u16 new, u16 old)
{
	return (u16)(new - event - 1) < (u16)(new - old);
}

void vsnix_vq_notify(struct vsnix_virtqueue *vq)
{
	u16 flags, event, old = vq->signalled_used;
	bool valid = vq->signalled_used_valid;

	if (vq->broken || !READ_ONCE(vq->enabled))
		return;
	/* The used index is out before the driver's suppression is read. */
	virt_mb();
	if (vq_event_idx(vq)) {
		vq->signalled_used = vq->used_idx;
		vq->signalled_used_valid = true;
		if (vq_get16(vq, vq->avail_gpa + AVAIL_RING(vq->size), &event) ||
		    (valid && !vq_need_event(event, vq->used_idx, old)))
			return;
	} else if (!vq_get16(vq, vq->avail_gpa + AVAIL_FLAGS, &flags) &&
		   (flags & VRING_AVAIL_F_NO_INTERRUPT)) {
		return;
	}
	vsnix_virtio_queue_interrupt(vq);
}

/*
 * A queue the driver has not enabled (or a reset disabled) has no rings
 * the device may touch (2.7: the driver owns them until queue_enable),
 * and vsnix_vq_pop finds it empty: enable must agree, or a server that
 * polls while enable says "more" would spin forever on such a queue.
 */
void vsnix_vq_disable_kicks(struct vsnix_virtqueue *vq)
{
	/* With EVENT_IDX the avail_event left behind already suppresses. */
	if (!vq->broken && READ_ONCE(vq->enabled) && !vq_event_idx(vq))
		vq_put16(vq, vq->used_gpa + USED_FLAGS, VRING_USED_F_NO_NOTIFY);
}

bool vsnix_vq_enable_kicks(struct vsnix_virtqueue *vq)
{
	u16 avail;

	if (vq->broken || !READ_ONCE(vq->enabled))
		return false;
	if (vq_event_idx(vq))
		vq_put16(vq, vq->used_gpa + USED_RING(vq->size),
			 vq->last_avail_idx);
	else
		vq_put16(vq, vq->used_gpa + USED_FLAGS, 0);
	/* The driver's next avail index is read after our write (2.7.10). */
	virt_mb();
	if (vq_get16(vq, vq->avail_gpa + AVAIL_IDX, &avail))
		return false;
	return avail != vq->last_avail_idx;
}

int vsnix_vq_walk(const struct vsnix_vq_chain *c, bool writable, u32 off,
		  u32 len, int (*fn)(void *arg, u64 gpa, u32 n), void *arg)
{
	unsigned int i;
	int ret;

	for (i = 0; i < c->nr_segs && len; i++) {
		const struct vsnix_vq_seg *s = &c->segs[i];
		u32 n;

		if (s->device_writes != writable)
			continue;
		if (off >= s->len) {
			off -= s->len;
			continue;
		}
		n = min(len, s->len - off);
		ret = fn(arg, s->gpa + off, n);
		if (ret)
			return ret;
		len -= n;
		off = 0;
	}
	return len ? -EINVAL : 0;
}

struct vq_copy {
	struct vsnix_vm *vm;
	void *buf;
	bool write;
};

static int vq_copy_piece(void *arg, u64 gpa, u32 n)
{
	struct vq_copy *cp = arg;
	int ret;

	ret = cp->write ? vsnix_guest_write(cp->vm, gpa, cp->buf, n) :
			  vsnix_guest_read(cp->vm, gpa, cp->buf, n);
	cp->buf += n;
	return ret;
}

/*
 * Copies between host memory and the chain's readable (read) or writable
 * (write) buffers, off counted within those. -EINVAL past their end.
 */
static int vq_copy(struct vsnix_virtqueue *vq, const struct vsnix_vq_chain *c,
		   u32 off, void *buf, u32 len, bool write)
{
	struct vq_copy cp = { .vm = vq->vdev->vm, .buf = buf, .write = write };

	return vsnix_vq_walk(c, write, off, len, vq_copy_piece, &cp);
}

int vsnix_vq_read(struct vsnix_virtqueue *vq, const struct vsnix_vq_chain *c,
		  u32 off, void *buf, u32 len)
{
	return vq_copy(vq, c, off, buf, len, false);
}

int vsnix_vq_write(struct vsnix_virtqueue *vq, const struct vsnix_vq_chain *c,
		   u32 off, const void *buf, u32 len)
{
	return vq_copy(vq, c, off, (void *)buf, len, true);
}
