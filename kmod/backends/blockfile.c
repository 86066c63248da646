// SPDX-License-Identifier: GPL-2.0
/*
 * Block backend on a regular file or a block device: positioned reads and
 * writes through the file's read_iter/write_iter, flush by fsync.
 */
#define pr_fmt(fmt) "vsnix: " fmt

#include <linux/file.h>
#include <linux/slab.h>
#include "backend.h"
#include "../devices/devices.h"
#include "../core/compat.h"

struct vsnix_blockfile {
	struct vsnix_blk_backend be;
	struct file *file;
};

static struct vsnix_blockfile *to_blockfile(struct vsnix_blk_backend *be)
{
	return container_of(be, struct vsnix_blockfile, be);
}

static ssize_t blockfile_rw(struct vsnix_blk_backend *be,
			    struct iov_iter *iter, u64 pos, bool write)
{
	struct file *file = to_blockfile(be)->file;
	loff_t off = pos;
	ssize_t ret;

	if (!write)
		return vfs_iter_read(file, iter, &off, 0);
	if (be->read_only)
		return -EROFS;
	/* Freeze protection, which kernel_write would take for us. */
	vsnix_file_start_write(file);
	ret = vfs_iter_write(file, iter, &off, 0);
	vsnix_file_end_write(file);
	return ret;
}

static int blockfile_flush(struct vsnix_blk_backend *be)
{
	return vfs_fsync(to_blockfile(be)->file, 0);
}

static void blockfile_close(struct vsnix_blk_backend *be)
{
	struct vsnix_blockfile *bf = to_blockfile(be);

	fput(bf->file);
	kfree(bf);
}

static const struct vsnix_blk_backend_ops blockfile_ops = {
	.rw = blockfile_rw,
	.flush = blockfile_flush,
	.close = blockfile_close,
};

struct vsnix_blk_backend *vsnix_blockfile_open(struct file *file,
					       const char *who)
{
	umode_t mode = file_inode(file)->i_mode;
	struct vsnix_blockfile *bf;

	/* Anonymous inodes are S_IFREG on newer kernels: not a disk. */
	if ((!S_ISREG(mode) && !S_ISBLK(mode)) ||
	    vsnix_file_may_hold_files(file) || !file->f_op->read_iter ||
	    ((file->f_mode & FMODE_WRITE) && !file->f_op->write_iter)) {
		pr_warn_ratelimited("%s: neither a regular file nor a block device\n",
				    who);
		return ERR_PTR(-EINVAL);
	}
	if (file->f_flags & O_APPEND) {
		/* Writes would land at the end, not at the guest's offset. */
		pr_warn_ratelimited("%s: the file is O_APPEND\n", who);
		return ERR_PTR(-EINVAL);
	}
	bf = kzalloc(sizeof(*bf), GFP_KERNEL_ACCOUNT);
	if (!bf)
		return ERR_PTR(-ENOMEM);
	bf->file = file;
	bf->be.ops = &blockfile_ops;
	/* For a block device, the mapping's host is the bdev inode. */
	bf->be.size = i_size_read(file->f_mapping->host);
	bf->be.read_only = !(file->f_mode & FMODE_WRITE);
	return &bf->be;
}
