/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The ioctl fuzzer's parts (selftests/ioctl_fuzz.c is the test): the
 * random source, the shared fd and mapping tables, and the operations,
 * one file per area (fuzz/core_ops.c, dev_ops.c, platform.c, stats_ops.c).
 */
#ifndef VSNIX_FUZZ_H
#define VSNIX_FUZZ_H

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "vsnix_util.h"

#define NR_THREADS	4
#define NR_FDS		48	/* fds the fuzzer keeps open at most */
#define NR_MAPS		32	/* anonymous mappings for guest memory */
#define MAX_MAP_SIZE	(1ul << 20)
/*
 * Room for the largest argument the kernel may write: a CPUID table of
 * VSNIX_MAX_CPUID_ENTRIES is 8 KiB plus its header, a random request's
 * size field at most 16 KiB - 1. Past it lies the next thread's state.
 */
#define ARG_SIZE	16384
#define RUN_TIMER_NS	(3 * 1000 * 1000)
#define STUCK_SECONDS	30
#define GUARD_SIZE	(1ul << 20)
#define SCRATCH_SIZE	(1ul << 20)

enum fd_kind { FD_FREE, FD_SYS, FD_VM, FD_VCPU, FD_STATS, FD_OTHER };

struct fuzz_map {
	void *addr;
	size_t len;
};

struct fuzz_thread {
	pthread_t tid;
	unsigned int index;
	uint64_t rng;
	timer_t run_timer;
	atomic_long last_progress;	/* seconds, CLOCK_MONOTONIC */
	atomic_int current_op;
	atomic_int os_tid;		/* for /proc/self/task/<tid>/stack */
	atomic_ulong detail;		/* the request of the call in progress */
	atomic_int run_fd;		/* the vCPU fd of the last RUN */
	uint8_t arg[ARG_SIZE] __attribute__((aligned(64)));
};

static inline uint64_t rnd(struct fuzz_thread *t)
{
	/* xorshift64*: fast, and enough for choosing calls. */
	t->rng ^= t->rng >> 12;
	t->rng ^= t->rng << 25;
	t->rng ^= t->rng >> 27;
	return t->rng * 0x2545f4914f6cdd1dull;
}

static inline uint64_t rnd_below(struct fuzz_thread *t, uint64_t n)
{
	return n ? rnd(t) % n : 0;
}

static inline bool one_in(struct fuzz_thread *t, unsigned int n)
{
	return rnd_below(t, n) == 0;
}

/* common.c */
uint64_t interesting_u64(struct fuzz_thread *t);
/* A user pointer that is never the fuzzer's own writable memory. */
uint64_t bad_pointer(struct fuzz_thread *t);
void fill_random(struct fuzz_thread *t, void *buf, size_t len);
/* Flip a few random bits in buf[0, len). */
void flip_bits(struct fuzz_thread *t, void *buf, size_t len, unsigned int max);
bool errno_expected(int err);
void fd_put(int fd, enum fd_kind kind);
int fd_pick(struct fuzz_thread *t, enum fd_kind kind);
int fd_take(struct fuzz_thread *t);
struct fuzz_map map_pick(struct fuzz_thread *t);
/* Guest memory in the arena: new (unpublished), published, released. */
int map_new(size_t len, void **addr);
void map_publish(int i, size_t len);
void map_release(int i);
int random_file_fd(struct fuzz_thread *t);
/* RUN vcpu once, cut short by the thread's timer. */
long run_with_timer(struct fuzz_thread *t, int vcpu);
void close_tables(void);

/* Files for the backends, opened once by fuzz_backends_init(). */
struct fuzz_backends {
	int disk;		/* a 1 MiB regular file, read-write */
	int disk_ro;		/* the same, read-only */
	int dir;		/* a directory: never a disk */
	int devnull;		/* a console */
	int tap;		/* a tap queue with a vnet header, or -1 */
};
extern struct fuzz_backends backends;
void fuzz_backends_init(void);
void fuzz_backends_close(void);

/*
 * For outputs whose size a slot decides (a dirty bitmap): shared, written
 * by any thread; a write past its end faults (EFAULT) on the guard
 * instead of landing in the fuzzer's own data (threads[], the counters).
 */
extern uint8_t *scratch;
extern long run_area_size;
extern int platform_sys_fd;	/* a /dev/vsnix fd no thread closes */
extern atomic_int stats_header_bad;	/* stats fds whose header lied */

/* The operations: a result >= 0 is a success, else -1 and errno. */
long op_open(struct fuzz_thread *t);
long op_close(struct fuzz_thread *t);
long op_create_vm(struct fuzz_thread *t);
long op_create_vcpu(struct fuzz_thread *t);
long op_set_region(struct fuzz_thread *t);
long op_run(struct fuzz_thread *t);
long op_mmap_run(struct fuzz_thread *t);
long op_map(struct fuzz_thread *t);
long op_unmap(struct fuzz_thread *t);
long op_ioctl_valid(struct fuzz_thread *t);
long op_ioctl_random(struct fuzz_thread *t);
long op_other_fd(struct fuzz_thread *t);
/* dev_ops.c */
long op_create_device(struct fuzz_thread *t);
long op_destroy_device(struct fuzz_thread *t);
long op_device_input(struct fuzz_thread *t);
void random_device_config(struct fuzz_thread *t, struct vsnix_device_config *c,
			  uint32_t type);
/* pool.c */
int pool_pick(struct fuzz_thread *t, enum fd_kind kind);
unsigned int pool_build(struct fuzz_thread *t);
void pool_close(void);
/* platform.c */
long op_platform(struct fuzz_thread *t);
/* stats_ops.c */
long op_stats_fd(struct fuzz_thread *t);
long op_stats_read(struct fuzz_thread *t);
long op_vm_name(struct fuzz_thread *t);
long op_vm_info(struct fuzz_thread *t);
long op_list_vms(struct fuzz_thread *t);
long op_stats_by_id(struct fuzz_thread *t);

#endif /* VSNIX_FUZZ_H */
