/* SPDX-License-Identifier: GPL-2.0 */
/*
 * virtio-net's parts (net.c: the data path and life cycle; net_ctrl.c:
 * the control queue and the counters; net_pages.c: guest pages for the
 * tap).
 */
#ifndef VSNIX_VIRTIO_NET_H
#define VSNIX_VIRTIO_NET_H

#include <linux/atomic.h>
#include <linux/bvec.h>
#include <linux/if_vlan.h>
#include <linux/poll.h>
#include <linux/uio.h>
#include <linux/virtio_net.h>
#include <linux/mutex.h>
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

/*
 * Guest memory of one frame, for the tap to copy from or into: a header,
 * then at most NET_MAX_FRAME bytes in at most VSNIX_VQ_MAX_SEGS segments,
 * each spanning its pages plus one. Either the VMM's user addresses (iov,
 * RX: the worker runs in the VMM's mm and the tap's copy walks its page
 * tables, as vhost-net's does) or pinned pages (bv: TX, whose checked
 * header is host memory, and slots pinned for their life).
 */
#define NET_MAX_BVEC	(2 + (NET_MAX_FRAME >> PAGE_SHIFT) + \
			 2 * VSNIX_VQ_MAX_SEGS)

struct net_pages {
	bool user;			/* iov[], else bv[] */
	unsigned int nr;		/* entries of iov[] or bv[] */
	unsigned int nr_pin;
	union {
		struct bio_vec bv[NET_MAX_BVEC];
		struct iovec iov[NET_MAX_BVEC];
	};
	struct page *pin[NET_MAX_BVEC];	/* pinned here, unpinned after */
};

/* A pair's worker's pending work (net_pair.pending bits). */
enum { NET_WORK_RX, NET_WORK_TX, NET_WORK_CTRL };

/*
 * One queue pair: its tap queue and its worker, a kthread that adopts the
 * VMM's mm once (as vhost's worker does) and serves both directions; pair
 * 0's worker serves the control queue too.
 */
struct net_pair {
	struct vsnix_net *net;
	u16 index;
	bool broken;			/* its ring was malformed */
	struct vsnix_net_backend *be;
	struct task_struct *worker;
	unsigned long pending;		/* NET_WORK_* bits */
	/* Held by the worker while it serves: stop waits on it. */
	struct mutex serve_lock;
	/* The tap's wait queue, as a poll would see it (vhost_poll). */
	poll_table pt;
	wait_queue_entry_t wait;
	wait_queue_head_t *wqh;
	/* RX */
	struct vsnix_vq_chain rx_first, rx_chain;
	struct { u16 head; u32 len; } rx_used[NET_RX_MAX_BUFS];
	struct net_pages rx_pages;
	u8 rx_drop[NET_HDR_LEN];	/* a dropped frame's header lands here */
	/* TX */
	struct virtio_net_hdr_mrg_rxbuf *tx_hdr;	/* kmalloc: a page's */
	struct vsnix_vq_chain tx_chain;
	struct net_pages tx_pages;
};

struct vsnix_net {
	struct vsnix_virtio_dev vdev;
	struct vsnix_virtio_ops ops;	/* nr_queues differs per device */
	struct mm_struct *mm;		/* the VMM's (mmgrab) */
	u8 mac[ETH_ALEN];
	bool running;			/* between start and stop */
	bool ctrl_broken;
	u16 nr_pairs;
	u16 active_pairs;		/* VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET */
	struct vsnix_vq_chain ctrl_chain;
	atomic64_t stats[NET_NR_STATS];
	struct net_pair *pairs[];
};

/* Serves the control queue (pair 0's worker): true when it pushed. */
bool vsnix_net_ctrl_serve(struct vsnix_net *net);
void vsnix_net_print_stats(struct vsnix_net *net);

/*
 * Starts a frame's map: user (the VMM's addresses) or pinned bio_vecs.
 * Caller: a worker in the VMM's mm, inside vm->srcu until
 * vsnix_net_unmap, which ends the map.
 */
static inline void vsnix_net_map_start(struct net_pages *pg, bool user)
{
	pg->user = user;
	pg->nr = 0;
	pg->nr_pin = 0;
}

/*
 * Appends the chain's readable (write false) or writable segments, len
 * bytes from off within them. -EFAULT for memory that is not (writable)
 * guest RAM of the worker's mm, -E2BIG past NET_MAX_BVEC, -EINVAL when
 * the chain is too short, -EAGAIN in a user map for a slot pinned for
 * its life (its pages, not its addresses, are the guest's): map the frame
 * again with bio_vecs.
 */
int vsnix_net_map(struct vsnix_net *net, struct net_pages *pg,
		  const struct vsnix_vq_chain *c, bool write, u32 off, u32 len);
/* The first len bytes of the map as an iterator (dir: ITER_SOURCE/DEST). */
void vsnix_net_iter(struct net_pages *pg, struct iov_iter *iter,
		    unsigned int dir, size_t len);
/* Unpins what vsnix_net_map pinned (dirty: the device wrote them). */
void vsnix_net_unmap(struct net_pages *pg, bool dirty);

#endif /* VSNIX_VIRTIO_NET_H */
