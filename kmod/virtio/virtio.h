/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The in-kernel virtio 1.x device model (Virtual I/O Device Version 1.2,
 * "virtio 1.2" below). Three parts meet here:
 *  - the PCI transport (virtio_pci.c, virtio 1.2 section 4.1): the
 *    capabilities, the common configuration registers, notifications
 *    and interrupts (MSI-X through the APIC bus, INTx as fallback);
 *  - split virtqueues (virtqueue.c, section 2.7): descriptor chains read
 *    from guest memory and checked once, used entries written back,
 *    EVENT_IDX notification suppression;
 *  - the device models (blk.c, console.c, net.c, rng.c), which know
 *    neither PCI nor the ring layout.
 * A device model fills a struct vsnix_virtio_dev and its ops and hands
 * it to vsnix_virtio_pci_create(); from then on the transport calls the
 * ops and the device serves its queues with vsnix_vq_*().
 */
#ifndef VSNIX_VIRTIO_H
#define VSNIX_VIRTIO_H

#include <linux/mutex.h>
#include <linux/types.h>
#include <linux/uio.h>
#include "../core/vsnix.h"

#define VSNIX_VIRTIO_MAX_QUEUES	65	/* virtio-net: 32 pairs + control */
#define VSNIX_VIRTIO_NO_VECTOR	0xffff	/* VIRTIO_MSI_NO_VECTOR */
/* Longest chain a device accepts (indirect tables included). */
#define VSNIX_VQ_MAX_SEGS	256

struct vsnix_virtio_dev;

/*
 * One split virtqueue. The transport owns the configuration half (the
 * driver writes it through the common configuration, 4.1.4.3) and never
 * changes it while the queue is enabled; virtqueue.c owns the ring
 * state. A queue is served by one context at a time (the device's
 * worker for it), so the ring state needs no lock of its own.
 */
struct vsnix_virtqueue {
	struct vsnix_virtio_dev *vdev;
	u16 index;
	/* configuration: written by the driver before queue_enable */
	u16 size;		/* queue_size, a power of 2, <= max */
	u16 msix_vector;	/* VSNIX_VIRTIO_NO_VECTOR: none */
	bool enabled;		/* queue_enable = 1 */
	u64 desc_gpa;		/* queue_desc */
	u64 avail_gpa;		/* queue_driver */
	u64 used_gpa;		/* queue_device */
	/* ring state (virtqueue.c) */
	u16 last_avail_idx;	/* next avail entry to take */
	u16 used_idx;		/* next used entry to fill */
	u16 signalled_used;	/* used_idx at the last interrupt */
	bool signalled_used_valid;
	bool broken;		/* malformed ring seen: nothing more served */
};

/* One guest buffer of a chain: guest-physical, checked to lie in RAM. */
struct vsnix_vq_seg {
	u64 gpa;
	u32 len;
	bool device_writes;	/* VIRTQ_DESC_F_WRITE */
};

/*
 * A descriptor chain, read once from guest memory into host memory and
 * checked there (2.7.5, 2.7.5.3): every segment lies inside a memory
 * slot, there is no loop, the total length does not overflow, readable
 * segments come before writable ones.
 */
struct vsnix_vq_chain {
	u16 head;		/* id to return with vsnix_vq_push */
	u16 nr_segs;
	u32 out_len;		/* bytes the device reads */
	u32 in_len;		/* bytes the device may write */
	struct vsnix_vq_seg segs[VSNIX_VQ_MAX_SEGS];
};

/*
 * Returns 1 with *chain filled, 0 when the ring is empty, or -errno for
 * a malformed ring: the queue is then broken (every later pop and push
 * returns -EIO) and vsnix_virtio_needs_reset has been called (calling it
 * again is harmless); the caller stops serving it. Caller: the queue's
 * only server. Works from a worker: guest memory is reached through the
 * VMM's mm (vsnix_guest_read), never current's.
 */
int vsnix_vq_pop(struct vsnix_virtqueue *vq, struct vsnix_vq_chain *chain);
/* Puts the chain back so the next vsnix_vq_pop returns it again. */
void vsnix_vq_unpop(struct vsnix_virtqueue *vq);
/* Returns head to the driver with `written` bytes filled in (used ring). */
int vsnix_vq_push(struct vsnix_virtqueue *vq, u16 head, u32 written);
/*
 * After one or more pushes: interrupts the driver unless it asked not to
 * be (VIRTQ_AVAIL_F_NO_INTERRUPT, or used_event with EVENT_IDX, 2.7.10).
 */
void vsnix_vq_notify(struct vsnix_virtqueue *vq);
/*
 * Kick suppression while the server is busy (VIRTQ_USED_F_NO_NOTIFY or
 * avail_event): enable returns true if buffers arrived meanwhile, so the
 * server polls again instead of sleeping.
 */
void vsnix_vq_disable_kicks(struct vsnix_virtqueue *vq);
bool vsnix_vq_enable_kicks(struct vsnix_virtqueue *vq);
/*
 * Copies between host memory and the chain's readable segments (read) or
 * writable segments (write), off counted within those only. -EINVAL when
 * the chain is shorter than off + len, -EFAULT from guest memory.
 */
int vsnix_vq_read(struct vsnix_virtqueue *vq, const struct vsnix_vq_chain *c,
		  u32 off, void *buf, u32 len);
/*
 * Calls fn for each piece (guest-physical address, length) of the chain's
 * readable (writable: device-writable) bytes [off, off + len); stops at
 * fn's first error. -EINVAL when the chain is shorter than off + len.
 */
int vsnix_vq_walk(const struct vsnix_vq_chain *c, bool writable, u32 off,
		  u32 len, int (*fn)(void *arg, u64 gpa, u32 n), void *arg);
int vsnix_vq_write(struct vsnix_virtqueue *vq, const struct vsnix_vq_chain *c,
		   u32 off, const void *buf, u32 len);

struct vsnix_virtio_ops {
	u32 device_id;		/* virtio 1.2 section 5: 2 blk, 3 console, ... */
	u16 nr_queues;		/* queues the driver may enable */
	u16 queue_max_size;	/* queue_size's reset value */
	u32 config_size;	/* device-specific configuration bytes */
	/* Device feature bits; the transport adds VERSION_1. */
	u64 (*features)(struct vsnix_virtio_dev *vdev);
	/* Device configuration access, off + len <= config_size. */
	void (*config_read)(struct vsnix_virtio_dev *vdev, u32 off, void *buf,
			    u32 len);
	void (*config_write)(struct vsnix_virtio_dev *vdev, u32 off,
			     const void *buf, u32 len);
	/*
	 * DRIVER_OK was set: start serving the enabled queues. -errno makes
	 * the transport set DEVICE_NEEDS_RESET.
	 */
	int (*start)(struct vsnix_virtio_dev *vdev);
	/*
	 * The driver reset the device (status 0), or the device goes away:
	 * stop serving and wait for every request in flight. No guest
	 * memory is touched after it returns. Called with vdev->lock held.
	 */
	void (*stop)(struct vsnix_virtio_dev *vdev);
	/*
	 * The driver notified queue q (a vCPU's exit path or an ioeventfd):
	 * wake the queue's server; must not block on I/O. A kick may race
	 * with stop (it is not under vdev->lock): queue work only under a
	 * lock that stop also takes, so none is queued after stop (rng.c).
	 */
	void (*kick)(struct vsnix_virtio_dev *vdev, u16 q);
	/* Optional console input (struct vsnix_io_ops.input). */
	ssize_t (*input)(struct vsnix_virtio_dev *vdev, const u8 *buf,
			 size_t len);
	/* Frees the device model (after stop). */
	void (*destroy)(struct vsnix_virtio_dev *vdev);
};

/*
 * The transport-visible state of a device. lock orders the driver's
 * register accesses with start/stop; the queues' ring state is not
 * under it (see struct vsnix_virtqueue).
 */
struct vsnix_virtio_dev {
	struct vsnix_vm *vm;
	const struct vsnix_virtio_ops *ops;
	struct mutex lock;
	u8 status;			/* device_status, 2.1 */
	u64 driver_features;		/* accepted at FEATURES_OK */
	u8 config_generation;
	u16 config_msix_vector;
	struct vsnix_virtqueue vqs[VSNIX_VIRTIO_MAX_QUEUES];
	void *transport;		/* virtio_pci.c's function */
	u32 id;				/* device id (VSNIX_CREATE_DEVICE), for traces */
};

/* True when the driver accepted feature bit `bit` (VIRTIO_F_*, ...). */
static inline bool vsnix_virtio_has(const struct vsnix_virtio_dev *vdev,
				    unsigned int bit)
{
	return vdev->driver_features & BIT_ULL(bit);
}

/*
 * Transport services, any thread, may not sleep: interrupt the driver for
 * a queue's used buffers (its MSI-X vector, or INTx with ISR bit 0), for
 * a configuration change (ISR bit 1), or set DEVICE_NEEDS_RESET (2.1.2)
 * and tell the driver.
 */
void vsnix_virtio_queue_interrupt(struct vsnix_virtqueue *vq);
void vsnix_virtio_config_changed(struct vsnix_virtio_dev *vdev);
void vsnix_virtio_needs_reset(struct vsnix_virtio_dev *vdev);

/*
 * Puts vdev on the VM's PCI host bridge at `where` (the host bridge must
 * exist). Returns the device id (VSNIX_DESTROY_DEVICE removes it: stop,
 * then ops->destroy) or -errno, in which case the caller frees vdev.
 * Called with vm->lock held, like every device constructor.
 */
int vsnix_virtio_pci_create(struct vsnix_vm *vm, struct vsnix_virtio_dev *vdev,
			    const struct vsnix_pci_placement *where);

#endif /* VSNIX_VIRTIO_H */
