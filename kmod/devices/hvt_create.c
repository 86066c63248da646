// SPDX-License-Identifier: GPL-2.0
/*
 * Creating an hvt device from VSNIX_CREATE_DEVICE's config (both
 * versions): handles, names, and a backend for each block and net device.
 */
#define pr_fmt(fmt) "vsnix: " fmt

#include <linux/file.h>
#include <linux/fs.h>
#include <linux/slab.h>
#include <uapi/linux/vsnix_hvt.h>
#include "hvt.h"

static const char *hvt_kind_name(u32 kind)
{
	return kind == VSNIX_HVT_DEV_BLOCK ? "block" : "net";
}

/* A device name: NUL-terminated inside its field (used in messages). */
static int hvt_copy_name(char *dst, const struct vsnix_hvt_dev *in,
			 unsigned int i)
{
	if (!memchr(in->name, 0, VSNIX_DEV_NAME_LEN)) {
		pr_warn_ratelimited("hvt: device %u (%s): name is not NUL-terminated\n",
				    i, hvt_kind_name(in->kind));
		return -EINVAL;
	}
	strscpy(dst, in->name, VSNIX_DEV_NAME_LEN);
	return 0;
}

/* Handles are manifest indices: 1..63, each used once. */
static int hvt_check_handle(u64 *used, const struct vsnix_hvt_dev *in,
			    unsigned int i)
{
	const char *kind = hvt_kind_name(in->kind);

	if (!in->handle || in->handle > VSNIX_HVT_MAX_HANDLE) {
		pr_warn_ratelimited("hvt: %s %u '%s': handle %u is not a manifest index in 1..%d\n",
				    kind, i, in->name, in->handle,
				    VSNIX_HVT_MAX_HANDLE);
		return -EINVAL;
	}
	if (*used & BIT_ULL(in->handle)) {
		pr_warn_ratelimited("hvt: %s %u '%s': handle %u is given twice\n",
				    kind, i, in->name, in->handle);
		return -EINVAL;
	}
	*used |= BIT_ULL(in->handle);
	return 0;
}

/* fget(fd), requiring it open for reading and writing. */
static struct file *hvt_get_rw_file(const struct vsnix_hvt_dev *in,
				    unsigned int i)
{
	const char *kind = hvt_kind_name(in->kind);
	struct file *file = fget(in->fd);

	if (!file) {
		pr_warn_ratelimited("hvt: %s %u '%s': fd %d is not an open file\n",
				    kind, i, in->name, in->fd);
		return ERR_PTR(-EBADF);
	}
	if ((file->f_mode & (FMODE_READ | FMODE_WRITE)) !=
	    (FMODE_READ | FMODE_WRITE)) {
		pr_warn_ratelimited("hvt: %s %u '%s': fd %d is not open O_RDWR\n",
				    kind, i, in->name, in->fd);
		fput(file);
		return ERR_PTR(-EBADF);
	}
	return file;
}

/* The name messages give a device: "hvt: block 0 'storage' (fd 5)". */
static void hvt_who(char *who, size_t size, const struct vsnix_hvt_dev *in,
		    unsigned int i, const char *name)
{
	snprintf(who, size, "hvt: %s %u '%s' (fd %d)", hvt_kind_name(in->kind),
		 i, name, in->fd);
}

static int hvt_setup_block(struct vsnix_hvt_blk *blk,
			   const struct vsnix_hvt_dev *in, unsigned int i)
{
	char who[VSNIX_DEV_NAME_LEN + 48];
	struct file *file;
	int ret;

	ret = hvt_copy_name(blk->name, in, i);
	if (ret)
		return ret;
	blk->handle = in->handle;
	blk->sector_size = in->sector_size ? in->sector_size : 512;
	if (blk->sector_size < 512 || blk->sector_size > HVT_MAX_SECTOR_SIZE ||
	    !is_power_of_2(blk->sector_size)) {
		pr_warn_ratelimited("hvt: block %u '%s': sector size %u is not a power of 2 in 512..%d\n",
				    i, blk->name, blk->sector_size,
				    HVT_MAX_SECTOR_SIZE);
		return -EINVAL;
	}

	file = hvt_get_rw_file(in, i);
	if (IS_ERR(file))
		return PTR_ERR(file);
	hvt_who(who, sizeof(who), in, i, blk->name);
	blk->be = vsnix_blockfile_open(file, who);
	if (IS_ERR(blk->be)) {
		ret = PTR_ERR(blk->be);
		blk->be = NULL;
		fput(file);
		return ret;
	}
	blk->capacity = round_down(blk->be->size, blk->sector_size);
	if (!blk->capacity) {
		pr_warn_ratelimited("%s: smaller than one %u-byte sector\n",
				    who, blk->sector_size);
		return -EINVAL;
	}
	return 0;
}

static int hvt_setup_net(struct vsnix_hvt_netdev *net,
			 const struct vsnix_hvt_dev *in, unsigned int i)
{
	char who[VSNIX_DEV_NAME_LEN + 48];
	struct file *file;
	int ret;

	ret = hvt_copy_name(net->name, in, i);
	if (ret)
		return ret;
	if (in->sector_size) {
		pr_warn_ratelimited("hvt: net %u '%s': sector_size must be zero\n",
				    i, net->name);
		return -EINVAL;
	}
	net->handle = in->handle;
	file = hvt_get_rw_file(in, i);
	if (IS_ERR(file))
		return PTR_ERR(file);
	hvt_who(who, sizeof(who), in, i, net->name);
	net->be = vsnix_tap_open(file, who);
	if (IS_ERR(net->be)) {
		ret = PTR_ERR(net->be);
		net->be = NULL;
		fput(file);
		return ret;
	}
	return 0;
}

/* Counts the devices of each kind; rejects unknown kinds and set reserved. */
static int hvt_count_devs(const struct vsnix_hvt_dev *devs, unsigned int n,
			  unsigned int *nr_block, unsigned int *nr_net)
{
	unsigned int i;

	*nr_block = *nr_net = 0;
	for (i = 0; i < n; i++) {
		if (!vsnix_dev_all_zero(devs[i].reserved,
					sizeof(devs[i].reserved))) {
			pr_warn_ratelimited("hvt: device %u: reserved must be zero\n",
					    i);
			return -EINVAL;
		}
		if (devs[i].kind == VSNIX_HVT_DEV_BLOCK) {
			(*nr_block)++;
		} else if (devs[i].kind == VSNIX_HVT_DEV_NET) {
			(*nr_net)++;
		} else {
			pr_warn_ratelimited("hvt: device %u: unknown kind %u\n",
					    i, devs[i].kind);
			return -EINVAL;
		}
	}
	return 0;
}

static struct vsnix_hvt *hvt_alloc(unsigned int nr_block, unsigned int nr_net)
{
	struct vsnix_hvt *hvt = kzalloc(sizeof(*hvt), GFP_KERNEL_ACCOUNT);

	if (!hvt)
		return NULL;
	hvt->block = kcalloc(nr_block, sizeof(*hvt->block), GFP_KERNEL_ACCOUNT);
	hvt->net = kcalloc(nr_net, sizeof(*hvt->net), GFP_KERNEL_ACCOUNT);
	hvt->bounce = kvmalloc(HVT_BOUNCE_SIZE, GFP_KERNEL_ACCOUNT);
	if ((nr_block && !hvt->block) || (nr_net && !hvt->net) ||
	    !hvt->bounce) {
		vsnix_hvt_free(hvt);
		return NULL;
	}
	mutex_init(&hvt->bounce_lock);
	return hvt;
}

/* Creates the device from n checked-size entries (both config versions). */
static int hvt_create_devs(struct vsnix_vm *vm,
			   const struct vsnix_hvt_dev *devs, unsigned int n,
			   struct file *console)
{
	unsigned int i, nr_block, nr_net;
	struct vsnix_hvt *hvt;
	u64 used_handles = 0;
	int ret;

	ret = hvt_count_devs(devs, n, &nr_block, &nr_net);
	if (ret)
		return ret;
	hvt = hvt_alloc(nr_block, nr_net);
	if (!hvt)
		return -ENOMEM;
	hvt->vm = vm;

	/* nr_* grow as devices are set up, so a failure frees what exists. */
	for (i = 0; i < n; i++) {
		ret = hvt_check_handle(&used_handles, &devs[i], i);
		if (ret)
			goto fail;
		if (devs[i].kind == VSNIX_HVT_DEV_BLOCK)
			ret = hvt_setup_block(&hvt->block[hvt->nr_block++],
					      &devs[i], i);
		else
			ret = hvt_setup_net(&hvt->net[hvt->nr_net++],
					    &devs[i], i);
		if (ret)
			goto fail;
	}

	hvt->console = console;	/* not put by vsnix_hvt_free(): caller's */
	hvt->io.bus = VSNIX_BUS_PIO;
	hvt->io.base = HVT_HYPERCALL_PIO_BASE;
	hvt->io.len = HVT_NR_PORTS;
	hvt->io.ops = &vsnix_hvt_ops;
	ret = vsnix_dev_register(vm, &hvt->io, "hvt");
	if (ret < 0)
		goto fail;
	return ret;

fail:
	vsnix_hvt_free(hvt);
	return ret;
}

/* The first config: fixed arrays of 4 block and 4 net devices. */
int vsnix_hvt_create(struct vsnix_vm *vm, const struct vsnix_hvt_config *cfg,
		     struct file *console)
{
	struct vsnix_hvt_dev *devs;
	unsigned int i, n = 0;
	int ret;

	if (!vsnix_dev_all_zero(cfg->reserved, sizeof(cfg->reserved))) {
		pr_warn_ratelimited("hvt: reserved must be zero\n");
		return -EINVAL;
	}
	if (cfg->nr_block > VSNIX_HVT_MAX_BLOCK ||
	    cfg->nr_net > VSNIX_HVT_MAX_NET) {
		pr_warn_ratelimited("hvt: %u block and %u net devices; at most %d of each (VSNIX_DEV_HVT2 takes more)\n",
				    cfg->nr_block, cfg->nr_net,
				    VSNIX_HVT_MAX_BLOCK);
		return -EINVAL;
	}
	for (i = 0; i < cfg->nr_net; i++) {
		const struct vsnix_hvt_net *in = &cfg->net[i];

		if (in->pad || in->pad2[0] || in->pad2[1]) {
			pr_warn_ratelimited("hvt: net[%u]: pad must be zero\n",
					    i);
			return -EINVAL;
		}
	}
	devs = kcalloc(VSNIX_HVT_MAX_BLOCK + VSNIX_HVT_MAX_NET, sizeof(*devs),
		       GFP_KERNEL);
	if (!devs)
		return -ENOMEM;
	for (i = 0; i < cfg->nr_block; i++, n++) {
		devs[n].kind = VSNIX_HVT_DEV_BLOCK;
		devs[n].fd = cfg->block[i].fd;
		devs[n].handle = cfg->block_handle[i];
		devs[n].sector_size = cfg->block[i].sector_size;
		memcpy(devs[n].name, cfg->block[i].name, VSNIX_DEV_NAME_LEN);
	}
	for (i = 0; i < cfg->nr_net; i++, n++) {
		devs[n].kind = VSNIX_HVT_DEV_NET;
		devs[n].fd = cfg->net[i].fd;
		devs[n].handle = cfg->net_handle[i];
		memcpy(devs[n].name, cfg->net[i].name, VSNIX_DEV_NAME_LEN);
	}
	ret = hvt_create_devs(vm, devs, n, console);
	kfree(devs);
	return ret;
}

/* The second config: up to one device per manifest handle. */
int vsnix_hvt2_create(struct vsnix_vm *vm,
		      const struct vsnix_hvt2_config *cfg,
		      struct file *console)
{
	struct vsnix_hvt_dev *devs;
	int ret;

	if (cfg->pad || !vsnix_dev_all_zero(cfg->reserved,
					    sizeof(cfg->reserved))) {
		pr_warn_ratelimited("hvt2: pad and reserved must be zero\n");
		return -EINVAL;
	}
	if (cfg->nr_devices > VSNIX_HVT_MAX_HANDLE) {
		pr_warn_ratelimited("hvt2: %u devices; at most %d\n",
				    cfg->nr_devices, VSNIX_HVT_MAX_HANDLE);
		return -EINVAL;
	}
	if (!cfg->nr_devices)
		return hvt_create_devs(vm, NULL, 0, console);
	devs = memdup_user(u64_to_user_ptr(cfg->devices),
			   cfg->nr_devices * sizeof(*devs));
	if (IS_ERR(devs))
		return PTR_ERR(devs);
	ret = hvt_create_devs(vm, devs, cfg->nr_devices, console);
	kfree(devs);
	return ret;
}
