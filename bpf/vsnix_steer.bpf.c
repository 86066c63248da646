// SPDX-License-Identifier: GPL-2.0
/*
 * Host-side steering (TC ingress on a clsact qdisc of a host interface):
 * a frame whose destination belongs to a VM goes straight to that VM's tap
 * (bpf_redirect to the tap's egress, which is what the tap's reader, the
 * VM, receives); anything else goes on to the host stack. vsnixctl keeps
 * the maps: steer_macs (destination MAC -> tap), steer_ips (IPv4 address
 * -> tap and MAC, for routed traffic and ARP requests) and the per-VM
 * counters in steer_stats.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "vsnix_net_bpf.h"

#define TC_ACT_OK	0
#define TC_ACT_REDIRECT	7
#define ETH_P_IP	0x0800
#define ETH_P_ARP	0x0806
#define ARPOP_REQUEST	1

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VSNIX_STEER_MAX_VMS);
	__type(key, struct vsnix_steer_mac);
	__type(value, struct vsnix_steer_target);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} steer_macs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VSNIX_STEER_MAX_VMS);
	__type(key, __be32);
	__type(value, struct vsnix_steer_target);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} steer_ips SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VSNIX_STEER_MAX_VMS + 1);
	__type(key, __u32);
	__type(value, struct vsnix_steer_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} steer_stats SEC(".maps");

/* The ARP payload for IPv4 over Ethernet (RFC 826). */
struct arp_ipv4 {
	__be16 htype, ptype;
	__u8 hlen, plen;
	__be16 op;
	__u8 sha[6];
	__be32 spa;
	__u8 tha[6];
	__be32 tpa;
} __attribute__((packed));

static __always_inline void count(__u32 slot, __u32 len, bool error)
{
	struct vsnix_steer_stats *st = bpf_map_lookup_elem(&steer_stats, &slot);

	if (!st)
		return;
	if (error) {
		st->redirect_errors++;
		return;
	}
	st->packets++;
	st->bytes += len;
}

/* An IPv4 destination (or ARP target) that a VM owns, else NULL. */
static struct vsnix_steer_target *by_ip(struct __sk_buff *skb, void *data,
					void *end, __be16 proto)
{
	__be32 addr;

	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = data + sizeof(struct ethhdr);

		if ((void *)(ip + 1) > end)
			return NULL;
		addr = ip->daddr;
	} else if (proto == bpf_htons(ETH_P_ARP)) {
		struct arp_ipv4 *arp = data + sizeof(struct ethhdr);

		if ((void *)(arp + 1) > end ||
		    arp->op != bpf_htons(ARPOP_REQUEST) || arp->plen != 4)
			return NULL;
		addr = arp->tpa;
	} else {
		return NULL;
	}
	return bpf_map_lookup_elem(&steer_ips, &addr);
}

SEC("tc")
int vsnix_steer(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct vsnix_steer_mac key = {};
	struct vsnix_steer_target *t;
	__u32 slot;
	long ret;

	if ((void *)(eth + 1) > end)
		goto pass;
	__builtin_memcpy(key.addr, eth->h_dest, 6);
	t = bpf_map_lookup_elem(&steer_macs, &key);
	if (!t) {
		t = by_ip(skb, data, end, eth->h_proto);
		if (!t)
			goto pass;
		/* Routed to the VM: the frame must carry its MAC (not ARP). */
		if (eth->h_proto == bpf_htons(ETH_P_IP) &&
		    bpf_skb_store_bytes(skb, 0, t->mac, 6, 0))
			goto pass;
	}
	slot = t->slot;
	if (slot >= VSNIX_STEER_MAX_VMS)
		goto pass;
	ret = bpf_redirect(t->ifindex, 0);
	if (ret != TC_ACT_REDIRECT) {
		count(slot, 0, true);
		goto pass;
	}
	count(slot, skb->len, false);
	return TC_ACT_REDIRECT;
pass:
	count(VSNIX_STEER_SLOT_UNKNOWN, skb->len, false);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
