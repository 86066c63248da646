// SPDX-License-Identifier: GPL-2.0
/*
 * Per-VM overlays of a pool's disk (Documentation/vsnixd.rst, "Disks and
 * overlays"). The in-kernel virtio-blk backend serves one file descriptor,
 * so an overlay is a whole file of the disk's size beside the pool, never
 * a format that would need a translating layer: a reflink (FICLONE: the
 * filesystem shares the blocks and copies one only when either side
 * writes it) where the two files share a filesystem that can, else a
 * sparse copy that moves only the source's data extents (SEEK_DATA,
 * SEEK_HOLE) with copy_file_range(), else with read() and write(). Holes
 * stay holes: an 8 GiB disk with 100 MiB of data costs 100 MiB.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <linux/fs.h>

#include "vsnixd.h"

/* len bytes at off from in to out, by the kernel when it can. */
static int copy_range(int in, int out, off_t off, off_t len, bool *kernel)
{
	char buf[65536];
	off_t o_in = off, o_out = off;
	ssize_t n;

	while (len && *kernel) {
		n = copy_file_range(in, &o_in, out, &o_out, len, 0);
		if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS ||
			      errno == EOPNOTSUPP)) {
			*kernel = false;	/* e.g. ext4 to ext4 on two mounts */
			break;
		}
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		len -= n;
	}
	while (len) {
		n = pread(in, buf, len < (off_t)sizeof(buf) ? len : (off_t)sizeof(buf), o_in);
		if (n <= 0 || pwrite(out, buf, n, o_out) != n)
			return n < 0 ? -errno : -EIO;
		o_in += n;
		o_out += n;
		len -= n;
	}
	return 0;
}

/* The data extents of in into out (already of in's size). */
static int copy_sparse(int in, int out, off_t size)
{
	bool kernel = true;
	off_t data = 0, hole;
	int ret;

	for (;;) {
		data = lseek(in, data, SEEK_DATA);
		if (data < 0)
			return errno == ENXIO ? 0 : -errno;	/* ENXIO: no more data */
		hole = lseek(in, data, SEEK_HOLE);
		if (hole < 0)
			hole = size;
		ret = copy_range(in, out, data, hole - data, &kernel);
		if (ret)
			return ret;
		data = hole;
	}
}

/*
 * dst as an overlay of src: kept if it exists unless fresh; made under a
 * temporary name and renamed, so a crash never leaves half an overlay
 * under dst's name. 0, or -errno with err set.
 */
int overlay_make(const char *src, const char *dst, bool fresh, char *err,
		 size_t len)
{
	int in = -1, out = -1, ret = 0;
	char tmp[PATH_MAX + 8];
	struct stat st;

	if (!fresh && !access(dst, F_OK))
		return 0;
	snprintf(tmp, sizeof(tmp), "%s.new", dst);
	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0 || fstat(in, &st)) {
		ret = -errno;
		snprintf(err, len, "overlay of %s: %s", src, strerror(errno));
		goto out;
	}
	out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (out < 0) {
		ret = -errno;
		snprintf(err, len, "overlay %s: %s", tmp, strerror(errno));
		goto out;
	}
	/* FICLONE fails (EXDEV, EOPNOTSUPP) where blocks cannot be shared. */
	if (ioctl(out, FICLONE, in)) {
		ret = ftruncate(out, st.st_size) ? -errno : copy_sparse(in, out, st.st_size);
		if (ret) {
			snprintf(err, len, "overlay %s of %s: %s", dst, src, strerror(-ret));
			goto out;
		}
	}
	if (fsync(out) || rename(tmp, dst)) {
		ret = -errno;
		snprintf(err, len, "overlay %s: %s", dst, strerror(errno));
	}
out:
	if (ret && out >= 0)
		unlink(tmp);
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return ret;
}

/* The overlay of VM name's disk under dir (its file name: NAME.DISK.img). */
int overlay_path(char *buf, size_t len, const char *dir, const char *name,
		 const char *disk)
{
	return snprintf(buf, len, "%s/%s.%s.img", dir, name, disk) >= (int)len ?
	       -ENAMETOOLONG : 0;
}

/* vm.delete: every overlay its config's disks may have left. */
void overlay_remove_all(struct vsnixd *d, const char *name, json_object *config)
{
	json_object *disks = json_object_object_get(config, "disks"), *dn;
	char path[PATH_MAX];
	size_t i;

	for (i = 0; i < json_object_array_length(disks); i++) {
		dn = json_object_object_get(json_object_array_get_idx(disks, i), "name");
		if (!json_object_is_type(dn, json_type_string) ||
		    !vsnixd_name_ok(json_object_get_string(dn)))
			continue;
		if (!overlay_path(path, sizeof(path), d->opt.state_dir, name,
				  json_object_get_string(dn)))
			unlink(path);
	}
}
