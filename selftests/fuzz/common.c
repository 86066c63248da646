// SPDX-License-Identifier: GPL-2.0
/*
 * The ioctl fuzzer's shared parts: boundary values, the errnos the API
 * documents, the fd and mapping tables the threads share, the backend
 * files of the devices.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"

/* Entries are taken out under the lock, then used. */
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	int fd;
	enum fd_kind kind;
} fds[NR_FDS];
static struct fuzz_map maps[NR_MAPS];

struct fuzz_backends backends = { -1, -1, -1, -1, -1 };

void fill_random(struct fuzz_thread *t, void *buf, size_t len)
{
	uint8_t *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = rnd(t);
}

void flip_bits(struct fuzz_thread *t, void *buf, size_t len, unsigned int max)
{
	unsigned int n = rnd_below(t, max + 1), i;
	uint8_t *p = buf;

	for (i = 0; i < n && len; i++)
		p[rnd_below(t, len)] ^= 1u << rnd_below(t, 8);
}

/*
 * A value that exercises boundaries: small, near a power of two, all ones,
 * or fully random.
 */
uint64_t interesting_u64(struct fuzz_thread *t)
{
	static const uint64_t special[] = {
		0, 1, 2, 3, 4, 7, 8, 15, 16, 63, 64, 255, 256, 4095, 4096,
		0x7fffffff, 0x80000000, 0xffffffff, 0x100000000ull,
		0x7fffffffffffffffull, 0x8000000000000000ull, ~0ull,
		0xfee00000, 0xfffff000, 0x0000800000000000ull,
	};

	switch (rnd_below(t, 4)) {
	case 0:
		return special[rnd_below(t, sizeof(special) / sizeof(special[0]))];
	case 1:
		return (1ull << rnd_below(t, 64)) + rnd_below(t, 3) - 1;
	case 2:
		return rnd_below(t, 64);
	default:
		return rnd(t);
	}
}

static uint8_t *guard;	/* PROT_NONE: its addresses fault */
uint8_t *scratch;	/* SCRATCH_SIZE bytes right below the guard */

/*
 * A user pointer the kernel must refuse: NULL-ish, non-canonical, kernel,
 * or in a PROT_NONE mapping. Never one of the fuzzer's own writable pages
 * (a random value like 1 << 23 can land in the heap of this static binary:
 * a GET that writes there, or a memory slot there that a guest writes,
 * corrupts the fuzzer itself).
 */
uint64_t bad_pointer(struct fuzz_thread *t)
{
	static const uint64_t bad[] = {
		0, 1, 8, 4095, 0x0000800000000000ull, 0x00007ffffffff000ull,
		0xffff800000000000ull, 0xffffffff81000000ull, ~0ull - 7, ~0ull,
	};

	if (guard && one_in(t, 2))
		return (uintptr_t)guard + rnd_below(t, GUARD_SIZE);
	return bad[rnd_below(t, sizeof(bad) / sizeof(bad[0]))];
}

/* errnos the API documents for bad input, races and resource limits. */
bool errno_expected(int err)
{
	switch (err) {
	case EINVAL: case EBADF: case ENOTTY: case EFAULT: case ENOMEM:
	case EEXIST: case EBUSY: case E2BIG: case ENOENT: case EINTR:
	case EAGAIN: case ENOSPC: case EPERM: case ENXIO: case EOPNOTSUPP:
	case ENODEV: case ERANGE: case EIO: case EACCES: case EMFILE:
	case ENFILE: case EOVERFLOW: case ESRCH: case ENOSYS:
	case ESPIPE:	/* lseek on a pipe among the fds */
		return true;
	default:
		return false;
	}
}

void fd_put(int fd, enum fd_kind kind)
{
	int i;

	pthread_mutex_lock(&table_lock);
	for (i = 0; i < NR_FDS; i++) {
		if (fds[i].kind == FD_FREE) {
			fds[i].fd = fd;
			fds[i].kind = kind;
			pthread_mutex_unlock(&table_lock);
			return;
		}
	}
	pthread_mutex_unlock(&table_lock);
	close(fd);	/* table full */
}

/*
 * A random fd of the kind (FD_FREE: any kind), left in the table: another
 * thread may close it while this one uses it, which is part of the test;
 * three times in four one of the pool's, which no thread closes.
 */
int fd_pick(struct fuzz_thread *t, enum fd_kind kind)
{
	int start = rnd_below(t, NR_FDS), i, fd = -1;

	/* Mostly the pool's long-lived objects (pool.c), else the table's. */
	if (!one_in(t, 4) && (fd = pool_pick(t, kind)) >= 0)
		return fd;

	pthread_mutex_lock(&table_lock);
	for (i = 0; i < NR_FDS; i++) {
		int j = (start + i) % NR_FDS;

		if (fds[j].kind != FD_FREE && (kind == FD_FREE || fds[j].kind == kind)) {
			fd = fds[j].fd;
			break;
		}
	}
	pthread_mutex_unlock(&table_lock);
	return fd;
}

/* Take a random fd out of the table; the caller closes it. */
int fd_take(struct fuzz_thread *t)
{
	int start = rnd_below(t, NR_FDS), i, fd = -1;

	pthread_mutex_lock(&table_lock);
	for (i = 0; i < NR_FDS; i++) {
		int j = (start + i) % NR_FDS;

		if (fds[j].kind != FD_FREE) {
			fd = fds[j].fd;
			fds[j].kind = FD_FREE;
			break;
		}
	}
	pthread_mutex_unlock(&table_lock);
	return fd;
}

struct fuzz_map map_pick(struct fuzz_thread *t)
{
	struct fuzz_map m = { NULL, 0 };
	int start = rnd_below(t, NR_MAPS), i;

	pthread_mutex_lock(&table_lock);
	for (i = 0; i < NR_MAPS; i++) {
		if (maps[(start + i) % NR_MAPS].addr) {
			m = maps[(start + i) % NR_MAPS];
			break;
		}
	}
	pthread_mutex_unlock(&table_lock);
	return m;
}

/*
 * Guest memory lives in an arena of NR_MAPS slots, each MAX_MAP_SIZE plus
 * a PROT_NONE page, reserved PROT_NONE at start. A dropped mapping becomes
 * PROT_NONE again instead of a hole: a memory slot still pointing there
 * must never reach memory the C library or the kernel later put at that
 * address (a guest then wrote into the fuzzer's own heap: SIGSEGV in
 * glibc), and a writable slot larger than its mapping stops at the gap.
 */
#define ARENA_STRIDE	(MAX_MAP_SIZE + 4096)
static uint8_t *arena;
static bool map_used[NR_MAPS];	/* reserved or published */

static void *arena_slot(int i)
{
	return arena + (size_t)i * ARENA_STRIDE;
}

/* Back to PROT_NONE: unmaps the pages (the MMU notifier runs) and keeps the range. */
static int arena_drop(int i)
{
	return mmap(arena_slot(i), MAX_MAP_SIZE, PROT_NONE, MAP_PRIVATE |
		    MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0) == MAP_FAILED ? -1 : 0;
}

/* A new writable mapping of len bytes, not yet in the table; -1 when full. */
int map_new(size_t len, void **addr)
{
	int i;

	pthread_mutex_lock(&table_lock);
	for (i = 0; i < NR_MAPS && map_used[i]; i++)
		;
	if (i < NR_MAPS)
		map_used[i] = true;
	pthread_mutex_unlock(&table_lock);
	if (i == NR_MAPS)
		return errno = ENOSPC, -1;
	*addr = mmap(arena_slot(i), len, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	if (*addr == MAP_FAILED) {
		map_release(i);
		return -1;
	}
	return i;
}

/* From now on other threads use it as guest memory, and may drop it. */
void map_publish(int i, size_t len)
{
	pthread_mutex_lock(&table_lock);
	maps[i].addr = arena_slot(i);
	maps[i].len = len;
	pthread_mutex_unlock(&table_lock);
}

/* Drop an unpublished mapping. */
void map_release(int i)
{
	arena_drop(i);
	pthread_mutex_lock(&table_lock);
	map_used[i] = false;
	pthread_mutex_unlock(&table_lock);
}

/* Drop a mapping that a VM may use as guest memory right now. */
long op_unmap(struct fuzz_thread *t)
{
	int i = rnd_below(t, NR_MAPS);
	struct fuzz_map m;

	pthread_mutex_lock(&table_lock);
	m = maps[i];
	maps[i].addr = NULL;
	pthread_mutex_unlock(&table_lock);
	if (!m.addr)
		return errno = ENOENT, -1;
	if (arena_drop(i))
		return -1;
	pthread_mutex_lock(&table_lock);
	map_used[i] = false;
	pthread_mutex_unlock(&table_lock);
	return 0;
}

void close_tables(void)
{
	int i;

	for (i = 0; i < NR_FDS; i++)
		if (fds[i].kind != FD_FREE)
			close(fds[i].fd);
	munmap(arena, (size_t)NR_MAPS * ARENA_STRIDE);
}

/*
 * For a device's console, disk or net fd: one of ours (vsnix and stats
 * fds, pipes, sockets, the backend files), -1, or a number that is not
 * open. Never stdio or the rig's port: a guest's console output there
 * would garble the TAP stream.
 */
int random_file_fd(struct fuzz_thread *t)
{
	const int *b = &backends.disk;

	switch (rnd_below(t, 4)) {
	case 0:
		return fd_pick(t, FD_FREE);
	case 1:
		return b[rnd_below(t, sizeof(backends) / sizeof(int))];
	case 2:
		return -1;
	default:
		return 900 + (int)rnd_below(t, 100);
	}
}

/*
 * Periodic, not one-shot: a thread preempted between timer_settime and
 * the ioctl took its one signal before RUN began, and a guest whose exits
 * the kernel serves then ran unbounded (seen on the debug kernel).
 */
long run_with_timer(struct fuzz_thread *t, int vcpu)
{
	struct itimerspec its = { .it_value.tv_nsec = RUN_TIMER_NS,
				  .it_interval.tv_nsec = RUN_TIMER_NS };
	struct itimerspec off = { 0 };
	long ret;

	t->detail = VSNIX_RUN;
	t->run_fd = vcpu;
	timer_settime(t->run_timer, 0, &its, NULL);
	ret = ioctl(vcpu, VSNIX_RUN, 0);
	timer_settime(t->run_timer, 0, &off, NULL);
	return ret;
}

/*
 * A tap queue as virtio-net wants it (IFF_VNET_HDR, header size 12), in a
 * private network namespace; -1 where the kernel has no tun (debug kernel).
 */
static int open_tap(void)
{
	int fd, hdr = 12;

	if (access("/dev/net/tun", F_OK))
		net_sh("modprobe tun");
	if (access("/dev/net/tun", F_OK) || unshare(CLONE_NEWNET))
		return -1;
	fd = net_tap_queue("fuzz0", IFF_VNET_HDR);
	if (fd >= 0 && ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

void fuzz_backends_init(void)
{
	char path[] = "/tmp/vsnix-fuzz-disk-XXXXXX";

	scratch = mmap(NULL, SCRATCH_SIZE + GUARD_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	TEST_ASSERT(scratch != MAP_FAILED, "scratch mapping");
	guard = scratch + SCRATCH_SIZE;
	arena = mmap(NULL, (size_t)NR_MAPS * ARENA_STRIDE, PROT_NONE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	TEST_ASSERT(arena != MAP_FAILED, "guest memory arena");
	TEST_ASSERT(!mprotect(guard, GUARD_SIZE, PROT_NONE), "guard mapping");

	backends.disk = mkostemp(path, O_CLOEXEC);
	TEST_ASSERT(backends.disk >= 0 && !ftruncate(backends.disk, 1 << 20),
		    "disk file %s", path);
	backends.disk_ro = open(path, O_RDONLY | O_CLOEXEC);
	unlink(path);
	backends.dir = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	backends.devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	backends.tap = open_tap();
}

void fuzz_backends_close(void)
{
	const int *b = &backends.disk;
	unsigned int i;

	for (i = 0; i < sizeof(backends) / sizeof(int); i++)
		if (b[i] >= 0)
			close(b[i]);
}
