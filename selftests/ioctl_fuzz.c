// SPDX-License-Identifier: GPL-2.0
/*
 * ioctl fuzzer: several threads make random and mutated calls on /dev/vsnix,
 * VM and vCPU fds, close those fds and drop mappings (guest memory and the
 * run area) while other threads are inside calls on them, and run guests
 * whose memory holds random bytes.
 *
 * Pass: every call returns (a watchdog fails the test on a call stuck for
 * longer than STUCK_SECONDS), no errno outside the documented set, the
 * kernel has no new oops/WARN taint, and each kind of call succeeded at
 * least once (so the fuzzer reached past the argument checks). The rig adds
 * the console check, kmemleak and rmmod (a VM still referenced after the
 * last close keeps the module busy).
 *
 * VSNIX_FUZZ_CALLS: total calls (default per machine, see default_calls);
 * VSNIX_FUZZ_SEED: seed (default: time); printed so a run can be replayed
 * (thread interleaving aside).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "vsnix_util.h"

#define NR_THREADS	4
#define NR_FDS		48	/* vsnix fds the fuzzer keeps open at most */
#define NR_MAPS		32	/* anonymous mappings for guest memory */
#define MAX_MAP_SIZE	(1ul << 20)
#define ARG_SIZE	8192	/* room for the largest ioctl argument */
#define RUN_TIMER_NS	(3 * 1000 * 1000)
#define STUCK_SECONDS	30

enum fd_kind { FD_FREE, FD_SYS, FD_VM, FD_VCPU, FD_OTHER };

struct fuzz_fd {
	int fd;
	enum fd_kind kind;
};

struct fuzz_map {
	void *addr;
	size_t len;
};

/* The shared tables: entries are taken out under the lock, then used. */
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct fuzz_fd fds[NR_FDS];
static struct fuzz_map maps[NR_MAPS];

static atomic_long calls_left;
static atomic_long calls_done;
static atomic_int bad_errno_seen;

enum op {
	OP_OPEN, OP_CLOSE, OP_CREATE_VM, OP_CREATE_VCPU, OP_SET_REGION,
	OP_CREATE_DEVICE, OP_RUN, OP_MMAP_RUN, OP_MAP, OP_UNMAP,
	OP_IOCTL_VALID, OP_IOCTL_RANDOM, OP_OTHER_FD, NR_OPS
};

static const char *const op_names[NR_OPS] = {
	"open", "close", "create_vm", "create_vcpu", "set_region",
	"create_device", "run", "mmap_run", "map", "unmap",
	"ioctl_valid", "ioctl_random", "other_fd",
};

static atomic_long op_ok[NR_OPS];
static atomic_long op_tried[NR_OPS];

struct fuzz_thread {
	pthread_t tid;
	unsigned int index;
	uint64_t rng;
	timer_t run_timer;
	atomic_long last_progress;	/* seconds, CLOCK_MONOTONIC */
	atomic_int current_op;
	uint8_t arg[ARG_SIZE] __attribute__((aligned(64)));
};

static struct fuzz_thread threads[NR_THREADS];

/* ----------------------------------------------------------- helpers */

static uint64_t rnd(struct fuzz_thread *t)
{
	/* xorshift64*: fast, and enough for choosing calls. */
	t->rng ^= t->rng >> 12;
	t->rng ^= t->rng << 25;
	t->rng ^= t->rng >> 27;
	return t->rng * 0x2545f4914f6cdd1dull;
}

static uint64_t rnd_below(struct fuzz_thread *t, uint64_t n)
{
	return n ? rnd(t) % n : 0;
}

static bool one_in(struct fuzz_thread *t, unsigned int n)
{
	return rnd_below(t, n) == 0;
}

static long now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static void fill_random(struct fuzz_thread *t, void *buf, size_t len)
{
	uint8_t *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = rnd(t);
}

/*
 * A value that exercises boundaries: small, near a power of two, all ones,
 * or fully random.
 */
static uint64_t interesting_u64(struct fuzz_thread *t)
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

/* errnos the API documents for bad input, races and resource limits. */
static bool errno_expected(int err)
{
	switch (err) {
	case EINVAL: case EBADF: case ENOTTY: case EFAULT: case ENOMEM:
	case EEXIST: case EBUSY: case E2BIG: case ENOENT: case EINTR:
	case EAGAIN: case ENOSPC: case EPERM: case ENXIO: case EOPNOTSUPP:
	case ENODEV: case ERANGE: case EIO: case EACCES: case EMFILE:
	case ENFILE: case EOVERFLOW: case ESRCH: case ENOSYS:
		return true;
	default:
		return false;
	}
}

static void note_result(struct fuzz_thread *t, enum op op, long ret)
{
	op_tried[op]++;
	if (ret >= 0) {
		op_ok[op]++;
		return;
	}
	if (!errno_expected(errno)) {
		if (atomic_fetch_add(&bad_errno_seen, 1) < 10)
			tap_diag("thread %u: %s gave errno %d (%s)", t->index,
				 op_names[op], errno, strerror(errno));
	}
}

/* ------------------------------------------------------------ tables */

static void fd_put(int fd, enum fd_kind kind)
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
 * thread may close it while this one uses it, which is part of the test.
 */
static int fd_pick(struct fuzz_thread *t, enum fd_kind kind)
{
	int start = rnd_below(t, NR_FDS), i, fd = -1;

	pthread_mutex_lock(&table_lock);
	for (i = 0; i < NR_FDS; i++) {
		struct fuzz_fd *f = &fds[(start + i) % NR_FDS];

		if (f->kind != FD_FREE && (kind == FD_FREE || f->kind == kind)) {
			fd = f->fd;
			break;
		}
	}
	pthread_mutex_unlock(&table_lock);
	return fd;
}

/* Take a random fd out of the table; the caller closes it. */
static int fd_take(struct fuzz_thread *t)
{
	int start = rnd_below(t, NR_FDS), i, fd = -1;

	pthread_mutex_lock(&table_lock);
	for (i = 0; i < NR_FDS; i++) {
		struct fuzz_fd *f = &fds[(start + i) % NR_FDS];

		if (f->kind != FD_FREE) {
			fd = f->fd;
			f->kind = FD_FREE;
			break;
		}
	}
	pthread_mutex_unlock(&table_lock);
	return fd;
}

static struct fuzz_map map_pick(struct fuzz_thread *t)
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

/* ---------------------------------------------------------- the ops */

static long op_open(struct fuzz_thread *t)
{
	int fd = open("/dev/vsnix", O_RDWR | O_CLOEXEC);

	if (fd >= 0)
		fd_put(fd, FD_SYS);
	return fd;
}

static long op_close(struct fuzz_thread *t)
{
	int fd = fd_take(t);

	return fd < 0 ? (errno = EBADF, -1) : close(fd);
}

static long op_create_vm(struct fuzz_thread *t)
{
	int sys = fd_pick(t, FD_SYS);
	unsigned long flags = one_in(t, 8) ? interesting_u64(t) : 0;
	long fd = ioctl(sys, VSNIX_CREATE_VM, flags);

	if (fd >= 0)
		fd_put(fd, FD_VM);
	return fd;
}

static long op_create_vcpu(struct fuzz_thread *t)
{
	int vm = fd_pick(t, FD_VM);
	unsigned long id = one_in(t, 4) ? interesting_u64(t) : rnd_below(t, 4);
	long fd = ioctl(vm, VSNIX_CREATE_VCPU, id);

	if (fd >= 0)
		fd_put(fd, FD_VCPU);
	return fd;
}

static long op_set_region(struct fuzz_thread *t)
{
	struct vsnix_memory_region r = { 0 };
	struct fuzz_map m = map_pick(t);

	r.slot = one_in(t, 8) ? interesting_u64(t) : rnd_below(t, 4);
	r.flags = (one_in(t, 4) ? VSNIX_MEM_READONLY : 0) |
		  (one_in(t, 4) ? VSNIX_MEM_NOEXEC : 0);
	if (one_in(t, 16))
		r.flags = interesting_u64(t);
	r.guest_phys_addr = one_in(t, 4) ? interesting_u64(t) & ~0xfffull :
			    rnd_below(t, 64) << 16;
	r.memory_size = m.len;
	r.userspace_addr = (uintptr_t)m.addr;
	if (one_in(t, 4))
		r.memory_size = one_in(t, 3) ? 0 : interesting_u64(t);
	if (one_in(t, 8))
		r.userspace_addr = interesting_u64(t);
	if (one_in(t, 16))
		r.reserved[rnd_below(t, 2)] = rnd(t);
	return ioctl(fd_pick(t, FD_VM), VSNIX_SET_MEMORY_REGION, &r);
}

/*
 * For a device's console, block or net fd: one of ours (vsnix fds, pipes,
 * sockets), -1, or a number that is not open. Never stdio or the rig's
 * port: a guest's console output there would garble the TAP stream.
 */
static int random_file_fd(struct fuzz_thread *t)
{
	if (one_in(t, 2))
		return fd_pick(t, FD_FREE);
	return one_in(t, 2) ? -1 : 900 + (int)rnd_below(t, 100);
}

static long op_create_device(struct fuzz_thread *t)
{
	struct vsnix_device_config *c = (void *)t->arg;
	unsigned int i;

	memset(c, 0, sizeof(*c));
	c->type = rnd_below(t, VSNIX_NR_DEVICES + 1);
	c->console_fd = one_in(t, 2) ? -1 : random_file_fd(t);
	if (one_in(t, 2)) {
		fill_random(t, c->raw, sizeof(c->raw));
	} else if (c->type == VSNIX_DEV_HVT) {
		c->hvt.mem_size = interesting_u64(t);
		c->hvt.nr_block = rnd_below(t, 3);
		c->hvt.nr_net = rnd_below(t, 2);
		for (i = 0; i < VSNIX_HVT_MAX_BLOCK; i++) {
			c->hvt.block[i].fd = random_file_fd(t);
			c->hvt.block_handle[i] = i + 1;
		}
		for (i = 0; i < VSNIX_HVT_MAX_NET; i++) {
			c->hvt.net[i].fd = random_file_fd(t);
			c->hvt.net_handle[i] = i + 1 + VSNIX_HVT_MAX_BLOCK;
		}
	} else {
		c->uart.base = one_in(t, 2) ? 0x3f8 : rnd(t);
		c->fw_cfg.nr_cpus = rnd_below(t, 3);
	}
	if (one_in(t, 8))
		c->flags = interesting_u64(t);
	return ioctl(fd_pick(t, FD_VM), VSNIX_CREATE_DEVICE, c);
}

/* RUN, with a per-thread timer so a guest that spins is interrupted. */
static long op_run(struct fuzz_thread *t)
{
	struct itimerspec its = { .it_value.tv_nsec = RUN_TIMER_NS };
	struct itimerspec off = { 0 };
	long ret;

	timer_settime(t->run_timer, 0, &its, NULL);
	ret = ioctl(fd_pick(t, FD_VCPU), VSNIX_RUN, 0);
	timer_settime(t->run_timer, 0, &off, NULL);
	return ret;
}

/* Map a vCPU's run area, touch it, and sometimes leave it mapped. */
static long run_area_size;

static long op_mmap_run(struct fuzz_thread *t)
{
	int vcpu = fd_pick(t, FD_VCPU);
	size_t len = one_in(t, 4) ? interesting_u64(t) & 0xffffff : run_area_size;
	off_t off = one_in(t, 4) ? (off_t)(rnd_below(t, 4) * 4096) : 0;
	int prot = one_in(t, 4) ? PROT_READ | PROT_WRITE | PROT_EXEC :
		   PROT_READ | PROT_WRITE;
	volatile uint8_t *p;

	p = mmap(NULL, len, prot, MAP_SHARED, vcpu, off);
	if (p == MAP_FAILED)
		return -1;
	/* Touch only the area itself: past it, a fault is SIGBUS. */
	if (off == 0 && len >= 4096) {
		p[0] = one_in(t, 2);	/* immediate_exit */
		if (len >= 8192 && run_area_size >= 8192)
			(void)p[4096];
	}
	munmap((void *)p, len);
	return 0;
}

/* New guest memory: anonymous, random bytes (random guest code). */
static long op_map(struct fuzz_thread *t)
{
	size_t len = (rnd_below(t, MAX_MAP_SIZE / 4096) + 1) * 4096;
	void *addr = mmap(NULL, len, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int i;

	if (addr == MAP_FAILED)
		return -1;
	fill_random(t, addr, len < 16384 ? len : 16384);
	pthread_mutex_lock(&table_lock);
	for (i = 0; i < NR_MAPS; i++) {
		if (!maps[i].addr) {
			maps[i].addr = addr;
			maps[i].len = len;
			addr = NULL;
			break;
		}
	}
	pthread_mutex_unlock(&table_lock);
	if (addr)
		munmap(addr, len);
	return 0;
}

/* Drop a mapping that a VM may use as guest memory right now. */
static long op_unmap(struct fuzz_thread *t)
{
	int i = rnd_below(t, NR_MAPS);
	struct fuzz_map m;

	pthread_mutex_lock(&table_lock);
	m = maps[i];
	maps[i].addr = NULL;
	pthread_mutex_unlock(&table_lock);
	if (!m.addr)
		return errno = ENOENT, -1;
	return munmap(m.addr, m.len);
}

/* A known request on the fd kind it belongs to, with a mutated argument. */
struct request {
	unsigned long nr;
	enum fd_kind kind;
};

static const struct request known_requests[] = {
	{ VSNIX_GET_API_VERSION, FD_SYS },
	{ VSNIX_CHECK_EXTENSION, FD_SYS },
	{ VSNIX_GET_VCPU_MMAP_SIZE, FD_SYS },
	{ VSNIX_GET_SUPPORTED_CPUID, FD_SYS },
	{ VSNIX_SET_CPUID, FD_VM },
	{ VSNIX_GET_CPUID, FD_VM },
	{ VSNIX_GET_VM_STATUS, FD_VM },
	{ VSNIX_DESTROY_DEVICE, FD_VM },
	{ VSNIX_IOEVENTFD, FD_VM },
	{ VSNIX_IRQ_LINE, FD_VM },
	{ VSNIX_IRQFD, FD_VM },
	{ VSNIX_GET_DEVICE_STATE, FD_VM },
	{ VSNIX_SET_DEVICE_STATE, FD_VM },
	{ VSNIX_GET_REGS, FD_VCPU },
	{ VSNIX_SET_REGS, FD_VCPU },
	{ VSNIX_GET_SREGS, FD_VCPU },
	{ VSNIX_SET_SREGS, FD_VCPU },
	{ VSNIX_GET_XSAVE, FD_VCPU },
	{ VSNIX_SET_XSAVE, FD_VCPU },
	{ VSNIX_GET_MSRS, FD_VCPU },
	{ VSNIX_SET_MSRS, FD_VCPU },
	{ VSNIX_INJECT_EVENT, FD_VCPU },
};

#define NR_KNOWN (sizeof(known_requests) / sizeof(known_requests[0]))

/*
 * An argument for a known request: first the current state read back
 * (GET before SET), then a few fields flipped, so that most calls pass the
 * size checks and reach the semantic ones.
 */
static void mutate_arg(struct fuzz_thread *t, unsigned long nr, int fd)
{
	struct vsnix_cpuid *cpuid = (void *)t->arg;
	struct vsnix_msrs *msrs = (void *)t->arg;
	unsigned int flips, i;

	memset(t->arg, 0, ARG_SIZE);
	if (nr == VSNIX_SET_REGS)
		ioctl(fd, VSNIX_GET_REGS, t->arg);
	else if (nr == VSNIX_SET_SREGS)
		ioctl(fd, VSNIX_GET_SREGS, t->arg);
	else if (nr == VSNIX_SET_XSAVE)
		ioctl(fd, VSNIX_GET_XSAVE, t->arg);
	if (nr == VSNIX_GET_SUPPORTED_CPUID || nr == VSNIX_GET_CPUID ||
	    nr == VSNIX_SET_CPUID) {
		cpuid->nent = one_in(t, 4) ? interesting_u64(t) : rnd_below(t, 64);
		if (nr == VSNIX_SET_CPUID)
			ioctl(fd_pick(t, FD_SYS), VSNIX_GET_SUPPORTED_CPUID, t->arg);
	}
	if (nr == VSNIX_GET_MSRS || nr == VSNIX_SET_MSRS) {
		msrs->nmsrs = one_in(t, 4) ? interesting_u64(t) : rnd_below(t, 8);
		for (i = 0; i < 8; i++)
			msrs->entries[i].index = one_in(t, 2) ?
				interesting_u64(t) : 0xc0000080 + rnd_below(t, 0x110);
	}
	if (nr == VSNIX_IOEVENTFD)
		((struct vsnix_ioeventfd_config *)t->arg)->fd = fd_pick(t, FD_FREE);
	if (nr == VSNIX_IRQFD)
		((struct vsnix_irqfd *)t->arg)->fd = fd_pick(t, FD_FREE);
	if (nr == VSNIX_GET_DEVICE_STATE || nr == VSNIX_SET_DEVICE_STATE) {
		struct vsnix_device_state *st = (void *)t->arg;

		st->id = rnd_below(t, 8);
		st->size = rnd_below(t, 64);
		st->data = (uintptr_t)(t->arg + 256);
	}
	flips = rnd_below(t, 4);
	for (i = 0; i < flips; i++)
		t->arg[rnd_below(t, 512)] ^= 1u << rnd_below(t, 8);
}

static long op_ioctl_valid(struct fuzz_thread *t)
{
	const struct request *r = &known_requests[rnd_below(t, NR_KNOWN)];
	int fd = fd_pick(t, one_in(t, 16) ? FD_FREE : r->kind);
	void *arg = t->arg;

	mutate_arg(t, r->nr, fd);
	if (r->nr == VSNIX_CHECK_EXTENSION)
		return ioctl(fd, r->nr, rnd_below(t, 32));
	if (r->nr == VSNIX_DESTROY_DEVICE)	/* ids are small integers */
		return ioctl(fd, r->nr, one_in(t, 8) ? interesting_u64(t) :
					 rnd_below(t, 8));
	if (one_in(t, 16))	/* a bad pointer: unmapped or kernel */
		arg = (void *)(uintptr_t)interesting_u64(t);
	return ioctl(fd, r->nr, arg);
}

/* Any request number in vsnix's ioctl space, any direction and size. */
static long op_ioctl_random(struct fuzz_thread *t)
{
	unsigned long nr = _IOC(rnd_below(t, 4), VSNIXIO, rnd_below(t, 256),
				rnd_below(t, 1u << 14));
	int fd = fd_pick(t, FD_FREE);

	fill_random(t, t->arg, 512);
	return ioctl(fd, nr, one_in(t, 4) ? (void *)(uintptr_t)rnd(t) : t->arg);
}

/* Non-vsnix fds among ours: pipes and sockets for console and net fds. */
static long op_other_fd(struct fuzz_thread *t)
{
	int pair[2];

	if (one_in(t, 2) ? pipe2(pair, O_CLOEXEC | O_NONBLOCK) :
	    socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, pair))
		return -1;
	fd_put(pair[0], FD_OTHER);
	fd_put(pair[1], FD_OTHER);
	return 0;
}

typedef long (*op_fn)(struct fuzz_thread *t);

static const op_fn op_table[NR_OPS] = {
	op_open, op_close, op_create_vm, op_create_vcpu, op_set_region,
	op_create_device, op_run, op_mmap_run, op_map, op_unmap,
	op_ioctl_valid, op_ioctl_random, op_other_fd,
};

/* Relative weights: most calls are ioctls on live objects. */
static const unsigned int op_weight[NR_OPS] = {
	2, 4, 3, 4, 6, 3, 8, 3, 3, 1, 30, 10, 1,
};

static enum op pick_op(struct fuzz_thread *t)
{
	unsigned int total = 0, i, r;

	for (i = 0; i < NR_OPS; i++)
		total += op_weight[i];
	r = rnd_below(t, total);
	for (i = 0; i < NR_OPS; i++) {
		if (r < op_weight[i])
			return i;
		r -= op_weight[i];
	}
	return OP_IOCTL_VALID;
}

/* ------------------------------------------------------- the threads */

static void on_timer(int sig)
{
	(void)sig;	/* only interrupts RUN (no SA_RESTART) */
}

static void *fuzz_thread_main(void *arg)
{
	struct fuzz_thread *t = arg;
	struct sigevent sev = {
		.sigev_notify = SIGEV_THREAD_ID,
		.sigev_signo = SIGUSR1,
	};

	sev._sigev_un._tid = syscall(SYS_gettid);
	TEST_ASSERT(!timer_create(CLOCK_MONOTONIC, &sev, &t->run_timer),
		    "timer_create");
	while (atomic_fetch_sub(&calls_left, 1) > 0) {
		enum op op = pick_op(t);
		long ret;

		t->current_op = op;
		t->last_progress = now_seconds();
		errno = 0;
		ret = op_table[op](t);
		note_result(t, op, ret);
		calls_done++;
	}
	t->current_op = -1;
	timer_delete(t->run_timer);
	return NULL;
}

/* A call stuck for STUCK_SECONDS is a hang: report it while it lasts. */
static bool watch_threads(void)
{
	unsigned int i, running;

	for (;;) {
		sleep(1);
		running = 0;
		for (i = 0; i < NR_THREADS; i++) {
			struct fuzz_thread *t = &threads[i];
			int op = t->current_op;

			if (op < 0)
				continue;
			running++;
			if (now_seconds() - t->last_progress > STUCK_SECONDS) {
				tap_diag("thread %u stuck in %s for %d s", i,
					 op_names[op], STUCK_SECONDS);
				return false;
			}
		}
		if (!running)
			return true;
	}
}

static long default_calls(void)
{
	const char *env = getenv("VSNIX_FUZZ_CALLS");
	const char *machine = getenv("VSNIX_RIG_MACHINE");

	if (env && *env)
		return strtol(env, NULL, 0);
	if (machine && !strcmp(machine, "vmx"))
		return 5000;	/* Bochs: ~100x slower than QEMU */
	if (machine && !strcmp(machine, "svm"))
		return 20000;
	return 100000;		/* the KASAN/lockdep/kmemleak kernel */
}

static void close_everything(void)
{
	int i;

	for (i = 0; i < NR_FDS; i++)
		if (fds[i].kind != FD_FREE)
			close(fds[i].fd);
	for (i = 0; i < NR_MAPS; i++)
		if (maps[i].addr)
			munmap(maps[i].addr, maps[i].len);
}

int main(void)
{
	struct sigaction sa = { .sa_handler = on_timer };
	const char *seed_env = getenv("VSNIX_FUZZ_SEED");
	uint64_t seed = seed_env ? strtoull(seed_env, NULL, 0) : (uint64_t)time(NULL);
	long total = default_calls();
	unsigned int i, unreached = 0;
	int fds_before;
	bool finished;

	run_area_size = ioctl(vsnix_dev_fd(), VSNIX_GET_VCPU_MMAP_SIZE, 0);
	TEST_ASSERT(run_area_size >= 4096, "GET_VCPU_MMAP_SIZE");
	fds_before = count_open_fds();
	tap_plan(4);
	tap_diag("%ld calls, %d threads, seed 0x%llx", total, NR_THREADS,
		 (unsigned long long)seed);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	atomic_store(&calls_left, total);
	for (i = 0; i < NR_THREADS; i++) {
		threads[i].index = i;
		threads[i].rng = seed * 0x9e3779b97f4a7c15ull + i + 1;
		threads[i].last_progress = now_seconds();
		threads[i].current_op = OP_OPEN;	/* starting */
		TEST_ASSERT(!pthread_create(&threads[i].tid, NULL,
					    fuzz_thread_main, &threads[i]),
			    "pthread_create");
	}
	finished = watch_threads();
	tap_ok(finished, "every call returned (%ld made)", (long)calls_done);
	if (!finished)
		tap_finish();	/* the threads stay stuck: the rig sees it */
	for (i = 0; i < NR_THREADS; i++)
		pthread_join(threads[i].tid, NULL);
	close_everything();

	for (i = 0; i < NR_OPS; i++) {
		tap_diag("%-13s %7ld tried %7ld ok", op_names[i],
			 (long)op_tried[i], (long)op_ok[i]);
		/* ioctl_random: most numbers are not vsnix's, success is luck */
		if (!op_ok[i] && i != OP_IOCTL_RANDOM)
			unreached++;
	}
	tap_ok(!unreached || total < 2000,
	       "each kind of call succeeded at least once (%u never did)", unreached);
	tap_ok(!bad_errno_seen, "no errno outside the documented set (%d seen)",
	       (int)bad_errno_seen);
	tap_ok(kernel_healthy() && count_open_fds() == fds_before,
	       "kernel not tainted by an oops or WARN; every fd closed");
	tap_finish();
}
