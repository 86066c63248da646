// SPDX-License-Identifier: GPL-2.0
/*
 * The pool loader: given the pools' folder and a name, both NAME.img and
 * NAME.json must be there (creating is not the loader's job). The image is
 * attached to a free loop device with LO_FLAGS_AUTOCLEAR, so unmounting,
 * or a failed mount, leaves no loop device behind; it is mounted read-only
 * unless a writable disk of a VM says its writes go to the pool.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/loop.h>

#include "pool_int.h"

int pool_files(const char *dir, const char *name, char **img, char **json,
	       struct pool_err *e)
{
	*img = *json = NULL;
	if (!name_ok(name)) {
		pool_error(e, "'%s': not a pool name", name);
		return -EINVAL;
	}
	if (asprintf(img, "%s/%s.img", dir, name) < 0 ||
	    asprintf(json, "%s/%s.json", dir, name) < 0)
		return -ENOMEM;
	if (access(*img, R_OK) || access(*json, R_OK)) {
		pool_error(e, "%s: %s (a pool is NAME.img and NAME.json; `vsnixctl pool create` makes them)",
			   access(*img, R_OK) ? *img : *json, strerror(errno));
		return -ENOENT;
	}
	return 0;
}

/* A loop device over img; its fd, or -errno. */
static int loop_attach(const char *img, bool rw, struct pool_err *e)
{
	struct loop_config cfg = { };
	char dev[32];
	int ctl, nr, lfd = -1, ifd, tries;

	ifd = open(img, (rw ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ifd < 0 || ctl < 0) {
		pool_error(e, "%s: %s", ifd < 0 ? img : "/dev/loop-control",
			   strerror(errno));
		goto out;
	}
	cfg.fd = ifd;
	cfg.info.lo_flags = LO_FLAGS_AUTOCLEAR | (rw ? 0 : LO_FLAGS_READ_ONLY);
	/* Another process may take the free device first: try again. */
	for (tries = 0; tries < 8; tries++) {
		nr = ioctl(ctl, LOOP_CTL_GET_FREE);
		snprintf(dev, sizeof(dev), "/dev/loop%d", nr);
		lfd = nr < 0 ? -1 : open(dev, (rw ? O_RDWR : O_RDONLY) | O_CLOEXEC);
		if (lfd < 0 || !ioctl(lfd, LOOP_CONFIGURE, &cfg))
			break;
		close(lfd);
		lfd = -1;
		if (errno != EBUSY)
			break;
	}
	if (lfd < 0)
		pool_error(e, "%s: no loop device: %s", img, strerror(errno));
out:
	if (ifd >= 0)
		close(ifd);
	if (ctl >= 0)
		close(ctl);
	return lfd < 0 ? -ENODEV : lfd;
}

static int mount_image(const char *img, const char *mnt, bool rw,
		       struct pool_err *e)
{
	unsigned long flags = MS_NODEV | MS_NOSUID | MS_NOEXEC;
	struct loop_info64 info;
	char dev[32];
	int lfd, nr, ret = 0;

	lfd = loop_attach(img, rw, e);
	if (lfd < 0)
		return lfd;
	if (ioctl(lfd, LOOP_GET_STATUS64, &info)) {
		pool_error(e, "%s: loop status: %s", img, strerror(errno));
		close(lfd);
		return -EIO;
	}
	nr = info.lo_number;
	snprintf(dev, sizeof(dev), "/dev/loop%d", nr);
	if (mount(dev, mnt, "ext4", flags | (rw ? 0 : MS_RDONLY), NULL)) {
		pool_error(e, "%s: mount on %s (%s): %s", img, mnt, dev,
			   strerror(errno));
		ret = -EIO;
	}
	close(lfd);	/* autoclear: the mount holds the device now */
	return ret;
}

static bool needs_rw(const struct pool *p)
{
	unsigned int i, j;

	for (i = 0; i < p->nr_vms; i++)
		for (j = 0; j < p->vms[i].nr_disks; j++)
			if (!p->vms[i].disks[j].readonly &&
			    p->vms[i].disks[j].writes == POOL_WRITES_POOL)
				return true;
	return false;
}

int pool_read_mounted(struct pool *p, const char *mnt, struct pool_err *e)
{
	if (pool_parse_vms(p, mnt, e))
		return -EINVAL;
	free(p->mount_point);
	p->mount_point = strdup(mnt);
	return 0;
}

int pool_load(struct pool *p, const char *dir, const char *name,
	      const char *mnt, struct pool_err *e)
{
	char *img, *json;
	int ret;

	memset(p, 0, sizeof(*p));
	ret = pool_files(dir, name, &img, &json, e);
	if (!ret)
		ret = pool_parse_meta(p, json, e);
	if (!ret && strcmp(p->name, name)) {
		pool_error(e, "%s: pool.name: '%s', the file says '%s'", json,
			   p->name, name);
		ret = -EINVAL;
	}
	if (!ret)
		ret = mount_image(img, mnt, false, e);
	if (ret)
		goto out;
	ret = pool_read_mounted(p, mnt, e);
	if (!ret && needs_rw(p)) {
		/* A disk writes to the pool: the image again, read-write. */
		umount2(mnt, 0);
		pool_free(p);
		ret = mount_image(img, mnt, true, e);
		if (ret)
			goto out;
		ret = pool_read_mounted(p, mnt, e);
		p->read_write = true;
	}
	/* Nothing stays mounted (nor, by autoclear, attached) on failure. */
	if (ret)
		umount2(mnt, 0);
out:
	if (ret)
		pool_free(p);
	free(img);
	free(json);
	return ret;
}

int pool_unload(const char *mnt, struct pool_err *e)
{
	if (umount2(mnt, 0)) {
		pool_error(e, "%s: umount: %s", mnt, strerror(errno));
		return -errno;
	}
	return 0;
}
