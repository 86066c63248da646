// SPDX-License-Identifier: GPL-2.0
/*
 * steer-recv IFACE: the guest side of selftests/net_steer_vms. Sends one
 * "READY" frame (EtherType 0x88b5, broadcast) once it listens, then
 * records every frame IFACE receives: a UDP datagram to port 7000 by its
 * payload (the client's tag), anything else as "other". On the tag "end"
 * it prints what it got ("VSNIX-STEER: got N: TAG1 TAG2 ...") and sends a
 * "DONE" frame; on "bye" it exits 0.
 */
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define ETYPE	0x88b5
#define PORT	7000
#define MAXTAGS	32

static int sock, ifindex;
static unsigned char mac[6];

static void say_frame(const char *what)
{
	unsigned char f[60] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_ifindex = ifindex,
				  .sll_halen = 6 };

	memcpy(f + 6, mac, 6);
	f[12] = ETYPE >> 8;
	f[13] = ETYPE & 0xff;
	memcpy(f + 14, what, strnlen(what, sizeof(f) - 14));
	memset(to.sll_addr, 0xff, 6);
	if (sendto(sock, f, sizeof(f), 0, (struct sockaddr *)&to, sizeof(to)) < 0)
		perror("steer-recv: sendto");
}

/* The payload of a UDP datagram to PORT (NUL-terminated in tag), else "other". */
static void classify(const unsigned char *f, ssize_t n, char *tag, size_t len)
{
	const unsigned char *ip = f + 14, *udp;
	size_t ihl;

	snprintf(tag, len, "other");
	if (n < 14 + 20 + 8 || f[12] != 0x08 || f[13] != 0x00 || ip[9] != 17)
		return;
	ihl = (ip[0] & 0xf) * 4;
	udp = ip + ihl;
	if (ihl < 20 || 14 + ihl + 8 > (size_t)n || (udp[2] << 8 | udp[3]) != PORT)
		return;
	n -= 14 + ihl + 8;
	if ((size_t)n >= len)
		n = len - 1;
	memcpy(tag, udp + 8, n);
	tag[n] = '\0';
	tag[strcspn(tag, "\n ")] = '\0';
}

int main(int argc, char **argv)
{
	static char tags[MAXTAGS][16], line[MAXTAGS * 17 + 64];
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
				   .sll_protocol = htons(ETH_P_ALL) };
	struct ifreq ifr = { 0 };
	unsigned char f[2048];
	int nr = 0, i, t;
	FILE *k;

	if (argc != 2)
		return 2;
	sock = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", argv[1]);
	if (sock < 0 || ioctl(sock, SIOCGIFHWADDR, &ifr)) {
		perror("steer-recv");
		return 1;
	}
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	sll.sll_ifindex = ifindex = if_nametoindex(argv[1]);
	if (bind(sock, (struct sockaddr *)&sll, sizeof(sll))) {
		perror("steer-recv: bind");
		return 1;
	}
	say_frame("READY");
	for (;;) {
		socklen_t alen = sizeof(sll);
		ssize_t n = recvfrom(sock, f, sizeof(f), 0, (struct sockaddr *)&sll, &alen);
		char tag[16];

		if (n < 0) {
			perror("steer-recv: recvfrom");
			return 1;
		}
		if (sll.sll_pkttype == PACKET_OUTGOING)
			continue;
		classify(f, n, tag, sizeof(tag));
		if (!strcmp(tag, "bye"))
			return 0;
		if (nr < MAXTAGS)
			strcpy(tags[nr], tag);
		nr++;
		if (strcmp(tag, "end"))
			continue;
		i = snprintf(line, sizeof(line), "<2>VSNIX-STEER: got %d:", nr);
		for (t = 0; t < nr && t < MAXTAGS; t++)
			i += snprintf(line + i, sizeof(line) - i, " %s", tags[t]);
		/* Through the kernel log: one line, not split by it. */
		k = fopen("/dev/kmsg", "w");
		if (k) {
			fprintf(k, "%s\n", line);
			fclose(k);
		}
		say_frame("DONE");
	}
}
