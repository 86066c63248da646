// SPDX-License-Identifier: GPL-2.0
/*
 * A minimal virtio 1.x PCI driver for selftest guests (virtio 1.2 4.1):
 * the vendor capabilities name the common, notify, ISR and device
 * configuration structures inside a memory BAR (4.1.4); queues are split
 * virtqueues (2.7) the guest polls. Guest code: no libc.
 */
#include "virtio_guest.h"

#define PCI_VENDOR_VIRTIO	0x1af4
#define PCI_CAP_PTR		0x34
#define PCI_CAP_ID_VNDR		0x09
#define VIRTIO_CAP_COMMON	1
#define VIRTIO_CAP_NOTIFY	2
#define VIRTIO_CAP_ISR		3
#define VIRTIO_CAP_DEVICE	4

/* Common configuration offsets (4.1.4.3). */
#define CC_DFSELECT	0
#define CC_DF		4
#define CC_GFSELECT	8
#define CC_GF		12
#define CC_MSIX		16
#define CC_NUMQ		18
#define CC_STATUS	20
#define CC_QSELECT	22
#define CC_QSIZE	24
#define CC_QMSIX	26
#define CC_QENABLE	28
#define CC_QNOFF	30
#define CC_QDESC	32
#define CC_QDRIVER	40
#define CC_QDEVICE	48

#define VG_POLL_LIMIT	20000000ull

static inline void vg_mb(void)
{
	asm volatile("mfence" ::: "memory");
}

static uint32_t cfg_r32(uint64_t a)
{
	return *(volatile uint32_t *)a;
}

static uint8_t cfg_r8(uint64_t a)
{
	return *(volatile uint8_t *)a;
}

static void cc_w8(struct vg_dev *d, int off, uint8_t v)
{
	*(volatile uint8_t *)(d->common + off) = v;
}

static void cc_w16(struct vg_dev *d, int off, uint16_t v)
{
	*(volatile uint16_t *)(d->common + off) = v;
}

static void cc_w32(struct vg_dev *d, int off, uint32_t v)
{
	*(volatile uint32_t *)(d->common + off) = v;
}

static uint16_t cc_r16(struct vg_dev *d, int off)
{
	return *(volatile uint16_t *)(d->common + off);
}

static uint32_t cc_r32(struct vg_dev *d, int off)
{
	return *(volatile uint32_t *)(d->common + off);
}

void vg_memset(void *p, int c, uint64_t n)
{
	volatile uint8_t *b = p;

	while (n--)
		*b++ = (uint8_t)c;
}

void vg_memcpy(void *d, const void *s, uint64_t n)
{
	volatile uint8_t *db = d;
	const volatile uint8_t *sb = s;

	while (n--)
		*db++ = *sb++;
}

static uint64_t bar_addr(uint64_t cfg, int bar)
{
	uint32_t lo = cfg_r32(cfg + 0x10 + 4 * bar);
	uint64_t a = lo & ~0xfull;

	if ((lo & 6) == 4)	/* 64-bit memory BAR */
		a |= (uint64_t)cfg_r32(cfg + 0x14 + 4 * bar) << 32;
	return a;
}

static int vg_caps(struct vg_dev *d)
{
	uint8_t at = cfg_r8(d->cfg + PCI_CAP_PTR) & ~3;
	int n = 0;

	while (at && n++ < 48) {
		uint64_t c = d->cfg + at;
		uint8_t type = cfg_r8(c + 3);
		uint64_t where;

		if (cfg_r8(c) == PCI_CAP_ID_VNDR && cfg_r8(c + 4) < 6) {
			where = bar_addr(d->cfg, cfg_r8(c + 4)) + cfg_r32(c + 8);
			if (type == VIRTIO_CAP_COMMON && !d->common)
				d->common = (volatile uint8_t *)where;
			else if (type == VIRTIO_CAP_NOTIFY && !d->notify_base) {
				d->notify_base = where;
				d->notify_mult = cfg_r32(c + 16);
			} else if (type == VIRTIO_CAP_ISR && !d->isr)
				d->isr = (volatile uint8_t *)where;
			else if (type == VIRTIO_CAP_DEVICE && !d->device)
				d->device = (volatile uint8_t *)where;
		}
		at = cfg_r8(c + 1) & ~3;
	}
	return d->common && d->notify_base && d->isr ? 0 : -1;
}

int vg_find(struct vg_dev *d, uint16_t id, int nth)
{
	int slot;

	vg_memset(d, 0, sizeof(*d));
	for (slot = 1; slot < 32; slot++) {
		uint64_t cfg = VG_ECAM_BASE + ((uint64_t)slot << 15);
		uint32_t vd = cfg_r32(cfg);

		if ((vd & 0xffff) != PCI_VENDOR_VIRTIO ||
		    (vd >> 16) != 0x1040 + id || nth--)
			continue;
		/* Memory space and bus master on (command register). */
		*(volatile uint16_t *)(cfg + 4) = 6;
		d->cfg = cfg;
		return vg_caps(d);
	}
	return -1;
}

uint8_t vg_status(struct vg_dev *d)
{
	return d->common[CC_STATUS];
}

void vg_reset(struct vg_dev *d)
{
	uint64_t i;

	cc_w8(d, CC_STATUS, 0);
	/* 4.1.4.3.2: the reset is done when status reads 0. */
	for (i = 0; i < VG_POLL_LIMIT && vg_status(d); i++)
		asm volatile("pause");
	for (i = 0; i < VG_MAX_QUEUES; i++) {
		d->q[i].avail_idx = 0;
		d->q[i].last_used = 0;
	}
}

uint16_t vg_num_queues(struct vg_dev *d)
{
	return cc_r16(d, CC_NUMQ);
}

uint64_t vg_init(struct vg_dev *d, uint64_t want)
{
	uint64_t offered;

	vg_reset(d);
	cc_w8(d, CC_STATUS, VG_S_ACK);
	cc_w8(d, CC_STATUS, VG_S_ACK | VG_S_DRIVER);
	cc_w32(d, CC_DFSELECT, 0);
	offered = cc_r32(d, CC_DF);
	cc_w32(d, CC_DFSELECT, 1);
	offered |= (uint64_t)cc_r32(d, CC_DF) << 32;
	want = (want & offered) | (1ull << VG_F_VERSION_1);
	cc_w32(d, CC_GFSELECT, 0);
	cc_w32(d, CC_GF, (uint32_t)want);
	cc_w32(d, CC_GFSELECT, 1);
	cc_w32(d, CC_GF, (uint32_t)(want >> 32));
	cc_w8(d, CC_STATUS, VG_S_ACK | VG_S_DRIVER | VG_S_FEATURES_OK);
	if (!(vg_status(d) & VG_S_FEATURES_OK))
		return 0;
	d->features = want;
	return want;
}

int vg_queue_setup(struct vg_dev *d, int qi, uint64_t ring_gpa, uint16_t size)
{
	struct vg_queue *q = &d->q[qi];
	uint16_t off;

	cc_w16(d, CC_QSELECT, qi);
	if (cc_r16(d, CC_QSIZE) < size)
		return -1;
	cc_w16(d, CC_QSIZE, size);
	cc_w16(d, CC_QMSIX, 0xffff);
	*(volatile uint64_t *)(d->common + CC_QDESC) = ring_gpa;
	*(volatile uint64_t *)(d->common + CC_QDRIVER) = ring_gpa + 0x1000;
	*(volatile uint64_t *)(d->common + CC_QDEVICE) = ring_gpa + 0x2000;
	off = cc_r16(d, CC_QNOFF);
	vg_memset((void *)ring_gpa, 0, 0x3000);
	q->desc = (volatile struct vg_desc *)ring_gpa;
	q->avail = (volatile uint16_t *)(ring_gpa + 0x1000);
	q->used = (volatile uint8_t *)(ring_gpa + 0x2000);
	q->notify = (volatile uint16_t *)(d->notify_base +
					  (uint64_t)off * d->notify_mult);
	q->size = size;
	q->avail_idx = 0;
	q->last_used = 0;
	cc_w16(d, CC_QENABLE, 1);
	return 0;
}

void vg_driver_ok(struct vg_dev *d)
{
	cc_w8(d, CC_STATUS, vg_status(d) | VG_S_DRIVER_OK);
}

void vg_set_desc(struct vg_dev *d, int qi, uint16_t i, uint64_t addr,
		 uint32_t len, uint16_t flags, uint16_t next)
{
	volatile struct vg_desc *desc = &d->q[qi].desc[i];

	desc->addr = addr;
	desc->len = len;
	desc->flags = flags;
	desc->next = next;
}

void vg_post(struct vg_dev *d, int qi, uint16_t head)
{
	struct vg_queue *q = &d->q[qi];

	q->avail[2 + (q->avail_idx % q->size)] = head;
	vg_mb();
	q->avail_idx++;
	q->avail[1] = q->avail_idx;
	vg_mb();
}

void vg_set_avail_idx(struct vg_dev *d, int qi, uint16_t idx)
{
	vg_mb();
	d->q[qi].avail[1] = idx;
	vg_mb();
}

void vg_kick(struct vg_dev *d, int qi)
{
	*d->q[qi].notify = qi;
}

int vg_wait_used(struct vg_dev *d, int qi, struct vg_used_elem *e)
{
	struct vg_queue *q = &d->q[qi];
	volatile uint16_t *idx = (volatile uint16_t *)(q->used + 2);
	volatile struct vg_used_elem *ring;
	uint64_t i;

	for (i = 0; i < VG_POLL_LIMIT; i++) {
		if (*idx != q->last_used)
			break;
		asm volatile("pause");
	}
	if (*idx == q->last_used)
		return 0;
	vg_mb();
	ring = (volatile struct vg_used_elem *)(q->used + 4);
	e->id = ring[q->last_used % q->size].id;
	e->len = ring[q->last_used % q->size].len;
	q->last_used++;
	return 1;
}

int vg_wait_status(struct vg_dev *d, uint8_t bits)
{
	uint64_t i;

	for (i = 0; i < VG_POLL_LIMIT; i++) {
		if ((vg_status(d) & bits) == bits)
			return 1;
		asm volatile("pause");
	}
	return 0;
}
