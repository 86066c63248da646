// SPDX-License-Identifier: GPL-2.0
/*
 * eBPF host-side steering with two real VMs: two Linux guests (Debian's
 * stock kernel, 1 vCPU each) run through `vsnixctl run --net tap=...` on
 * their own taps, behind the steering program attached with `vsnixctl net
 * steer attach` on one end of a veth pair; vsnixctl puts each VM's MAC in
 * the steering map for the VM's life. A client in a network namespace of
 * its own, on the other end, sends UDP datagrams to both VMs and to an
 * address nobody owns. Each guest (scripts/linux-guest/steer-init.sh,
 * steer-recv) reports every frame its NIC received: exactly its own
 * datagrams, in order; the map's per-VM counters match the datagrams sent
 * to each, the unknown counter those for nobody; when the VMs end their
 * MACs leave the map.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include "guests/run_guest.h"
#include "lib/vsnix_util.h"

#define NR_TESTS	11
#define NR_VM1		5
#define NR_VM2		3
#define NR_NOBODY	4
#define ETYPE		0x88b5

static const char *const tap[2] = { "vsvm1", "vsvm2" };
static const char *const mac[2] = { "02:5e:00:00:0c:11", "02:5e:00:00:0c:12" };
static const char *const addr[3] = { "10.77.0.11", "10.77.0.12", "10.77.0.99" };
static struct rg_result r, vmr[2];
static struct rg_proc vm[2];
static int tapsock[2] = { -1, -1 }, host_ns = -1, client_ns = -1, udp = -1;
static pid_t client_pid;

static bool ctl(const char *a, const char *b, const char *c)
{
	rg_run(&r, (const char *[]){ "net", a, b, c, NULL });
	if (r.code)
		rg_diag(&r);
	return r.code == 0;
}

/* A persistent tap as vsnixctl opens it (one queue, vnet header), up. */
static int make_tap(const char *name)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR };
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC), ret = -1;

	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	if (fd >= 0 && !ioctl(fd, TUNSETIFF, &ifr) && !ioctl(fd, TUNSETPERSIST, 1))
		ret = net_link_up(name, true);
	if (fd >= 0)
		close(fd);
	return ret;
}

/*
 * The client's namespace: a child that unshares one (IPv6 off, so that the
 * client sends nothing but the test's datagrams) and waits to be killed.
 */
static int make_client_ns(void)
{
	char path[64], c;
	int p[2];

	if (pipe2(p, O_CLOEXEC))
		return -1;
	client_pid = fork();
	if (client_pid == 0) {
		FILE *f;

		if (unshare(CLONE_NEWNET))
			_exit(1);
		f = fopen("/proc/sys/net/ipv6/conf/default/disable_ipv6", "we");
		if (f) {
			fputs("1\n", f);
			fclose(f);
		}
		if (write(p[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(p[1]);
	if (client_pid < 0 || read(p[0], &c, 1) != 1) {
		close(p[0]);
		return -1;
	}
	close(p[0]);
	snprintf(path, sizeof(path), "/proc/%d/ns/net", client_pid);
	client_ns = open(path, O_RDONLY | O_CLOEXEC);
	host_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	return client_ns >= 0 && host_ns >= 0 ? 0 : -1;
}

/*
 * vsvb into the client's namespace, 10.77.0.9/24 there, the VMs' and
 * nobody's addresses as permanent neighbours (the steering program sends
 * ARP requests for a VM's address to the VM, whose answer goes to the
 * host's tap, not back here), and the client's UDP socket.
 */
static int setup_client(void)
{
	static const char *const nobody_mac = "02:5e:00:00:0c:99";
	int i, ret = 0;

	if (make_client_ns() || net_sh("/bin/ip link set vsvb netns %d", client_pid) ||
	    setns(client_ns, CLONE_NEWNET))
		return -1;
	ret |= net_sh("/bin/ip addr add 10.77.0.9/24 dev vsvb");
	ret |= net_link_up("vsvb", true);
	for (i = 0; i < 3; i++)
		ret |= net_sh("/bin/ip neigh replace %s lladdr %s dev vsvb nud permanent",
			      addr[i], i < 2 ? mac[i] : nobody_mac);
	udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (setns(host_ns, CLONE_NEWNET))
		return -1;
	return ret || udp < 0 ? -1 : 0;
}

static void send_to(int who, const char *tag)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(7000) };

	inet_pton(AF_INET, addr[who], &a.sin_addr);
	if (sendto(udp, tag, strlen(tag), 0, (struct sockaddr *)&a, sizeof(a)) < 0)
		printf("# sendto %s: %s\n", addr[who], strerror(errno));
}

/* Did the guest on tap i send its broadcast word (steer-recv's READY/DONE)? */
static bool got_word(int i, const char *word)
{
	uint8_t f[2048];
	ssize_t n;

	while ((n = read(tapsock[i], f, sizeof(f))) > 0)
		if (n >= 14 + (ssize_t)strlen(word) && f[12] == ETYPE >> 8 &&
		    f[13] == (ETYPE & 0xff) && !memcmp(f + 14, word, strlen(word)))
			return true;
	return false;
}

/*
 * Waits up to secs for both guests' word, draining their consoles; stops
 * early when a vsnixctl ends. True when both said it.
 */
static bool wait_word(const char *word, double secs)
{
	double end = rg_now() + secs;
	bool said[2] = { false, false };
	int i;

	while (!(said[0] && said[1]) && rg_now() < end) {
		for (i = 0; i < 2; i++) {
			said[i] = said[i] || got_word(i, word);
			rg_collect(&vm[i], &vmr[i], 0.05);
			if (!vm[i].out_open && !vm[i].err_open && !said[i])
				return false;
		}
	}
	return said[0] && said[1];
}

static int start_vm(int i)
{
	char net[96];

	snprintf(net, sizeof(net), "tap=%s,mac=%s,queues=1", tap[i], mac[i]);
	memset(&vmr[i], 0, sizeof(vmr[i]));
	return rg_start(&vm[i], (const char *[]){ "run", "--kernel", rg_linux_guest("vmlinuz"),
			"--initrd", rg_linux_guest("steer-initrd.cpio.gz"),
			"--mem", "128M", "--cpus", "1", "--net", net,
			"--cmdline", "console=ttyS0 quiet panic=-1", NULL });
}

/* Waits up to secs for vsnixctl i to end, then kills it: never hangs. */
static void finish_vm(int i, double secs)
{
	if (!rg_collect(&vm[i], &vmr[i], secs)) {
		printf("# VM %d still running after %.0f s: killed\n", i + 1, secs);
		kill(vm[i].pid, SIGKILL);
	}
	rg_finish(&vm[i], &vmr[i]);
}

/* The guest's "got N: tags" line is exactly want. */
static bool reported(int i, const char *want)
{
	const char *p = strstr(vmr[i].out, "VSNIX-STEER: got ");
	size_t n = strlen(want);

	return p && !strncmp(p + 17, want, n) && (p[17 + n] == '\n' || p[17 + n] == '\r');
}

static void send_all(void)
{
	char tag[16];
	int i;

	/* Interleaved, as a client talking to both and to nobody would. */
	for (i = 0; i < NR_VM1; i++) {
		snprintf(tag, sizeof(tag), "v1-%d", i);
		send_to(0, tag);
		if (i < NR_VM2) {
			snprintf(tag, sizeof(tag), "v2-%d", i);
			send_to(1, tag);
		}
		if (i < NR_NOBODY)
			send_to(2, "nobody");
	}
	send_to(0, "end");
	send_to(1, "end");
}

int main(void)
{
	const char *why = NULL;
	double t0;
	bool up;
	int i;

	rg_require(NR_TESTS);
	rg_plan(NR_TESTS);
	if (access(rg_linux_guest("steer-initrd.cpio.gz"), R_OK))
		why = "linux-guest/steer-initrd.cpio.gz not built";
	if (!why)
		why = net_private_ns_veth("vsva", "vsvb");
	if (why) {
		rg_skip_rest(NR_TESTS, why);
		return 4;
	}
	for (i = 0; i < 2; i++)
		if (make_tap(tap[i]) == 0)
			tapsock[i] = net_packet_socket(tap[i]);
	rg_ok(tapsock[0] >= 0 && tapsock[1] >= 0 && !net_link_up("vsva", true) &&
	      !setup_client(),
	      "two taps, a veth pair and a client namespace holding its other end");
	rg_ok(ctl("steer", "attach", "vsva"), "net steer attach vsva");

	t0 = rg_now();
	if (start_vm(0) || start_vm(1)) {
		rg_skip_rest(NR_TESTS, "cannot start vsnixctl");
		return 1;
	}
	up = wait_word("READY", 200);
	if (!rg_ok(up, "both Linux guests up, listening on eth0 (%.1f s)", rg_now() - t0)) {
		for (i = 0; i < 2; i++) {
			finish_vm(i, 0.1);
			rg_diag(&vmr[i]);
		}
		rg_skip_rest(NR_TESTS, "no VMs to steer to");
		return 1;
	}
	ctl("steer", "show", NULL);
	rg_ok(net_steer_packets(r.out, mac[0]) == 0 && net_steer_packets(r.out, mac[1]) == 0,
	      "vsnixctl run put both VMs' MACs in the steering map (packets %lld, %lld)",
	      net_steer_packets(r.out, mac[0]), net_steer_packets(r.out, mac[1]));

	send_all();
	rg_ok(wait_word("DONE", 60), "both guests got their end mark");
	ctl("steer", "show", NULL);
	rg_ok(net_steer_packets(r.out, mac[0]) == NR_VM1 + 1 && net_steer_packets(r.out, mac[1]) == NR_VM2 + 1,
	      "per-VM counters: %d and %d, the datagrams sent to each (%lld, %lld)",
	      NR_VM1 + 1, NR_VM2 + 1, net_steer_packets(r.out, mac[0]), net_steer_packets(r.out, mac[1]));
	rg_ok(net_steer_packets(r.out, NULL) == NR_NOBODY,
	      "unknown destination: the %d datagrams for nobody (%lld)",
	      NR_NOBODY, net_steer_packets(r.out, NULL));

	send_to(0, "bye");
	send_to(1, "bye");
	for (i = 0; i < 2; i++)
		finish_vm(i, 60);
	rg_show_lines(vmr[0].out, "VSNIX-STEER: got");
	rg_show_lines(vmr[1].out, "VSNIX-STEER: got");
	rg_ok(reported(0, "6: v1-0 v1-1 v1-2 v1-3 v1-4 end"),
	      "VM 1 received exactly its 5 datagrams and its end mark, in order");
	rg_ok(reported(1, "4: v2-0 v2-1 v2-2 end"),
	      "VM 2 received exactly its 3 datagrams and its end mark, in order");
	if (!rg_ok(vmr[0].code == 0 && vmr[1].code == 0,
		   "both VMs ended on the client's bye, exit 0 (%d, %d; %.1f s in all)",
		   vmr[0].code, vmr[1].code, rg_now() - t0))
		for (i = 0; i < 2; i++)
			rg_diag(&vmr[i]);
	ctl("steer", "show", NULL);
	rg_ok(net_steer_packets(r.out, mac[0]) == -1 && net_steer_packets(r.out, mac[1]) == -1,
	      "their MACs left the steering map with them");
	rg_ok(ctl("steer", "detach", "vsva"), "net steer detach vsva");
	kill(client_pid, SIGKILL);
	waitpid(client_pid, NULL, 0);
	return rg_exit();
}
