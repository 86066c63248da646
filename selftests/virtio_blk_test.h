/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What virtio_blk.c and virtio_blk_hostile.c share: the guest's request
 * helpers (guest code: no libc) over selftests/lib/virtio_guest.c, and the
 * host's device set-up (a PCI host bridge, virtio-blk functions).
 *
 * Guest area at base (page aligned, VBT_AREA bytes): queue q's rings at
 * q * 16 KiB, headers at 0x8000, status bytes at 0x9000, discard ranges
 * at 0xa000, 4 KiB data buffers from 0x10000, a canary page at 0x20000.
 */
#ifndef VSNIX_VIRTIO_BLK_TEST_H
#define VSNIX_VIRTIO_BLK_TEST_H

#include "vsnix_util.h"
#include "virtio_guest.h"
#include <vsnix/pc.h>

#define VBT_ID_BLOCK		2
#define VBT_SECTORS		2048ull		/* a 1 MiB disk */
#define VBT_AREA		0x21000ull
#define VBT_BUF			4096
#define VBT_QSIZE		64
#define VBT_SERIAL		"vsnix-test-serial-01"	/* 20 bytes */

#define VBT_T_IN		0
#define VBT_T_OUT		1
#define VBT_T_FLUSH		4
#define VBT_T_GET_ID		8
#define VBT_T_DISCARD		11
#define VBT_T_WRITE_ZEROES	13
#define VBT_S_OK		0
#define VBT_S_IOERR		1
#define VBT_S_UNSUPP		2
#define VBT_S_NONE		0xfe		/* no used entry came */

#define VBT_F_SEG_MAX		2
#define VBT_F_RO		5
#define VBT_F_BLK_SIZE		6
#define VBT_F_FLUSH		9
#define VBT_F_MQ		12
#define VBT_F_DISCARD		13
#define VBT_F_WRITE_ZEROES	14
#define VBT_NEED	(1ull << VBT_F_SEG_MAX | 1ull << VBT_F_BLK_SIZE |	\
			 1ull << VBT_F_FLUSH | 1ull << VBT_F_MQ |		\
			 1ull << VBT_F_DISCARD | 1ull << VBT_F_WRITE_ZEROES |	\
			 1ull << VG_F_VERSION_1)
#define VBT_WANT	(VBT_NEED | 1ull << VBT_F_RO)

static inline uint64_t vbt_data(uint64_t base, int i)
{
	return base + 0x10000 + (uint64_t)i * 0x1000;
}

/* Pseudo-random bytes that host and guest agree on. */
static inline void vbt_fill(void *p, uint32_t len, uint32_t seed)
{
	volatile uint8_t *b = p;
	uint32_t i;

	for (i = 0; i < len; i++)
		b[i] = (uint8_t)(i * 7 + seed * 13 + (i >> 9) * 3 + 1);
}

static inline int vbt_queues(struct vg_dev *d, uint64_t base, uint64_t n)
{
	uint64_t q;

	for (q = 0; q < n; q++)
		if (vg_queue_setup(d, q, base + q * 0x4000, VBT_QSIZE))
			return -1;
	vg_driver_ok(d);
	return 0;
}

static inline uint64_t vbt_capacity(struct vg_dev *d)
{
	return *(volatile uint64_t *)d->device;
}

static inline void vbt_hdr(uint64_t base, int slot, uint32_t type,
			   uint64_t sector)
{
	volatile uint32_t *h = (volatile uint32_t *)(base + 0x8000 + 16 * slot);

	h[0] = type;
	h[1] = 0;
	*(volatile uint64_t *)&h[2] = sector;
	*(volatile uint8_t *)(base + 0x9000 + slot) = 0xff;
}

static inline uint8_t vbt_status(uint64_t base, int slot)
{
	return *(volatile uint8_t *)(base + 0x9000 + slot);
}

/* Posts head on queue qi, kicks, waits: the status byte or VBT_S_NONE. */
static inline uint8_t vbt_submit(struct vg_dev *d, int qi, uint64_t base,
				 uint16_t head, uint32_t *used)
{
	struct vg_used_elem e;

	*used = 0;
	vg_post(d, qi, head);
	vg_kick(d, qi);
	if (!vg_wait_used(d, qi, &e))
		return VBT_S_NONE;
	*used = e.len;
	return vbt_status(base, 0);
}

/* One request: header, data (if len), status; the status byte. */
static inline uint8_t vbt_rw(struct vg_dev *d, int qi, uint64_t base,
			     uint32_t type, uint64_t sector, uint64_t data,
			     uint32_t len, uint32_t *used)
{
	uint16_t wr = (type == VBT_T_IN || type == VBT_T_GET_ID ||
		       type == 99) ? VG_DESC_F_WRITE : 0;

	vbt_hdr(base, 0, type, sector);
	vg_set_desc(d, qi, 0, base + 0x8000, 16, VG_DESC_F_NEXT, len ? 1 : 2);
	if (len)
		vg_set_desc(d, qi, 1, data, len, VG_DESC_F_NEXT | wr, 2);
	vg_set_desc(d, qi, 2, base + 0x9000, 1, VG_DESC_F_WRITE, 0);
	return vbt_submit(d, qi, base, 0, used);
}

/* DISCARD or WRITE_ZEROES of one range. */
static inline uint8_t vbt_zero(struct vg_dev *d, uint64_t base, uint32_t type,
			       uint64_t sector, uint32_t n, uint32_t flags)
{
	volatile uint32_t *r = (volatile uint32_t *)(base + 0xa000);
	uint32_t used = 0;

	*(volatile uint64_t *)r = sector;
	r[2] = n;
	r[3] = flags;
	vbt_hdr(base, 0, type, 0);
	vg_set_desc(d, 0, 0, base + 0x8000, 16, VG_DESC_F_NEXT, 1);
	vg_set_desc(d, 0, 1, base + 0xa000, 16, VG_DESC_F_NEXT, 2);
	vg_set_desc(d, 0, 2, base + 0x9000, 1, VG_DESC_F_WRITE, 0);
	return vbt_submit(d, 0, base, 0, &used);
}

/* n 4 KiB writes posted at once, one kick: how many answered OK. */
static inline uint64_t vbt_many(struct vg_dev *d, uint64_t base, int n)
{
	struct vg_used_elem e;
	uint64_t ok = 0;
	int i;

	for (i = 0; i < n; i++) {
		uint16_t h = 3 * i;

		vbt_fill((void *)vbt_data(base, 8 + i), 4096, 100 + i);
		vbt_hdr(base, i, VBT_T_OUT, 32 + 8 * i);
		vg_set_desc(d, 0, h, base + 0x8000 + 16 * i, 16,
			    VG_DESC_F_NEXT, h + 1);
		vg_set_desc(d, 0, h + 1, vbt_data(base, 8 + i), 4096,
			    VG_DESC_F_NEXT, h + 2);
		vg_set_desc(d, 0, h + 2, base + 0x9000 + i, 1,
			    VG_DESC_F_WRITE, 0);
		vg_post(d, 0, h);
	}
	vg_kick(d, 0);
	for (i = 0; i < n; i++) {
		if (!vg_wait_used(d, 0, &e))
			break;
		if (e.id % 3 == 0 && e.id / 3 < (uint32_t)n &&
		    vbt_status(base, e.id / 3) == VBT_S_OK)
			ok++;
	}
	return ok;
}

/* A header of 8 bytes, then the status. */
static inline uint8_t vbt_short_header(struct vg_dev *d, uint64_t base)
{
	uint32_t used = 0;

	vbt_hdr(base, 0, VBT_T_IN, 0);
	vg_set_desc(d, 0, 0, base + 0x8000, 8, VG_DESC_F_NEXT, 2);
	vg_set_desc(d, 0, 2, base + 0x9000, 1, VG_DESC_F_WRITE, 0);
	return vbt_submit(d, 0, base, 0, &used);
}

/* ------------------------------------------------------------ host side */

static inline void vbt_pci_host(struct vsnix_test_vm *vm)
{
	struct vsnix_device_config c = {
		.type = VSNIX_DEV_PCI_HOST, .console_fd = -1,
		.pci_host = { .ecam_base = PC_PCI_ECAM_BASE,
			      .nr_buses = PC_PCI_BUSES, .intx_gsi_base = 16,
			      .mmio_base = PC_PCI_MMIO_START,
			      .mmio_size = PC_PCI_MMIO_END + 1 -
					   PC_PCI_MMIO_START },
	};

	TEST_ASSERT(ioctl(vm->fd, VSNIX_CREATE_DEVICE, &c) >= 0,
		    "PCI host bridge: %s", strerror(errno));
}

/* A virtio-blk function at slot (its BAR by slot); the id or -1. */
static inline int vbt_blk(struct vsnix_test_vm *vm, int fd, uint32_t flags,
			  uint16_t nr_queues, uint8_t slot)
{
	struct vsnix_device_config c = {
		.type = VSNIX_DEV_VIRTIO_BLK, .console_fd = -1,
		.virtio_blk = { .fd = fd, .flags = flags,
				.nr_queues = nr_queues,
				.pci = { .slot = slot,
					 .bar_base = PC_PCI_MMIO_START +
						     (slot - 1) * PC_PCI_BAR_SIZE } },
	};

	memcpy(c.virtio_blk.serial, VBT_SERIAL, 20);
	return ioctl(vm->fd, VSNIX_CREATE_DEVICE, &c) < 0 ? -1 : (int)c.id;
}

/*
 * A VM with the test area, a PCI host bridge and one single-queue
 * virtio-blk on fd at slot 1; vCPU 0 runs guest(base). The area's base.
 */
static inline uint64_t vbt_one_disk_vm(struct vsnix_test_vm **vm,
				       struct vsnix_test_vcpu **vcpu, int fd,
				       void (*guest)(uint64_t base))
{
	uint64_t base;

	*vm = vm_create_long(VBT_AREA + 0x10000);
	base = vm_alloc(*vm, VBT_AREA + 0x1000);
	base = (base + 0xfff) & ~0xfffull;
	vbt_pci_host(*vm);
	TEST_ASSERT(vbt_blk(*vm, fd, 0, 1, 1) > 0, "virtio-blk: %s", strerror(errno));
	*vcpu = vcpu_create_long(*vm, 0, guest);
	vcpu_set_args(*vcpu, 1, base);
	return base;
}

#endif /* VSNIX_VIRTIO_BLK_TEST_H */
