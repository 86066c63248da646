/* SPDX-License-Identifier: GPL-2.0 */
/*
 * virtio-net's parts (net.c: the data path and life cycle; net_ctrl.c:
 * the control queue and the counters).
 */
#ifndef VSNIX_VIRTIO_NET_H
#define VSNIX_VIRTIO_NET_H

#include <linux/atomic.h>
#include <linux/if_vlan.h>
#include <linux/poll.h>
#include <linux/virtio_net.h>
#include <linux/workqueue.h>
#include "virtio.h"

/* VERSION_1: struct virtio_net_hdr_mrg_rxbuf, whatever MRG_RXBUF says. */
#define NET_HDR_LEN	sizeof(struct virtio_net_hdr_mrg_rxbuf)
/* The largest frame either way: a 64 KiB GSO frame and a VLAN header. */
#define NET_MAX_FRAME	(SZ_64K + VLAN_ETH_HLEN)
#define NET_BUF_LEN	(NET_HDR_LEN + NET_MAX_FRAME)
/* Receive buffers one frame may take (num_buffers), then it is dropped. */
#define NET_RX_MAX_BUFS	64

/* Queue numbers (5.1.2): receiveq(n) = 2n, transmitq(n) = 2n + 1, then control. */
#define NET_RX(pair)	(2 * (pair))
#define NET_TX(pair)	(2 * (pair) + 1)
#define NET_CTRL(net)	(2 * (net)->nr_pairs)

enum net_stat {
	NET_TX_PACKETS,
	NET_RX_PACKETS,		/* delivered frames without GSO */
	NET_TX_BAD_HDR,		/* header too short or not valid */
	NET_TX_OVERSIZE,	/* frame over NET_MAX_FRAME */
	NET_TX_BAD_CHAIN,	/* writable segments, unreadable memory */
	NET_TX_HOST_ERR,	/* the tap refused the frame */
	NET_RX_TOO_SMALL,	/* the driver's buffers could not hold it */
	NET_RX_BAD_CHAIN,	/* readable segments, unwritable memory */
	NET_RX_HOST_ERR,	/* the tap gave a short frame */
	NET_CTRL_BAD,		/* malformed control commands */
	NET_RING_ERRORS,	/* malformed rings: NEEDS_RESET */
	NET_TX_GSO,		/* of NET_TX_PACKETS: GSO frames (TSO4/6) */
	NET_RX_GSO,		/* GSO frames from the tap (not in NET_RX_PACKETS) */
	NET_NR_STATS
};

/* One queue pair: its tap queue and a work item per direction. */
struct net_pair {
	struct vsnix_net *net;
	u16 index;
	bool broken;			/* its ring was malformed */
	struct vsnix_net_backend *be;
	struct work_struct rx_work, tx_work;
	/* The tap's wait queue, as a poll would see it (vhost_poll). */
	poll_table pt;
	wait_queue_entry_t wait;
	wait_queue_head_t *wqh;
	/* RX: a frame read from the tap and not yet delivered. */
	u8 *rx_buf;
	u32 rx_len;
	struct vsnix_vq_chain rx_first, rx_chain;
	struct { u16 head; u32 len; } rx_used[NET_RX_MAX_BUFS];
	/* TX */
	u8 *tx_buf;
	struct vsnix_vq_chain tx_chain;
};

struct vsnix_net {
	struct vsnix_virtio_dev vdev;
	struct vsnix_virtio_ops ops;	/* nr_queues differs per device */
	struct mm_struct *mm;		/* the VMM's (mmgrab) */
	struct workqueue_struct *wq;
	u8 mac[ETH_ALEN];
	bool running;			/* between start and stop */
	bool ctrl_broken;
	u16 nr_pairs;
	u16 active_pairs;		/* VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET */
	struct work_struct ctrl_work;
	struct vsnix_vq_chain ctrl_chain;
	atomic64_t stats[NET_NR_STATS];
	struct net_pair *pairs[];
};

void vsnix_net_ctrl_work(struct work_struct *work);
void vsnix_net_print_stats(struct vsnix_net *net);

#endif /* VSNIX_VIRTIO_NET_H */
