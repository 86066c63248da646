// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-net with a Linux guest: Debian's stock kernel boots through
 * vsnixctl with `--net tap=vslx0,mac=...,queues=2` on 2 vCPUs; its /init
 * (scripts/linux-guest/net-init.sh) loads the stock virtio-net driver,
 * gets its address by DHCP (busybox udhcpc) from the host's dnsmasq on
 * the host end of the tap (10.99.0.1, in this test's network namespace),
 * pings it, downloads 1 MiB over TCP from the host and sends it back: the
 * host checks every byte that came back, and that dnsmasq's lease names
 * the guest's MAC and the address the guest took. The device's
 * counters (kernel log, at its end) show that TCP went through the vnet
 * header's offloads both ways (TSO: GSO frames from the guest and to it)
 * and that nothing was dropped.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <net/if.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include "guests/run_guest.h"
#include "lib/vsnix_util.h"

#define NR_TESTS	9
#define TAP		"vslx0"
#define MAC		"02:5e:00:00:0b:01"
#define XFER		(1 << 20)
#define DHCP_FILES	"/tmp/vsnix-linux-net"

static uint8_t data[XFER], back[XFER];
static size_t back_len;
static int lsock[2];
static bool served;

static int listener(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	inet_pton(AF_INET, "10.99.0.1", &a.sin_addr);
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) || listen(s, 1)) {
		if (s >= 0)
			close(s);
		return -1;
	}
	return s;
}

/* Port 5002 sends the data; port 5001 takes it back (XFER bytes). */
static void *server(void *arg)
{
	struct pollfd p = { lsock[0], POLLIN, 0 };
	size_t done = 0;
	ssize_t n;
	int c;

	(void)arg;
	if (poll(&p, 1, 280 * 1000) <= 0)
		return NULL;
	c = accept(lsock[0], NULL, NULL);
	while (c >= 0 && done < XFER && (n = write(c, data + done, XFER - done)) > 0)
		done += n;
	if (c >= 0)
		close(c);
	p.fd = lsock[1];
	if (poll(&p, 1, 120 * 1000) <= 0)
		return NULL;
	c = accept(lsock[1], NULL, NULL);
	while (c >= 0 && back_len < XFER &&
	       (n = read(c, back + back_len, XFER - back_len)) > 0)
		back_len += n;
	if (c >= 0)
		close(c);
	served = true;
	return NULL;
}

/* The device's counters line from the kernel log (kfd), or "". */
static void kmsg_counters(int kfd, char *out, size_t len)
{
	char rec[1024];
	const char *m;
	ssize_t n;

	out[0] = '\0';
	while (kfd >= 0 && (n = read(kfd, rec, sizeof(rec) - 1)) > 0) {
		rec[n] = '\0';
		m = strstr(rec, "virtio-net " MAC ": tx");
		if (m) {
			snprintf(out, len, "%s", m);
			out[strcspn(out, "\n")] = '\0';
		}
	}
}

static const char *make_tap(void)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR |
					  IFF_MULTI_QUEUE };
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

	strcpy(ifr.ifr_name, TAP);
	if (fd < 0 || ioctl(fd, TUNSETIFF, &ifr) || ioctl(fd, TUNSETPERSIST, 1))
		return "cannot make the tap";
	close(fd);
	if (net_sh("/bin/ip addr add 10.99.0.1/24 dev " TAP) || net_link_up(TAP, true))
		return "cannot give the tap its address";
	return NULL;
}

/*
 * The host's dnsmasq (through hostrun in the rig) as the tap's DHCP server,
 * nothing else (no DNS). It forks into the background once it serves:
 * its parent, and so the shell, return only then.
 */
static const char *start_dhcp(void)
{
	unlink(DHCP_FILES ".leases");
	unlink(DHCP_FILES ".pid");
	if (rg_sh("%sdnsmasq --conf-file=/dev/null --port=0 --no-resolv --no-hosts "
		  "--user=root --group=root --interface=" TAP " --bind-interfaces "
		  "--no-ping --dhcp-range=10.99.0.50,10.99.0.59,255.255.255.0,10m "
		  "--dhcp-leasefile=" DHCP_FILES ".leases --pid-file=" DHCP_FILES ".pid "
		  "--log-dhcp --log-facility=" DHCP_FILES ".log >" DHCP_FILES ".out 2>&1",
		  access("/bin/hostrun", X_OK) ? "" : "hostrun ")) {
		rg_sh("sed 's/^/# dnsmasq: /' " DHCP_FILES ".out");
		return "cannot start dnsmasq (apt-get install dnsmasq-base)";
	}
	return NULL;
}

static void stop_dhcp(void)
{
	FILE *f = fopen(DHCP_FILES ".pid", "re");
	int pid = 0;

	if (f && fscanf(f, "%d", &pid) == 1 && pid > 1)
		kill(pid, SIGTERM);
	if (f)
		fclose(f);
}

/* The guest's "dhcp A/N from S mac M" line against dnsmasq's lease file. */
static void check_lease(const char *out)
{
	char addr[32] = "", server[32] = "", mac[32] = "", line[256];
	char lmac[32], lip[32];
	const char *p = strstr(out, "VSNIX-NET: dhcp ");
	int nr = 0, match = 0;
	FILE *f;

	if (p) {
		sscanf(p, "VSNIX-NET: dhcp %31[0-9.]/24 from %31s mac %31s", addr, server, mac);
		rg_show_lines(out, "VSNIX-NET: dhcp ");
	}
	rg_ok(!strncmp(addr, "10.99.0.5", 9) && strlen(addr) == 10 &&
	      !strcmp(server, "10.99.0.1") && !strcmp(mac, MAC),
	      "the guest got %s/24 by DHCP from the host's dnsmasq (%s), on eth0 " MAC,
	      addr[0] ? addr : "nothing", server[0] ? server : "no server");
	/* When each step reached dnsmasq (its log: whole seconds). */
	rg_sh("grep -E 'DHCP(DISCOVER|OFFER|REQUEST|ACK|NAK)' " DHCP_FILES ".log | "
	      "sed 's/^/# dnsmasq: /'");
	f = fopen(DHCP_FILES ".leases", "re");
	while (f && fgets(line, sizeof(line), f)) {
		nr++;
		if (sscanf(line, "%*s %31s %31s", lmac, lip) == 2 &&
		    !strcmp(lmac, MAC) && !strcmp(lip, addr))
			match++;
	}
	if (f)
		fclose(f);
	if (!rg_ok(nr == 1 && match == 1,
		   "dnsmasq's one lease: %s to MAC " MAC " (%d leases, %d match)",
		   addr, nr, match))
		rg_sh("sed 's/^/# dnsmasq: /' " DHCP_FILES ".log " DHCP_FILES ".leases");
}

int main(void)
{
	static struct rg_result r;
	long long tx, rx, gtx, grx;
	struct rg_proc proc;
	char counters[512];
	pthread_t th;
	const char *why;
	int kfd;
	size_t i;

	rg_require(NR_TESTS);
	rg_plan(NR_TESTS);
	if (access(rg_linux_guest("net-initrd.cpio.gz"), R_OK)) {
		rg_skip_rest(NR_TESTS, "linux-guest/net-initrd.cpio.gz not built");
		return 4;
	}
	why = net_private_ns();
	if (!why)
		why = make_tap();
	if (!why) {
		why = start_dhcp();
		atexit(stop_dhcp);
	}
	if (why) {
		rg_skip_rest(NR_TESTS, why);
		return 4;
	}
	for (i = 0; i < XFER; i++)
		data[i] = (i * 31 + i / 251) & 0xff;
	lsock[0] = listener(5002);
	lsock[1] = listener(5001);
	rg_ok(lsock[0] >= 0 && lsock[1] >= 0 &&
	      !pthread_create(&th, NULL, server, NULL),
	      "tap " TAP " at 10.99.0.1/24, dnsmasq and two TCP servers in a private netns");

	kfd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (kfd >= 0)
		lseek(kfd, 0, SEEK_END);
	memset(&r, 0, sizeof(r));
	if (rg_start(&proc, (const char *[]){ "run", "--kernel", rg_linux_guest("vmlinuz"),
			     "--initrd", rg_linux_guest("net-initrd.cpio.gz"),
			     "--mem", "256M", "--cpus", "2",
			     "--net", "tap=" TAP ",mac=" MAC ",queues=2",
			     "--cmdline", "console=ttyS0 quiet panic=-1",
			     NULL })) {
		rg_skip_rest(NR_TESTS - 1, "cannot start vsnixctl");
		return 1;
	}
	rg_finish(&proc, &r);
	if (!rg_ok(r.code == 0 && rg_has(r.out, "VSNIX-NET: PASS"),
		   "the Linux guest booted with virtio-net and passed its checks, exit 0 (%.1f s)",
		   r.seconds))
		rg_diag(&r);
	rg_ok(rg_has(r.out, "eth0 " MAC " queues rx-0 rx-1 tx-0 tx-1"),
	      "eth0 has the MAC given and 2 queue pairs");
	check_lease(r.out);
	rg_ok(rg_has(r.out, "VSNIX-NET: ping ok 3"), "the guest pings the host: 3 of 3");
	rg_ok(rg_has(r.out, "VSNIX-NET: download 1048576 bytes"),
	      "1 MiB over TCP from the host to the guest");
	pthread_join(th, NULL);
	rg_ok(served && back_len == XFER && !memcmp(back, data, XFER),
	      "the guest sent it back over TCP, every byte intact (%zu bytes)", back_len);
	/* The line comes from the device's end, before vsnixctl exits. */
	kmsg_counters(kfd, counters, sizeof(counters));
	rg_ok(sscanf(counters, "virtio-net %*s tx %lld rx %lld; gso tx %lld rx %lld;",
		     &tx, &rx, &gtx, &grx) == 4 && gtx > 0 && grx > 0 &&
	      strstr(counters, "dropped: tx bad header 0 oversize 0 bad chain 0 host 0, rx too small 0 bad chain 0 host 0; ctrl bad 0; ring errors 0"),
	      "TSO both ways through the vnet header, nothing dropped (%s)", counters);
	return rg_exit();
}
