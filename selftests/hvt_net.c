// SPDX-License-Identifier: GPL-2.0
/*
 * hvt network device: in a private network namespace, a tap interface is
 * attached to the echo unikernel; a raw frame sent from the host side on
 * the tap comes back with the MACs swapped and the payload intact.
 */
#define _GNU_SOURCE
#include <net/if.h>
#include <sched.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include "guests/run_guest.h"

#define NR_TESTS 4
#define TAP_NAME "vsnixtap0"
#define ETHERTYPE 0x88b5

static const uint8_t guest_mac[6] = { 0x02, 0x00, 0x5e, 0x10, 0x00, 0x01 };
static const uint8_t host_mac[6] = { 0x02, 0x00, 0x5e, 0x10, 0x00, 0x02 };

static int open_tun(void)
{
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

	if (fd >= 0)
		return fd;
	/*
	 * The rig's stock kernel has tun as a module; its modules are in the
	 * host root that /bin/hostrun reaches.
	 */
	if (system("hostrun modprobe tun >/dev/null 2>&1") == 0)
		fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	return fd;
}

/* A persistent tap, up, IPv6 off (no stray router solicitations). */
static const char *make_tap(void)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI };
	int fd, sock;
	FILE *f;

	fd = open_tun();
	if (fd < 0)
		return "no /dev/net/tun (tun module not available)";
	strcpy(ifr.ifr_name, TAP_NAME);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0 || ioctl(fd, TUNSETPERSIST, 1) < 0) {
		close(fd);
		return "cannot create the tap interface";
	}
	close(fd);
	f = fopen("/proc/sys/net/ipv6/conf/" TAP_NAME "/disable_ipv6", "w");
	if (f) {
		fputs("1\n", f);
		fclose(f);
	}
	sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, TAP_NAME);
	if (sock < 0 || ioctl(sock, SIOCGIFFLAGS, &ifr) < 0)
		return "cannot read the tap's flags";
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(sock, SIOCSIFFLAGS, &ifr) < 0)
		return "cannot bring the tap up";
	close(sock);
	return NULL;
}

static int packet_socket(int *ifindex)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));

	*ifindex = if_nametoindex(TAP_NAME);
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = *ifindex;
	if (s < 0 || !*ifindex || bind(s, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		return -1;
	return s;
}

int main(void)
{
	static struct rg_result r;
	struct rg_proc proc;
	uint8_t frame[64], reply[2048];
	const char *why;
	bool echoed = false, payload_ok = false;
	double deadline;
	int s, ifindex;

	rg_require(NR_TESTS);
	rg_plan(NR_TESTS);
	if (unshare(CLONE_NEWNET) < 0) {
		rg_skip_rest(NR_TESTS, "cannot make a network namespace");
		return 4;
	}
	why = make_tap();
	if (why) {
		rg_skip_rest(NR_TESTS, why);
		return 4;
	}
	s = packet_socket(&ifindex);
	if (!rg_ok(s >= 0, "raw packet socket on " TAP_NAME " in a private netns")) {
		rg_skip_rest(NR_TESTS, "no packet socket");
		return 1;
	}

	memset(&r, 0, sizeof(r));
	if (rg_start(&proc, (const char *[]){ "run", "--kernel", rg_guest("net.hvt"),
			    "--mem", "32M", "--cmdline", "count=1",
			    "--net", "service0=" TAP_NAME ",02:00:5e:10:00:01", NULL })) {
		rg_skip_rest(NR_TESTS, "cannot start vsnixctl");
		return 1;
	}

	memcpy(frame, guest_mac, 6);
	memcpy(frame + 6, host_mac, 6);
	frame[12] = ETHERTYPE >> 8;
	frame[13] = ETHERTYPE & 0xff;
	memset(frame + 14, 0, sizeof(frame) - 14);
	strcpy((char *)frame + 14, "vsnix-echo-payload");

	/* Frames sent before vsnixctl attaches are dropped: resend. */
	deadline = rg_now() + RG_TIMEOUT_S;
	while (!echoed && rg_now() < deadline) {
		struct sockaddr_ll from;
		socklen_t flen = sizeof(from);
		struct pollfd pfd = { s, POLLIN, 0 };
		ssize_t n;

		if (send(s, frame, sizeof(frame), 0) < 0)
			break;
		while (poll(&pfd, 1, 200) > 0) {
			n = recvfrom(s, reply, sizeof(reply), 0,
				     (struct sockaddr *)&from, &flen);
			if (n < 14 || from.sll_pkttype == PACKET_OUTGOING)
				continue;
			if (reply[12] != (ETHERTYPE >> 8) || reply[13] != (ETHERTYPE & 0xff))
				continue;
			echoed = !memcmp(reply, host_mac, 6) &&
				 !memcmp(reply + 6, guest_mac, 6);
			payload_ok = n >= (ssize_t)sizeof(frame) &&
				     !memcmp(reply + 14, frame + 14, sizeof(frame) - 14);
			break;
		}
		if (rg_collect(&proc, &r, 0.01))
			break;	/* vsnixctl ended */
	}
	rg_finish(&proc, &r);

	if (!rg_ok(echoed, "the unikernel echoed the frame with source/destination swapped"))
		rg_diag(&r);
	rg_ok(payload_ok, "the echoed payload is intact");
	if (!rg_ok(r.code == 0 && rg_has(r.out, "mtu=1500\n") && rg_has(r.out, "echoed=1\n"),
		   "vsnixctl exits 0 after the guest echoed one frame"))
		rg_diag(&r);
	close(s);
	return rg_exit();
}
