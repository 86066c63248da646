// SPDX-License-Identifier: GPL-2.0
/*
 * vsnixctl's eBPF side (Documentation/bpf.rst): loads the programs of
 * bpf/ through their bpftool skeletons (libbpf, CO-RE), attaches the
 * steering program to a host interface's TC ingress and keeps its maps,
 * pinned under STEER_PIN_DIR so that every vsnixctl (one per VM) finds
 * them; sets the queue-selection program on multiqueue taps.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/if_tun.h>
#include <linux/magic.h>
#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "vsnixctl.h"
#include "vsnix_net_bpf.h"
#include "vsnix_steer.skel.h"
#include "vsnix_rss.skel.h"

#define BPF_FS		"/sys/fs/bpf"
#define STEER_PIN_DIR	BPF_FS "/vsnix"
/* bpffs holds no plain files: the maps' writers lock this one instead. */
#define STEER_LOCK_DIR	"/run/vsnix"
#define STEER_LOCK	STEER_LOCK_DIR "/steer.lock"

/* The Toeplitz key of the RSS examples (virtio 1.2 5.1.6.5.7, MS RSS). */
static const __u8 rss_default_key[VSNIX_RSS_KEY_LEN] = {
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67,
	0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb,
	0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30,
	0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

static int silent_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	if (level == LIBBPF_WARN || getenv("VSNIX_BPF_DEBUG"))
		return vfprintf(stderr, fmt, ap);
	return 0;
}

/* Mounts the BPF filesystem on /sys/fs/bpf unless it is there. */
static int bpffs_ready(void)
{
	struct statfs st;

	libbpf_set_print(silent_print);
	if (statfs(BPF_FS, &st) == 0 && st.f_type == BPF_FS_MAGIC)
		return 0;
	if (mount("bpf", BPF_FS, "bpf", 0, "mode=0700")) {
		fprintf(stderr, "vsnixctl: cannot mount bpffs on %s: %s\n",
			BPF_FS, strerror(errno));
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ steering */

static int steer_map(const char *name)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), STEER_PIN_DIR "/%s", name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		fprintf(stderr, "vsnixctl: no steering maps (%s: %s): run `vsnixctl net steer attach DEV` first\n",
			path, strerror(errno));
	return fd;
}

static int tc_hook(const char *dev, struct bpf_tc_hook *hook)
{
	int ifindex = if_nametoindex(dev);

	if (!ifindex) {
		fprintf(stderr, "vsnixctl: no interface %s\n", dev);
		return -1;
	}
	memset(hook, 0, sizeof(*hook));
	hook->sz = sizeof(*hook);
	hook->ifindex = ifindex;
	hook->attach_point = BPF_TC_INGRESS;
	return 0;
}

/* Loads the program (maps pinned, or reused when pinned) onto dev's ingress. */
int steer_attach(const char *dev)
{
	LIBBPF_OPTS(bpf_object_open_opts, oopts, .pin_root_path = STEER_PIN_DIR);
	LIBBPF_OPTS(bpf_tc_opts, topts, .handle = 1, .priority = 1);
	struct vsnix_steer *skel;
	struct bpf_tc_hook hook;
	int r;

	if (tc_hook(dev, &hook) || bpffs_ready())
		return -1;
	mkdir(STEER_PIN_DIR, 0700);
	skel = vsnix_steer__open_opts(&oopts);
	if (!skel || vsnix_steer__load(skel)) {
		fprintf(stderr, "vsnixctl: cannot load the steering program: %s\n",
			strerror(errno));
		vsnix_steer__destroy(skel);
		return -1;
	}
	r = bpf_tc_hook_create(&hook);
	if (r && r != -EEXIST)
		goto fail;
	topts.prog_fd = bpf_program__fd(skel->progs.vsnix_steer);
	topts.flags = BPF_TC_F_REPLACE;
	r = bpf_tc_attach(&hook, &topts);
	if (r)
		goto fail;
	vsnix_steer__destroy(skel);	/* the filter holds the program */
	return 0;
fail:
	fprintf(stderr, "vsnixctl: cannot attach to %s's TC ingress: %s\n", dev,
		strerror(-r));
	vsnix_steer__destroy(skel);
	return -1;
}

int steer_detach(const char *dev)
{
	LIBBPF_OPTS(bpf_tc_opts, topts, .handle = 1, .priority = 1);
	struct bpf_tc_hook hook;
	int r;

	if (tc_hook(dev, &hook))
		return -1;
	r = bpf_tc_detach(&hook, &topts);
	if (r) {
		fprintf(stderr, "vsnixctl: nothing attached to %s: %s\n", dev,
			strerror(-r));
		return -1;
	}
	return 0;
}

/*
 * Every vsnixctl (one per VM) edits the same pinned maps: choosing a free
 * slot and claiming it must not interleave with another's, or two VMs
 * share one slot's counters. Returns the lock's fd (close() unlocks).
 */
static int steer_lock(void)
{
	int fd;

	if (mkdir(STEER_LOCK_DIR, 0755) && errno != EEXIST) {
		fprintf(stderr, "vsnixctl: cannot make %s: %s\n",
			STEER_LOCK_DIR, strerror(errno));
		return -1;
	}
	fd = open(STEER_LOCK, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX)) {
		fprintf(stderr, "vsnixctl: cannot lock %s: %s\n", STEER_LOCK,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* A counter slot that no entry of either map uses. */
static int free_slot(int macs, int ips)
{
	static bool used[VSNIX_STEER_MAX_VMS];
	struct vsnix_steer_target t;
	__u8 key[8], next[8];
	int m, i;

	memset(used, 0, sizeof(used));
	for (m = 0; m < 2; m++) {
		int fd = m ? ips : macs;
		void *prev = NULL;

		while (!bpf_map_get_next_key(fd, prev, next)) {
			if (!bpf_map_lookup_elem(fd, next, &t) &&
			    t.slot < VSNIX_STEER_MAX_VMS)
				used[t.slot] = true;
			memcpy(key, next, sizeof(key));
			prev = key;
		}
	}
	for (i = 0; i < VSNIX_STEER_MAX_VMS; i++)
		if (!used[i])
			return i;
	return -1;
}

/* Zeroes a slot's counters on every CPU. */
static int clear_stats(int fd, __u32 slot)
{
	int n = libbpf_num_possible_cpus();
	struct vsnix_steer_stats *z;
	int r;

	if (n <= 0)
		return -1;
	z = calloc(n, sizeof(*z));
	if (!z)
		return -1;
	r = bpf_map_update_elem(fd, &slot, z, BPF_ANY);
	free(z);
	return r;
}

/* Removes mac's entry and the IPv4 entries that point to the same slot. */
static int steer_del_locked(const uint8_t mac[6])
{
	struct vsnix_steer_target t, o;
	struct vsnix_steer_mac key = { 0 };
	__u32 ip, next, *prev = NULL;
	int macs, ips, r = -1;

	macs = steer_map("steer_macs");
	ips = steer_map("steer_ips");
	if (macs < 0 || ips < 0)
		goto out;
	memcpy(key.addr, mac, 6);
	if (bpf_map_lookup_elem(macs, &key, &t))
		goto out;
	while (!bpf_map_get_next_key(ips, prev, &next)) {
		if (!bpf_map_lookup_elem(ips, &next, &o) && o.slot == t.slot) {
			bpf_map_delete_elem(ips, &next);
			prev = NULL;	/* restart: the walk lost its place */
			continue;
		}
		ip = next;
		prev = &ip;
	}
	r = bpf_map_delete_elem(macs, &key);
out:
	if (macs >= 0)
		close(macs);
	if (ips >= 0)
		close(ips);
	return r;
}

/* steer_add's work, under the steering lock. */
static int steer_add_locked(const uint8_t mac[6], const char *tap, uint32_t ip)
{
	struct vsnix_steer_target t = { 0 };
	struct vsnix_steer_mac key = { 0 };
	int macs, ips = -1, stats = -1, slot, r = -1;

	t.ifindex = if_nametoindex(tap);
	if (!t.ifindex) {
		fprintf(stderr, "vsnixctl: no interface %s\n", tap);
		return -1;
	}
	memcpy(key.addr, mac, 6);
	memcpy(t.mac, mac, 6);
	macs = steer_map("steer_macs");
	if (macs < 0)
		return -1;
	ips = steer_map("steer_ips");
	stats = steer_map("steer_stats");
	if (ips < 0 || stats < 0)
		goto out;
	steer_del_locked(mac);
	slot = free_slot(macs, ips);
	if (slot < 0) {
		fprintf(stderr, "vsnixctl: the steering map is full (%d VMs)\n",
			VSNIX_STEER_MAX_VMS);
		goto out;
	}
	t.slot = slot;
	if (clear_stats(stats, slot) ||
	    bpf_map_update_elem(macs, &key, &t, BPF_ANY) ||
	    (ip && bpf_map_update_elem(ips, &ip, &t, BPF_ANY))) {
		fprintf(stderr, "vsnixctl: cannot update the steering maps: %s\n",
			strerror(errno));
		goto out;
	}
	r = 0;
out:
	close(macs);
	if (ips >= 0)
		close(ips);
	if (stats >= 0)
		close(stats);
	return r;
}

/*
 * Frames for mac (and, if ip is not 0, for IPv4 address ip, network order)
 * go to tap. The entry replaces an older one for the same MAC.
 */
int steer_add(const uint8_t mac[6], const char *tap, uint32_t ip)
{
	int lock, r;

	if (bpffs_ready())
		return -1;
	lock = steer_lock();
	if (lock < 0)
		return -1;
	r = steer_add_locked(mac, tap, ip);
	close(lock);
	return r;
}

int steer_del(const uint8_t mac[6])
{
	int lock = steer_lock(), r;

	if (lock < 0)
		return -1;
	r = steer_del_locked(mac);
	close(lock);
	return r;
}

static int sum_stats(int fd, __u32 slot, struct vsnix_steer_stats *sum)
{
	int i, n = libbpf_num_possible_cpus();
	struct vsnix_steer_stats *v;

	memset(sum, 0, sizeof(*sum));
	v = n > 0 ? calloc(n, sizeof(*v)) : NULL;
	if (!v || bpf_map_lookup_elem(fd, &slot, v)) {
		free(v);
		return -1;
	}
	for (i = 0; i < n; i++) {
		sum->packets += v[i].packets;
		sum->bytes += v[i].bytes;
		sum->redirect_errors += v[i].redirect_errors;
	}
	free(v);
	return 0;
}

/*
 * One line per VM, then one for the frames passed to the host:
 *   vm SLOT mac M tap T ip A packets P bytes B errors E
 *   unknown packets P bytes B
 */
int steer_show(FILE *out)
{
	struct vsnix_steer_stats s;
	struct vsnix_steer_target t, o;
	struct vsnix_steer_mac key, *prev = NULL;
	int macs, ips, stats, r = -1;
	char ifname[IF_NAMESIZE];

	macs = steer_map("steer_macs");
	ips = steer_map("steer_ips");
	stats = steer_map("steer_stats");
	if (macs < 0 || ips < 0 || stats < 0)
		goto out;
	while (!bpf_map_get_next_key(macs, prev, &key)) {
		__u32 ip, *iprev = NULL, shown = 0;

		prev = &key;
		if (bpf_map_lookup_elem(macs, &key, &t) ||
		    sum_stats(stats, t.slot, &s))
			continue;
		fprintf(out, "vm %u mac %02x:%02x:%02x:%02x:%02x:%02x tap %s",
			t.slot, key.addr[0], key.addr[1], key.addr[2],
			key.addr[3], key.addr[4], key.addr[5],
			if_indextoname(t.ifindex, ifname) ?: "?");
		while (!bpf_map_get_next_key(ips, iprev, &ip)) {
			iprev = &shown;
			shown = ip;
			if (!bpf_map_lookup_elem(ips, &ip, &o) && o.slot == t.slot) {
				const __u8 *a = (const __u8 *)&ip;

				fprintf(out, " ip %u.%u.%u.%u", a[0], a[1], a[2], a[3]);
			}
		}
		fprintf(out, " packets %llu bytes %llu errors %llu\n",
			(unsigned long long)s.packets, (unsigned long long)s.bytes,
			(unsigned long long)s.redirect_errors);
	}
	if (sum_stats(stats, VSNIX_STEER_SLOT_UNKNOWN, &s))
		goto out;
	fprintf(out, "unknown packets %llu bytes %llu\n",
		(unsigned long long)s.packets, (unsigned long long)s.bytes);
	r = 0;
out:
	if (macs >= 0)
		close(macs);
	if (ips >= 0)
		close(ips);
	if (stats >= 0)
		close(stats);
	return r;
}

/* ------------------------------------------------------------ RSS */

/*
 * Sets the queue-selection program on the multiqueue tap that tun_fd is
 * attached to: flows spread over nr_queues queues. The tap holds the
 * program (and its configuration map) until the interface goes away.
 */
int rss_attach_fd(int tun_fd, unsigned int nr_queues)
{
	struct vsnix_rss_config cfg = { 0 };
	struct vsnix_rss *skel;
	__u32 zero = 0, i;
	int prog, r = -1;

	if (!nr_queues || nr_queues > VSNIX_RSS_MAX_QUEUES) {
		fprintf(stderr, "vsnixctl: %u queues: 1 to %d\n", nr_queues,
			VSNIX_RSS_MAX_QUEUES);
		return -1;
	}
	libbpf_set_print(silent_print);
	skel = vsnix_rss__open_and_load();
	if (!skel) {
		fprintf(stderr, "vsnixctl: cannot load the queue-selection program: %s\n",
			strerror(errno));
		return -1;
	}
	memcpy(cfg.key, rss_default_key, sizeof(cfg.key));
	for (i = 0; i < VSNIX_RSS_TABLE_LEN; i++)
		cfg.table[i] = i % nr_queues;
	cfg.nr_queues = nr_queues;
	prog = bpf_program__fd(skel->progs.vsnix_rss);
	if (bpf_map__update_elem(skel->maps.rss_config, &zero, sizeof(zero),
				 &cfg, sizeof(cfg), BPF_ANY) ||
	    ioctl(tun_fd, TUNSETSTEERINGEBPF, &prog) < 0)
		fprintf(stderr, "vsnixctl: cannot set the tap's steering program: %s\n",
			strerror(errno));
	else
		r = 0;
	vsnix_rss__destroy(skel);
	return r;
}

/* Attaches one more queue of the multiqueue tap ifname, with its flags. */
int rss_attach(const char *ifname, unsigned int nr_queues)
{
	struct ifreq ifr = { 0 };
	unsigned int flags;
	char path[96];
	FILE *f;
	int fd, r;

	snprintf(path, sizeof(path), "/sys/class/net/%s/tun_flags", ifname);
	f = fopen(path, "r");
	if (!f || fscanf(f, "%x", &flags) != 1 || !(flags & IFF_MULTI_QUEUE)) {
		fprintf(stderr, "vsnixctl: %s is not a multiqueue tap\n", ifname);
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0 || strlen(ifname) >= IFNAMSIZ) {
		fprintf(stderr, "vsnixctl: cannot open /dev/net/tun\n");
		return -1;
	}
	/* The same flags: a queue's TUNSETIFF sets the device's features. */
	ifr.ifr_flags = flags & ~IFF_PERSIST;
	strcpy(ifr.ifr_name, ifname);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		fprintf(stderr, "vsnixctl: cannot attach to %s: %s\n", ifname,
			strerror(errno));
		close(fd);
		return -1;
	}
	r = rss_attach_fd(fd, nr_queues);
	close(fd);
	return r;
}
