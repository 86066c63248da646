// SPDX-License-Identifier: GPL-2.0
/*
 * vSnix selftest library: host block devices for the virtio-blk tests
 * (loop devices over a file, through the loop driver's own ioctls).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <linux/loop.h>

#include "vsnix_util.h"

int loop_attach(const char *path, char *dev, size_t len)
{
	int ctl, nr, fd, file;

	ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	nr = ctl >= 0 ? ioctl(ctl, LOOP_CTL_GET_FREE) : -1;
	if (ctl >= 0)
		close(ctl);
	if (nr < 0)
		return -1;
	snprintf(dev, len, "/dev/loop%d", nr);
	fd = open(dev, O_RDWR | O_CLOEXEC);
	file = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0 || file < 0 || ioctl(fd, LOOP_SET_FD, file)) {
		printf("# loop device %s over %s: %s\n", dev, path, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	if (file >= 0)
		close(file);
	return fd;
}

void loop_detach(int fd)
{
	if (fd < 0)
		return;
	ioctl(fd, LOOP_CLR_FD);
	close(fd);
}

double monotonic_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}
