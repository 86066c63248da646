// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-net (virtio 1.2 section 5.1) served in the kernel, vhost-net
 * style, on a tap: one tap queue (fd) per queue pair and one worker
 * thread per pair. The worker adopts the VMM's mm once, when it starts,
 * as vhost's worker does (no mm switch per wake-up), and serves both
 * directions: TX when the driver notifies, RX when the driver notifies
 * (new buffers) or the tap's wait queue wakes (a frame is there), as
 * vhost-net polls its socket. Pair 0's worker serves the control queue.
 *
 * Frames are copied once each way, by the tap, between its skb and the
 * guest's memory (net_pages.c): TX reads the driver's header
 * (struct virtio_net_hdr_mrg_rxbuf, 5.1.6) once into host memory, checks
 * it there and hands the tap that copy followed by the (pinned) guest
 * pages of the frame; RX asks the tap the size of its next frame, takes
 * enough (mergeable) receive buffers and lets the tap write into them
 * through the VMM's addresses, as vhost-net's copy_to_user does.
 * Malformed headers, oversize frames and chains that break the rules are
 * dropped and counted (net_stats); the counters are printed when the
 * device goes away.
 */
#define pr_fmt(fmt) "vsnix: " fmt

#include <linux/cgroup.h>
#include <linux/file.h>
#include <linux/if_ether.h>
#include <linux/if_tun.h>
#include <linux/if_vlan.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/poll.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>
#include <linux/srcu.h>
#include "virtio.h"
#include "net.h"
#include "../backends/backend.h"
#include "../devices/devices.h"

/* Frames served by one run of a work item before it yields. */
#define NET_BUDGET	64

static struct vsnix_net *to_net(struct vsnix_virtio_dev *vdev)
{
	return container_of(vdev, struct vsnix_net, vdev);
}

static void net_count(struct vsnix_net *net, enum net_stat which)
{
	atomic64_inc(&net->stats[which]);
}

/* ------------------------------------------------------ configuration */

static u64 net_features(struct vsnix_virtio_dev *vdev)
{
	return BIT_ULL(VIRTIO_NET_F_CSUM) | BIT_ULL(VIRTIO_NET_F_GUEST_CSUM) |
	       BIT_ULL(VIRTIO_NET_F_MAC) | BIT_ULL(VIRTIO_NET_F_GUEST_TSO4) |
	       BIT_ULL(VIRTIO_NET_F_GUEST_TSO6) |
	       BIT_ULL(VIRTIO_NET_F_HOST_TSO4) |
	       BIT_ULL(VIRTIO_NET_F_HOST_TSO6) |
	       BIT_ULL(VIRTIO_NET_F_MRG_RXBUF) | BIT_ULL(VIRTIO_NET_F_STATUS) |
	       BIT_ULL(VIRTIO_NET_F_CTRL_VQ) | BIT_ULL(VIRTIO_NET_F_MQ);
}

/* The fields up to max_virtqueue_pairs (5.1.4); F_MTU is not offered. */
#define NET_CONFIG_SIZE	offsetofend(struct virtio_net_config, \
				    max_virtqueue_pairs)

static void net_config_read(struct vsnix_virtio_dev *vdev, u32 off, void *buf,
			    u32 len)
{
	struct vsnix_net *net = to_net(vdev);
	struct virtio_net_config c = { 0 };

	memcpy(c.mac, net->mac, ETH_ALEN);
	c.status = (__force __virtio16)cpu_to_le16(VIRTIO_NET_S_LINK_UP);
	c.max_virtqueue_pairs = (__force __virtio16)cpu_to_le16(net->nr_pairs);
	memcpy(buf, (u8 *)&c + off, len);
}

/* Read-only with VERSION_1 (5.1.4.2: the MAC is set through CTRL_MAC). */
static void net_config_write(struct vsnix_virtio_dev *vdev, u32 off,
			     const void *buf, u32 len)
{
}

/* ------------------------------------------------------ transmit */

/*
 * Checks the driver's header (5.1.6.2), in host memory, against the
 * features it accepted and the frame's length. num_buffers is the
 * device's field: zeroed before the tap sees the header.
 */
static bool net_tx_hdr_ok(struct vsnix_net *net,
			  struct virtio_net_hdr_mrg_rxbuf *h, u32 frame_len)
{
	struct vsnix_virtio_dev *vdev = &net->vdev;
	u16 csum_start = le16_to_cpu((__force __le16)h->hdr.csum_start);
	u16 csum_off = le16_to_cpu((__force __le16)h->hdr.csum_offset);
	u16 gso_size = le16_to_cpu((__force __le16)h->hdr.gso_size);
	u8 gso = h->hdr.gso_type;

	h->num_buffers = 0;
	if (frame_len < ETH_HLEN ||
	    (h->hdr.flags & ~VIRTIO_NET_HDR_F_NEEDS_CSUM))
		return false;
	if (h->hdr.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		if (!vsnix_virtio_has(vdev, VIRTIO_NET_F_CSUM) ||
		    (u32)csum_start + csum_off + sizeof(__sum16) > frame_len)
			return false;
	}
	switch (gso) {
	case VIRTIO_NET_HDR_GSO_NONE:
		return true;
	case VIRTIO_NET_HDR_GSO_TCPV4:
		if (!vsnix_virtio_has(vdev, VIRTIO_NET_F_HOST_TSO4))
			return false;
		break;
	case VIRTIO_NET_HDR_GSO_TCPV6:
		if (!vsnix_virtio_has(vdev, VIRTIO_NET_F_HOST_TSO6))
			return false;
		break;
	default:	/* UDP, ECN: not offered */
		return false;
	}
	/* A GSO frame needs its checksum done per segment. */
	return (h->hdr.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) && gso_size;
}

/* Sends one chain's frame; what happened, for the counters. */
static enum net_stat net_tx_one(struct net_pair *p,
				const struct vsnix_vq_chain *c)
{
	struct vsnix_net *net = p->net;
	struct vsnix_virtqueue *vq = &net->vdev.vqs[NET_TX(p->index)];
	struct virtio_net_hdr_mrg_rxbuf *h = p->tx_hdr;
	struct net_pages *pg = &p->tx_pages;
	struct iov_iter iter;
	enum net_stat st = NET_TX_PACKETS;
	ssize_t sent;
	int idx;

	/* 5.1.6.2: transmit buffers are device-readable only. */
	if (c->in_len)
		return NET_TX_BAD_CHAIN;
	if (c->out_len < NET_HDR_LEN)
		return NET_TX_BAD_HDR;
	if (c->out_len > NET_HDR_LEN + NET_MAX_FRAME)
		return NET_TX_OVERSIZE;
	/*
	 * The one read of the driver's header: the tap gets this checked
	 * copy, never the guest's bytes again. The frame after it goes
	 * from guest RAM to the tap's skb, copied once by the tap.
	 */
	if (vsnix_vq_read(vq, c, 0, h, NET_HDR_LEN))
		return NET_TX_BAD_CHAIN;
	if (!net_tx_hdr_ok(net, h, c->out_len - NET_HDR_LEN))
		return NET_TX_BAD_HDR;
	idx = srcu_read_lock(&net->vdev.vm->srcu);
	/*
	 * Pinned pages: an iterator is of one kind, and the checked header
	 * is host memory, which no ITER_IOVEC may hold.
	 */
	vsnix_net_map_start(pg, false);
	pg->bv[0].bv_page = virt_to_page(h);
	pg->bv[0].bv_offset = offset_in_page(h);
	pg->bv[0].bv_len = NET_HDR_LEN;
	pg->nr = 1;
	if (vsnix_net_map(net, pg, c, false, NET_HDR_LEN,
			  c->out_len - NET_HDR_LEN)) {
		st = NET_TX_BAD_CHAIN;
		goto out;
	}
	vsnix_net_iter(pg, &iter, ITER_SOURCE, c->out_len);
	sent = p->be->ops->send(p->be, &iter);
	if (sent != c->out_len)
		st = NET_TX_HOST_ERR;
	else if (h->hdr.gso_type != VIRTIO_NET_HDR_GSO_NONE)
		net_count(net, NET_TX_GSO);
out:
	vsnix_net_unmap(pg, false);
	srcu_read_unlock(&net->vdev.vm->srcu, idx);
	return st;
}

/* Pops and sends; true when any chain was returned. */
static bool net_tx_serve(struct net_pair *p)
{
	struct vsnix_net *net = p->net;
	struct vsnix_virtqueue *vq = &net->vdev.vqs[NET_TX(p->index)];
	unsigned int budget = NET_BUDGET;
	bool pushed = false;
	int ret;

	do {
		vsnix_vq_disable_kicks(vq);
		while ((ret = vsnix_vq_pop(vq, &p->tx_chain)) > 0) {
			enum net_stat st = net_tx_one(p, &p->tx_chain);

			net_count(net, st);
			if (st != NET_TX_PACKETS)
				pr_debug_ratelimited("virtio-net: tx frame dropped (%d)\n",
						     st);
			vsnix_vq_push(vq, p->tx_chain.head, 0);
			pushed = true;
			if (!--budget) {
				set_bit(NET_WORK_TX, &p->pending);
				return pushed;
			}
		}
		if (ret < 0) {
			net_count(net, NET_RING_ERRORS);
			p->broken = true;
			vsnix_virtio_needs_reset(&net->vdev);
			return pushed;
		}
	} while (vsnix_vq_enable_kicks(vq));
	return pushed;
}

/* ------------------------------------------------------ receive */

/* Takes the frame at the tap's head into a small buffer: it is lost. */
static void net_rx_discard(struct net_pair *p)
{
	struct kvec kv = { .iov_base = p->rx_drop, .iov_len = NET_HDR_LEN };
	struct iov_iter iter;

	iov_iter_kvec(&iter, ITER_DEST, &kv, 1, NET_HDR_LEN);
	p->be->ops->recv(p->be, &iter);	/* tun truncates it */
}

/*
 * The frame is in the buffers' pages: num_buffers (5.1.6.4), written
 * after the tap's header, and the GSO type for the counters, read back
 * from the same pages (a driver that changes it only skews a counter).
 */
static void net_rx_finish(struct net_pair *p, u32 total, u16 nbufs)
{
	struct net_pages *pg = &p->rx_pages;
	__le16 nb = cpu_to_le16(nbufs);
	struct virtio_net_hdr_mrg_rxbuf h = { 0 };
	struct iov_iter iter;

	/* total > NET_HDR_LEN: both copies are whole. */
	vsnix_net_iter(pg, &iter, ITER_DEST, total);
	iov_iter_advance(&iter, offsetof(typeof(h), num_buffers));
	if (copy_to_iter(&nb, sizeof(nb), &iter) != sizeof(nb))
		return;
	vsnix_net_iter(pg, &iter, ITER_SOURCE, total);
	if (copy_from_iter(&h, sizeof(h.hdr), &iter) != sizeof(h.hdr))
		return;
	net_count(p->net, h.hdr.gso_type == VIRTIO_NET_HDR_GSO_NONE ?
		  NET_RX_PACKETS : NET_RX_GSO);
}

/*
 * Takes receive buffers for the total bytes (the tap's header first) of
 * the frame at the tap's head and maps them. Returns the buffers taken
 * (> 0), 0 when the driver has too few (none kept), -errno for a broken
 * ring, -EAGAIN (none kept) when a user map met a slot pinned for its
 * life; *st is NET_RX_PACKETS, or why the frame must be dropped.
 */
static int net_rx_take_map(struct net_pair *p, u32 total, enum net_stat *st)
{
	struct vsnix_virtqueue *vq = &p->net->vdev.vqs[NET_RX(p->index)];
	bool mrg = vsnix_virtio_has(&p->net->vdev, VIRTIO_NET_F_MRG_RXBUF);
	u32 done = 0, n;
	int ret;

	*st = NET_RX_PACKETS;
	for (n = 0; done < total; n++) {
		struct vsnix_vq_chain *c = n ? &p->rx_chain : &p->rx_first;
		u32 chunk;

		if (n == NET_RX_MAX_BUFS) {
			*st = NET_RX_TOO_SMALL;
			return n;
		}
		ret = vsnix_vq_pop(vq, c);
		if (ret <= 0)
			goto unpop;
		p->rx_used[n].head = c->head;
		p->rx_used[n].len = 0;
		/* 5.1.6.3: receive buffers are device-writable only. */
		if (c->out_len || !c->in_len) {
			*st = NET_RX_BAD_CHAIN;
			return n + 1;
		}
		chunk = min(c->in_len, total - done);
		/* Without MRG_RXBUF one buffer holds the whole frame. */
		if (!mrg && chunk < total) {
			*st = NET_RX_TOO_SMALL;
			return n + 1;
		}
		ret = vsnix_net_map(p->net, &p->rx_pages, c, true, 0, chunk);
		if (ret == -EAGAIN) {
			n++;
			goto unpop;
		}
		if (ret) {
			*st = NET_RX_BAD_CHAIN;
			return n + 1;
		}
		p->rx_used[n].len = chunk;
		done += chunk;
	}
	return n;
unpop:
	while (n--)
		vsnix_vq_unpop(vq);
	return ret;
}

/*
 * The VMM's addresses first (no pinning per frame); a slot pinned for its
 * life has its pages taken instead, the same buffers popped again.
 */
static int net_rx_take(struct net_pair *p, u32 total, enum net_stat *st)
{
	int n;

	vsnix_net_map_start(&p->rx_pages, true);
	n = net_rx_take_map(p, total, st);
	if (n != -EAGAIN)
		return n;
	vsnix_net_map_start(&p->rx_pages, false);
	return net_rx_take_map(p, total, st);
}

/*
 * Receives the frame at the tap's head (total bytes with the tap's
 * header) straight into receive buffers. Returns 1 when it was delivered
 * or dropped, 0 when the driver has too few buffers (the frame stays in
 * the tap), -errno for a broken ring.
 */
static int net_rx_one(struct net_pair *p, u32 total)
{
	struct vsnix_net *net = p->net;
	struct vsnix_virtqueue *vq = &net->vdev.vqs[NET_RX(p->index)];
	bool mrg = vsnix_virtio_has(&net->vdev, VIRTIO_NET_F_MRG_RXBUF);
	struct net_pages *pg = &p->rx_pages;
	struct iov_iter iter;
	enum net_stat st;
	int idx, n, i;
	ssize_t got = 0;

	idx = srcu_read_lock(&net->vdev.vm->srcu);
	n = net_rx_take(p, total, &st);
	if (n > 0 && st == NET_RX_PACKETS) {
		vsnix_net_iter(pg, &iter, ITER_DEST, total);
		got = p->be->ops->recv(p->be, &iter);
		if (got == total)
			net_rx_finish(p, total, mrg ? n : 1);
	}
	vsnix_net_unmap(pg, n > 0 && st == NET_RX_PACKETS);
	srcu_read_unlock(&net->vdev.vm->srcu, idx);
	if (n <= 0)
		return n;
	if (st == NET_RX_PACKETS && got != total) {
		/* Not the frame peeked (another reader of the tap): none kept. */
		net_count(net, NET_RX_HOST_ERR);
		for (i = 0; i < n; i++)
			vsnix_vq_unpop(vq);
		return 1;
	}
	if (st != NET_RX_PACKETS) {
		/* The buffers taken go back unused; the frame is lost. */
		net_count(net, st);
		net_rx_discard(p);
		for (i = 0; i < n; i++)
			p->rx_used[i].len = 0;
	}
	for (i = 0; i < n; i++)
		vsnix_vq_push(vq, p->rx_used[i].head, p->rx_used[i].len);
	return 1;
}

static bool net_rx_serve(struct net_pair *p)
{
	struct vsnix_virtqueue *vq = &p->net->vdev.vqs[NET_RX(p->index)];
	unsigned int budget = NET_BUDGET;
	bool pushed = false;
	int ret, len;

	for (;;) {
		len = p->be->ops->peek_len(p->be);
		if (len <= 0)
			return pushed;
		if (len < ETH_HLEN || len > NET_MAX_FRAME) {
			net_count(p->net, NET_RX_HOST_ERR);
			net_rx_discard(p);
			continue;
		}
		vsnix_vq_disable_kicks(vq);
		ret = net_rx_one(p, NET_HDR_LEN + len);
		if (ret < 0) {
			net_count(p->net, NET_RING_ERRORS);
			p->broken = true;
			vsnix_virtio_needs_reset(&p->net->vdev);
			return pushed;
		}
		if (!ret) {
			/* No buffers: the driver's next kick wakes us. */
			if (vsnix_vq_enable_kicks(vq))
				continue;
			return pushed;
		}
		pushed = true;
		if (!--budget) {
			set_bit(NET_WORK_RX, &p->pending);
			return pushed;
		}
	}
}

/* ------------------------------------------------------ the worker */

/*
 * Only the caller that sets the bit wakes the worker: with the bit already
 * set, the worker has yet to clear it (test_and_clear_bit, before it
 * serves), so it will see this frame or kick. A tap that queues frames
 * while the worker serves then costs no wake-up per frame.
 */
static void net_queue(struct net_pair *p, unsigned int work)
{
	if (!test_and_set_bit(work, &p->pending))
		wake_up_process(p->worker);
}

/* One kind of work; notifies the queue when it returned buffers. */
static void net_serve_one(struct net_pair *p, unsigned int work)
{
	struct vsnix_net *net = p->net;
	u16 q = work == NET_WORK_RX ? NET_RX(p->index) :
		work == NET_WORK_TX ? NET_TX(p->index) : NET_CTRL(net);
	bool pushed;

	if (!READ_ONCE(net->vdev.vqs[q].enabled))
		return;
	if (work == NET_WORK_CTRL)
		pushed = !net->ctrl_broken && vsnix_net_ctrl_serve(net);
	else
		pushed = !p->broken && (work == NET_WORK_RX ? net_rx_serve(p) :
							    net_tx_serve(p));
	if (pushed)
		vsnix_vq_notify(&net->vdev.vqs[q]);
}

/*
 * One pass over the pending work. The mm is in use since the worker
 * started; mm_users is taken per pass so that an exiting VMM's page
 * tables are never walked once they are torn down.
 */
static void net_serve(struct net_pair *p)
{
	struct vsnix_net *net = p->net;
	unsigned int work;

	mutex_lock(&p->serve_lock);
	if (!mmget_not_zero(net->mm)) {
		xchg(&p->pending, 0);	/* the VMM is exiting */
		mutex_unlock(&p->serve_lock);
		return;
	}
	for (work = NET_WORK_RX; work <= NET_WORK_CTRL; work++)
		if (test_and_clear_bit(work, &p->pending) &&
		    READ_ONCE(net->running))
			net_serve_one(p, work);
	mutex_unlock(&p->serve_lock);
	/* The last reference: exit_mmap runs elsewhere, not in this mm. */
	mmput_async(net->mm);
}

static int net_worker(void *data)
{
	struct net_pair *p = data;

	kthread_use_mm(p->net->mm);	/* mm_count: the device's mmgrab */
	for (;;) {
		set_current_state(TASK_INTERRUPTIBLE);
		if (kthread_should_stop())
			break;
		if (!READ_ONCE(p->pending)) {
			schedule();
			continue;
		}
		__set_current_state(TASK_RUNNING);
		net_serve(p);
		cond_resched();
	}
	__set_current_state(TASK_RUNNING);
	kthread_unuse_mm(p->net->mm);
	return 0;
}

/* The tap's wait queue woke: a frame is there (or the tap went away). */
static int net_tap_wake(wait_queue_entry_t *wait, unsigned int mode,
			int sync, void *key)
{
	struct net_pair *p = container_of(wait, struct net_pair, wait);

	if (!key || (key_to_poll(key) & (EPOLLIN | EPOLLERR | EPOLLHUP)))
		net_queue(p, NET_WORK_RX);
	return 0;
}

static void net_tap_queue_proc(struct file *file, wait_queue_head_t *wqh,
			       poll_table *pt)
{
	struct net_pair *p = container_of(pt, struct net_pair, pt);

	if (p->wqh)
		return;
	p->wqh = wqh;
	add_wait_queue(wqh, &p->wait);
}

static void net_tap_unpoll(struct net_pair *p)
{
	if (p->wqh)
		remove_wait_queue(p->wqh, &p->wait);
	p->wqh = NULL;
}

/* ------------------------------------------------------ life cycle */

/* The offloads the driver may receive become the tap's (TUNSETOFFLOAD). */
static unsigned int net_tun_offloads(struct vsnix_virtio_dev *vdev)
{
	unsigned int f = 0;

	if (!vsnix_virtio_has(vdev, VIRTIO_NET_F_GUEST_CSUM))
		return 0;
	f |= TUN_F_CSUM;
	if (vsnix_virtio_has(vdev, VIRTIO_NET_F_GUEST_TSO4))
		f |= TUN_F_TSO4;
	if (vsnix_virtio_has(vdev, VIRTIO_NET_F_GUEST_TSO6))
		f |= TUN_F_TSO6;
	return f;
}

static int net_start(struct vsnix_virtio_dev *vdev)
{
	struct vsnix_net *net = to_net(vdev);
	unsigned int offloads = net_tun_offloads(vdev);
	u16 i;
	int ret;

	/* VERSION_1's header is always 12 bytes (5.1.6.1): the tap's too. */
	for (i = 0; i < net->nr_pairs; i++) {
		struct net_pair *p = net->pairs[i];

		ret = p->be->ops->set_offload(p->be, offloads);
		if (ret) {
			pr_warn_ratelimited("virtio-net: TUNSETOFFLOAD %#x: %d\n",
					    offloads, ret);
			return ret;
		}
		p->broken = false;
	}
	net->ctrl_broken = false;
	WRITE_ONCE(net->running, true);
	for (i = 0; i < net->nr_pairs; i++) {
		struct net_pair *p = net->pairs[i];

		p->be->ops->poll(p->be, &p->pt);
		net_queue(p, NET_WORK_RX);
		net_queue(p, NET_WORK_TX);
	}
	net_queue(net->pairs[0], NET_WORK_CTRL);
	return 0;
}

static void net_stop(struct vsnix_virtio_dev *vdev)
{
	struct vsnix_net *net = to_net(vdev);
	u16 i;

	lockdep_assert_held(&vdev->lock);
	WRITE_ONCE(net->running, false);
	for (i = 0; i < net->nr_pairs; i++) {
		struct net_pair *p = net->pairs[i];

		net_tap_unpoll(p);
		/* A pass in progress ends; the next sees !running. */
		mutex_lock(&p->serve_lock);
		mutex_unlock(&p->serve_lock);
	}
}

static void net_kick(struct vsnix_virtio_dev *vdev, u16 q)
{
	struct vsnix_net *net = to_net(vdev);

	if (!READ_ONCE(net->running))
		return;
	if (q == NET_CTRL(net))
		net_queue(net->pairs[0], NET_WORK_CTRL);
	else if (q < NET_CTRL(net))
		net_queue(net->pairs[q / 2], q & 1 ? NET_WORK_TX : NET_WORK_RX);
}

static void net_free(struct vsnix_net *net)
{
	u16 i;

	for (i = 0; i < net->nr_pairs; i++) {
		struct net_pair *p = net->pairs[i];

		if (!p)
			continue;
		/* After stop: the worker has nothing left to serve. */
		if (p->worker)
			kthread_stop(p->worker);
		if (p->be)
			p->be->ops->close(p->be);
		kfree(p->tx_hdr);
		kvfree(p);
	}
	if (net->mm)
		mmdrop(net->mm);
	kfree(net);
}

static void net_destroy(struct vsnix_virtio_dev *vdev)
{
	struct vsnix_net *net = to_net(vdev);

	vsnix_net_print_stats(net);
	net_free(net);
}

static const struct vsnix_virtio_ops net_ops = {
	.device_id = VIRTIO_ID_NET,
	.queue_max_size = 256,
	.config_size = NET_CONFIG_SIZE,
	.features = net_features,
	.config_read = net_config_read,
	.config_write = net_config_write,
	.start = net_start,
	.stop = net_stop,
	.kick = net_kick,
	.destroy = net_destroy,
};

static struct net_pair *net_pair_alloc(struct vsnix_net *net, u16 index)
{
	struct net_pair *p = kvzalloc(sizeof(*p), GFP_KERNEL_ACCOUNT);

	if (!p)
		return NULL;
	p->net = net;
	p->index = index;
	mutex_init(&p->serve_lock);
	init_waitqueue_func_entry(&p->wait, net_tap_wake);
	init_poll_funcptr(&p->pt, net_tap_queue_proc);
	/* kmalloc, not vmalloc: the header goes to the tap as a bio_vec. */
	p->tx_hdr = kmalloc(sizeof(*p->tx_hdr), GFP_KERNEL_ACCOUNT);
	if (!p->tx_hdr) {
		kvfree(p);
		return NULL;
	}
	return p;
}

static struct vsnix_net *net_alloc(struct vsnix_vm *vm, u16 nr_pairs)
{
	struct vsnix_net *net;
	u16 i;

	net = kzalloc(struct_size(net, pairs, nr_pairs), GFP_KERNEL_ACCOUNT);
	if (!net)
		return NULL;
	net->nr_pairs = nr_pairs;
	for (i = 0; i < nr_pairs; i++) {
		net->pairs[i] = net_pair_alloc(net, i);
		if (!net->pairs[i])
			goto err;
	}
	net->mm = current->mm;
	mmgrab(net->mm);
	for (i = 0; i < nr_pairs; i++) {
		struct task_struct *t;

		t = kthread_create(net_worker, net->pairs[i], "vsnix-net-%d/%u",
				   task_pid_nr(current), i);
		if (IS_ERR(t))
			goto err;
		net->pairs[i]->worker = t;
		/* Its CPU time and memory are the VMM's (as vhost's worker). */
		if (cgroup_attach_task_all(current, t)) {
			pr_warn_ratelimited("virtio-net: worker not in the VMM's cgroups\n");
			goto err;
		}
		wake_up_process(t);
	}
	net->ops = net_ops;
	net->ops.nr_queues = 2 * nr_pairs + 1;
	net->vdev.vm = vm;
	net->vdev.ops = &net->ops;
	mutex_init(&net->vdev.lock);
	return net;
err:
	net_free(net);
	return NULL;
}

static int net_check_config(const struct vsnix_virtio_net_config *cfg)
{
	if (cfg->flags || !vsnix_dev_all_zero(cfg->pad, sizeof(cfg->pad)) ||
	    !vsnix_dev_all_zero(cfg->reserved, sizeof(cfg->reserved))) {
		pr_warn_ratelimited("virtio-net: unknown flags or nonzero reserved fields\n");
		return -EINVAL;
	}
	if (!cfg->nr_queue_pairs ||
	    cfg->nr_queue_pairs > VSNIX_VIRTIO_NET_MAX_PAIRS) {
		pr_warn_ratelimited("virtio-net: %u queue pairs, 1 to %u\n",
				    cfg->nr_queue_pairs,
				    VSNIX_VIRTIO_NET_MAX_PAIRS);
		return -EINVAL;
	}
	if (cfg->mac[0] & 1) {
		pr_warn_ratelimited("virtio-net: a multicast MAC\n");
		return -EINVAL;
	}
	return 0;
}

/* Each fd: a tun/tap file (the vnet header needs one). */
static int net_open_taps(struct vsnix_net *net,
			 const struct vsnix_virtio_net_config *cfg)
{
	u16 i;

	for (i = 0; i < net->nr_pairs; i++) {
		struct vsnix_net_backend *be;
		struct file *file = fget(cfg->fds[i]);

		if (!file) {
			pr_warn_ratelimited("virtio-net: fd %d is not an open file\n",
					    cfg->fds[i]);
			return -EBADF;
		}
		be = vsnix_tap_open(file, "virtio-net");
		if (IS_ERR(be)) {
			fput(file);
			return PTR_ERR(be);
		}
		net->pairs[i]->be = be;
		if (!be->is_tun) {
			pr_warn_ratelimited("virtio-net: fd %d is not a tap\n",
					    cfg->fds[i]);
			return -EINVAL;
		}
	}
	return 0;
}

int vsnix_virtio_net_create(struct vsnix_vm *vm,
			    const struct vsnix_virtio_net_config *cfg)
{
	struct vsnix_net *net;
	int ret;

	ret = net_check_config(cfg);
	if (ret)
		return ret;
	net = net_alloc(vm, cfg->nr_queue_pairs);
	if (!net)
		return -ENOMEM;
	memcpy(net->mac, cfg->mac, ETH_ALEN);
	ret = net_open_taps(net, cfg);
	if (!ret)
		ret = vsnix_virtio_pci_create(vm, &net->vdev, &cfg->pci);
	if (ret < 0)
		net_free(net);
	return ret;
}
