// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-net over the PCI transport, on a 2-queue tap in a private network
 * namespace, driven by a guest the way a driver does (polling, no
 * interrupts): the configuration (MAC, link up, 2 queue pairs), the
 * control queue (MQ VQ_PAIRS_SET, a bad value refused), a frame sent on
 * each transmit queue arrives on the tap, a 200-byte frame written to the
 * tap lands in four 64-byte mergeable receive buffers with num_buffers 4.
 * Hostile transmit chains (a header too short, a frame over 64 KiB, a
 * device-writable buffer, bad header flags, GSO not negotiated) are
 * dropped and returned, the device goes on, and the counters printed at
 * the device's end say so. A frame in four descriptors, the header split
 * over two of them and each piece across a page boundary, arrives on the
 * tap intact (the device maps the guest's pages for the tap). A receive
 * buffer in a read-only slot is returned unused and the slot unchanged
 * (the device writes through the VMM's addresses, which are writable);
 * one in a slot pinned for its life (VSNIX_MEM_PIN, written through its
 * pages instead) gets the frame intact. A descriptor outside RAM sets
 * NEEDS_RESET.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <vsnix/pc.h>
#include "vsnix_util.h"

#define NR_TESTS	15
#define SLOT		3
#define BAR		PC_PCI_MMIO_START
#define QSIZE		16
#define NQ		5		/* rx0 tx0 rx1 tx1 ctrl */
#define ETYPE		0x88b5
#define TAP		"vsvn0"
#define RX_LEN		200
#define BIG_LEN		(12 + 70000)
#define SG_LEN		1400		/* stage 60's frame, without the header */
#define RO_GPA		0x90000000ull	/* slot 1: read-only */
#define PIN_GPA		0x90100000ull	/* slot 2: VSNIX_MEM_PIN */
#define XSLOT_SIZE	0x1000ul
#define RO_FILL		0x42
#define RX_ONE_LEN	256		/* stages 52-55: one receive buffer */

static const uint8_t mac[6] = { 0x02, 0x5e, 0x00, 0x00, 0x0a, 0x01 };

/* ------------------------------------------------------------ guest */

#define R8(a)		(*(volatile uint8_t *)(uintptr_t)(a))
#define R16(a)		(*(volatile uint16_t *)(uintptr_t)(a))
#define R32(a)		(*(volatile uint32_t *)(uintptr_t)(a))
#define R64(a)		(*(volatile uint64_t *)(uintptr_t)(a))
#define ECAM(reg)	(PC_PCI_ECAM_BASE + (SLOT << 15) + (reg))

/* Virtio's common configuration (4.1.4.3). */
#define C_DFSEL		0x00
#define C_DF		0x04
#define C_GFSEL		0x08
#define C_GF		0x0c
#define C_MSIX_CFG	0x10
#define C_STATUS	0x14
#define C_QSEL		0x16
#define C_QSIZE		0x18
#define C_QMSIX		0x1a
#define C_QENABLE	0x1c
#define C_QNOFF		0x1e
#define C_QDESC		0x20
#define C_QDRIVER	0x28
#define C_QDEVICE	0x30
#define S_OK_ALL	0xf		/* ACK DRIVER FEATURES_OK DRIVER_OK */
#define S_NEEDS_RESET	0x40

/* 5.1.3: CSUM, MAC, MRG_RXBUF, STATUS, CTRL_VQ, MQ. */
#define FEATURES	(1u << 0 | 1u << 5 | 1u << 15 | 1u << 16 | 1u << 17 | 1u << 22)

struct gmem {
	uint64_t q[NQ];		/* desc +0, avail +0x200, used +0x400 */
	uint64_t tx, rx0, rx1, ctrl, big;
};

static uint64_t common, notify, devcfg;
static uint32_t notify_mult;
static uint16_t aidx[NQ];

static void find_caps(void)
{
	uint8_t at = R8(ECAM(0x34)), msix = 0;
	int guard = 0;

	while (at && guard++ < 48) {
		uint8_t id = R8(ECAM(at)), type = R8(ECAM(at + 3));
		uint64_t where = BAR + R32(ECAM(at + 8));

		if (id == 0x11)
			msix = at;
		if (id == 0x09 && type == 1)
			common = where;
		if (id == 0x09 && type == 2) {
			notify = where;
			notify_mult = R32(ECAM(at + 16));
		}
		if (id == 0x09 && type == 4)
			devcfg = where;
		at = R8(ECAM(at + 1));
	}
	/* MSI-X on, every vector NO_VECTOR: no interrupts at all. */
	if (msix)
		R16(ECAM(msix + 2)) = 0x8000;
}

static struct gmem *gm;

#define DESC(n)		(gm->q[n])
#define AVAIL(n)	(gm->q[n] + 0x200)
#define USED(n)		(gm->q[n] + 0x400)

static void desc(int q, int i, uint64_t addr, uint32_t len, uint16_t flags,
		 uint16_t next)
{
	R64(DESC(q) + 16 * i) = addr;
	R32(DESC(q) + 16 * i + 8) = len;
	R16(DESC(q) + 16 * i + 12) = flags;
	R16(DESC(q) + 16 * i + 14) = next;
}

static void offer(int q, uint16_t head)
{
	R16(AVAIL(q) + 4 + 2 * (aidx[q] % QSIZE)) = head;
	asm volatile("" ::: "memory");
	R16(AVAIL(q) + 2) = ++aidx[q];
	R16(common + C_QSEL) = q;
	R16(notify + R16(common + C_QNOFF) * notify_mult) = q;
}

/* Spins until queue q's used index reaches want; true if it did. */
static bool wait_used(int q, uint16_t want)
{
	uint64_t spin;

	for (spin = 0; spin < 200000000; spin++) {
		if (R16(USED(q) + 2) == want)
			return true;
		asm volatile("pause");
	}
	return false;
}

static uint32_t dev_init(void)
{
	int q;

	R8(common + C_STATUS) = 0;
	R8(common + C_STATUS) = 1;
	R8(common + C_STATUS) = 3;
	R32(common + C_DFSEL) = 0;
	if ((R32(common + C_DF) & FEATURES) != FEATURES)
		return 1;
	R32(common + C_GFSEL) = 0;
	R32(common + C_GF) = FEATURES;
	R32(common + C_GFSEL) = 1;
	R32(common + C_GF) = 1;		/* VERSION_1 */
	R8(common + C_STATUS) = 0xb;
	if (!(R8(common + C_STATUS) & 8))
		return 2;
	R16(common + C_MSIX_CFG) = 0xffff;
	for (q = 0; q < NQ; q++) {
		R16(common + C_QSEL) = q;
		R16(common + C_QSIZE) = QSIZE;
		R16(common + C_QMSIX) = 0xffff;
		R64(common + C_QDESC) = DESC(q);
		R64(common + C_QDRIVER) = AVAIL(q);
		R64(common + C_QDEVICE) = USED(q);
		R16(common + C_QENABLE) = 1;
		aidx[q] = 0;
	}
	R8(common + C_STATUS) = S_OK_ALL;
	return 0;
}

/* A frame (zero virtio-net header first) of len bytes with a tag. */
static void tx_frame(uint64_t at, const char *tag, uint32_t len)
{
	uint32_t i;

	for (i = 0; i < len; i++)
		R8(at + i) = 0;
	for (i = 0; i < 6; i++) {
		R8(at + 12 + i) = 0xff;
		R8(at + 18 + i) = mac[i];
	}
	R8(at + 24) = ETYPE >> 8;
	R8(at + 25) = ETYPE & 0xff;
	for (i = 0; tag[i]; i++)
		R8(at + 26 + i) = tag[i];
}

/* Byte off of stage 60's stream: a zero header, then the frame. */
static uint8_t sg_byte(uint32_t off)
{
	if (off < 12)
		return 0;
	off -= 12;
	if (off < 6)
		return 0xff;
	if (off < 12)
		return mac[off - 6];
	if (off < 14)
		return off == 12 ? ETYPE >> 8 : ETYPE & 0xff;
	if (off < 17)
		return off == 14 ? 's' : off == 15 ? 'g' : 0;
	return (uint8_t)(off * 13 + 5);
}

/*
 * Stage 60: 12 + SG_LEN bytes in four chained descriptors on tx0: 5
 * header bytes, then 7 more and the frame's start, each piece after the
 * first across a page boundary of m->big.
 */
static uint64_t tx_scattered(void)
{
	uint16_t used = R16(USED(1) + 2);
	uint32_t off = 0, j, len;
	uint64_t at;
	int k;

	/* No arrays: the compiler would build them with SSE stores. */
	for (k = 0; k < 4; k++) {
		at = k == 0 ? gm->big + 0x100 : k == 1 ? gm->big + 0x2000 - 200 :
		     k == 2 ? gm->big + 0x4000 - 300 : gm->big + 0x6000 - 100;
		len = k == 0 ? 5 : k == 1 ? 407 : k == 2 ? 600 :
		      12 + SG_LEN - 5 - 407 - 600;
		for (j = 0; j < len; j++, off++)
			R8(at + j) = sg_byte(off);
		desc(1, k, at, len, k < 3 ? 1 : 0, k + 1);
	}
	offer(1, 0);
	return wait_used(1, used + 1);
}

/*
 * Stages 52-55: a frame to the host's peer address out on rx queue q's
 * pair, so that the tap's flow table sends the host's next frame (same
 * flow) to q; then one RX_ONE_LEN-byte receive buffer at buf on q as
 * descriptor d. Returns q's used index before the buffer.
 */
static uint16_t rx_one_post(int q, int d, uint64_t buf)
{
	uint64_t at = gm->tx + 0x400;
	uint16_t used = R16(USED(q + 1) + 2);
	int i;

	tx_frame(at, "steer", 72);
	for (i = 0; i < 6; i++)
		R8(at + 12 + i) = i == 5 ? 0x02 : mac[i];
	desc(q + 1, 7, at, 72, 0, 0);
	offer(q + 1, 7);
	wait_used(q + 1, used + 1);
	used = R16(USED(q) + 2);
	desc(q, d, buf, RX_ONE_LEN, 2, 0);
	offer(q, d);
	return used;
}

/* After rx_one_post: the buffer's id and used length, or ~0 after none. */
static uint64_t rx_one_wait(int q, uint16_t used)
{
	uint64_t spin;

	for (spin = 0; spin < 400000000; spin++) {
		if (R16(USED(q) + 2) != used)
			return R32(USED(q) + 4 + 8 * (used % QSIZE)) |
			       (uint64_t)R32(USED(q) + 8 + 8 * (used % QSIZE)) << 32;
		asm volatile("pause");
	}
	return ~0ull;
}

/* Stage 55: the frame in the one buffer at buf intact, num_buffers 1. */
static uint64_t rx_one_ok(uint64_t buf)
{
	uint32_t off;

	for (off = 26; off < 12 + RX_LEN; off++)
		if (R8(buf + off) != (uint8_t)((off - 12) * 7 + 3))
			return 0;
	return R16(buf + 10) == 1;
}

/* One control command MQ VQ_PAIRS_SET pairs: the ack byte. */
static uint8_t ctrl_mq(uint16_t pairs)
{
	uint64_t b = gm->ctrl;
	uint16_t want = aidx[4] + 1;

	R8(b) = 4;		/* VIRTIO_NET_CTRL_MQ */
	R8(b + 1) = 0;		/* VQ_PAIRS_SET */
	R16(b + 2) = pairs;
	R8(b + 4) = 0xee;
	desc(4, 0, b, 2, 1, 1);
	desc(4, 1, b + 2, 2, 1, 2);
	desc(4, 2, b + 4, 1, 2, 0);
	offer(4, 0);
	return wait_used(4, want) ? R8(b + 4) : 0xdd;
}

/* Posts four 64-byte receive buffers on rx queue q at buf. */
static void rx_post(int q, uint64_t buf)
{
	int i;

	for (i = 0; i < 4; i++) {
		desc(q, i, buf + 64 * i, 64, 2, 0);
		offer(q, i);
	}
}

/* The frame that arrived in rx queue q's buffers: check it. */
static uint64_t rx_check(int q, uint64_t buf)
{
	uint16_t n = R16(USED(q) + 2), nb = R16(buf + 10), i;
	uint32_t total = 0, ok = 1, off = 0;

	for (i = 0; i < n; i++) {
		uint32_t id = R32(USED(q) + 4 + 8 * i), len = R32(USED(q) + 8 + 8 * i);
		uint32_t j;

		for (j = 0; j < len; j++, off++) {
			uint8_t b = R8(buf + 64 * id + j);

			/* After the 12-byte header and the 14-byte Ethernet one. */
			if (off >= 26 && b != (uint8_t)((off - 12) * 7 + 3))
				ok = 0;
		}
		total += len;
	}
	return nb | (uint64_t)n << 16 | (uint64_t)total << 32 | (uint64_t)ok << 63;
}

static void guest_code(struct gmem *m)
{
	uint16_t rx_used[2];
	uint64_t spin;
	uint16_t used;
	int i;

	gm = m;
	find_caps();
	GUEST_SYNC3(1, dev_init(), R32(devcfg) | (uint64_t)R16(devcfg + 4) << 32 |
		    (uint64_t)R16(devcfg + 8) << 48 |
		    (uint64_t)(R16(devcfg + 6) & 1) << 47);
	GUEST_SYNC3(2, ctrl_mq(2), ctrl_mq(5));
	/* 3: one frame on each transmit queue. */
	tx_frame(gm->tx, "tx-q0", 72);
	desc(1, 0, gm->tx, 72, 0, 0);
	offer(1, 0);
	tx_frame(gm->tx + 0x800, "tx-q1", 72);
	desc(3, 0, gm->tx + 0x800, 72, 0, 0);
	offer(3, 0);
	GUEST_SYNC3(3, wait_used(1, 1), wait_used(3, 1));
	/* 4: receive buffers on both pairs, the host writes a frame. */
	rx_post(0, gm->rx0);
	rx_post(2, gm->rx1);
	GUEST_SYNC3(4, 0, 0);
	for (spin = 0; spin < 400000000; spin++) {
		if (R16(USED(0) + 2) || R16(USED(2) + 2))
			break;
		asm volatile("pause");
	}
	for (spin = 0; spin < 1000000; spin++)
		asm volatile("pause");	/* the rest of the frame's buffers */
	if (R16(USED(0) + 2))
		GUEST_SYNC3(5, 0, rx_check(0, gm->rx0));
	else
		GUEST_SYNC3(5, 2, rx_check(2, gm->rx1));
	/* 50, 51: a receive buffer the device may only read, on both pairs. */
	rx_used[0] = R16(USED(0) + 2);
	rx_used[1] = R16(USED(2) + 2);
	desc(0, 4, gm->rx0 + 0x400, 64, 0, 0);
	offer(0, 4);
	desc(2, 4, gm->rx1 + 0x400, 64, 0, 0);
	offer(2, 4);
	GUEST_SYNC3(50, 0, 0);
	for (spin = 0; spin < 400000000; spin++) {
		if (R16(USED(0) + 2) != rx_used[0] || R16(USED(2) + 2) != rx_used[1])
			break;
		asm volatile("pause");
	}
	i = R16(USED(0) + 2) != rx_used[0] ? 0 : 2;
	GUEST_SYNC3(51, R16(USED(i) + 2) - rx_used[i / 2],
		    R32(USED(i) + 4 + 8 * (rx_used[i / 2] % QSIZE)) |
		    (uint64_t)R32(USED(i) + 8 + 8 * (rx_used[i / 2] % QSIZE)) << 32);
	/* 52-55: one receive buffer in read-only memory, one in a pinned slot. */
	used = rx_one_post(i, 5, RO_GPA);
	GUEST_SYNC3(52, i, 0);
	GUEST_SYNC3(53, rx_one_wait(i, used), 0);
	used = rx_one_post(i, 6, PIN_GPA);
	GUEST_SYNC3(54, i, 0);
	spin = rx_one_wait(i, used);
	GUEST_SYNC3(55, spin, rx_one_ok(PIN_GPA));
	/* 6: hostile chains on tx0, then a good frame. */
	used = R16(USED(1) + 2);
	desc(1, 0, gm->tx, 8, 0, 0);			/* header too short */
	desc(1, 1, gm->big, BIG_LEN, 0, 0);		/* over 64 KiB */
	desc(1, 2, gm->tx, 72, 2, 0);			/* device-writable */
	tx_frame(gm->tx + 0x100, "bad-flags", 72);
	R8(gm->tx + 0x100) = 0x80;
	desc(1, 3, gm->tx + 0x100, 72, 0, 0);		/* unknown flags */
	tx_frame(gm->tx + 0x200, "gso", 72);
	R8(gm->tx + 0x200) = 1;				/* NEEDS_CSUM */
	R8(gm->tx + 0x201) = 1;				/* GSO TCPV4 */
	R16(gm->tx + 0x204) = 1000;			/* gso_size */
	R16(gm->tx + 0x206) = 14;			/* csum_start */
	desc(1, 4, gm->tx + 0x200, 72, 0, 0);
	tx_frame(gm->tx + 0x300, "after", 72);
	desc(1, 5, gm->tx + 0x300, 72, 0, 0);
	for (i = 0; i < 6; i++)
		offer(1, i);
	i = wait_used(1, used + 6);
	GUEST_SYNC3(6, i, R8(common + C_STATUS));
	GUEST_SYNC3(60, tx_scattered(), R8(common + C_STATUS));
	/* 7: a descriptor outside guest RAM: the queue is broken. */
	desc(3, 0, 0x7f0000000000ull, 72, 0, 0);
	offer(3, 0);
	for (spin = 0; spin < 200000000; spin++) {
		if (R8(common + C_STATUS) & S_NEEDS_RESET)
			break;
		asm volatile("pause");
	}
	GUEST_SYNC3(7, R8(common + C_STATUS), 0);
	GUEST_DONE();
}

/* ------------------------------------------------------------- host */

static int create(int vm_fd, struct vsnix_device_config *c)
{
	c->console_fd = -1;
	return ioctl(vm_fd, VSNIX_CREATE_DEVICE, c);
}

static int create_host(int vm_fd)
{
	struct vsnix_device_config c = { .type = VSNIX_DEV_PCI_HOST };

	c.pci_host.ecam_base = PC_PCI_ECAM_BASE;
	c.pci_host.nr_buses = PC_PCI_BUSES;
	c.pci_host.intx_gsi_base = 16;
	c.pci_host.mmio_base = PC_PCI_MMIO_START;
	c.pci_host.mmio_size = PC_PCI_MMIO_END + 1 - PC_PCI_MMIO_START;
	return create(vm_fd, &c);
}

static int create_net(int vm_fd, const int *fds)
{
	struct vsnix_device_config c = { .type = VSNIX_DEV_VIRTIO_NET };

	c.virtio_net.fds[0] = fds[0];
	c.virtio_net.fds[1] = fds[1];
	c.virtio_net.nr_queue_pairs = 2;
	memcpy(c.virtio_net.mac, mac, 6);
	c.virtio_net.pci.slot = SLOT;
	c.virtio_net.pci.bar_base = BAR;
	return create(vm_fd, &c);
}

static bool stage(struct vsnix_test_vcpu *vcpu, uint64_t n, struct ucall *uc)
{
	char msg[256];
	uint64_t r = vcpu_run_ucall_soft(vcpu, uc);

	if (r == UCALL_ABORT) {
		ucall_abort_str(vcpu, uc, msg, sizeof(msg));
		tap_diag("guest: %s", msg);
	}
	if (r != UCALL_SYNC || uc->args[0] != n) {
		tap_diag("stage %lu: got %lu (%s)", (unsigned long)n,
			 (unsigned long)r, vcpu_exit_str(vcpu));
		return false;
	}
	return true;
}

/* Frames of our type that the device put on the tap: their tags. */
static int tap_tags(int s, char tags[][16], int max)
{
	struct pollfd p = { s, POLLIN, 0 };
	uint8_t f[2048];
	int n = 0;

	while (poll(&p, 1, 500) > 0) {
		struct sockaddr_ll from;
		socklen_t flen = sizeof(from);
		ssize_t len = recvfrom(s, f, sizeof(f), 0, (struct sockaddr *)&from,
				       &flen);

		if (len < 14 + 6 || from.sll_pkttype == PACKET_OUTGOING ||
		    f[12] != (ETYPE >> 8) || f[13] != (ETYPE & 0xff))
			continue;
		if (n < max)
			snprintf(tags[n], 16, "%.15s", (char *)f + 14);
		n++;
	}
	return n;
}

/* The counters line of the device's end in the kernel log, or "". */
static void kmsg_counters(int kfd, char *out, size_t len)
{
	char rec[1024];
	const char *m;
	ssize_t n;

	out[0] = '\0';
	while (kfd >= 0 && (n = read(kfd, rec, sizeof(rec) - 1)) > 0) {
		rec[n] = '\0';
		m = strstr(rec, "virtio-net 02:5e:00:00:0a:01: tx");
		if (m) {
			strncpy(out, m, len - 1);
			out[len - 1] = '\0';
			out[strcspn(out, "\n")] = '\0';
		}
	}
}

/* Stage 60's frame on the tap: SG_LEN bytes, each as sg_byte says. */
static bool tap_sg_frame(int s, ssize_t *got)
{
	struct pollfd p = { s, POLLIN, 0 };
	uint8_t f[4096];
	ssize_t i;

	*got = -1;
	while (poll(&p, 1, 2000) > 0) {
		struct sockaddr_ll from;
		socklen_t flen = sizeof(from);
		ssize_t len = recvfrom(s, f, sizeof(f), 0, (struct sockaddr *)&from,
				       &flen);

		if (len < 17 || from.sll_pkttype == PACKET_OUTGOING ||
		    f[12] != (ETYPE >> 8) || f[13] != (ETYPE & 0xff) ||
		    memcmp(f + 14, "sg", 3))
			continue;
		*got = len;
		if (len != SG_LEN)
			return false;
		for (i = 0; i < len; i++)
			if (f[i] != sg_byte(12 + i))
				return false;
		return true;
	}
	return false;
}

static bool ro_unchanged(const uint8_t *ro)
{
	size_t i;

	for (i = 0; i < XSLOT_SIZE; i++)
		if (ro[i] != RO_FILL)
			return false;
	return true;
}

static void send_rx_frame(int s)
{
	uint8_t f[RX_LEN];
	int i;

	memcpy(f, mac, 6);
	memcpy(f + 6, "\x02\x5e\x00\x00\x0a\x02", 6);
	f[12] = ETYPE >> 8;
	f[13] = ETYPE & 0xff;
	for (i = 14; i < RX_LEN; i++)
		f[i] = i * 7 + 3;
	if (send(s, f, sizeof(f), 0) != sizeof(f))
		tap_diag("send: %s", strerror(errno));
}

int main(void)
{
	struct vsnix_test_vcpu *vcpu;
	struct vsnix_test_vm *vm;
	struct gmem g, *gp;
	char tags[8][16], counters[512];
	struct ucall uc;
	const char *why;
	int fds[2], s, kfd, n, i;
	uint8_t *ro, *pin;

	vsnix_dev_fd();
	if (!(vsnix_cap(VSNIX_CAP_DEVICES) & (1 << VSNIX_DEV_VIRTIO_NET)))
		tap_skip_all("no VSNIX_DEV_VIRTIO_NET");
	why = net_private_ns();
	if (why)
		tap_skip_all("%s", why);
	tap_plan(NR_TESTS);
	kfd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (kfd >= 0)
		lseek(kfd, 0, SEEK_END);
	TEST_ASSERT(!vx_tap_open_queues(TAP, 2, fds), "tap: %s", vx_errmsg());
	net_link_up(TAP, true);
	s = net_packet_socket(TAP);
	TEST_ASSERT(s >= 0, "packet socket on " TAP);

	vm = vm_create_long(0x200000);
	vcpu = vcpu_create_long(vm, 0, guest_code);
	for (i = 0; i < NQ; i++)
		g.q[i] = vm_alloc(vm, 4096);
	g.tx = vm_alloc(vm, 4096);
	g.rx0 = vm_alloc(vm, 4096);
	g.rx1 = vm_alloc(vm, 4096);
	g.ctrl = vm_alloc(vm, 4096);
	g.big = vm_alloc(vm, BIG_LEN + 4096);
	ro = mmap(NULL, XSLOT_SIZE, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	pin = mmap(NULL, XSLOT_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	TEST_ASSERT(ro != MAP_FAILED && pin != MAP_FAILED, "mmap");
	memset(ro, RO_FILL, XSLOT_SIZE);
	vm_set_region(vm, 1, VSNIX_MEM_READONLY, RO_GPA, XSLOT_SIZE, ro);
	vm_set_region(vm, 2, VSNIX_MEM_PIN, PIN_GPA, XSLOT_SIZE, pin);
	gp = (struct gmem *)(uintptr_t)vm_alloc(vm, sizeof(g));
	vm_write(vm, (uintptr_t)gp, &g, sizeof(g));
	vcpu_set_args(vcpu, 1, (uint64_t)(uintptr_t)gp);

	tap_ok(!create_host(vm->fd) && !create_net(vm->fd, fds),
	       "PCI host bridge and virtio-net with 2 queue pairs on tap " TAP);
	vx_tap_close_queues(fds, 2);	/* the device holds its own */

	if (stage(vcpu, 1, &uc))
		tap_ok(!uc.args[1] && uc.args[2] == (0x00005e02ull | 2ull << 48 |
						      1ull << 47 | 0x010aull << 32),
		       "features accepted; config: MAC, link up, 2 pairs (err %lu, 0x%lx)",
		       (unsigned long)uc.args[1], (unsigned long)uc.args[2]);
	else
		tap_ok(false, "negotiation");
	if (stage(vcpu, 2, &uc))
		tap_ok(uc.args[1] == 0 && uc.args[2] == 1,
		       "control queue: VQ_PAIRS_SET 2 acked OK, 5 refused (%lu, %lu)",
		       (unsigned long)uc.args[1], (unsigned long)uc.args[2]);
	else
		tap_ok(false, "control queue");
	if (stage(vcpu, 3, &uc)) {
		n = tap_tags(s, tags, 8);
		tap_ok(uc.args[1] && uc.args[2] && n == 2 &&
		       ((!strcmp(tags[0], "tx-q0") && !strcmp(tags[1], "tx-q1")) ||
			(!strcmp(tags[0], "tx-q1") && !strcmp(tags[1], "tx-q0"))),
		       "a frame from each transmit queue arrived on the tap (%d frames)", n);
	} else {
		tap_ok(false, "transmit");
	}
	if (stage(vcpu, 4, &uc)) {
		send_rx_frame(s);
		if (stage(vcpu, 5, &uc)) {
			uint64_t v = uc.args[2];

			tap_ok((v & 0xffff) == 4 && ((v >> 16) & 0xffff) == 4 &&
			       ((v >> 32) & 0x7fffffff) == 12 + RX_LEN,
			       "a %d-byte frame from the tap in 4 mergeable buffers, num_buffers 4 (rx queue %lu, 0x%lx)",
			       RX_LEN, (unsigned long)uc.args[1], (unsigned long)v);
			tap_ok(v >> 63, "its bytes intact");
		} else {
			tap_ok(false, "receive");
			tap_ok(false, "receive data");
		}
	} else {
		tap_ok(false, "receive setup");
		tap_ok(false, "receive data");
	}
	if (stage(vcpu, 50, &uc)) {
		send_rx_frame(s);
		if (stage(vcpu, 51, &uc))
			tap_ok(uc.args[1] == 1 && (uint32_t)uc.args[2] == 4 &&
			       !(uc.args[2] >> 32),
			       "a device-readable receive buffer: returned unused, frame dropped (%lu, 0x%lx)",
			       (unsigned long)uc.args[1], (unsigned long)uc.args[2]);
		else
			tap_ok(false, "readable receive buffer");
	} else {
		tap_ok(false, "readable receive buffer setup");
	}
	if (stage(vcpu, 52, &uc)) {
		i = uc.args[1];
		n = tap_tags(s, tags, 8);
		send_rx_frame(s);
		if (stage(vcpu, 53, &uc))
			tap_ok(n == 1 && uc.args[1] == 5 && ro_unchanged(ro),
			       "a receive buffer in a read-only slot: returned unused, slot unchanged (rx queue %d, 0x%lx, %d frames out)",
			       i, (unsigned long)uc.args[1], n);
		else
			tap_ok(false, "read-only receive buffer");
	} else {
		tap_ok(false, "read-only receive buffer setup");
	}
	if (stage(vcpu, 54, &uc)) {
		n = tap_tags(s, tags, 8);
		send_rx_frame(s);
		if (stage(vcpu, 55, &uc))
			tap_ok(n == 1 && uc.args[1] == (6 | (uint64_t)(12 + RX_LEN) << 32) &&
			       uc.args[2] == 1,
			       "a receive buffer in a pinned slot: the frame intact, num_buffers 1 (0x%lx, %lu, %d frames out)",
			       (unsigned long)uc.args[1], (unsigned long)uc.args[2], n);
		else
			tap_ok(false, "pinned receive buffer");
	} else {
		tap_ok(false, "pinned receive buffer setup");
	}
	if (stage(vcpu, 6, &uc)) {
		n = tap_tags(s, tags, 8);
		tap_ok(uc.args[1] && uc.args[2] == S_OK_ALL && n == 1 && !strcmp(tags[0], "after"),
		       "hostile transmit chains dropped and returned; the next frame goes out (%d frames, status 0x%lx)",
		       n, (unsigned long)uc.args[2]);
	} else {
		tap_ok(false, "hostile transmit chains");
	}
	if (stage(vcpu, 60, &uc)) {
		ssize_t got;
		bool ok = tap_sg_frame(s, &got);

		tap_ok(uc.args[1] && uc.args[2] == S_OK_ALL && ok,
		       "a %d-byte frame in 4 descriptors (header split, pages crossed) arrived intact (%zd bytes, status 0x%lx)",
		       SG_LEN, got, (unsigned long)uc.args[2]);
	} else {
		tap_ok(false, "scattered transmit frame");
	}
	if (stage(vcpu, 7, &uc))
		tap_ok(uc.args[1] & S_NEEDS_RESET,
		       "a descriptor outside guest RAM: DEVICE_NEEDS_RESET (status 0x%lx)",
		       (unsigned long)uc.args[1]);
	else
		tap_ok(false, "descriptor outside RAM");
	tap_ok(vcpu_run_ucall(vcpu, &uc) == UCALL_DONE, "guest done");
	vm_destroy(vm);
	kmsg_counters(kfd, counters, sizeof(counters));
	tap_ok(strstr(counters, ": tx 6 rx 2;") &&
	       strstr(counters, "tx bad header 3 oversize 1 bad chain 1 host 0, rx too small 0 bad chain 2") != NULL,
	       "counters at the device's end: tx 6 sent, 3 bad headers (short, flags, GSO), 1 oversize, 1 writable; rx 2, 1 readable and 1 read-only buffer dropped (%s)",
	       counters);
	tap_ok(kernel_healthy(), "kernel healthy");
	tap_finish();
}
