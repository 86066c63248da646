// SPDX-License-Identifier: GPL-2.0
/*
 * blkbench: a small fio stand-in for the guest initramfs of the
 * virtio-blk benchmark (userspace/bench/blk-bench.sh). O_DIRECT reads or
 * writes of one block size on a block device, sequential or random, from
 * N threads (one per queue), for S seconds; prints one line:
 *   blkbench: MODE bs=B jobs=N ops=O iops=I mbps=M
 *   blkbench DEV seqread|seqwrite|randread|randwrite BS JOBS SECONDS [DEPTH]
 * With DEPTH > 1 each thread keeps DEPTH requests in flight through Linux
 * AIO (io_submit, raw system calls: the binary is static, no libaio) and
 * MODE is printed as MODE-qdDEPTH; else one synchronous pread/pwrite at a
 * time.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/aio_abi.h>
#include <linux/fs.h>

#define MAX_DEPTH	256

struct job {
	int fd;
	int id;
	uint64_t bs, span, ops;
	int write, rnd, depth;
	double until;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The byte offset of the job's next request (xorshift64 for random). */
static uint64_t next_off(struct job *j, uint64_t *seq, uint64_t *x)
{
	uint64_t nblk = j->span / j->bs, blk;

	if (j->rnd) {
		*x ^= *x << 13;
		*x ^= *x >> 7;
		*x ^= *x << 17;
		blk = *x % nblk;
	} else {
		blk = (*seq)++ % nblk;
	}
	return blk * j->bs;
}

/* DEPTH requests in flight: each completion is resubmitted at once. */
static void run_aio(struct job *j, char *bufs, uint64_t *seq, uint64_t *x)
{
	struct iocb cbs[MAX_DEPTH], *ptrs[MAX_DEPTH];
	struct io_event ev[MAX_DEPTH];
	aio_context_t ctx = 0;
	int i, n, inflight = 0;

	if (syscall(SYS_io_setup, j->depth, &ctx)) {
		perror("blkbench: io_setup");
		exit(1);
	}
	for (i = 0; i < j->depth; i++) {
		cbs[i] = (struct iocb){
			.aio_fildes = j->fd, .aio_nbytes = j->bs,
			.aio_lio_opcode = j->write ? IOCB_CMD_PWRITE : IOCB_CMD_PREAD,
			.aio_buf = (uintptr_t)(bufs + i * j->bs),
			.aio_data = i,
		};
		ptrs[i] = &cbs[i];
	}
	n = j->depth;
	for (;;) {
		for (i = 0; i < n; i++)
			ptrs[i]->aio_offset = next_off(j, seq, x);
		if (n && syscall(SYS_io_submit, ctx, n, ptrs) != n) {
			perror("blkbench: io_submit");
			exit(1);
		}
		inflight += n;
		if (now() >= j->until)
			break;
		n = syscall(SYS_io_getevents, ctx, 1, j->depth, ev, NULL);
		if (n < 0) {
			perror("blkbench: io_getevents");
			exit(1);
		}
		for (i = 0; i < n; i++) {
			if (ev[i].res != (int64_t)j->bs) {
				fprintf(stderr, "blkbench: I/O: %lld\n", (long long)ev[i].res);
				exit(1);
			}
			ptrs[i] = &cbs[ev[i].data];
		}
		inflight -= n;
		j->ops += n;
	}
	/* Drain: what is still in flight is not counted. */
	while (inflight > 0) {
		n = syscall(SYS_io_getevents, ctx, 1, j->depth, ev, NULL);
		if (n <= 0)
			break;
		inflight -= n;
	}
	syscall(SYS_io_destroy, ctx);
}

static void *worker(void *arg)
{
	struct job *j = arg;
	uint64_t seq, x = 88172645463325252ull + j->id;
	char *buf;

	if (posix_memalign((void **)&buf, 4096, j->bs * j->depth))
		return NULL;
	memset(buf, 0x5a + j->id, j->bs * j->depth);
	/* Each job its own slice for sequential I/O. */
	seq = j->span / j->bs / 16 * j->id;
	if (j->depth > 1) {
		run_aio(j, buf, &seq, &x);
		free(buf);
		return NULL;
	}
	while (now() < j->until) {
		uint64_t off;
		ssize_t r;
		int k;

		for (k = 0; k < 16; k++) {
			off = next_off(j, &seq, &x);
			r = j->write ? pwrite(j->fd, buf, j->bs, off) :
				       pread(j->fd, buf, j->bs, off);
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
	int fd, n, i, secs, depth = 1;
	char mode[64];
	struct stat st;

	if (argc != 6 && argc != 7) {
		fprintf(stderr, "usage: blkbench DEV seqread|seqwrite|randread|randwrite BS JOBS SECONDS [DEPTH]\n");
		return 2;
	}
	n = atoi(argv[4]);
	secs = atoi(argv[5]);
	if (argc == 7)
		depth = atoi(argv[6]);
	if (n < 1 || n > 64 || secs < 1 || depth < 1 || depth > MAX_DEPTH)
		return 2;
	snprintf(mode, sizeof(mode), depth > 1 ? "%s-qd%d" : "%s", argv[2], depth);
	fd = open(argv[1], (strstr(argv[2], "write") ? O_RDWR : O_RDONLY) | O_DIRECT);
	/* A regular file (a dry run on the build host) has its st_size. */
	if (fd >= 0 && !fstat(fd, &st) && S_ISREG(st.st_mode))
		size = st.st_size;
	if (fd < 0 || (!size && ioctl(fd, BLKGETSIZE64, &size) < 0)) {
		perror("blkbench: open");
		return 1;
	}
	t0 = now();
	for (i = 0; i < n; i++) {
		jobs[i] = (struct job){ .fd = fd, .id = i, .bs = strtoull(argv[3], NULL, 0),
					.span = size, .write = !!strstr(argv[2], "write"),
					.rnd = !strncmp(argv[2], "rand", 4),
					.depth = depth,
					.until = t0 + secs };
		pthread_create(&th[i], NULL, worker, &jobs[i]);
	}
	for (i = 0; i < n; i++) {
		pthread_join(th[i], NULL);
		total += jobs[i].ops;
	}
	t1 = now();
	printf("blkbench: %s bs=%s jobs=%d ops=%llu iops=%.0f mbps=%.1f\n", mode, argv[3],
	       n, (unsigned long long)total, total / (t1 - t0),
	       total * jobs[0].bs / (t1 - t0) / 1e6);
	return 0;
}
