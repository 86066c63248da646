// SPDX-License-Identifier: GPL-2.0
/*
 * Queue selection for a multiqueue tap (TUNSETSTEERINGEBPF): tun runs
 * this on every frame it hands to its readers and uses the result, modulo
 * the number of queues, as the queue. The hash is virtio-net RSS's
 * (virtio 1.2 section 5.1.6.5.7): Toeplitz over the IP addresses and, for
 * TCP and UDP, the ports, then an indirection table. One flow always
 * lands on one queue, so on one guest vCPU.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "vsnix_net_bpf.h"

#define ETH_P_IP	0x0800
#define ETH_P_IPV6	0x86dd
#define IPPROTO_TCP_	6
#define IPPROTO_UDP_	17
#define ETH_HLEN_	14
#define IP_MF_OFFSET	0x3fff	/* more fragments and fragment offset */
#define HASH_IN_MAX	36	/* IPv6 addresses and ports */

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vsnix_rss_config);
} rss_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VSNIX_RSS_MAX_QUEUES);
	__type(key, __u32);
	__type(value, __u64);
} rss_stats SEC(".maps");

/* Toeplitz: for each set input bit i, XOR key bits i..i+31. */
static __always_inline __u32 toeplitz(const __u8 *key, const __u8 *in,
				      __u32 n)
{
	__u32 v = (__u32)key[0] << 24 | (__u32)key[1] << 16 |
		  (__u32)key[2] << 8 | key[3];
	__u32 hash = 0, j;

	for (j = 0; j < HASH_IN_MAX && j < n; j++) {
		/* Key byte j + 4 holds the bits shifted in for input byte j. */
		__u8 next = key[j + 4], b = in[j];
		int bit;

#pragma unroll
		for (bit = 7; bit >= 0; bit--) {
			if (b & (1 << bit))
				hash ^= v;
			v = v << 1 | ((next >> bit) & 1);
		}
	}
	return hash;
}

/* The hash input of the frame (addresses, then ports): its length or 0. */
static __always_inline __u32 flow_input(struct __sk_buff *skb, __u8 *in)
{
	__u32 l4, n;
	__be16 proto;
	__u8 l4proto;

	if (bpf_skb_load_bytes(skb, 12, &proto, 2))
		return 0;
	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr ip;

		if (bpf_skb_load_bytes(skb, ETH_HLEN_, &ip, sizeof(ip)) ||
		    ip.ihl < 5)
			return 0;
		__builtin_memcpy(in, &ip.saddr, 8);
		n = 8;
		if (ip.frag_off & bpf_htons(IP_MF_OFFSET))
			return n;
		l4 = ETH_HLEN_ + ip.ihl * 4;
		l4proto = ip.protocol;
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr ip6;

		if (bpf_skb_load_bytes(skb, ETH_HLEN_, &ip6, sizeof(ip6)))
			return 0;
		__builtin_memcpy(in, &ip6.saddr, 32);
		n = 32;
		l4 = ETH_HLEN_ + sizeof(ip6);
		l4proto = ip6.nexthdr;	/* extension headers: addresses only */
	} else {
		return 0;
	}
	if ((l4proto == IPPROTO_TCP_ || l4proto == IPPROTO_UDP_) &&
	    !bpf_skb_load_bytes(skb, l4, in + n, 4))
		n += 4;
	return n;
}

SEC("socket")
int vsnix_rss(struct __sk_buff *skb)
{
	struct vsnix_rss_config *cfg;
	__u8 in[HASH_IN_MAX] = {};
	__u32 zero = 0, n, queue;
	__u64 *hits;

	cfg = bpf_map_lookup_elem(&rss_config, &zero);
	if (!cfg || !cfg->nr_queues)
		return 0;
	n = flow_input(skb, in);
	if (n)
		queue = cfg->table[toeplitz(cfg->key, in, n) &
				   (VSNIX_RSS_TABLE_LEN - 1)];
	else
		queue = cfg->unclassified;
	if (queue >= cfg->nr_queues)
		queue %= cfg->nr_queues;
	hits = bpf_map_lookup_elem(&rss_stats, &queue);
	if (hits)
		*hits += 1;
	return queue;
}

char LICENSE[] SEC("license") = "GPL";
