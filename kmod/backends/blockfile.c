// SPDX-License-Identifier: GPL-2.0
/*
 * Block backend on a regular file or a block device: positioned reads and
 * writes through the file's read_iter/write_iter (synchronous for hvt,
 * asynchronous kiocbs for virtio-blk), flush by fsync, discard and
 * write-zeroes by fallocate.
 */
#define pr_fmt(fmt) "vsnix: " fmt

#include <linux/blkdev.h>
#include <linux/falloc.h>
#include <linux/file.h>
#include <linux/magic.h>
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

/*
 * Direct I/O needs the offset and every buffer aligned to the logical
 * block size (the loop driver checks the same before it uses it).
 */
static bool blockfile_dio_ok(struct vsnix_blk_backend *be, struct file *file,
			     const struct iov_iter *iter, u64 pos)
{
	u32 mask = be->lbs - 1;
	unsigned long i;

	if (!(file->f_mode & FMODE_CAN_ODIRECT) || !iov_iter_is_bvec(iter) ||
	    iter->iov_offset || ((pos | iov_iter_count(iter)) & mask))
		return false;
	for (i = 0; i < iter->nr_segs; i++)
		if ((iter->bvec[i].bv_offset | iter->bvec[i].bv_len) & mask)
			return false;
	return true;
}

/*
 * Freeze protection for a direct write to a regular file, held from the
 * submit to the completion as fs/aio.c holds it: lockdep is told that the
 * submitter lets go of it here and the completion takes it back. With
 * nowait, false instead of waiting for a frozen filesystem to thaw.
 */
static bool blockfile_write_start(struct file *file, bool nowait)
{
	struct super_block *sb = file_inode(file)->i_sb;

	if (!S_ISREG(file_inode(file)->i_mode))
		return true;
	if (!nowait)
		sb_start_write(sb);
	else if (!sb_start_write_trylock(sb))
		return false;
	__sb_writers_release(sb, SB_FREEZE_WRITE);
	return true;
}

static void blockfile_write_end(struct kiocb *iocb)
{
	struct super_block *sb = file_inode(iocb->ki_filp)->i_sb;

	if (!(iocb->ki_flags & IOCB_WRITE) ||
	    !S_ISREG(file_inode(iocb->ki_filp)->i_mode))
		return;
	__sb_writers_acquired(sb, SB_FREEZE_WRITE);
	sb_end_write(sb);
}

static void blockfile_aio_complete(struct kiocb *iocb, long ret)
{
	struct vsnix_blk_aio *aio = container_of(iocb, struct vsnix_blk_aio,
						 iocb);

	blockfile_write_end(iocb);
	aio->done(aio, ret);
}

static ssize_t blockfile_call(struct file *file, struct kiocb *iocb,
			      struct iov_iter *iter, bool write)
{
	if (write)
		return file->f_op->write_iter(iocb, iter);
	return file->f_op->read_iter(iocb, iter);
}

static void blockfile_kiocb(struct kiocb *iocb, struct file *file, u64 pos,
			    bool write)
{
	init_sync_kiocb(iocb, file);
	iocb->ki_pos = pos;
	if (write)
		iocb->ki_flags |= IOCB_WRITE;
}

/*
 * Direct I/O as an asynchronous kiocb: 0 when aio->done was or will be
 * called; -EINVAL when the file wants another alignment (nothing done,
 * iter as it was: buffered instead); -EAGAIN with nowait for a frozen
 * filesystem.
 */
static int blockfile_submit_direct(struct file *file, struct vsnix_blk_aio *aio,
				   struct iov_iter *iter, u64 pos, bool write,
				   bool nowait)
{
	struct kiocb *iocb = &aio->iocb;
	struct iov_iter saved = *iter;
	ssize_t ret;

	if (write && !blockfile_write_start(file, nowait))
		return -EAGAIN;
	blockfile_kiocb(iocb, file, pos, write);
	/* A kiocb with ki_complete may finish later (-EIOCBQUEUED). */
	iocb->ki_flags |= IOCB_DIRECT;
	iocb->ki_complete = blockfile_aio_complete;
	ret = blockfile_call(file, iocb, iter, write);
	if (ret == -EIOCBQUEUED)
		return 0;
	blockfile_write_end(iocb);
	if (ret == -EINVAL) {
		*iter = saved;
		return -EINVAL;
	}
	aio->done(aio, ret);
	return 0;
}

static int blockfile_submit(struct vsnix_blk_backend *be,
			    struct vsnix_blk_aio *aio, struct iov_iter *iter,
			    u64 pos, bool write, bool nowait)
{
	struct file *file = to_blockfile(be)->file;
	struct kiocb *iocb = &aio->iocb;
	ssize_t ret;

	if (write && be->read_only) {
		aio->done(aio, -EROFS);
		return 0;
	}
	nowait &= !be->memory_only;
	if (blockfile_dio_ok(be, file, iter, pos)) {
		ret = blockfile_submit_direct(file, aio, iter, pos, write, nowait);
		if (ret != -EINVAL)
			return ret;
		/* Alignment the file wants beyond lbs: buffered instead. */
	}
	/* Buffered: a synchronous kiocb, done before the call returns. */
	if (nowait)
		return -EAGAIN;
	blockfile_kiocb(iocb, file, pos, write);
	if (write)
		file_start_write(file);
	ret = blockfile_call(file, iocb, iter, write);
	if (write)
		file_end_write(file);
	aio->done(aio, ret);
	return 0;
}

static int blockfile_zero(struct vsnix_blk_backend *be, u64 pos, u64 len,
			  bool unmap)
{
	struct file *file = to_blockfile(be)->file;
	int ret;

	if (be->read_only)
		return -EROFS;
	if (!unmap) {
		ret = vfs_fallocate(file, FALLOC_FL_ZERO_RANGE |
				    FALLOC_FL_KEEP_SIZE, pos, len);
		if (ret != -EOPNOTSUPP)
			return ret;
	}
	/* A hole reads as zeroes too (tmpfs has no ZERO_RANGE). */
	return vfs_fallocate(file, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			     pos, len);
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
	.submit = blockfile_submit,
	.zero = blockfile_zero,
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
	bf->be.lbs = SECTOR_SIZE;
	bf->be.memory_only = S_ISREG(mode) &&
			     (file_inode(file)->i_sb->s_magic == TMPFS_MAGIC ||
			      file_inode(file)->i_sb->s_magic == RAMFS_MAGIC);
	if (S_ISBLK(mode))
		bf->be.lbs = bdev_logical_block_size(I_BDEV(file->f_mapping->host));
	else if (file_inode(file)->i_sb->s_bdev)
		bf->be.lbs = bdev_logical_block_size(file_inode(file)->i_sb->s_bdev);
	return &bf->be;
}
