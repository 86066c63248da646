// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-net (virtio 1.2 section 5.1) served in the kernel, vhost-net
 * style, on a tap: one tap queue (fd) per queue pair, a work item per
 * direction. The TX work item is woken by the driver's notify; the RX
 * one by the driver's notify (new buffers) and by the tap's wait queue
 * (a frame is there), as vhost-net polls its socket. The work items adopt
 * the VMM's mm, as blk.c's do, so guest RAM is reached through the VMM's
 * page tables.
 *
 * Every frame passes through a host bounce buffer: the driver's header
 * (struct virtio_net_hdr_mrg_rxbuf, 5.1.6) is read once, with the frame,
 * into host memory and checked there; what the tap gets is that copy.
 * Malformed headers, oversize frames and chains that break the rules are
 * dropped and counted (net_stats); the counters are printed when the
 * device goes away.
 */
#define pr_fmt(fmt) "vsnix: " fmt

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
#include <linux/workqueue.h>
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
	struct virtio_net_hdr_mrg_rxbuf *h = (void *)p->tx_buf;
	struct kvec kv = { .iov_base = p->tx_buf, .iov_len = c->out_len };
	struct iov_iter iter;
	ssize_t sent;

	/* 5.1.6.2: transmit buffers are device-readable only. */
	if (c->in_len)
		return NET_TX_BAD_CHAIN;
	if (c->out_len < NET_HDR_LEN)
		return NET_TX_BAD_HDR;
	if (c->out_len > NET_HDR_LEN + NET_MAX_FRAME)
		return NET_TX_OVERSIZE;
	/* The one read of the driver's bytes; everything below uses it. */
	if (vsnix_vq_read(vq, c, 0, p->tx_buf, c->out_len))
		return NET_TX_BAD_CHAIN;
	if (!net_tx_hdr_ok(net, h, c->out_len - NET_HDR_LEN))
		return NET_TX_BAD_HDR;
	iov_iter_kvec(&iter, ITER_SOURCE, &kv, 1, c->out_len);
	sent = p->be->ops->send(p->be, &iter);
	if (sent != c->out_len)
		return NET_TX_HOST_ERR;
	if (h->hdr.gso_type != VIRTIO_NET_HDR_GSO_NONE)
		net_count(net, NET_TX_GSO);
	return NET_TX_PACKETS;
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
				queue_work(net->wq, &p->tx_work);
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

/*
 * Puts the pending frame (rx_len bytes at rx_buf, the tap's header
 * first) into receive buffers. Returns 1 when delivered or dropped, 0
 * when the driver has too few buffers (the frame stays pending), -errno
 * for a broken ring.
 */
static int net_rx_one(struct net_pair *p)
{
	struct vsnix_net *net = p->net;
	struct vsnix_virtqueue *vq = &net->vdev.vqs[NET_RX(p->index)];
	bool mrg = vsnix_virtio_has(&net->vdev, VIRTIO_NET_F_MRG_RXBUF);
	struct virtio_net_hdr_mrg_rxbuf *h = (void *)p->rx_buf;
	u32 done = 0, n, i;
	int ret;

	for (n = 0; done < p->rx_len; n++) {
		struct vsnix_vq_chain *c = n ? &p->rx_chain : &p->rx_first;
		u32 chunk;

		if (n == NET_RX_MAX_BUFS)
			goto drop;
		ret = vsnix_vq_pop(vq, c);
		if (ret <= 0) {
			while (n--)
				vsnix_vq_unpop(vq);
			return ret;
		}
		p->rx_used[n].head = c->head;
		p->rx_used[n].len = 0;
		/* 5.1.6.3: receive buffers are device-writable only. */
		if (c->out_len || !c->in_len) {
			net_count(net, NET_RX_BAD_CHAIN);
			n++;
			goto drop;
		}
		chunk = min(c->in_len, p->rx_len - done);
		/* Without MRG_RXBUF one buffer holds the whole frame. */
		if (!mrg && chunk < p->rx_len) {
			net_count(net, NET_RX_TOO_SMALL);
			n++;
			goto drop;
		}
		if (!n)
			h->num_buffers = 0;	/* written last, below */
		if (vsnix_vq_write(vq, c, 0, p->rx_buf + done, chunk)) {
			net_count(net, NET_RX_BAD_CHAIN);
			n++;
			goto drop;
		}
		p->rx_used[n].len = chunk;
		done += chunk;
	}
	/* 5.1.6.4: num_buffers counts the buffers of this frame. */
	h->num_buffers = (__force __virtio16)cpu_to_le16(mrg ? n : 1);
	if (vsnix_vq_write(vq, &p->rx_first, offsetof(typeof(*h), num_buffers),
			   &h->num_buffers, sizeof(h->num_buffers)))
		net_count(net, NET_RX_BAD_CHAIN);
	else if (h->hdr.gso_type == VIRTIO_NET_HDR_GSO_NONE)
		net_count(net, NET_RX_PACKETS);
	else
		net_count(net, NET_RX_GSO);
	for (i = 0; i < n; i++)
		vsnix_vq_push(vq, p->rx_used[i].head, p->rx_used[i].len);
	p->rx_len = 0;
	return 1;
drop:
	/* The buffers taken go back unused; the frame is lost. */
	for (i = 0; i < n; i++)
		vsnix_vq_push(vq, p->rx_used[i].head, 0);
	if (n == NET_RX_MAX_BUFS)
		net_count(net, NET_RX_TOO_SMALL);
	p->rx_len = 0;
	return 1;
}

/* Reads a frame from the tap into rx_buf; false when there is none. */
static bool net_rx_fetch(struct net_pair *p)
{
	struct kvec kv = { .iov_base = p->rx_buf, .iov_len = NET_BUF_LEN };
	struct iov_iter iter;
	ssize_t n;

	iov_iter_kvec(&iter, ITER_DEST, &kv, 1, NET_BUF_LEN);
	n = p->be->ops->recv(p->be, &iter);
	if (n <= 0)
		return false;
	if (n < NET_HDR_LEN + ETH_HLEN) {	/* not from a vnet-header tap */
		net_count(p->net, NET_RX_HOST_ERR);
		return true;
	}
	p->rx_len = n;
	return true;
}

static bool net_rx_serve(struct net_pair *p)
{
	struct vsnix_virtqueue *vq = &p->net->vdev.vqs[NET_RX(p->index)];
	unsigned int budget = NET_BUDGET;
	bool pushed = false;
	int ret;

	for (;;) {
		if (!p->rx_len && !net_rx_fetch(p))
			return pushed;
		if (!p->rx_len)
			continue;
		vsnix_vq_disable_kicks(vq);
		ret = net_rx_one(p);
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
			queue_work(p->net->wq, &p->rx_work);
			return pushed;
		}
	}
}

/* ------------------------------------------------------ work items */

/* Runs fn in the VMM's mm; notifies queue q when fn returned buffers. */
static void net_run(struct net_pair *p, bool (*fn)(struct net_pair *p),
		    u16 q)
{
	struct vsnix_net *net = p->net;

	if (!mmget_not_zero(net->mm))
		return;
	kthread_use_mm(net->mm);
	if (READ_ONCE(net->running) && !p->broken &&
	    net->vdev.vqs[q].enabled && fn(p))
		vsnix_vq_notify(&net->vdev.vqs[q]);
	kthread_unuse_mm(net->mm);
	mmput(net->mm);
}

static void net_tx_work(struct work_struct *work)
{
	struct net_pair *p = container_of(work, struct net_pair, tx_work);

	net_run(p, net_tx_serve, NET_TX(p->index));
}

static void net_rx_work(struct work_struct *work)
{
	struct net_pair *p = container_of(work, struct net_pair, rx_work);

	net_run(p, net_rx_serve, NET_RX(p->index));
}

/* The tap's wait queue woke: a frame is there (or the tap went away). */
static int net_tap_wake(wait_queue_entry_t *wait, unsigned int mode,
			int sync, void *key)
{
	struct net_pair *p = container_of(wait, struct net_pair, wait);

	if (!key || (key_to_poll(key) & (EPOLLIN | EPOLLERR | EPOLLHUP)))
		queue_work(p->net->wq, &p->rx_work);
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
		p->rx_len = 0;
	}
	net->ctrl_broken = false;
	WRITE_ONCE(net->running, true);
	for (i = 0; i < net->nr_pairs; i++) {
		struct net_pair *p = net->pairs[i];

		p->be->ops->poll(p->be, &p->pt);
		queue_work(net->wq, &p->rx_work);
		queue_work(net->wq, &p->tx_work);
	}
	queue_work(net->wq, &net->ctrl_work);
	return 0;
}

static void net_stop(struct vsnix_virtio_dev *vdev)
{
	struct vsnix_net *net = to_net(vdev);
	u16 i;

	lockdep_assert_held(&vdev->lock);
	WRITE_ONCE(net->running, false);
	for (i = 0; i < net->nr_pairs; i++) {
		net_tap_unpoll(net->pairs[i]);
		flush_work(&net->pairs[i]->rx_work);
		flush_work(&net->pairs[i]->tx_work);
	}
	flush_work(&net->ctrl_work);
}

static void net_kick(struct vsnix_virtio_dev *vdev, u16 q)
{
	struct vsnix_net *net = to_net(vdev);

	if (!READ_ONCE(net->running))
		return;
	if (q == NET_CTRL(net))
		queue_work(net->wq, &net->ctrl_work);
	else if (q < NET_CTRL(net))
		queue_work(net->wq, q & 1 ? &net->pairs[q / 2]->tx_work :
				     &net->pairs[q / 2]->rx_work);
}

static void net_free(struct vsnix_net *net)
{
	u16 i;

	if (net->wq)
		destroy_workqueue(net->wq);
	for (i = 0; i < net->nr_pairs; i++) {
		struct net_pair *p = net->pairs[i];

		if (!p)
			continue;
		if (p->be)
			p->be->ops->close(p->be);
		kvfree(p->rx_buf);
		kvfree(p->tx_buf);
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
	INIT_WORK(&p->rx_work, net_rx_work);
	INIT_WORK(&p->tx_work, net_tx_work);
	init_waitqueue_func_entry(&p->wait, net_tap_wake);
	init_poll_funcptr(&p->pt, net_tap_queue_proc);
	p->rx_buf = kvmalloc(NET_BUF_LEN, GFP_KERNEL_ACCOUNT);
	p->tx_buf = kvmalloc(NET_BUF_LEN, GFP_KERNEL_ACCOUNT);
	if (!p->rx_buf || !p->tx_buf) {
		kvfree(p->rx_buf);
		kvfree(p->tx_buf);
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
	INIT_WORK(&net->ctrl_work, vsnix_net_ctrl_work);
	net->wq = alloc_workqueue("vsnix-net", WQ_UNBOUND | WQ_MEM_RECLAIM, 0);
	if (!net->wq)
		goto err;
	net->mm = current->mm;
	mmgrab(net->mm);
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
