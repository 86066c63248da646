// SPDX-License-Identifier: GPL-2.0
/*
 * The in-kernel I/O buses: devices claim port or MMIO ranges, and exits on
 * those ranges are served here, inside RUN, without a trip to userspace.
 *
 * Each bus is an immutable array of devices sorted by base (ranges never
 * overlap) plus an array of ioeventfds sorted by address. Readers find an
 * entry by binary search under srcu_read_lock(&vm->srcu); writers
 * (io_lock) build a new copy, publish it with rcu_assign_pointer and free
 * the old one after synchronize_srcu. A device found under SRCU is pinned
 * with a reference before the lock is dropped, because a device call may
 * sleep for long (hvt POLL) and must hold up neither writers nor the
 * memory slots' grace periods.
 */
#define pr_fmt(fmt) "vsnix: " fmt

#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include "vsnix.h"
#include "internal.h"
#include "compat.h"
#include "trace.h"

/* Entries per bus, devices and ioeventfds together. */
#define VSNIX_IO_BUS_MAX	1024

struct vsnix_ioeventfd {
	u64 addr;
	u64 datamatch;
	u32 len;
	bool has_datamatch;
	struct eventfd_ctx *ctx;
};

struct vsnix_io_bus {
	unsigned int nr_devs;
	unsigned int nr_evs;
	struct vsnix_io_device **devs;	/* sorted by base, disjoint */
	struct vsnix_ioeventfd **evs;	/* sorted by addr */
	void *slots[];
};

static struct vsnix_io_bus *io_bus_alloc(unsigned int nr_devs,
					 unsigned int nr_evs)
{
	struct vsnix_io_bus *b;

	b = kzalloc(struct_size(b, slots, nr_devs + nr_evs),
		    GFP_KERNEL_ACCOUNT);
	if (!b)
		return NULL;
	b->nr_devs = nr_devs;
	b->nr_evs = nr_evs;
	b->devs = (struct vsnix_io_device **)b->slots;
	b->evs = (struct vsnix_ioeventfd **)(b->slots + nr_devs);
	return b;
}

static struct vsnix_io_bus *io_bus_get(struct vsnix_vm *vm, enum vsnix_bus bus)
{
	lockdep_assert_held(&vm->io_lock);
	return rcu_dereference_protected(vm->buses[bus],
					 lockdep_is_held(&vm->io_lock));
}

/* Publishes nb and frees the old array once no reader can see it. */
static void io_bus_publish(struct vsnix_vm *vm, enum vsnix_bus bus,
			   struct vsnix_io_bus *nb)
{
	struct vsnix_io_bus *old = io_bus_get(vm, bus);

	rcu_assign_pointer(vm->buses[bus], nb);
	synchronize_srcu(&vm->srcu);
	kfree(old);
}

/* Index of the first device whose base is above addr (0..nr_devs). */
static unsigned int io_bus_upper(const struct vsnix_io_bus *b, u64 addr)
{
	unsigned int lo = 0, hi = b->nr_devs;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (b->devs[mid]->base <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The device holding all of [addr, addr + len), or NULL. */
static struct vsnix_io_device *io_bus_find(const struct vsnix_io_bus *b,
					   u64 addr, unsigned int len)
{
	unsigned int i = b ? io_bus_upper(b, addr) : 0;
	struct vsnix_io_device *d;

	if (!i)
		return NULL;
	d = b->devs[i - 1];
	return addr - d->base < d->len &&
	       (len <= d->len - (addr - d->base) || d->wide) ? d : NULL;
}

static unsigned int io_bus_nr_devs(const struct vsnix_io_bus *b)
{
	return b ? b->nr_devs : 0;
}

static unsigned int io_bus_nr_evs(const struct vsnix_io_bus *b)
{
	return b ? b->nr_evs : 0;
}

/*
 * A copy of old with its device array edited: dev inserted at index at
 * (add), or the device at index at left out (!add).
 */
static struct vsnix_io_bus *io_bus_edit_devs(const struct vsnix_io_bus *old,
					     unsigned int at, bool add,
					     struct vsnix_io_device *dev)
{
	unsigned int nd = io_bus_nr_devs(old), ne = io_bus_nr_evs(old);
	struct vsnix_io_bus *b = io_bus_alloc(add ? nd + 1 : nd - 1, ne);

	if (!b)
		return NULL;
	if (old) {
		memcpy(b->devs, old->devs, at * sizeof(*b->devs));
		if (add)
			memcpy(b->devs + at + 1, old->devs + at,
			       (nd - at) * sizeof(*b->devs));
		else
			memcpy(b->devs + at, old->devs + at + 1,
			       (nd - at - 1) * sizeof(*b->devs));
		memcpy(b->evs, old->evs, ne * sizeof(*b->evs));
	}
	if (add)
		b->devs[at] = dev;
	return b;
}

int vsnix_io_register_id(struct vsnix_vm *vm, struct vsnix_io_device *dev,
			 u32 *id)
{
	struct vsnix_io_bus *old, *nb;
	unsigned int at;
	int ret = 0;

	if (dev->bus >= VSNIX_NR_BUSES || !dev->len ||
	    dev->base + dev->len < dev->base ||
	    (dev->bus == VSNIX_BUS_PIO && dev->base + dev->len > 0x10000))
		return -EINVAL;

	if (vsnix_io_dev_stat_alloc(&dev->stat))
		return -ENOMEM;
	mutex_lock(&vm->io_lock);
	old = io_bus_get(vm, dev->bus);
	at = old ? io_bus_upper(old, dev->base) : 0;
	/* Sorted and disjoint: only the two neighbours can overlap. */
	if ((at && old->devs[at - 1]->base + old->devs[at - 1]->len >
		   dev->base) ||
	    (at < io_bus_nr_devs(old) &&
	     old->devs[at]->base < dev->base + dev->len)) {
		ret = -EEXIST;
		goto out;
	}
	if (io_bus_nr_devs(old) + io_bus_nr_evs(old) >= VSNIX_IO_BUS_MAX) {
		ret = -ENOSPC;
		goto out;
	}
	nb = io_bus_edit_devs(old, at, true, dev);
	if (!nb) {
		ret = -ENOMEM;
		goto out;
	}
	refcount_set(&dev->users, 1);
	dev->id = ++vm->next_dev_id;
	/* Read before unlock: once published, DESTROY_DEVICE can free it. */
	if (id)
		*id = dev->id;
	io_bus_publish(vm, dev->bus, nb);
out:
	mutex_unlock(&vm->io_lock);
	if (ret) {
		free_percpu(dev->stat);
		dev->stat = NULL;
	}
	return ret;
}

int vsnix_io_register(struct vsnix_vm *vm, struct vsnix_io_device *dev)
{
	return vsnix_io_register_id(vm, dev, NULL);
}

static void vsnix_io_put(struct vsnix_io_device *dev)
{
	if (refcount_dec_and_test(&dev->users)) {
		free_percpu(dev->stat);
		dev->stat = NULL;
		dev->ops->destroy(dev);
	}
}

static void io_destroy_work(struct work_struct *work)
{
	struct vsnix_io_device *dev =
		container_of(work, struct vsnix_io_device, destroy_work);

	dev->ops->destroy(dev);
}

/*
 * The put at the end of an access: the device may have been removed
 * meanwhile, and its destroy must not run inside the vCPU's exit path
 * (which may hold vm->srcu): it goes to vsnix_wq, flushed at the VM's end.
 */
static void vsnix_io_put_deferred(struct vsnix_io_device *dev)
{
	if (refcount_dec_and_test(&dev->users)) {
		INIT_WORK(&dev->destroy_work, io_destroy_work);
		queue_work(vsnix_wq, &dev->destroy_work);
	}
}

/* Index of dev on its bus, or -1. */
static int io_bus_index(const struct vsnix_io_bus *b,
			const struct vsnix_io_device *dev)
{
	unsigned int i = b ? io_bus_upper(b, dev->base) : 0;

	return i && b->devs[i - 1] == dev ? i - 1 : -1;
}

/* Unpublishes dev; the caller drops the bus's reference after unlock. */
static int io_bus_remove_locked(struct vsnix_vm *vm,
				struct vsnix_io_device *dev)
{
	struct vsnix_io_bus *old = io_bus_get(vm, dev->bus), *nb;
	int at = io_bus_index(old, dev);

	if (at < 0)
		return -ENOENT;
	nb = io_bus_edit_devs(old, at, false, NULL);
	if (!nb)
		return -ENOMEM;
	io_bus_publish(vm, dev->bus, nb);
	return 0;
}

void vsnix_io_unregister(struct vsnix_vm *vm, struct vsnix_io_device *dev)
{
	int ret;

	mutex_lock(&vm->io_lock);
	ret = io_bus_remove_locked(vm, dev);
	mutex_unlock(&vm->io_lock);
	if (!ret)
		vsnix_io_put(dev);
}

/* The device with this id, with a reference, or NULL. */
static struct vsnix_io_device *io_find_id_locked(struct vsnix_vm *vm, u32 id)
{
	struct vsnix_io_bus *b;
	unsigned int bus, i;

	lockdep_assert_held(&vm->io_lock);
	for (bus = 0; bus < VSNIX_NR_BUSES; bus++) {
		b = io_bus_get(vm, bus);
		for (i = 0; i < io_bus_nr_devs(b); i++) {
			if (b->devs[i]->id == id && !b->devs[i]->owned) {
				refcount_inc(&b->devs[i]->users);
				return b->devs[i];
			}
		}
	}
	return NULL;
}

int vsnix_io_destroy_id(struct vsnix_vm *vm, u32 id)
{
	struct vsnix_io_device *dev;
	int ret = -ENOENT;

	mutex_lock(&vm->io_lock);
	dev = io_find_id_locked(vm, id);
	if (dev) {
		ret = io_bus_remove_locked(vm, dev);
		if (!ret)
			vsnix_io_put(dev);	/* the bus's reference */
	}
	mutex_unlock(&vm->io_lock);
	if (dev)
		vsnix_io_put(dev);		/* ours: may destroy it now */
	return ret;
}

struct vsnix_io_device *vsnix_io_get_id(struct vsnix_vm *vm, u32 id)
{
	struct vsnix_io_device *dev;

	mutex_lock(&vm->io_lock);
	dev = io_find_id_locked(vm, id);
	mutex_unlock(&vm->io_lock);
	return dev;
}

void vsnix_io_put_id(struct vsnix_io_device *dev)
{
	vsnix_io_put(dev);
}

/* ------------------------------------------------------------ ioeventfd */

/* Little-endian value of a 1, 2, 4 or 8-byte access. */
static u64 io_value(const void *val, unsigned int len)
{
	switch (len) {
	case 1:
		return *(const u8 *)val;
	case 2:
		return get_unaligned_le16(val);
	case 4:
		return get_unaligned_le32(val);
	default:
		return get_unaligned_le64(val);
	}
}

/* Index of the first ioeventfd at or above addr. */
static unsigned int io_ev_lower(const struct vsnix_io_bus *b, u64 addr)
{
	unsigned int lo = 0, hi = b->nr_evs;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (b->evs[mid]->addr < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool io_ev_matches(const struct vsnix_ioeventfd *ev, u64 addr,
			  unsigned int len, u64 value)
{
	return ev->addr == addr && ev->len == len &&
	       (!ev->has_datamatch || ev->datamatch == value);
}

/* Under vm->srcu: signals the ioeventfd a write matches, if any. */
static bool io_ev_signal(const struct vsnix_io_bus *b, u64 addr,
			 unsigned int len, const void *val)
{
	unsigned int i;
	u64 value;

	if (!b || !b->nr_evs || len > 8)
		return false;
	value = io_value(val, len);
	for (i = io_ev_lower(b, addr); i < b->nr_evs; i++) {
		if (b->evs[i]->addr != addr)
			break;
		if (io_ev_matches(b->evs[i], addr, len, value)) {
			vsnix_eventfd_signal(b->evs[i]->ctx);
			return true;
		}
	}
	return false;
}

/* Same registration: same place, size and datamatch. */
static bool io_ev_same(const struct vsnix_ioeventfd *a,
		       const struct vsnix_ioeventfd *b)
{
	return a->addr == b->addr && a->len == b->len &&
	       a->has_datamatch == b->has_datamatch &&
	       (!a->has_datamatch || a->datamatch == b->datamatch);
}

/* A copy of old with ev inserted (add) or the entry at index at left out. */
static struct vsnix_io_bus *io_bus_edit_evs(const struct vsnix_io_bus *old,
					    unsigned int at, bool add,
					    struct vsnix_ioeventfd *ev)
{
	unsigned int nd = io_bus_nr_devs(old), ne = io_bus_nr_evs(old);
	struct vsnix_io_bus *b = io_bus_alloc(nd, add ? ne + 1 : ne - 1);

	if (!b)
		return NULL;
	if (old) {
		memcpy(b->devs, old->devs, nd * sizeof(*b->devs));
		memcpy(b->evs, old->evs, at * sizeof(*b->evs));
		if (add)
			memcpy(b->evs + at + 1, old->evs + at,
			       (ne - at) * sizeof(*b->evs));
		else
			memcpy(b->evs + at, old->evs + at + 1,
			       (ne - at - 1) * sizeof(*b->evs));
	}
	if (add)
		b->evs[at] = ev;
	return b;
}

static int io_ev_assign(struct vsnix_vm *vm, enum vsnix_bus bus,
			struct vsnix_ioeventfd *ev)
{
	struct vsnix_io_bus *old = io_bus_get(vm, bus), *nb;
	unsigned int i, at = old ? io_ev_lower(old, ev->addr) : 0;

	for (i = at; i < io_bus_nr_evs(old) && old->evs[i]->addr == ev->addr;
	     i++)
		if (io_ev_same(old->evs[i], ev))
			return -EEXIST;
	if (io_bus_nr_devs(old) + io_bus_nr_evs(old) >= VSNIX_IO_BUS_MAX)
		return -ENOSPC;
	nb = io_bus_edit_evs(old, at, true, ev);
	if (!nb)
		return -ENOMEM;
	io_bus_publish(vm, bus, nb);
	return 0;
}

static int io_ev_deassign(struct vsnix_vm *vm, enum vsnix_bus bus,
			  const struct vsnix_ioeventfd *key)
{
	struct vsnix_io_bus *old = io_bus_get(vm, bus), *nb;
	struct vsnix_ioeventfd *ev;
	unsigned int i;

	for (i = old ? io_ev_lower(old, key->addr) : 0;
	     i < io_bus_nr_evs(old) && old->evs[i]->addr == key->addr; i++) {
		ev = old->evs[i];
		if (!io_ev_same(ev, key) || ev->ctx != key->ctx)
			continue;
		nb = io_bus_edit_evs(old, i, false, NULL);
		if (!nb)
			return -ENOMEM;
		io_bus_publish(vm, bus, nb);
		eventfd_ctx_put(ev->ctx);
		kfree(ev);
		return 0;
	}
	return -ENOENT;
}

static int io_ev_check(const struct vsnix_ioeventfd_config *c)
{
	bool mmio = c->flags & VSNIX_IOEVENTFD_MMIO;

	if ((c->flags & ~VSNIX_IOEVENTFD_FLAGS) || c->pad ||
	    memchr_inv(c->reserved, 0, sizeof(c->reserved)))
		return -EINVAL;
	if (c->len != 1 && c->len != 2 && c->len != 4 && (!mmio || c->len != 8))
		return -EINVAL;
	if (c->addr + c->len < c->addr || (!mmio && c->addr + c->len > 0x10000))
		return -EINVAL;
	if (!(c->flags & VSNIX_IOEVENTFD_DATAMATCH) && c->datamatch)
		return -EINVAL;
	if (c->len < 8 && c->datamatch >> (8 * c->len))
		return -EINVAL;		/* could never match */
	return 0;
}

long vsnix_vm_ioeventfd(struct vsnix_vm *vm, void __user *argp)
{
	struct vsnix_ioeventfd_config c;
	struct vsnix_ioeventfd *ev;
	enum vsnix_bus bus;
	int ret;

	if (copy_from_user(&c, argp, sizeof(c)))
		return -EFAULT;
	ret = io_ev_check(&c);
	if (ret) {
		pr_warn_ratelimited("IOEVENTFD: bad flags, length or address\n");
		return ret;
	}
	bus = (c.flags & VSNIX_IOEVENTFD_MMIO) ? VSNIX_BUS_MMIO : VSNIX_BUS_PIO;
	ev = kzalloc(sizeof(*ev), GFP_KERNEL_ACCOUNT);
	if (!ev)
		return -ENOMEM;
	ev->addr = c.addr;
	ev->len = c.len;
	ev->datamatch = c.datamatch;
	ev->has_datamatch = c.flags & VSNIX_IOEVENTFD_DATAMATCH;
	ev->ctx = eventfd_ctx_fdget(c.fd);
	if (IS_ERR(ev->ctx)) {
		ret = PTR_ERR(ev->ctx);
		kfree(ev);
		return ret;
	}

	mutex_lock(&vm->io_lock);
	if (c.flags & VSNIX_IOEVENTFD_DEASSIGN)
		ret = io_ev_deassign(vm, bus, ev);
	else
		ret = io_ev_assign(vm, bus, ev);
	mutex_unlock(&vm->io_lock);
	if (ret || (c.flags & VSNIX_IOEVENTFD_DEASSIGN)) {
		eventfd_ctx_put(ev->ctx);
		kfree(ev);
	}
	return ret;
}

/* ------------------------------------------------------------ dispatch */

/* Statistics and the trace event of an access a device served. */
static void vsnix_io_count(struct vsnix_vcpu *vcpu,
			   struct vsnix_io_device *dev, enum vsnix_bus bus,
			   u64 addr, unsigned int len, bool write,
			   const void *val)
{
	if (dev->stat) {
		this_cpu_inc(dev->stat->accesses);
		this_cpu_add(dev->stat->bytes, len);
	}
	if (bus == VSNIX_BUS_MMIO)
		vcpu->stat.mmio_kernel++;
	else
		vcpu->stat.pio_kernel++;
	vcpu->stat.io_bytes_kernel += len;
	if (trace_vsnix_io_enabled())
		trace_vsnix_io(vcpu->vm->id, vcpu->id, bus == VSNIX_BUS_MMIO,
			       addr, len, write, io_value(val, len), dev->id,
			       VSNIX_TRACE_IO_KERNEL);
}

int vsnix_io_dispatch(struct vsnix_vcpu *vcpu, enum vsnix_bus bus, u64 addr,
		      unsigned int len, bool write, void *val)
{
	struct vsnix_vm *vm = vcpu->vm;
	struct vsnix_io_device *dev;
	struct vsnix_io_bus *b;
	int idx, ret;

	idx = srcu_read_lock(&vm->srcu);
	b = srcu_dereference(vm->buses[bus], &vm->srcu);
	if (write && io_ev_signal(b, addr, len, val)) {
		srcu_read_unlock(&vm->srcu, idx);
		vcpu->stat.ioeventfd++;
		if (trace_vsnix_io_enabled())
			trace_vsnix_io(vm->id, vcpu->id, bus == VSNIX_BUS_MMIO,
				       addr, len, write, io_value(val, len), 0,
				       VSNIX_TRACE_IO_EVENTFD);
		return VSNIX_IO_DONE;
	}
	dev = io_bus_find(b, addr, len);
	/* The bus's reference keeps users above 0 until a grace period. */
	if (dev)
		refcount_inc(&dev->users);
	srcu_read_unlock(&vm->srcu, idx);
	if (!dev)
		return -ENODEV;

	if (write)
		ret = dev->ops->write ?
		      dev->ops->write(dev, vcpu, addr, len, val) :
		      VSNIX_IO_DONE;
	else if (dev->ops->read)
		ret = dev->ops->read(dev, vcpu, addr, len, val);
	else
		ret = VSNIX_IO_DONE;	/* write-only: reads see 0s */
	vsnix_io_count(vcpu, dev, bus, addr, len, write, val);
	vsnix_io_put_deferred(dev);
	return ret;
}

/* Calls fn for every device on the buses, under vm->srcu (no sleeping). */
void vsnix_io_for_each(struct vsnix_vm *vm,
		       void (*fn)(struct vsnix_io_device *dev, void *arg),
		       void *arg)
{
	struct vsnix_io_bus *b;
	unsigned int bus, i;
	int idx;

	idx = srcu_read_lock(&vm->srcu);
	for (bus = 0; bus < VSNIX_NR_BUSES; bus++) {
		b = srcu_dereference(vm->buses[bus], &vm->srcu);
		for (i = 0; b && i < b->nr_devs; i++)
			fn(b->devs[i], arg);
	}
	srcu_read_unlock(&vm->srcu, idx);
}

void vsnix_io_init(struct vsnix_vm *vm)
{
	mutex_init(&vm->io_lock);
}

/* At the VM's end: no vCPU and no ioctl is left. */
void vsnix_io_destroy_all(struct vsnix_vm *vm)
{
	struct vsnix_io_bus *b;
	unsigned int bus, i, j;

	/* Devices removed during an access, destroyed in a work item. */
	flush_workqueue(vsnix_wq);
	/*
	 * VSNIX_BUS_ID first: a PCI function takes its BAR ranges off the
	 * MMIO bus itself, and the host bridge (PIO) goes after them.
	 */
	for (i = 0; i < VSNIX_NR_BUSES; i++) {
		bus = i ? i - 1 : VSNIX_BUS_ID;	/* ID is the last bus */
		b = rcu_dereference_protected(vm->buses[bus], 1);
		RCU_INIT_POINTER(vm->buses[bus], NULL);
		if (!b)
			continue;
		for (j = 0; j < b->nr_evs; j++) {
			eventfd_ctx_put(b->evs[j]->ctx);
			kfree(b->evs[j]);
		}
		for (j = 0; j < b->nr_devs; j++)
			vsnix_io_put(b->devs[j]);
		kfree(b);
	}
}
