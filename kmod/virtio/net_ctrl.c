// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-net's control queue (virtio 1.2 section 5.1.6.5) and counters.
 * Only the MQ class is offered (VIRTIO_NET_F_CTRL_VQ | F_MQ); anything
 * else is answered VIRTIO_NET_ERR, as the driver may send only what it
 * negotiated.
 */
#define pr_fmt(fmt) "vsnix: " fmt

#include "net.h"

/* The command's class and command, then its data; the ack is the last byte. */
static u8 net_ctrl_cmd(struct vsnix_net *net, const struct vsnix_vq_chain *c)
{
	struct vsnix_virtqueue *vq = &net->vdev.vqs[NET_CTRL(net)];
	struct virtio_net_ctrl_hdr hdr;
	struct virtio_net_ctrl_mq mq;
	u16 pairs;

	if (c->out_len < sizeof(hdr) || vsnix_vq_read(vq, c, 0, &hdr, sizeof(hdr)))
		return VIRTIO_NET_ERR;
	if (hdr.class != VIRTIO_NET_CTRL_MQ ||
	    hdr.cmd != VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET ||
	    c->out_len != sizeof(hdr) + sizeof(mq) ||
	    vsnix_vq_read(vq, c, sizeof(hdr), &mq, sizeof(mq)))
		return VIRTIO_NET_ERR;
	pairs = le16_to_cpu((__force __le16)mq.virtqueue_pairs);
	/* 5.1.6.5.5: between 1 and max_virtqueue_pairs. */
	if (pairs < VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN || pairs > net->nr_pairs)
		return VIRTIO_NET_ERR;
	WRITE_ONCE(net->active_pairs, pairs);
	return VIRTIO_NET_OK;
}

bool vsnix_net_ctrl_serve(struct vsnix_net *net)
{
	struct vsnix_virtqueue *vq = &net->vdev.vqs[NET_CTRL(net)];
	struct vsnix_vq_chain *c = &net->ctrl_chain;
	bool pushed = false;
	int ret;

	while ((ret = vsnix_vq_pop(vq, c)) > 0) {
		u8 ack;

		if (c->in_len < 1) {
			/* Nowhere to answer: return the chain unanswered. */
			atomic64_inc(&net->stats[NET_CTRL_BAD]);
			vsnix_vq_push(vq, c->head, 0);
			pushed = true;
			continue;
		}
		ack = net_ctrl_cmd(net, c);
		if (ack != VIRTIO_NET_OK)
			atomic64_inc(&net->stats[NET_CTRL_BAD]);
		if (vsnix_vq_write(vq, c, c->in_len - 1, &ack, 1))
			vsnix_vq_push(vq, c->head, 0);
		else
			vsnix_vq_push(vq, c->head, c->in_len);
		pushed = true;
	}
	if (ret < 0) {
		atomic64_inc(&net->stats[NET_RING_ERRORS]);
		net->ctrl_broken = true;
		vsnix_virtio_needs_reset(&net->vdev);
	}
	return pushed;
}

/* One line at the device's end: what it moved and what it dropped. */
void vsnix_net_print_stats(struct vsnix_net *net)
{
	s64 s[NET_NR_STATS];
	int i;

	for (i = 0; i < NET_NR_STATS; i++)
		s[i] = atomic64_read(&net->stats[i]);
	/* rx: every frame delivered, NET_RX_PACKETS and NET_RX_GSO. */
	pr_info("virtio-net %pM: tx %lld rx %lld; gso tx %lld rx %lld; dropped: tx bad header %lld oversize %lld bad chain %lld host %lld, rx too small %lld bad chain %lld host %lld; ctrl bad %lld; ring errors %lld\n",
		net->mac, s[NET_TX_PACKETS],
		s[NET_RX_PACKETS] + s[NET_RX_GSO], s[NET_TX_GSO], s[NET_RX_GSO],
		s[NET_TX_BAD_HDR], s[NET_TX_OVERSIZE], s[NET_TX_BAD_CHAIN],
		s[NET_TX_HOST_ERR], s[NET_RX_TOO_SMALL], s[NET_RX_BAD_CHAIN],
		s[NET_RX_HOST_ERR], s[NET_CTRL_BAD], s[NET_RING_ERRORS]);
}
