// SPDX-License-Identifier: GPL-2.0
/*
 * vSnix selftest library: network namespaces, taps, veths and packet
 * sockets for the virtio-net and eBPF steering tests. `ip` and modprobe
 * are the host's, through /bin/hostrun in the rig.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <poll.h>
#include <netinet/in.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <unistd.h>

#include "vsnix_util.h"

/*
 * Runs a shell command line, through hostrun where the rig has it; its
 * output becomes TAP comments when it fails.
 */
int net_sh(const char *fmt, ...)
{
	char cmd[512], line[700], out[256];
	va_list ap;
	FILE *p;
	int r;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	snprintf(line, sizeof(line), "%s%s 2>&1",
		 access("/bin/hostrun", X_OK) ? "" : "hostrun ", cmd);
	p = popen(line, "r");
	if (!p)
		return -1;
	while (fgets(out, sizeof(out), p))
		printf("#   %s: %s", cmd, out);
	r = pclose(p);
	if (r)
		printf("# '%s' failed (%d)\n", cmd, r);
	fflush(stdout);
	return r;
}

/*
 * A private network namespace without IPv6 (whose own frames would mix
 * with the test's), its own sysfs and a private bpffs on /sys/fs/bpf. NULL or why not.
 */
const char *net_private_ns(void)
{
	FILE *f;

	/*
	 * Modules first, from the initial mount namespace: hostrun mounts the
	 * host root once for the whole machine, and must not do it inside our
	 * private namespace (later tests would find it gone).
	 */
	net_sh("modprobe -a tun veth sch_ingress cls_bpf");
	if (unshare(CLONE_NEWNET | CLONE_NEWNS))
		return "cannot make a network and mount namespace";
	/* sysfs shows the namespace of whoever mounts it (class/net). */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    mount("sysfs", "/sys", "sysfs", 0, NULL) ||
	    mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700"))
		return "cannot mount a private sysfs and bpffs";
	f = fopen("/proc/sys/net/ipv6/conf/default/disable_ipv6", "we");
	if (f) {
		fputs("1\n", f);
		fclose(f);
	}
	if (access("/dev/net/tun", R_OK | W_OK))
		return "no /dev/net/tun (tun module not available)";
	return NULL;
}

/*
 * A veth pair a <-> b. busybox's ip (which the rig may run) names the peer
 * vethN whatever it is told: the peer is then renamed to b.
 */
int net_veth(const char *a, const char *b)
{
	struct ifreq ifr = { 0 };
	char path[96], peer[IF_NAMESIZE];
	int idx = 0, sock, r;
	FILE *f;

	/* A path: busybox runs its own applets before host tools of that name. */
	net_sh("/bin/ip link add %s type veth peer name %s", a, b);
	if (if_nametoindex(b))
		return 0;
	snprintf(path, sizeof(path), "/sys/class/net/%s/iflink", a);
	f = fopen(path, "re");
	if (!f || fscanf(f, "%d", &idx) != 1 || !if_indextoname(idx, peer)) {
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", peer);
	snprintf(ifr.ifr_newname, IFNAMSIZ, "%s", b);
	r = sock >= 0 ? ioctl(sock, SIOCSIFNAME, &ifr) : -1;
	if (sock >= 0)
		close(sock);
	return r;
}

/* A private namespace (net_private_ns) with a veth pair a <-> b in it. */
const char *net_private_ns_veth(const char *a, const char *b)
{
	const char *why = net_private_ns();

	if (!why && net_veth(a, b))
		why = "cannot make a veth pair (ip, veth module)";
	return why;
}

/* Sets interface name up (or down). */
int net_link_up(const char *name, bool up)
{
	struct ifreq ifr = { 0 };
	int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int r = -1;

	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	if (sock >= 0 && ioctl(sock, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags = up ? ifr.ifr_flags | IFF_UP :
				     ifr.ifr_flags & ~IFF_UP;
		r = ioctl(sock, SIOCSIFFLAGS, &ifr);
	}
	if (sock >= 0)
		close(sock);
	return r;
}

/* Attaches one queue of tap name (made if missing): its fd, or -1. */
int net_tap_queue(const char *name, short flags)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | flags };
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);

	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	if (fd >= 0 && ioctl(fd, TUNSETIFF, &ifr) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* A packet socket bound to name (all protocols), or -1. */
int net_packet_socket(const char *name)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
				   .sll_protocol = htons(ETH_P_ALL) };
	int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK,
		       htons(ETH_P_ALL));

	sll.sll_ifindex = if_nametoindex(name);
	if (s >= 0 && (!sll.sll_ifindex ||
		       bind(s, (struct sockaddr *)&sll, sizeof(sll)) < 0)) {
		close(s);
		s = -1;
	}
	return s;
}

/* The MAC of interface name, 0 on success. */
int net_link_mac(const char *name, uint8_t mac[6])
{
	struct ifreq ifr = { 0 };
	int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int r = -1;

	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	if (sock >= 0 && ioctl(sock, SIOCGIFHWADDR, &ifr) == 0) {
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
		r = 0;
	}
	if (sock >= 0)
		close(sock);
	return r;
}

/* Reads frames from a non-blocking fd until it has been quiet for ms. */
int net_read_frames(int fd, uint8_t (*frames)[2048], size_t *lens, int max,
		    int ms)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	int n = 0;

	while (poll(&pfd, 1, ms) > 0) {
		uint8_t scratch[2048];
		ssize_t r = read(fd, n < max ? frames[n] : scratch, 2048);

		if (r < 0)
			break;
		if (n < max)
			lens[n] = r;
		n++;
	}
	return n;
}

/* An Ethernet frame: dst, src, type, then payload (len bytes in all). */
void net_frame(uint8_t *f, size_t len, const uint8_t dst[6],
	       const uint8_t src[6], uint16_t type)
{
	memset(f, 0, len);
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = type >> 8;
	f[13] = type & 0xff;
}

/* The IPv4 header checksum (RFC 1071) over 20 bytes. */
uint16_t net_ip_csum(const uint8_t *ip)
{
	uint32_t sum = 0;
	int i;

	for (i = 0; i < 20; i += 2)
		sum += ip[i] << 8 | ip[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

/*
 * An IPv4 UDP frame of 64 bytes: saddr:sport -> daddr:dport (network
 * order addresses, host order ports), 14 payload bytes from tag.
 */
size_t net_udp_frame(uint8_t *f, const uint8_t dst[6], const uint8_t src[6],
		     uint32_t saddr, uint32_t daddr, uint16_t sport,
		     uint16_t dport, const char *tag)
{
	uint8_t *ip = f + 14, *udp = ip + 20;
	uint16_t csum;

	net_frame(f, 64, dst, src, ETH_P_IP);
	ip[0] = 0x45;
	ip[3] = 50;			/* total length: 20 + 8 + 22 */
	ip[8] = 64;			/* TTL */
	ip[9] = IPPROTO_UDP;
	memcpy(ip + 12, &saddr, 4);
	memcpy(ip + 16, &daddr, 4);
	csum = net_ip_csum(ip);
	ip[10] = csum >> 8;
	ip[11] = csum & 0xff;
	udp[0] = sport >> 8;
	udp[1] = sport & 0xff;
	udp[2] = dport >> 8;
	udp[3] = dport & 0xff;
	udp[5] = 30;			/* length: 8 + 22; checksum 0: none */
	strncpy((char *)udp + 8, tag, 14);
	return 64;
}

long long net_steer_packets(const char *show, const char *mac)
{
	char key[64];
	const char *p;

	snprintf(key, sizeof(key), mac ? "mac %s " : "unknown ", mac);
	p = strstr(show, key);
	p = p ? strstr(p, "packets ") : NULL;
	return p ? atoll(p + 8) : -1;
}
