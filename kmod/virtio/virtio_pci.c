// SPDX-License-Identifier: GPL-2.0
/*
 * The virtio-pci modern transport (virtio 1.2 section 4.1), legacy-free:
 * vendor 0x1af4, device 0x1040 + device id, revision 1 (4.1.2.1). Every
 * structure lives in one 16 KiB memory BAR (BAR 0):
 *
 *   0x0000  common configuration (4.1.4.3)
 *   0x0100  ISR status (4.1.4.5)
 *   0x0200  device-specific configuration (4.1.4.6), up to 0xe00 bytes
 *   0x1000  notifications (4.1.4.4): queue q at 0x1000 + 4 * q
 *   0x2000  MSI-X table, one vector per queue plus one for configuration
 *   0x3000  MSI-X PBA
 *
 * and a VIRTIO_PCI_CAP_PCI_CFG window (4.1.4.7) reaches the BAR through
 * configuration space. A notification calls the device's kick on the
 * vCPU's exit path: no return to userspace (an ioeventfd registered on
 * the notify address takes precedence, VSNIX_IOEVENTFD).
 */
#define pr_fmt(fmt) "vsnix: " fmt

#include <linux/slab.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>
#include <linux/virtio_ring.h>
#include "virtio.h"
#include "../pci/pci.h"
#include "../core/trace.h"

#define VP_COMMON		0x0000
#define VP_COMMON_LEN		0x40
#define VP_ISR			0x0100
#define VP_ISR_LEN		4
#define VP_DEVCFG		0x0200
#define VP_DEVCFG_MAX		0x0e00
#define VP_NOTIFY		0x1000
#define VP_NOTIFY_MULT		4
#define VP_MSIX_TABLE		0x2000
#define VP_MSIX_PBA		0x3000

/* ISR bits (4.1.4.5.1). */
#define VP_ISR_QUEUE		0x1
#define VP_ISR_CONFIG		0x2

#define VP_VENDOR		0x1af4
#define VP_DEVICE_BASE		0x1040

/* The transport's features, the device adds its own (6, 2.7). */
#define VP_FEATURES	(BIT_ULL(VIRTIO_F_VERSION_1) | \
			 BIT_ULL(VIRTIO_RING_F_EVENT_IDX) | \
			 BIT_ULL(VIRTIO_RING_F_INDIRECT_DESC))

/* The driver's side of the common configuration, for one device. */
struct vsnix_virtio_pci {
	struct vsnix_pci_func func;
	struct vsnix_virtio_dev *vdev;
	u8 pci_cfg_cap;		/* offset of the VIRTIO_PCI_CAP_PCI_CFG cap */
	/* Under vdev->lock: */
	u32 dfselect, gfselect;
	u64 guest_features;	/* driver_feature as written */
	u16 queue_select;
	bool started;		/* ops->start succeeded, no stop since */
	bool removed;
	/* Under irq_lock, any thread: */
	spinlock_t irq_lock;
	u8 isr;
	bool needs_reset;
};

static struct vsnix_virtio_pci *func_to_vp(struct vsnix_pci_func *f)
{
	return container_of(f, struct vsnix_virtio_pci, func);
}

static struct vsnix_virtio_pci *vdev_to_vp(struct vsnix_virtio_dev *vdev)
{
	return vdev->transport;
}

/* ------------------------------------------------------------ interrupts */

/* ISR bits with INTx (MSI-X off): the line follows the ISR. */
static void vp_isr_raise(struct vsnix_virtio_pci *vp, u8 bits)
{
	unsigned long flags;

	spin_lock_irqsave(&vp->irq_lock, flags);
	vp->isr |= bits;
	spin_unlock_irqrestore(&vp->irq_lock, flags);
	vsnix_pci_intx_set(&vp->func, true);
}

void vsnix_virtio_queue_interrupt(struct vsnix_virtqueue *vq)
{
	struct vsnix_virtio_pci *vp = vdev_to_vp(vq->vdev);
	u16 v = READ_ONCE(vq->msix_vector);

	if (vsnix_pci_msix_enabled(&vp->func)) {
		if (v != VSNIX_VIRTIO_NO_VECTOR)
			vsnix_pci_msix_signal(&vp->func, v);
		return;
	}
	vp_isr_raise(vp, VP_ISR_QUEUE);
}

void vsnix_virtio_config_changed(struct vsnix_virtio_dev *vdev)
{
	struct vsnix_virtio_pci *vp = vdev_to_vp(vdev);
	u16 v = READ_ONCE(vdev->config_msix_vector);
	unsigned long flags;

	spin_lock_irqsave(&vp->irq_lock, flags);
	WRITE_ONCE(vdev->config_generation, vdev->config_generation + 1);
	spin_unlock_irqrestore(&vp->irq_lock, flags);
	if (vsnix_pci_msix_enabled(&vp->func)) {
		if (v != VSNIX_VIRTIO_NO_VECTOR)
			vsnix_pci_msix_signal(&vp->func, v);
		return;
	}
	vp_isr_raise(vp, VP_ISR_CONFIG);
}

void vsnix_virtio_needs_reset(struct vsnix_virtio_dev *vdev)
{
	struct vsnix_virtio_pci *vp = vdev_to_vp(vdev);
	unsigned long flags;
	bool first;

	spin_lock_irqsave(&vp->irq_lock, flags);
	first = !vp->needs_reset;
	vp->needs_reset = true;
	spin_unlock_irqrestore(&vp->irq_lock, flags);
	/* 2.1.2: tell a driver that is past DRIVER_OK. */
	if (first && (READ_ONCE(vdev->status) & VIRTIO_CONFIG_S_DRIVER_OK))
		vsnix_virtio_config_changed(vdev);
}

/* ------------------------------------------------------ status and reset */

static void vp_queues_reset(struct vsnix_virtio_dev *vdev)
{
	unsigned int i;

	for (i = 0; i < VSNIX_VIRTIO_MAX_QUEUES; i++) {
		struct vsnix_virtqueue *vq = &vdev->vqs[i];

		memset(vq, 0, sizeof(*vq));
		vq->vdev = vdev;
		vq->index = i;
		vq->size = i < vdev->ops->nr_queues ? vdev->ops->queue_max_size
						    : 0;
		vq->msix_vector = VSNIX_VIRTIO_NO_VECTOR;
	}
}

/* Device reset (2.4): stops the device, then back to the initial state. */
static void vp_reset(struct vsnix_virtio_pci *vp)
{
	struct vsnix_virtio_dev *vdev = vp->vdev;
	unsigned long flags;

	lockdep_assert_held(&vdev->lock);
	if (vp->started)
		vdev->ops->stop(vdev);
	vp->started = false;
	WRITE_ONCE(vdev->status, 0);
	vdev->driver_features = 0;
	vp->guest_features = 0;
	vp->dfselect = 0;
	vp->gfselect = 0;
	vp->queue_select = 0;
	WRITE_ONCE(vdev->config_msix_vector, VSNIX_VIRTIO_NO_VECTOR);
	vp_queues_reset(vdev);
	spin_lock_irqsave(&vp->irq_lock, flags);
	vp->isr = 0;
	vp->needs_reset = false;
	spin_unlock_irqrestore(&vp->irq_lock, flags);
	vsnix_pci_intx_set(&vp->func, false);
}

static u64 vp_device_features(struct vsnix_virtio_dev *vdev)
{
	return vdev->ops->features(vdev) | VP_FEATURES;
}

/* FEATURES_OK (3.1.1): accepted only for a subset with VERSION_1. */
static bool vp_features_ok(struct vsnix_virtio_pci *vp)
{
	struct vsnix_virtio_dev *vdev = vp->vdev;

	if (vp->guest_features & ~vp_device_features(vdev))
		return false;
	if (!(vp->guest_features & BIT_ULL(VIRTIO_F_VERSION_1)))
		return false;
	vdev->driver_features = vp->guest_features;
	return true;
}

static void vp_set_status(struct vsnix_virtio_pci *vp, u8 val)
{
	struct vsnix_virtio_dev *vdev = vp->vdev;
	u8 old = vdev->status, set = val & ~old;

	lockdep_assert_held(&vdev->lock);
	if (!val) {
		vp_reset(vp);
		return;
	}
	/* The driver only adds bits (3.1.1); NEEDS_RESET is the device's. */
	val = (old | val) & ~VIRTIO_CONFIG_S_NEEDS_RESET;
	if ((set & VIRTIO_CONFIG_S_FEATURES_OK) && !vp_features_ok(vp))
		val &= ~VIRTIO_CONFIG_S_FEATURES_OK;
	if ((set & VIRTIO_CONFIG_S_DRIVER_OK) &&
	    !(val & VIRTIO_CONFIG_S_FEATURES_OK))
		val &= ~VIRTIO_CONFIG_S_DRIVER_OK;
	WRITE_ONCE(vdev->status, val);
	if ((val & VIRTIO_CONFIG_S_DRIVER_OK) && !vp->started &&
	    !vp->removed && !(val & VIRTIO_CONFIG_S_FAILED)) {
		if (vdev->ops->start(vdev))
			vsnix_virtio_needs_reset(vdev);
		else
			vp->started = true;
	}
}

/* --------------------------------------------------- common configuration */

/* The common configuration as the driver reads it now. */
static void vp_common_image(struct vsnix_virtio_pci *vp, u8 *img)
{
	struct vsnix_virtio_dev *vdev = vp->vdev;
	struct virtio_pci_common_cfg *c = (void *)img;
	struct vsnix_virtqueue *vq = NULL;
	u64 feat = vp_device_features(vdev);
	u8 status = vdev->status;

	memset(img, 0, VP_COMMON_LEN);
	if (vp->queue_select < vdev->ops->nr_queues)
		vq = &vdev->vqs[vp->queue_select];
	c->device_feature_select = cpu_to_le32(vp->dfselect);
	c->device_feature = cpu_to_le32(vp->dfselect == 0 ? (u32)feat :
					vp->dfselect == 1 ? feat >> 32 : 0);
	c->guest_feature_select = cpu_to_le32(vp->gfselect);
	c->guest_feature = cpu_to_le32(vp->gfselect == 0 ?
				       (u32)vp->guest_features :
				       vp->gfselect == 1 ?
				       vp->guest_features >> 32 : 0);
	c->msix_config = cpu_to_le16(vdev->config_msix_vector);
	c->num_queues = cpu_to_le16(vdev->ops->nr_queues);
	if (READ_ONCE(vp->needs_reset))
		status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	c->device_status = status;
	c->config_generation = READ_ONCE(vdev->config_generation);
	c->queue_select = cpu_to_le16(vp->queue_select);
	if (!vq)
		return;		/* 4.1.4.3.1: queue_size 0 for no queue */
	c->queue_size = cpu_to_le16(vq->size);
	c->queue_msix_vector = cpu_to_le16(vq->msix_vector);
	c->queue_enable = cpu_to_le16(vq->enabled);
	c->queue_notify_off = cpu_to_le16(vq->index);
	c->queue_desc_lo = cpu_to_le32(vq->desc_gpa);
	c->queue_desc_hi = cpu_to_le32(vq->desc_gpa >> 32);
	c->queue_avail_lo = cpu_to_le32(vq->avail_gpa);
	c->queue_avail_hi = cpu_to_le32(vq->avail_gpa >> 32);
	c->queue_used_lo = cpu_to_le32(vq->used_gpa);
	c->queue_used_hi = cpu_to_le32(vq->used_gpa >> 32);
}

/* A vector the function has, else NO_VECTOR (4.1.5.1.2). */
static u16 vp_vector(struct vsnix_virtio_pci *vp, u16 v)
{
	return v < vp->func.msix_nr ? v : VSNIX_VIRTIO_NO_VECTOR;
}

/* queue_enable = 1 (4.1.4.3.2): the ring's place is checked here. */
static void vp_queue_enable(struct vsnix_virtio_pci *vp,
			    struct vsnix_virtqueue *vq)
{
	u16 n = vq->size;

	if (vq->enabled)
		return;
	if (!n || !is_power_of_2(n) || n > vp->vdev->ops->queue_max_size ||
	    !IS_ALIGNED(vq->desc_gpa, 16) || !IS_ALIGNED(vq->avail_gpa, 2) ||
	    !IS_ALIGNED(vq->used_gpa, 4)) {
		pr_info_ratelimited("virtio: queue %u: size %u or ring alignment refused\n",
				    vq->index, n);
		vsnix_virtio_needs_reset(vp->vdev);
		return;
	}
	vq->last_avail_idx = 0;
	vq->used_idx = 0;
	vq->signalled_used_valid = false;
	vq->broken = false;
	WRITE_ONCE(vq->enabled, true);
}

/* Applies the fields of the new image that [off, off + len) touched. */
static void vp_common_apply(struct vsnix_virtio_pci *vp, const u8 *img,
			    u32 off, u32 len)
{
	const struct virtio_pci_common_cfg *c = (const void *)img;
	struct vsnix_virtio_dev *vdev = vp->vdev;
	struct vsnix_virtqueue *vq = NULL;
	u32 end = off + len;

#define TOUCHED(field) \
	(off < offsetofend(struct virtio_pci_common_cfg, field) && \
	 end > offsetof(struct virtio_pci_common_cfg, field))

	if (vp->queue_select < vdev->ops->nr_queues)
		vq = &vdev->vqs[vp->queue_select];
	if (TOUCHED(device_feature_select))
		vp->dfselect = le32_to_cpu(c->device_feature_select);
	if (TOUCHED(guest_feature_select))
		vp->gfselect = le32_to_cpu(c->guest_feature_select);
	if (TOUCHED(guest_feature) && vp->gfselect < 2 &&
	    !(vdev->status & VIRTIO_CONFIG_S_FEATURES_OK)) {
		unsigned int sh = 32 * vp->gfselect;

		vp->guest_features &= ~(0xffffffffull << sh);
		vp->guest_features |= (u64)le32_to_cpu(c->guest_feature) << sh;
	}
	if (TOUCHED(msix_config))
		WRITE_ONCE(vdev->config_msix_vector,
			   vp_vector(vp, le16_to_cpu(c->msix_config)));
	if (TOUCHED(queue_select))
		vp->queue_select = le16_to_cpu(c->queue_select);
	/* A queue's fields are fixed while it is enabled (4.1.4.3.2). */
	if (vq && !vq->enabled) {
		if (TOUCHED(queue_size))
			vq->size = le16_to_cpu(c->queue_size);
		if (TOUCHED(queue_desc_lo) || TOUCHED(queue_desc_hi))
			vq->desc_gpa = le32_to_cpu(c->queue_desc_lo) |
				(u64)le32_to_cpu(c->queue_desc_hi) << 32;
		if (TOUCHED(queue_avail_lo) || TOUCHED(queue_avail_hi))
			vq->avail_gpa = le32_to_cpu(c->queue_avail_lo) |
				(u64)le32_to_cpu(c->queue_avail_hi) << 32;
		if (TOUCHED(queue_used_lo) || TOUCHED(queue_used_hi))
			vq->used_gpa = le32_to_cpu(c->queue_used_lo) |
				(u64)le32_to_cpu(c->queue_used_hi) << 32;
	}
	if (vq && TOUCHED(queue_msix_vector))
		WRITE_ONCE(vq->msix_vector,
			   vp_vector(vp, le16_to_cpu(c->queue_msix_vector)));
	if (vq && TOUCHED(queue_enable) && le16_to_cpu(c->queue_enable) == 1)
		vp_queue_enable(vp, vq);
	if (TOUCHED(device_status))
		vp_set_status(vp, c->device_status);
#undef TOUCHED
}

static void vp_common(struct vsnix_virtio_pci *vp, u32 off, u32 len,
		      void *val, bool write)
{
	u8 img[VP_COMMON_LEN];

	if (off >= VP_COMMON_LEN || len > VP_COMMON_LEN - off) {
		if (!write)
			memset(val, 0, len);
		return;
	}
	mutex_lock(&vp->vdev->lock);
	vp_common_image(vp, img);
	if (write) {
		memcpy(img + off, val, len);
		vp_common_apply(vp, img, off, len);
	} else {
		memcpy(val, img + off, len);
	}
	mutex_unlock(&vp->vdev->lock);
}

/* -------------------------------------------------------------- the BAR */

/* ISR read (4.1.4.5): returns the bits and clears them, INTx goes down. */
static u8 vp_isr_read(struct vsnix_virtio_pci *vp)
{
	unsigned long flags;
	u8 isr;

	spin_lock_irqsave(&vp->irq_lock, flags);
	isr = vp->isr;
	vp->isr = 0;
	spin_unlock_irqrestore(&vp->irq_lock, flags);
	vsnix_pci_intx_set(&vp->func, false);
	return isr;
}

static void vp_notify(struct vsnix_virtio_pci *vp, u32 off)
{
	struct vsnix_virtio_dev *vdev = vp->vdev;
	u32 q = off / VP_NOTIFY_MULT;

	if (q >= vdev->ops->nr_queues || !READ_ONCE(vp->started) ||
	    !READ_ONCE(vdev->vqs[q].enabled))
		return;
	if (trace_vsnix_dev_kick_enabled())
		trace_vsnix_dev_kick(vdev->vm->id, vp->func.io.id, q);
	vdev->ops->kick(vdev, q);
}

static void vp_devcfg(struct vsnix_virtio_pci *vp, u32 off, u32 len,
		      void *val, bool write)
{
	struct vsnix_virtio_dev *vdev = vp->vdev;

	if (off >= vdev->ops->config_size ||
	    len > vdev->ops->config_size - off) {
		if (!write)
			memset(val, 0, len);
		return;
	}
	mutex_lock(&vdev->lock);
	if (write)
		vdev->ops->config_write(vdev, off, val, len);
	else
		vdev->ops->config_read(vdev, off, val, len);
	mutex_unlock(&vdev->lock);
}

static int vp_bar_access(struct vsnix_pci_func *f, unsigned int bar, u64 off,
			 unsigned int len, void *val, bool write)
{
	struct vsnix_virtio_pci *vp = func_to_vp(f);

	if (off >= VP_NOTIFY && off < VP_MSIX_TABLE) {
		if (write)
			vp_notify(vp, off - VP_NOTIFY);
		else
			memset(val, 0, len);
	} else if (off >= VP_DEVCFG && off < VP_DEVCFG + VP_DEVCFG_MAX) {
		vp_devcfg(vp, off - VP_DEVCFG, len, val, write);
	} else if (off >= VP_ISR && off < VP_ISR + VP_ISR_LEN) {
		if (!write) {
			memset(val, 0, len);
			if (off == VP_ISR)
				*(u8 *)val = vp_isr_read(vp);
		}
	} else if (off < VP_COMMON + VP_COMMON_LEN) {
		vp_common(vp, off, len, val, write);
	} else if (!write) {
		memset(val, 0, len);
	}
	return VSNIX_IO_DONE;
}

static int vp_bar_read(struct vsnix_pci_func *f, struct vsnix_vcpu *vcpu,
		       unsigned int bar, u64 off, unsigned int len, void *val)
{
	return vp_bar_access(f, bar, off, len, val, false);
}

static int vp_bar_write(struct vsnix_pci_func *f, struct vsnix_vcpu *vcpu,
			unsigned int bar, u64 off, unsigned int len,
			const void *val)
{
	return vp_bar_access(f, bar, off, len, (void *)val, true);
}

/* ----------------------------------------- VIRTIO_PCI_CAP_PCI_CFG window */

/* The window's bar, offset and length (4.1.4.7): a valid access or not. */
static bool vp_window(struct vsnix_virtio_pci *vp, u32 *off, u32 *len)
{
	const u8 *cap = vp->func.s.cfg + vp->pci_cfg_cap;
	struct virtio_pci_cap c;

	memcpy(&c, cap, sizeof(c));
	*off = le32_to_cpu(c.offset);
	*len = le32_to_cpu(c.length);
	return c.bar == 0 && (*len == 1 || *len == 2 || *len == 4) &&
	       IS_ALIGNED(*off, *len) && *off < VSNIX_VIRTIO_PCI_BAR_SIZE;
}

static bool vp_window_data(struct vsnix_virtio_pci *vp, u32 off, u32 len)
{
	u32 data = vp->pci_cfg_cap + offsetof(struct virtio_pci_cfg_cap,
					      pci_cfg_data);

	return off < data + 4 && off + len > data;
}

static void vp_cfg_read(struct vsnix_pci_func *f, u32 off, u32 len, u32 *val)
{
	struct vsnix_virtio_pci *vp = func_to_vp(f);
	u32 boff, blen, data = 0;

	if (!vp_window_data(vp, off, len) || !vp_window(vp, &boff, &blen))
		return;
	vsnix_pci_bar_access(f, NULL, 0, boff, blen, &data, false);
	/* The data field is the dword at the cap's end. */
	*val = le32_to_cpu(data) >> (8 * (off & 3));
}

static void vp_cfg_write(struct vsnix_pci_func *f, u32 off, u32 len, u32 val)
{
	struct vsnix_virtio_pci *vp = func_to_vp(f);
	u32 boff, blen;
	__le32 data;

	if (!vp_window_data(vp, off, len) || !vp_window(vp, &boff, &blen))
		return;
	data = cpu_to_le32(val << (8 * (off & 3)));
	vsnix_pci_bar_access(f, NULL, 0, boff, blen, &data, true);
}

/* ------------------------------------------------------ creating, freeing */

static void vp_remove(struct vsnix_pci_func *f)
{
	struct vsnix_virtio_pci *vp = func_to_vp(f);

	mutex_lock(&vp->vdev->lock);
	vp->removed = true;
	if (vp->started)
		vp->vdev->ops->stop(vp->vdev);
	WRITE_ONCE(vp->started, false);
	mutex_unlock(&vp->vdev->lock);
}

static void vp_free(struct vsnix_pci_func *f)
{
	struct vsnix_virtio_pci *vp = func_to_vp(f);

	vp->vdev->ops->destroy(vp->vdev);
	kfree(vp);
}

/* VSNIX_DEVICE_INPUT: the device model's input op (virtio-console). */
static ssize_t vp_input(struct vsnix_pci_func *f, const u8 *buf, size_t len)
{
	struct vsnix_virtio_dev *vdev = func_to_vp(f)->vdev;

	return vdev->ops->input ? vdev->ops->input(vdev, buf, len) : -EINVAL;
}

static const struct vsnix_pci_func_ops vp_func_ops = {
	.bar_read = vp_bar_read,
	.bar_write = vp_bar_write,
	.cfg_read = vp_cfg_read,
	.cfg_write = vp_cfg_write,
	.remove = vp_remove,
	.free = vp_free,
	.input = vp_input,
};

/* A vendor capability (4.1.4) pointing into BAR 0. */
static u8 vp_add_cap(struct vsnix_virtio_pci *vp, u8 type, u8 len, u32 off,
		     u32 length)
{
	struct vsnix_pci_func *f = &vp->func;
	struct virtio_pci_cap c = {
		.cap_len = len, .cfg_type = type, .bar = 0,
		.offset = cpu_to_le32(off), .length = cpu_to_le32(length),
	};
	u8 at = vsnix_pci_func_add_cap(f, PCI_CAP_ID_VNDR, len);

	if (at)
		memcpy(f->s.cfg + at + 2, (u8 *)&c + 2, sizeof(c) - 2);
	return at;
}

/* PCI class by device type, as guests' tools expect (none is required). */
static u32 vp_class(u32 device_id)
{
	switch (device_id) {
	case 1:		return PCI_CLASS_NETWORK_ETHERNET << 8;
	case 2:		return PCI_CLASS_STORAGE_SCSI << 8;
	case 3:		return PCI_CLASS_COMMUNICATION_OTHER << 8;
	default:	return PCI_CLASS_OTHERS << 16;
	}
}

static int vp_build(struct vsnix_virtio_pci *vp, u64 bar_base)
{
	const struct vsnix_virtio_ops *ops = vp->vdev->ops;
	struct vsnix_pci_func *f = &vp->func;
	u8 at;

	/* 4.1.2.1: subsystem device ID 0x40 or higher. */
	vsnix_pci_func_init(f, VP_VENDOR, VP_DEVICE_BASE + ops->device_id, 1,
			    vp_class(ops->device_id), VP_VENDOR,
			    0x40 + ops->device_id);
	f->ops = &vp_func_ops;
	vsnix_pci_func_add_bar(f, 0, VSNIX_VIRTIO_PCI_BAR_SIZE, bar_base);
	if (!vp_add_cap(vp, VIRTIO_PCI_CAP_COMMON_CFG, sizeof(struct virtio_pci_cap),
			VP_COMMON, VP_COMMON_LEN) ||
	    !vp_add_cap(vp, VIRTIO_PCI_CAP_ISR_CFG, sizeof(struct virtio_pci_cap),
			VP_ISR, VP_ISR_LEN))
		return -ENOSPC;
	at = vp_add_cap(vp, VIRTIO_PCI_CAP_NOTIFY_CFG,
			sizeof(struct virtio_pci_notify_cap), VP_NOTIFY,
			ops->nr_queues * VP_NOTIFY_MULT);
	if (!at)
		return -ENOSPC;
	f->s.cfg[at + 16] = VP_NOTIFY_MULT;	/* notify_off_multiplier */
	if (ops->config_size &&
	    !vp_add_cap(vp, VIRTIO_PCI_CAP_DEVICE_CFG,
			sizeof(struct virtio_pci_cap), VP_DEVCFG,
			ops->config_size))
		return -ENOSPC;
	at = vp_add_cap(vp, VIRTIO_PCI_CAP_PCI_CFG,
			sizeof(struct virtio_pci_cfg_cap), 0, 0);
	if (!at)
		return -ENOSPC;
	vp->pci_cfg_cap = at;
	/* bar, offset, length and data are the driver's to write. */
	f->wmask[at + offsetof(struct virtio_pci_cap, bar)] = 0xff;
	memset(f->wmask + at + offsetof(struct virtio_pci_cap, offset), 0xff,
	       8);
	memset(f->wmask + at + offsetof(struct virtio_pci_cfg_cap,
					pci_cfg_data), 0xff, 4);
	return vsnix_pci_func_add_msix(f, ops->nr_queues + 1, 0, VP_MSIX_TABLE,
				       VP_MSIX_PBA);
}

static int vp_check_ops(const struct vsnix_virtio_ops *ops)
{
	if (!ops->nr_queues || ops->nr_queues > VSNIX_VIRTIO_MAX_QUEUES ||
	    !ops->queue_max_size || !is_power_of_2(ops->queue_max_size) ||
	    ops->queue_max_size > 32768 || ops->config_size > VP_DEVCFG_MAX ||
	    !ops->features || !ops->start || !ops->stop || !ops->kick ||
	    !ops->destroy || (ops->config_size && (!ops->config_read ||
						   !ops->config_write)))
		return -EINVAL;
	return 0;
}

int vsnix_virtio_pci_create(struct vsnix_vm *vm, struct vsnix_virtio_dev *vdev,
			    const struct vsnix_pci_placement *where)
{
	struct vsnix_virtio_pci *vp;
	int ret;

	lockdep_assert_held(&vm->lock);
	if (WARN_ON_ONCE(vp_check_ops(vdev->ops)))
		return -EINVAL;
	ret = vsnix_pci_check_placement(vm, where, VSNIX_VIRTIO_PCI_BAR_SIZE,
					"virtio");
	if (ret)
		return ret;
	vp = kzalloc(sizeof(*vp), GFP_KERNEL_ACCOUNT);
	if (!vp)
		return -ENOMEM;
	vp->vdev = vdev;
	spin_lock_init(&vp->irq_lock);
	vdev->vm = vm;
	vdev->transport = vp;
	mutex_init(&vdev->lock);
	ret = vp_build(vp, where->bar_base);
	if (ret)
		goto fail;
	mutex_lock(&vdev->lock);
	vp_reset(vp);
	mutex_unlock(&vdev->lock);
	ret = vsnix_pci_func_add(vm, &vp->func, where->slot, where->func,
				 "virtio");
	if (ret < 0)
		goto fail;
	WRITE_ONCE(vdev->id, ret);	/* the driver cannot have started it yet */
	vsnix_pci_func_put(&vp->func);	/* the creator's reference */
	return ret;
fail:
	vdev->transport = NULL;
	kfree(vp);
	return ret;
}
