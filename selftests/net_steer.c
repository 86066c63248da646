// SPDX-License-Identifier: GPL-2.0
/*
 * eBPF host-side steering (bpf/vsnix_steer.bpf.c through `vsnixctl net
 * steer`): on the TC ingress of one end of a veth pair, frames for two
 * "VMs" (two taps, read here as the VMs would) go each to its own tap,
 * by MAC, by IPv4 address (with the MAC rewritten) and for ARP requests;
 * frames for anything else pass to the host stack; the per-VM counters
 * match the frames sent; many `net steer add` at once (VMs started
 * together) each get a counter slot of their own; del and detach stop the
 * steering.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include "guests/run_guest.h"
#include "lib/vsnix_util.h"

#define NR_TESTS 17
#define MAXF 32
#define NR_RACERS 12

static const uint8_t mac1[6] = { 0x02, 0x5e, 0x00, 0x00, 0x00, 0x01 };
static const uint8_t mac2[6] = { 0x02, 0x5e, 0x00, 0x00, 0x00, 0x02 };
static const uint8_t nobody[6] = { 0x02, 0x5e, 0x00, 0x00, 0x00, 0x99 };
static const uint8_t client[6] = { 0x02, 0x5e, 0x00, 0x00, 0x00, 0xc1 };
static uint8_t host_mac[6];
static uint8_t frames[MAXF][2048];
static size_t lens[MAXF];
static struct rg_result r;

static bool ctl(const char *a, const char *b, const char *c, const char *d,
		const char *e)
{
	rg_run(&r, (const char *[]){ "net", a, b, c, d, e, NULL });
	if (r.code)
		rg_diag(&r);
	return r.code == 0;
}

/* Racer i's MAC: 02:5e:00:00:01:NN. */
static void racer_mac(int i, char mac[18])
{
	snprintf(mac, 18, "02:5e:00:00:01:%02x", i);
}

/*
 * NR_RACERS vsnixctl add a MAC each at the same moment, as VMs started
 * together do: true when all succeeded.
 */
static bool add_racers(void)
{
	static struct rg_result res[NR_RACERS];
	struct rg_proc p[NR_RACERS];
	char macs[NR_RACERS][18];
	bool ok = true;
	int i;

	for (i = 0; i < NR_RACERS; i++) {
		racer_mac(i, macs[i]);
		memset(&res[i], 0, sizeof(res[i]));
		if (rg_start(&p[i], (const char *[]){ "net", "steer", "add", macs[i],
						      "vstap1", NULL }))
			return false;
	}
	for (i = 0; i < NR_RACERS; i++) {
		rg_finish(&p[i], &res[i]);
		if (res[i].code) {
			rg_diag(&res[i]);
			ok = false;
		}
	}
	return ok;
}

/* Counts show's "vm SLOT" lines (*lines) and how many slots repeat. */
static int repeated_slots(const char *show, int *lines)
{
	bool seen[256] = { false };
	const char *p = show;
	int repeats = 0;
	unsigned int slot;

	*lines = 0;
	for (; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (sscanf(p, "vm %u ", &slot) != 1 || slot >= 256)
			continue;
		(*lines)++;
		repeats += seen[slot];
		seen[slot] = true;
	}
	return repeats;
}

/* The racers' entries go again, so that the counters below stay as they were. */
static void del_racers(void)
{
	char mac[18];
	int i;

	for (i = 0; i < NR_RACERS; i++) {
		racer_mac(i, mac);
		ctl("steer", "del", mac, NULL, NULL);
	}
}

static void send_tagged(int s, const uint8_t *dst, int n, char tag)
{
	uint8_t f[64];
	int i;

	for (i = 0; i < n; i++) {
		net_frame(f, sizeof(f), dst, client, 0x88b5);
		f[14] = tag;
		f[15] = i;
		if (send(s, f, sizeof(f), 0) != sizeof(f))
			printf("# send: %s\n", strerror(errno));
	}
}

/* n frames tagged tag, in order, all to dst: exactly what a tap got. */
static bool got_tagged(int n, int from, const uint8_t *dst, char tag)
{
	int i;

	for (i = 0; i < n; i++)
		if (lens[from + i] < 16 || memcmp(frames[from + i], dst, 6) ||
		    frames[from + i][14] != tag || frames[from + i][15] != i)
			return false;
	return true;
}

static void send_arp(int s)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t arp[] = { 0, 1, 8, 0, 6, 4, 0, 1 };
	uint8_t f[64];

	net_frame(f, sizeof(f), bcast, client, ETH_P_ARP);
	memcpy(f + 14, arp, sizeof(arp));
	memcpy(f + 22, client, 6);
	inet_pton(AF_INET, "10.77.0.9", f + 28);
	inet_pton(AF_INET, "10.77.0.2", f + 38);
	send(s, f, sizeof(f), 0);
}

int main(void)
{
	uint32_t cl, vm2, hostip;
	int s, t1, t2, u, n1, n2;
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons(5555) };
	char buf[64];
	uint8_t f[64];
	const char *why;

	rg_plan(NR_TESTS);
	if (access(rg_vsnixctl(), X_OK)) {
		rg_skip_rest(NR_TESTS, "vsnixctl not found");
		return 4;
	}
	why = net_private_ns_veth("vsva", "vsvb");
	if (why) {
		rg_skip_rest(NR_TESTS, why);
		return 4;
	}
	net_sh("/bin/ip addr add 10.77.0.1/24 dev vsva");
	t1 = net_tap_queue("vstap1", 0);
	t2 = net_tap_queue("vstap2", 0);
	net_link_up("vsva", true);
	net_link_up("vsvb", true);
	net_link_up("vstap1", true);
	net_link_up("vstap2", true);
	s = net_packet_socket("vsvb");
	u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	inet_pton(AF_INET, "10.77.0.1", &sin.sin_addr);
	rg_ok(t1 >= 0 && t2 >= 0 && s >= 0 && u >= 0 && !net_link_mac("vsva", host_mac) &&
	      !bind(u, (struct sockaddr *)&sin, sizeof(sin)),
	      "two taps, a veth pair, a packet socket and a UDP socket in a private netns (%d %d %d %d: %s)",
	      t1, t2, s, u, strerror(errno));

	rg_ok(ctl("steer", "attach", "vsva", NULL, NULL), "net steer attach vsva");
	rg_ok(ctl("steer", "add", "02:5e:00:00:00:01", "vstap1", NULL) &&
	      ctl("steer", "add", "02:5e:00:00:00:02", "vstap2", "10.77.0.2"),
	      "net steer add: two VMs, the second with an IPv4 address");

	{
		int lines, repeats;
		bool added = add_racers();

		rg_ok(added, "%d net steer add at once all succeeded", NR_RACERS);
		ctl("steer", "show", NULL, NULL, NULL);
		repeats = repeated_slots(r.out, &lines);
		rg_ok(added && lines == NR_RACERS + 2 && repeats == 0,
		      "each of the %d VMs has a counter slot of its own (%d entries, %d shared)",
		      NR_RACERS + 2, lines, repeats);
		del_racers();
	}

	inet_pton(AF_INET, "10.77.0.9", &cl);
	inet_pton(AF_INET, "10.77.0.2", &vm2);
	inet_pton(AF_INET, "10.77.0.1", &hostip);
	send_tagged(s, mac1, 5, 'a');
	send_tagged(s, mac2, 3, 'b');
	send_tagged(s, nobody, 4, 'c');
	/* Routed to VM 2 by address: addressed to the host's MAC. */
	send(s, f, net_udp_frame(f, host_mac, client, cl, vm2, 4000, 4001, "to-vm2"), 0);
	send_arp(s);
	/* For the host itself: must reach the host's UDP socket. */
	send(s, f, net_udp_frame(f, host_mac, client, cl, hostip, 4000, 5555, "to-host"), 0);

	n1 = net_read_frames(t1, frames, lens, MAXF, 300);
	rg_ok(n1 == 5 && got_tagged(5, 0, mac1, 'a'),
	      "VM 1's tap got exactly its 5 frames, in order (got %d)", n1);
	n2 = net_read_frames(t2, frames, lens, MAXF, 300);
	rg_ok(n2 == 5 && got_tagged(3, 0, mac2, 'b'),
	      "VM 2's tap got its 3 frames by MAC first (got %d in all)", n2);
	rg_ok(n2 == 5 && lens[3] >= 42 && !memcmp(frames[3], mac2, 6) &&
	      !memcmp(frames[3] + 30, &vm2, 4) && !memcmp(frames[3] + 42, "to-vm2", 6),
	      "the IPv4 frame for VM 2's address, its MAC rewritten to VM 2's");
	rg_ok(n2 == 5 && lens[4] >= 42 && frames[4][12] == 0x08 && frames[4][13] == 0x06 &&
	      !memcmp(frames[4] + 38, &vm2, 4), "the ARP request for VM 2's address");
	{
		struct pollfd p = { u, POLLIN, 0 };
		ssize_t n = poll(&p, 1, 1000) > 0 ? recv(u, buf, sizeof(buf), 0) : -1;

		rg_ok(n >= 7 && !memcmp(buf, "to-host", 7),
		      "a frame for the host's own address passed to the host stack");
	}
	rg_ok(ctl("steer", "show", NULL, NULL, NULL), "net steer show");
	rg_ok(net_steer_packets(r.out, "02:5e:00:00:00:01") == 5 &&
	      net_steer_packets(r.out, "02:5e:00:00:00:02") == 5,
	      "per-VM counters: 5 and 5 (%lld, %lld)",
	      net_steer_packets(r.out, "02:5e:00:00:00:01"),
	      net_steer_packets(r.out, "02:5e:00:00:00:02"));
	rg_ok(net_steer_packets(r.out, NULL) == 5,
	      "unknown destinations counted: 4 + the host's frame (%lld)",
	      net_steer_packets(r.out, NULL));

	rg_ok(ctl("steer", "del", "02:5e:00:00:00:01", NULL, NULL), "net steer del VM 1");
	send_tagged(s, mac1, 2, 'd');
	n1 = net_read_frames(t1, frames, lens, MAXF, 300);
	ctl("steer", "show", NULL, NULL, NULL);
	rg_ok(n1 == 0 && net_steer_packets(r.out, NULL) == 7 &&
	      net_steer_packets(r.out, "02:5e:00:00:00:01") == -1,
	      "after del, VM 1's frames pass to the host (tap got %d, unknown %lld)",
	      n1, net_steer_packets(r.out, NULL));

	rg_ok(ctl("steer", "detach", "vsva", NULL, NULL), "net steer detach vsva");
	send_tagged(s, mac2, 2, 'e');
	n2 = net_read_frames(t2, frames, lens, MAXF, 300);
	rg_ok(n2 == 0, "after detach, nothing is steered (VM 2's tap got %d)", n2);
	return rg_exit();
}
