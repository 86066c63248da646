// SPDX-License-Identifier: GPL-2.0
/*
 * hvt network device: in a private network namespace, a tap interface is
 * attached to the echo unikernel; a raw frame sent from the host side on
 * the tap comes back with the MACs swapped and the payload intact. Twice:
 * with the tap's MTU at 1500 and a small frame, then at 9000 (Solo5's
 * tests.bats net_mtu tap) with a full 9014-byte frame; each time the
 * guest's manifest must carry the tap's MTU, as Solo5's tender gives it.
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

#define NR_TESTS 7
#define JUMBO_MTU 9000
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

static int set_mtu(int mtu)
{
	struct ifreq ifr = { .ifr_mtu = mtu };
	int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r;

	strcpy(ifr.ifr_name, TAP_NAME);
	r = sock < 0 ? -1 : ioctl(sock, SIOCSIFMTU, &ifr);
	if (sock >= 0)
		close(sock);
	return r;
}

/*
 * One vsnixctl run: a frame of flen bytes (header included) sent on the
 * tap until it comes back; three results.
 */
static void echo_round(int s, int mtu, size_t flen)
{
	static uint8_t frame[JUMBO_MTU + 14], reply[16384];
	static struct rg_result r;
	bool echoed = false, payload_ok = false;
	struct rg_proc proc;
	char want[32];
	double deadline;
	size_t i;

	memset(&r, 0, sizeof(r));
	if (rg_start(&proc, (const char *[]){ "run", "--kernel", rg_guest("net.hvt"),
			    "--mem", "32M", "--cmdline", "count=1",
			    "--net", "service0=" TAP_NAME ",02:00:5e:10:00:01", NULL })) {
		rg_skip_rest(rg_test_nr + 3, "cannot start vsnixctl");
		return;
	}
	memcpy(frame, guest_mac, 6);
	memcpy(frame + 6, host_mac, 6);
	frame[12] = ETHERTYPE >> 8;
	frame[13] = ETHERTYPE & 0xff;
	for (i = 14; i < flen; i++)
		frame[i] = (uint8_t)(i * 7 + mtu);
	strcpy((char *)frame + 14, "vsnix-echo-payload");

	/* Frames sent before vsnixctl attaches are dropped: resend. */
	deadline = rg_now() + RG_TIMEOUT_S;
	while (!echoed && rg_now() < deadline) {
		struct sockaddr_ll from;
		socklen_t flen_from = sizeof(from);
		struct pollfd pfd = { s, POLLIN, 0 };
		ssize_t n;

		if (send(s, frame, flen, 0) < 0)
			break;
		while (poll(&pfd, 1, 200) > 0) {
			n = recvfrom(s, reply, sizeof(reply), 0,
				     (struct sockaddr *)&from, &flen_from);
			if (n < 14 || from.sll_pkttype == PACKET_OUTGOING)
				continue;
			if (reply[12] != (ETHERTYPE >> 8) || reply[13] != (ETHERTYPE & 0xff))
				continue;
			echoed = !memcmp(reply, host_mac, 6) &&
				 !memcmp(reply + 6, guest_mac, 6);
			payload_ok = n == (ssize_t)flen &&
				     !memcmp(reply + 14, frame + 14, flen - 14);
			break;
		}
		if (rg_collect(&proc, &r, 0.01))
			break;	/* vsnixctl ended */
	}
	rg_finish(&proc, &r);

	if (!rg_ok(echoed, "MTU %d: the unikernel echoed a %zu-byte frame with source/destination swapped",
		   mtu, flen))
		rg_diag(&r);
	rg_ok(payload_ok, "MTU %d: the echoed frame is whole and intact", mtu);
	snprintf(want, sizeof(want), "mtu=%d\n", mtu);
	if (!rg_ok(r.code == 0 && rg_has(r.out, want) && rg_has(r.out, "echoed=1\n"),
		   "MTU %d: the guest's manifest has the tap's MTU; vsnixctl exits 0 after one echo",
		   mtu))
		rg_diag(&r);
}

int main(void)
{
	const char *why;
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
	echo_round(s, 1500, 64);
	if (set_mtu(JUMBO_MTU) < 0)
		rg_skip_rest(NR_TESTS, "cannot set the tap's MTU to 9000");
	else
		echo_round(s, JUMBO_MTU, JUMBO_MTU + 14);
	close(s);
	return rg_exit();
}
