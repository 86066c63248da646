// SPDX-License-Identifier: GPL-2.0
/*
 * A minimal QEMU fw_cfg (QEMU docs/specs/fw_cfg.rst), traditional I/O port
 * interface only: a 16-bit write of a key to the selector port picks an
 * item and rewinds it; each byte read from the data port returns the next
 * byte of the item, and 0 past its end or for a key we do not know. The
 * ID item says "no DMA interface", so guests never look for port 0x514.
 */
#define pr_fmt(fmt) "vsnix: " fmt

#include <linux/slab.h>
#include "devices.h"
#include "../core/compat.h"

#define FW_CFG_PORT_SELECTOR	0x510
#define FW_CFG_PORT_DATA	0x511
#define FW_CFG_NR_PORTS		2

#define FW_CFG_SIGNATURE	0x0000
#define FW_CFG_ID		0x0001
#define FW_CFG_RAM_SIZE		0x0003
#define FW_CFG_NB_CPUS		0x0005
#define FW_CFG_FILE_DIR		0x0019

#define FW_CFG_ID_TRADITIONAL	0x01	/* bit 1 (DMA) clear */

struct vsnix_fw_cfg_item {
	u16 key;
	u8 len;
	u8 data[8];
};

enum {
	FW_CFG_ITEM_SIGNATURE,
	FW_CFG_ITEM_ID,
	FW_CFG_ITEM_RAM_SIZE,
	FW_CFG_ITEM_NB_CPUS,
	FW_CFG_ITEM_FILE_DIR,
	FW_CFG_NR_ITEMS,
};

struct vsnix_fw_cfg {
	struct vsnix_io_device io;
	struct mutex lock;		/* selector and offset */
	u16 selector;
	u32 offset;			/* next byte of the selected item */
	struct vsnix_fw_cfg_item items[FW_CFG_NR_ITEMS];
};

static struct vsnix_fw_cfg *to_fw_cfg(struct vsnix_io_device *io)
{
	return container_of(io, struct vsnix_fw_cfg, io);
}

static const struct vsnix_fw_cfg_item *
vsnix_fw_cfg_find(const struct vsnix_fw_cfg *fc, u16 key)
{
	int i;

	for (i = 0; i < FW_CFG_NR_ITEMS; i++)
		if (fc->items[i].key == key)
			return &fc->items[i];
	return NULL;
}

static u8 vsnix_fw_cfg_next_byte(struct vsnix_fw_cfg *fc)
{
	const struct vsnix_fw_cfg_item *item;

	item = vsnix_fw_cfg_find(fc, fc->selector);
	if (!item || fc->offset >= item->len)
		return 0;
	return item->data[fc->offset++];
}

static int vsnix_fw_cfg_read(struct vsnix_io_device *io,
			     struct vsnix_vcpu *vcpu, u64 addr,
			     unsigned int len, void *val)
{
	struct vsnix_fw_cfg *fc = to_fw_cfg(io);

	/* The data port is 8 bits wide; wider reads are not defined. */
	if (len != 1) {
		memset(val, 0, len);
		return VSNIX_IO_DONE;
	}
	mutex_lock(&fc->lock);
	*(u8 *)val = vsnix_fw_cfg_next_byte(fc);
	mutex_unlock(&fc->lock);
	return VSNIX_IO_DONE;
}

static int vsnix_fw_cfg_write(struct vsnix_io_device *io,
			      struct vsnix_vcpu *vcpu, u64 addr,
			      unsigned int len, const void *val)
{
	struct vsnix_fw_cfg *fc = to_fw_cfg(io);

	/* Writes to the data port are deprecated in QEMU: ignored here. */
	if (addr != FW_CFG_PORT_SELECTOR || len != 2)
		return VSNIX_IO_DONE;
	mutex_lock(&fc->lock);
	fc->selector = get_unaligned_le16(val);
	fc->offset = 0;
	mutex_unlock(&fc->lock);
	return VSNIX_IO_DONE;
}

static void vsnix_fw_cfg_destroy(struct vsnix_io_device *io)
{
	kfree(to_fw_cfg(io));
}

/* Power-on: no item selected yet (key 0, the signature, at its start). */
static void vsnix_fw_cfg_reset(struct vsnix_io_device *io)
{
	struct vsnix_fw_cfg *fc = to_fw_cfg(io);

	mutex_lock(&fc->lock);
	fc->selector = 0;
	fc->offset = 0;
	mutex_unlock(&fc->lock);
}

static void vsnix_fw_cfg_save(struct vsnix_io_device *io, void *state)
{
	struct vsnix_fw_cfg *fc = to_fw_cfg(io);
	struct vsnix_fw_cfg_state *st = state;

	mutex_lock(&fc->lock);
	st->selector = fc->selector;
	st->offset = fc->offset;
	mutex_unlock(&fc->lock);
}

/* Any selector and offset are safe: unknown keys and the end read 0. */
static int vsnix_fw_cfg_restore(struct vsnix_io_device *io, const void *state)
{
	struct vsnix_fw_cfg *fc = to_fw_cfg(io);
	const struct vsnix_fw_cfg_state *st = state;

	if (st->pad)
		return -EINVAL;
	mutex_lock(&fc->lock);
	fc->selector = st->selector;
	fc->offset = st->offset;
	mutex_unlock(&fc->lock);
	return 0;
}

static const struct vsnix_io_ops vsnix_fw_cfg_ops = {
	.type = VSNIX_DEV_FW_CFG,
	.read = vsnix_fw_cfg_read,
	.write = vsnix_fw_cfg_write,
	.destroy = vsnix_fw_cfg_destroy,
	.reset = vsnix_fw_cfg_reset,
	.save = vsnix_fw_cfg_save,
	.restore = vsnix_fw_cfg_restore,
	.state_version = VSNIX_FW_CFG_STATE_VERSION,
	.state_size = sizeof(struct vsnix_fw_cfg_state),
};

static void vsnix_fw_cfg_fill(struct vsnix_fw_cfg *fc,
			      const struct vsnix_fw_cfg_config *cfg)
{
	struct vsnix_fw_cfg_item *it = fc->items;

	it[FW_CFG_ITEM_SIGNATURE].key = FW_CFG_SIGNATURE;
	it[FW_CFG_ITEM_SIGNATURE].len = 4;
	memcpy(it[FW_CFG_ITEM_SIGNATURE].data, "QEMU", 4);

	it[FW_CFG_ITEM_ID].key = FW_CFG_ID;
	it[FW_CFG_ITEM_ID].len = 4;
	put_unaligned_le32(FW_CFG_ID_TRADITIONAL, it[FW_CFG_ITEM_ID].data);

	it[FW_CFG_ITEM_RAM_SIZE].key = FW_CFG_RAM_SIZE;
	it[FW_CFG_ITEM_RAM_SIZE].len = 8;
	put_unaligned_le64(cfg->ram_size, it[FW_CFG_ITEM_RAM_SIZE].data);

	it[FW_CFG_ITEM_NB_CPUS].key = FW_CFG_NB_CPUS;
	it[FW_CFG_ITEM_NB_CPUS].len = 2;
	put_unaligned_le16(cfg->nr_cpus, it[FW_CFG_ITEM_NB_CPUS].data);

	/* The file directory's count is big-endian (fw_cfg.rst); no files. */
	it[FW_CFG_ITEM_FILE_DIR].key = FW_CFG_FILE_DIR;
	it[FW_CFG_ITEM_FILE_DIR].len = 4;
	put_unaligned_be32(0, it[FW_CFG_ITEM_FILE_DIR].data);
}

int vsnix_fw_cfg_create(struct vsnix_vm *vm,
			const struct vsnix_fw_cfg_config *cfg)
{
	struct vsnix_fw_cfg *fc;
	int ret;

	if (cfg->pad || !vsnix_dev_all_zero(cfg->reserved,
					    sizeof(cfg->reserved))) {
		pr_warn_ratelimited("fw_cfg: pad and reserved must be zero\n");
		return -EINVAL;
	}
	if (!cfg->nr_cpus || cfg->nr_cpus > VSNIX_MAX_VCPUS) {
		pr_warn_ratelimited("fw_cfg: nr_cpus %u is not in 1..%d\n",
				    cfg->nr_cpus, VSNIX_MAX_VCPUS);
		return -EINVAL;
	}
	if (!cfg->ram_size) {
		pr_warn_ratelimited("fw_cfg: ram_size must not be 0\n");
		return -EINVAL;
	}
	fc = kzalloc(sizeof(*fc), GFP_KERNEL_ACCOUNT);
	if (!fc)
		return -ENOMEM;
	mutex_init(&fc->lock);
	vsnix_fw_cfg_fill(fc, cfg);
	fc->io.bus = VSNIX_BUS_PIO;
	fc->io.base = FW_CFG_PORT_SELECTOR;
	fc->io.len = FW_CFG_NR_PORTS;
	fc->io.ops = &vsnix_fw_cfg_ops;
	ret = vsnix_dev_register(vm, &fc->io, "fw_cfg");
	if (ret < 0)
		kfree(fc);
	return ret;
}
