// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-rng (virtio 1.2 section 5.4): one queue of device-writable
 * buffers that the device fills with entropy from the host's
 * get_random_bytes. Served by a work item, as every in-kernel virtio
 * device serves its queues outside the vCPU thread.
 */
#define pr_fmt(fmt) "vsnix: " fmt

#include <linux/random.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include "virtio.h"
#include "../devices/devices.h"

#define RNG_QUEUE_SIZE	64
/* Chains served per run of the work item before it yields the CPU. */
#define RNG_BUDGET	64
/* Bytes given per request: the guest asks again for more. */
#define RNG_MAX_BYTES	4096

struct vsnix_virtio_rng {
	struct vsnix_virtio_dev vdev;
	struct work_struct work;
	/*
	 * Between start and stop. kick may race with stop: it queues the
	 * work only under the lock, so after stop's section none comes.
	 */
	spinlock_t lock;
	bool running;
	struct vsnix_vq_chain chain;	/* the work item's */
};

static struct vsnix_virtio_rng *to_rng(struct vsnix_virtio_dev *vdev)
{
	return container_of(vdev, struct vsnix_virtio_rng, vdev);
}

/* Fills the chain's writable buffers; returns the bytes written. */
static u32 rng_fill(struct vsnix_virtqueue *vq, struct vsnix_vq_chain *c)
{
	u32 want = min_t(u32, c->in_len, RNG_MAX_BYTES), done = 0, n;
	u8 buf[256];

	while (done < want) {
		n = min_t(u32, want - done, sizeof(buf));
		get_random_bytes(buf, n);
		if (vsnix_vq_write(vq, c, done, buf, n))
			break;
		done += n;
	}
	memzero_explicit(buf, sizeof(buf));
	return done;
}

static void rng_work(struct work_struct *work)
{
	struct vsnix_virtio_rng *rng = container_of(work, struct vsnix_virtio_rng,
						   work);
	struct vsnix_virtqueue *vq = &rng->vdev.vqs[0];
	unsigned int served = 0;
	int ret;

	vsnix_vq_disable_kicks(vq);
	for (;;) {
		ret = vsnix_vq_pop(vq, &rng->chain);
		if (ret < 0)
			break;		/* broken: the device needs a reset */
		if (!ret) {
			if (!vsnix_vq_enable_kicks(vq))
				break;
			vsnix_vq_disable_kicks(vq);
			continue;
		}
		if (vsnix_vq_push(vq, rng->chain.head,
				  rng_fill(vq, &rng->chain)))
			break;
		if (++served == RNG_BUDGET) {
			vsnix_vq_notify(vq);
			served = 0;
			/* Yield, and come back for the rest. */
			queue_work(system_unbound_wq, work);
			return;
		}
	}
	if (served)
		vsnix_vq_notify(vq);
}

static u64 rng_features(struct vsnix_virtio_dev *vdev)
{
	return 0;	/* 5.4.3: none */
}

static int rng_start(struct vsnix_virtio_dev *vdev)
{
	struct vsnix_virtio_rng *rng = to_rng(vdev);

	lockdep_assert_held(&vdev->lock);
	spin_lock(&rng->lock);
	rng->running = true;
	queue_work(system_unbound_wq, &rng->work);
	spin_unlock(&rng->lock);
	return 0;
}

static void rng_stop(struct vsnix_virtio_dev *vdev)
{
	struct vsnix_virtio_rng *rng = to_rng(vdev);

	lockdep_assert_held(&vdev->lock);
	spin_lock(&rng->lock);
	rng->running = false;
	spin_unlock(&rng->lock);
	/* The work requeues itself: cancel until it is neither. */
	cancel_work_sync(&rng->work);
}

static void rng_kick(struct vsnix_virtio_dev *vdev, u16 q)
{
	struct vsnix_virtio_rng *rng = to_rng(vdev);

	spin_lock(&rng->lock);
	if (rng->running)
		queue_work(system_unbound_wq, &rng->work);
	spin_unlock(&rng->lock);
}

static void rng_destroy(struct vsnix_virtio_dev *vdev)
{
	kfree(to_rng(vdev));
}

static const struct vsnix_virtio_ops rng_ops = {
	.device_id = 4,		/* 5: entropy source */
	.nr_queues = 1,
	.queue_max_size = RNG_QUEUE_SIZE,
	.features = rng_features,
	.start = rng_start,
	.stop = rng_stop,
	.kick = rng_kick,
	.destroy = rng_destroy,
};

int vsnix_virtio_rng_create(struct vsnix_vm *vm,
			    const struct vsnix_virtio_rng_config *cfg)
{
	struct vsnix_virtio_rng *rng;
	int ret;

	lockdep_assert_held(&vm->lock);
	if (memchr_inv(cfg->reserved, 0, sizeof(cfg->reserved))) {
		pr_warn_ratelimited("virtio-rng: reserved must be zero\n");
		return -EINVAL;
	}
	rng = kzalloc(sizeof(*rng), GFP_KERNEL_ACCOUNT);
	if (!rng)
		return -ENOMEM;
	INIT_WORK(&rng->work, rng_work);
	spin_lock_init(&rng->lock);
	rng->vdev.ops = &rng_ops;
	ret = vsnix_virtio_pci_create(vm, &rng->vdev, &cfg->pci);
	if (ret < 0)
		kfree(rng);
	return ret;
}
