// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-console (virtio 1.2 section 5.3), port 0 only (no MULTIPORT):
 * queue 0 is the receiveq (input for the guest, VSNIX_DEVICE_INPUT),
 * queue 1 the transmitq (guest output to the VM's console file, like the
 * UART's). One work item serves both queues; it adopts the VMM's mm as
 * virtio-blk's do. Input the guest has posted no buffer for yet waits in
 * a small host buffer; when that is full, input returns 0 (the caller
 * retries), never blocks.
 */
#define pr_fmt(fmt) "vsnix: " fmt

#include <linux/kthread.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/virtio_console.h>
#include <linux/virtio_ids.h>
#include <linux/workqueue.h>
#include "virtio.h"
#include "../devices/devices.h"

#define VCON_RXQ	0
#define VCON_TXQ	1
#define VCON_RX_BUF	4096	/* input waiting for guest buffers */
#define VCON_TX_CHUNK	1024	/* output copied out per console write */
#define VCON_BUDGET	256	/* chains per run of the work item */

struct vsnix_vcon {
	struct vsnix_virtio_dev vdev;
	struct file *console;		/* NULL: output is dropped, counted */
	struct mm_struct *mm;		/* the VMM's (mmgrab) */
	struct work_struct work;
	bool running;
	bool broken;
	spinlock_t rx_lock;		/* rx_buf, rx_head, rx_len */
	unsigned int rx_head, rx_len;
	u8 rx_buf[VCON_RX_BUF];
	u8 tx_buf[VCON_TX_CHUNK];
	u8 rx_copy[VCON_RX_BUF];
	struct vsnix_vq_chain chain;
};

static struct vsnix_vcon *to_vcon(struct vsnix_virtio_dev *vdev)
{
	return container_of(vdev, struct vsnix_vcon, vdev);
}

static u64 vcon_features(struct vsnix_virtio_dev *vdev)
{
	return 0;	/* no SIZE, no MULTIPORT, no EMERG_WRITE */
}

static void vcon_config_read(struct vsnix_virtio_dev *vdev, u32 off,
			     void *buf, u32 len)
{
	struct virtio_console_config c = {};

	memcpy(buf, (u8 *)&c + off, len);
}

static void vcon_config_write(struct vsnix_virtio_dev *vdev, u32 off,
			      const void *buf, u32 len)
{
}

static void vcon_broken(struct vsnix_vcon *vc)
{
	vc->broken = true;
	vsnix_virtio_needs_reset(&vc->vdev);
}

/* transmitq: every readable byte of each chain goes to the console. */
static bool vcon_tx(struct vsnix_vcon *vc, unsigned int *budget)
{
	struct vsnix_virtqueue *vq = &vc->vdev.vqs[VCON_TXQ];
	bool pushed = false;
	u32 off, n;
	int ret;

	do {
		vsnix_vq_disable_kicks(vq);
		while (*budget) {
			(*budget)--;
			ret = vsnix_vq_pop(vq, &vc->chain);
			if (ret <= 0) {
				if (ret < 0)
					vcon_broken(vc);
				break;
			}
			for (off = 0; off < vc->chain.out_len; off += n) {
				n = min_t(u32, vc->chain.out_len - off,
					  VCON_TX_CHUNK);
				if (vsnix_vq_read(vq, &vc->chain, off,
						  vc->tx_buf, n))
					break;
				vsnix_console_write(vc->vdev.vm, vc->console,
						    vc->tx_buf, n);
			}
			vsnix_vq_push(vq, vc->chain.head, 0);
			pushed = true;
		}
		if (vc->broken || !*budget)
			break;
	} while (vsnix_vq_enable_kicks(vq));
	return pushed;
}

/* Takes up to len bytes of waiting input into vc->rx_copy. */
static u32 vcon_rx_take(struct vsnix_vcon *vc, u32 len)
{
	u32 n, first;

	spin_lock(&vc->rx_lock);
	n = min(len, vc->rx_len);
	first = min(n, VCON_RX_BUF - vc->rx_head);
	memcpy(vc->rx_copy, vc->rx_buf + vc->rx_head, first);
	memcpy(vc->rx_copy + first, vc->rx_buf, n - first);
	vc->rx_head = (vc->rx_head + n) % VCON_RX_BUF;
	vc->rx_len -= n;
	spin_unlock(&vc->rx_lock);
	return n;
}

static bool vcon_rx_pending(struct vsnix_vcon *vc)
{
	return READ_ONCE(vc->rx_len) != 0;
}

/* receiveq: waiting input into the guest's buffers. */
static bool vcon_rx(struct vsnix_vcon *vc, unsigned int *budget)
{
	struct vsnix_virtqueue *vq = &vc->vdev.vqs[VCON_RXQ];
	bool pushed = false;
	u32 n;
	int ret;

	while (vcon_rx_pending(vc) && *budget) {
		(*budget)--;
		ret = vsnix_vq_pop(vq, &vc->chain);
		if (ret < 0) {
			vcon_broken(vc);
			break;
		}
		if (!ret) {
			/* No buffer: the driver's next one kicks us. */
			if (!vsnix_vq_enable_kicks(vq))
				break;
			continue;
		}
		n = vcon_rx_take(vc, vc->chain.in_len);
		if (vsnix_vq_write(vq, &vc->chain, 0, vc->rx_copy, n))
			n = 0;
		vsnix_vq_push(vq, vc->chain.head, n);
		pushed = true;
	}
	return pushed;
}

static void vcon_work(struct work_struct *work)
{
	struct vsnix_vcon *vc = container_of(work, struct vsnix_vcon, work);
	unsigned int budget = VCON_BUDGET;
	struct vsnix_virtio_dev *vdev = &vc->vdev;

	if (!READ_ONCE(vc->running) || vc->broken || !mmget_not_zero(vc->mm))
		return;
	kthread_use_mm(vc->mm);
	if (vdev->vqs[VCON_TXQ].enabled && vcon_tx(vc, &budget))
		vsnix_vq_notify(&vdev->vqs[VCON_TXQ]);
	if (!vc->broken && vdev->vqs[VCON_RXQ].enabled &&
	    vcon_rx(vc, &budget))
		vsnix_vq_notify(&vdev->vqs[VCON_RXQ]);
	kthread_unuse_mm(vc->mm);
	mmput(vc->mm);
	if (!budget)
		schedule_work(&vc->work);
}

static int vcon_start(struct vsnix_virtio_dev *vdev)
{
	struct vsnix_vcon *vc = to_vcon(vdev);

	vc->broken = false;
	WRITE_ONCE(vc->running, true);
	schedule_work(&vc->work);
	return 0;
}

static void vcon_stop(struct vsnix_virtio_dev *vdev)
{
	struct vsnix_vcon *vc = to_vcon(vdev);

	lockdep_assert_held(&vdev->lock);
	WRITE_ONCE(vc->running, false);
	flush_work(&vc->work);
}

static void vcon_kick(struct vsnix_virtio_dev *vdev, u16 q)
{
	struct vsnix_vcon *vc = to_vcon(vdev);

	if (READ_ONCE(vc->running))
		schedule_work(&vc->work);
}

/* VSNIX_DEVICE_INPUT: bytes taken into the host buffer, or -EAGAIN. */
static ssize_t vcon_input(struct vsnix_virtio_dev *vdev, const u8 *buf,
			  size_t len)
{
	struct vsnix_vcon *vc = to_vcon(vdev);
	unsigned int tail, n, first;

	spin_lock(&vc->rx_lock);
	n = min_t(size_t, len, VCON_RX_BUF - vc->rx_len);
	tail = (vc->rx_head + vc->rx_len) % VCON_RX_BUF;
	first = min(n, VCON_RX_BUF - tail);
	memcpy(vc->rx_buf + tail, buf, first);
	memcpy(vc->rx_buf, buf + first, n - first);
	vc->rx_len += n;
	spin_unlock(&vc->rx_lock);
	if (!n)
		return -EAGAIN;
	vcon_kick(vdev, VCON_RXQ);
	return n;
}

static void vcon_destroy(struct vsnix_virtio_dev *vdev)
{
	struct vsnix_vcon *vc = to_vcon(vdev);

	cancel_work_sync(&vc->work);
	vsnix_console_put(vc->console);
	mmdrop(vc->mm);
	kvfree(vc);
}

static const struct vsnix_virtio_ops vcon_ops = {
	.device_id = VIRTIO_ID_CONSOLE,
	.nr_queues = 2,
	.queue_max_size = 256,
	.config_size = sizeof(struct virtio_console_config),
	.features = vcon_features,
	.config_read = vcon_config_read,
	.config_write = vcon_config_write,
	.start = vcon_start,
	.stop = vcon_stop,
	.kick = vcon_kick,
	.input = vcon_input,
	.destroy = vcon_destroy,
};

int vsnix_virtio_console_create(struct vsnix_vm *vm,
				const struct vsnix_virtio_console_config *cfg,
				struct file *console)
{
	struct vsnix_vcon *vc;
	int ret;

	if (!vsnix_dev_all_zero(cfg->reserved, sizeof(cfg->reserved))) {
		pr_warn_ratelimited("virtio-console: reserved fields must be zero\n");
		return -EINVAL;
	}
	vc = kvzalloc(sizeof(*vc), GFP_KERNEL_ACCOUNT);
	if (!vc)
		return -ENOMEM;
	vc->console = console;
	vc->mm = current->mm;
	mmgrab(vc->mm);
	INIT_WORK(&vc->work, vcon_work);
	spin_lock_init(&vc->rx_lock);
	vc->vdev.vm = vm;
	vc->vdev.ops = &vcon_ops;
	mutex_init(&vc->vdev.lock);
	ret = vsnix_virtio_pci_create(vm, &vc->vdev, &cfg->pci);
	if (ret < 0) {
		/* The caller puts the console on failure. */
		mmdrop(vc->mm);
		kvfree(vc);
	}
	return ret;
}
