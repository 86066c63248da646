/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vSnix selftest library, guest side: a minimal virtio 1.x PCI driver
 * (virtio 1.2 sections 2.7 and 4.1) for guests that drive a device
 * directly, through ECAM, with polled split virtqueues. Tests build
 * descriptor chains by hand, well-formed or not.
 */
#ifndef VSNIX_SELFTEST_VIRTIO_GUEST_H
#define VSNIX_SELFTEST_VIRTIO_GUEST_H

#include <stdint.h>

#define VG_ECAM_BASE		0xe0000000ull	/* pc.h PC_PCI_ECAM_BASE */
#define VG_MAX_QUEUES		4

/* Device status bits (2.1). */
#define VG_S_ACK		1
#define VG_S_DRIVER		2
#define VG_S_DRIVER_OK		4
#define VG_S_FEATURES_OK	8
#define VG_S_NEEDS_RESET	0x40
#define VG_S_FAILED		0x80

#define VG_F_VERSION_1		32
#define VG_F_INDIRECT_DESC	28
#define VG_F_EVENT_IDX		29

#define VG_DESC_F_NEXT		1
#define VG_DESC_F_WRITE		2
#define VG_DESC_F_INDIRECT	4

struct vg_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct vg_used_elem {
	uint32_t id;
	uint32_t len;
};

struct vg_queue {
	volatile struct vg_desc *desc;
	volatile uint16_t *avail;	/* flags, idx, ring[size], used_event */
	volatile uint8_t *used;		/* flags, idx, ring[size], avail_event */
	volatile uint16_t *notify;
	uint16_t size;
	uint16_t avail_idx;		/* next free avail slot (driver's) */
	uint16_t last_used;		/* next used entry to read */
};

struct vg_dev {
	uint64_t cfg;			/* ECAM address of the function */
	volatile uint8_t *common;
	volatile uint8_t *isr;
	volatile uint8_t *device;
	uint64_t notify_base;
	uint32_t notify_mult;
	uint64_t features;		/* accepted */
	struct vg_queue q[VG_MAX_QUEUES];
};

/* Finds virtio device type `id` on bus 0; 0 or -1 (absent, no caps). */
int vg_find(struct vg_dev *d, uint16_t id, int nth);
/*
 * Reset, ACKNOWLEDGE, DRIVER, features offered & want (+ VERSION_1),
 * FEATURES_OK. Returns the accepted features, 0 on failure.
 */
uint64_t vg_init(struct vg_dev *d, uint64_t want);
/*
 * Queue qi at ring_gpa (16 KiB, page aligned: descriptors, then the
 * avail ring at +4 KiB, the used ring at +8 KiB), size entries, no MSI-X
 * vector; 0 or -1.
 */
int vg_queue_setup(struct vg_dev *d, int qi, uint64_t ring_gpa, uint16_t size);
void vg_driver_ok(struct vg_dev *d);
uint8_t vg_status(struct vg_dev *d);
void vg_reset(struct vg_dev *d);
uint16_t vg_num_queues(struct vg_dev *d);

/* Descriptor i of queue qi. */
void vg_set_desc(struct vg_dev *d, int qi, uint16_t i, uint64_t addr,
		 uint32_t len, uint16_t flags, uint16_t next);
/* Makes head available (does not notify). */
void vg_post(struct vg_dev *d, int qi, uint16_t head);
/* Writes avail->idx directly (a hostile jump). */
void vg_set_avail_idx(struct vg_dev *d, int qi, uint16_t idx);
void vg_kick(struct vg_dev *d, int qi);
/*
 * Waits for the next used entry (polls, with a bound); 1 with *e filled,
 * 0 on time-out.
 */
int vg_wait_used(struct vg_dev *d, int qi, struct vg_used_elem *e);
/* Polls device status for `bits` (NEEDS_RESET); 1 when set. */
int vg_wait_status(struct vg_dev *d, uint8_t bits);

/* Little helpers without libc. */
void vg_memset(void *p, int c, uint64_t n);
void vg_memcpy(void *d, const void *s, uint64_t n);

#endif /* VSNIX_SELFTEST_VIRTIO_GUEST_H */
