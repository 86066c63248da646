// SPDX-License-Identifier: GPL-2.0
/*
 * vSnix selftest library: a tap and a packet socket on it, the fd pair
 * for the hvt net device in tests.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <unistd.h>

#include "vsnix_util.h"

/*
 * The net device's fd and its peer: a tap in a private network namespace
 * (the guest's side) and a packet socket on that tap (the test's side): a
 * frame the peer sends comes out of the tap fd, a frame written to the tap
 * fd reaches the peer. An AF_UNIX socketpair would be simpler, but the
 * kernel refuses one as a net fd (it can carry the VM's own fd).
 */
void net_tap_pair(int *guest_fd, int *peer)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI };
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
				   .sll_protocol = htons(ETH_P_ALL) };
	int fd, sock;
	FILE *f;

	TEST_ASSERT(unshare(CLONE_NEWNET) == 0, "network namespace");
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0 && system("hostrun modprobe tun >/dev/null 2>&1") == 0)
		fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	TEST_ASSERT(fd >= 0, "/dev/net/tun: %s", strerror(errno));
	strcpy(ifr.ifr_name, "vsnixdev0");
	TEST_ASSERT(ioctl(fd, TUNSETIFF, &ifr) == 0, "TUNSETIFF");
	/* No IPv6: the stack would send its own frames to the tap. */
	f = fopen("/proc/sys/net/ipv6/conf/vsnixdev0/disable_ipv6", "we");
	if (f) {
		fputs("1\n", f);
		fclose(f);
	}
	sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	TEST_ASSERT(sock >= 0 && ioctl(sock, SIOCGIFFLAGS, &ifr) == 0, "SIOCGIFFLAGS");
	ifr.ifr_flags |= IFF_UP;
	TEST_ASSERT(ioctl(sock, SIOCSIFFLAGS, &ifr) == 0, "tap up");
	close(sock);
	*peer = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	sll.sll_ifindex = if_nametoindex("vsnixdev0");
	TEST_ASSERT(*peer >= 0 && sll.sll_ifindex &&
		    bind(*peer, (struct sockaddr *)&sll, sizeof(sll)) == 0, "packet socket");
	*guest_fd = fd;
}
