/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The maps shared by vSnix's network eBPF programs (bpf/<name>.bpf.c) and
 * vsnixctl (userspace/cmd_net.c, through the bpftool skeletons). Both
 * sides include it after their own definitions of __u8..__u64 (vmlinux.h
 * or <linux/types.h>), so it includes nothing itself.
 */
#ifndef VSNIX_NET_BPF_H
#define VSNIX_NET_BPF_H

/* ---------------------------------------------- host-side steering */

/* VMs (taps) one steering program serves; slot = index in steer_stats. */
#define VSNIX_STEER_MAX_VMS	256
/* steer_stats index for frames whose destination no VM owns. */
#define VSNIX_STEER_SLOT_UNKNOWN VSNIX_STEER_MAX_VMS

/* steer_macs key: a destination MAC, padded to 8 bytes. */
struct vsnix_steer_mac {
	__u8 addr[6];
	__u16 pad;		/* 0 */
};

/* steer_macs and steer_ips value: where the frame goes. */
struct vsnix_steer_target {
	__u32 ifindex;		/* the VM's tap */
	__u32 slot;		/* < VSNIX_STEER_MAX_VMS, its counters */
	__u8 mac[6];		/* the VM's MAC: dst MAC for IP matches */
	__u16 pad;		/* 0 */
};

/* steer_stats value (per CPU; readers sum them). */
struct vsnix_steer_stats {
	__u64 packets;
	__u64 bytes;
	__u64 redirect_errors;	/* bpf_redirect refused: passed instead */
};

/* ---------------------------------------------- tap queue selection */

/* Toeplitz key and indirection table, as virtio-net RSS (virtio 1.2 5.1.6.5.7). */
#define VSNIX_RSS_KEY_LEN	40
#define VSNIX_RSS_TABLE_LEN	128	/* a power of 2 */

/* rss_config[0]. */
struct vsnix_rss_config {
	__u8 key[VSNIX_RSS_KEY_LEN];
	__u16 table[VSNIX_RSS_TABLE_LEN];	/* hash & (LEN - 1) -> queue */
	__u16 nr_queues;	/* 0: the program is not configured */
	__u16 unclassified;	/* queue for frames with no IP flow */
	__u32 pad;
};

/* rss_stats[queue] (per CPU): frames the program sent to each queue. */
#define VSNIX_RSS_MAX_QUEUES	32

#endif /* VSNIX_NET_BPF_H */
