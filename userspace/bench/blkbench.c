// SPDX-License-Identifier: GPL-2.0
/*
 * blkbench: a small fio stand-in for the guest initramfs of the
 * virtio-blk benchmark (userspace/bench/blk-bench.sh). O_DIRECT reads or
 * writes of one block size on a block device, sequential or random, from
 * N threads (one per queue), for S seconds; prints one line:
 *   blkbench: MODE bs=B jobs=N ops=O iops=I mbps=M
 *   blkbench DEV seqread|seqwrite|randread|randwrite BS JOBS SECONDS
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <linux/fs.h>

struct job {
	int fd;
	int id;
	uint64_t bs, span, ops;
	int write, rnd;
	double until;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *worker(void *arg)
{
	struct job *j = arg;
	uint64_t nblk = j->span / j->bs, seq = 0, x = 88172645463325252ull + j->id;
	void *buf;

	if (posix_memalign(&buf, 4096, j->bs))
		return NULL;
	memset(buf, 0x5a + j->id, j->bs);
	/* Each job its own slice for sequential I/O. */
	seq = nblk / 16 * j->id;
	while (now() < j->until) {
		uint64_t blk;
		ssize_t r;
		int k;

		for (k = 0; k < 16; k++) {
			if (j->rnd) {
				x ^= x << 13;
				x ^= x >> 7;
				x ^= x << 17;
				blk = x % nblk;
			} else {
				blk = seq++ % nblk;
			}
			r = j->write ? pwrite(j->fd, buf, j->bs, blk * j->bs) :
				       pread(j->fd, buf, j->bs, blk * j->bs);
			if (r != (ssize_t)j->bs) {
				perror("blkbench: I/O");
				exit(1);
			}
			j->ops++;
		}
	}
	free(buf);
	return NULL;
}

int main(int argc, char **argv)
{
	struct job jobs[64];
	pthread_t th[64];
	uint64_t size = 0, total = 0;
	double t0, t1;
	int fd, n, i, secs;

	if (argc != 6) {
		fprintf(stderr, "usage: blkbench DEV seqread|seqwrite|randread|randwrite BS JOBS SECONDS\n");
		return 2;
	}
	n = atoi(argv[4]);
	secs = atoi(argv[5]);
	if (n < 1 || n > 64 || secs < 1)
		return 2;
	fd = open(argv[1], (strstr(argv[2], "write") ? O_RDWR : O_RDONLY) | O_DIRECT);
	if (fd < 0 || ioctl(fd, BLKGETSIZE64, &size) < 0) {
		perror("blkbench: open");
		return 1;
	}
	t0 = now();
	for (i = 0; i < n; i++) {
		jobs[i] = (struct job){ .fd = fd, .id = i, .bs = strtoull(argv[3], NULL, 0),
					.span = size, .write = !!strstr(argv[2], "write"),
					.rnd = !strncmp(argv[2], "rand", 4),
					.until = t0 + secs };
		pthread_create(&th[i], NULL, worker, &jobs[i]);
	}
	for (i = 0; i < n; i++) {
		pthread_join(th[i], NULL);
		total += jobs[i].ops;
	}
	t1 = now();
	printf("blkbench: %s bs=%s jobs=%d ops=%llu iops=%.0f mbps=%.1f\n", argv[2], argv[3],
	       n, (unsigned long long)total, total / (t1 - t0),
	       total * jobs[0].bs / (t1 - t0) / 1e6);
	return 0;
}
