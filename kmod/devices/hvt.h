/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The hvt device (Solo5 hvt ABI, uapi/linux/vsnix_hvt.h), shared by its
 * two files: hvt.c serves the hypercalls, hvt_create.c builds a device
 * from VSNIX_CREATE_DEVICE's config. Block and net data go through the
 * backends of kmod/backends (a file or block device, a tap).
 */
#ifndef VSNIX_DEVICES_HVT_H
#define VSNIX_DEVICES_HVT_H

#include "devices.h"
#include "../backends/backend.h"

/* 0x500..0x50f: room for an outl at the last hypercall (HALT = 8). */
#define HVT_NR_PORTS		16

/*
 * Data moves between backends and guest RAM through one buffer per device.
 * It holds the largest tap frame (64 KiB MTU + Ethernet and VLAN headers).
 */
#define HVT_BOUNCE_SIZE		(68 * 1024)
#define HVT_MAX_SECTOR_SIZE	32768	/* Solo5's block_size is a u16 */

struct vsnix_hvt_blk {
	struct vsnix_blk_backend *be;
	u64 capacity;		/* bytes, a multiple of sector_size */
	u32 sector_size;
	u8 handle;
	char name[VSNIX_DEV_NAME_LEN];
};

struct vsnix_hvt_netdev {
	struct vsnix_net_backend *be;
	u8 handle;
	char name[VSNIX_DEV_NAME_LEN];
};

/* All of one hvt device's state. */
struct vsnix_hvt {
	struct vsnix_io_device io;
	struct vsnix_vm *vm;
	struct file *console;
	unsigned int nr_block;
	unsigned int nr_net;
	struct vsnix_hvt_blk *block;	/* nr_block of them */
	struct vsnix_hvt_netdev *net;	/* nr_net of them */
	struct mutex bounce_lock;	/* bounce */
	void *bounce;
};

extern const struct vsnix_io_ops vsnix_hvt_ops;

/* Frees a device that hvt_create.c built, whole or in part. */
void vsnix_hvt_free(struct vsnix_hvt *hvt);

#endif /* VSNIX_DEVICES_HVT_H */
