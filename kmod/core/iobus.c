// SPDX-License-Identifier: GPL-2.0
/*
 * The in-kernel I/O bus: devices claim port or MMIO ranges, and exits on
 * those ranges are served here, inside RUN, without a trip to userspace.
 * Devices live until the VM is destroyed, so a device found on the bus can
 * be used after io_lock is dropped.
 */
#include <linux/list.h>
#include <linux/rwsem.h>
#include "vsnix.h"
#include "internal.h"

static bool vsnix_io_overlaps(const struct vsnix_io_device *a,
			      const struct vsnix_io_device *b)
{
	return a->bus == b->bus && a->base < b->base + b->len &&
	       b->base < a->base + a->len;
}

int vsnix_io_register(struct vsnix_vm *vm, struct vsnix_io_device *dev)
{
	struct vsnix_io_device *d;
	int ret = 0;

	if (dev->bus >= VSNIX_NR_BUSES || !dev->len ||
	    dev->base + dev->len < dev->base ||
	    (dev->bus == VSNIX_BUS_PIO && dev->base + dev->len > 0x10000))
		return -EINVAL;

	down_write(&vm->io_lock);
	list_for_each_entry(d, &vm->io_devices, node) {
		if (vsnix_io_overlaps(d, dev)) {
			ret = -EEXIST;
			goto out;
		}
	}
	list_add_tail(&dev->node, &vm->io_devices);
out:
	up_write(&vm->io_lock);
	return ret;
}

int vsnix_io_register_group(struct vsnix_vm *vm,
			    struct vsnix_io_device *const *devs, unsigned int n)
{
	struct vsnix_io_device *d;
	unsigned int i, j;
	int ret = 0;

	for (i = 0; i < n; i++) {
		if (devs[i]->bus >= VSNIX_NR_BUSES || !devs[i]->len ||
		    devs[i]->base + devs[i]->len < devs[i]->base ||
		    (devs[i]->bus == VSNIX_BUS_PIO &&
		     devs[i]->base + devs[i]->len > 0x10000))
			return -EINVAL;
		for (j = 0; j < i; j++)
			if (vsnix_io_overlaps(devs[i], devs[j]))
				return -EINVAL;
	}
	down_write(&vm->io_lock);
	for (i = 0; i < n; i++) {
		list_for_each_entry(d, &vm->io_devices, node) {
			if (vsnix_io_overlaps(d, devs[i])) {
				ret = -EEXIST;
				goto out;
			}
		}
	}
	for (i = 0; i < n; i++)
		list_add_tail(&devs[i]->node, &vm->io_devices);
out:
	up_write(&vm->io_lock);
	return ret;
}

int vsnix_io_dispatch(struct vsnix_vcpu *vcpu, enum vsnix_bus bus, u64 addr,
		      unsigned int len, bool write, void *val)
{
	struct vsnix_vm *vm = vcpu->vm;
	struct vsnix_io_device *d, *found = NULL;

	down_read(&vm->io_lock);
	list_for_each_entry(d, &vm->io_devices, node) {
		if (d->bus == bus && addr >= d->base &&
		    addr + len <= d->base + d->len) {
			found = d;
			break;
		}
	}
	up_read(&vm->io_lock);
	if (!found)
		return -ENODEV;

	/*
	 * Called without io_lock: a device may sleep for long (hvt POLL) and
	 * must not hold up VSNIX_CREATE_DEVICE meanwhile.
	 */
	if (write)
		return found->ops->write ?
		       found->ops->write(found, vcpu, addr, len, val) :
		       VSNIX_IO_DONE;
	if (found->ops->read)
		return found->ops->read(found, vcpu, addr, len, val);
	return VSNIX_IO_DONE;	/* write-only: reads see 0s */
}

/*
 * Newest first: a device may use an older one until it is gone (the PIT's
 * timer raises lines of the PIC and IOAPIC created before it).
 */
void vsnix_io_destroy_all(struct vsnix_vm *vm)
{
	struct vsnix_io_device *d, *tmp;

	list_for_each_entry_safe_reverse(d, tmp, &vm->io_devices, node) {
		list_del(&d->node);
		d->ops->destroy(d);
	}
}
