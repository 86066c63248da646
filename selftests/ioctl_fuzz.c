// SPDX-License-Identifier: GPL-2.0
/*
 * ioctl fuzzer: several threads make random and mutated calls on /dev/vsnix,
 * VM, vCPU and stats fds, close those fds and drop mappings (guest memory
 * and the run area) while other threads are inside calls on them, and run
 * guests whose memory holds random bytes. Devices of every type are
 * created with plausible, mutated and random configs (PCI placements,
 * good and bad backend fds); PCI platforms with virtio functions run a
 * guest that drives them over random rings while other threads destroy
 * the functions, read the stats fds and close the VM. The parts live in
 * selftests/fuzz/.
 *
 * Before the threads start, one thread makes a small pool of VMs and
 * vCPUs (fuzz/pool.c) with one valid call of each kind, all of which must
 * succeed; the threads then make a fixed number of calls, most of them on
 * the pool's objects (making a VM is the slowest call on the debug kernel,
 * so it is one kind among many, not the way to every object).
 *
 * Pass: the pool's valid calls succeed, every one of the fixed number of
 * calls returns (a watchdog fails the test on a call stuck for longer than
 * STUCK_SECONDS), no errno outside the documented set, the kernel has no
 * new oops/WARN taint, every stats header read whole is self-consistent.
 * No assertion depends on what the random calls happened to do; the
 * per-kind counts and times are printed. The rig adds the console check,
 * kmemleak, the page count and rmmod (a VM still referenced after the last
 * close keeps the module busy).
 *
 * VSNIX_FUZZ_CALLS: total calls (default per machine, see default_calls);
 * VSNIX_FUZZ_SEED: seed (default: time); printed so a run can be replayed
 * (thread interleaving aside).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fuzz/fuzz.h"
#include "vsnix/stats.h"

static atomic_long calls_left;
static atomic_long calls_done;
static atomic_int bad_errno_seen;

enum op {
	OP_OPEN, OP_CLOSE, OP_CREATE_VM, OP_CREATE_VCPU, OP_SET_REGION,
	OP_CREATE_DEVICE, OP_RUN, OP_MMAP_RUN, OP_MAP, OP_UNMAP,
	OP_IOCTL_VALID, OP_IOCTL_RANDOM, OP_OTHER_FD, OP_DESTROY_DEVICE,
	OP_DEVICE_INPUT, OP_PLATFORM, OP_STATS_FD, OP_STATS_READ, OP_VM_NAME,
	OP_VM_INFO, OP_LIST_VMS, OP_STATS_BY_ID, NR_OPS
};

struct op_desc {
	const char *name;
	long (*fn)(struct fuzz_thread *t);
	unsigned int weight;	/* in 2000: most calls are ioctls on live objects */
};

/*
 * Per 2000 calls. The slow kinds (a VM made or closed, a device, a
 * platform, an mmap) are rare but still tens to thousands in a run of
 * 100,000 calls: on the debug kernel a platform takes about 0.6 s, a VM
 * or an mmap 50-150 ms, a device 40 ms, a cheap ioctl 0.5-3 ms of a
 * thread's time.
 */
static const struct op_desc ops[NR_OPS] = {
	[OP_OPEN] = { "open", op_open, 10 },
	[OP_CLOSE] = { "close", op_close, 30 },
	[OP_CREATE_VM] = { "create_vm", op_create_vm, 6 },
	[OP_CREATE_VCPU] = { "create_vcpu", op_create_vcpu, 16 },
	[OP_SET_REGION] = { "set_region", op_set_region, 50 },
	[OP_CREATE_DEVICE] = { "create_device", op_create_device, 20 },
	[OP_RUN] = { "run", op_run, 80 },
	[OP_MMAP_RUN] = { "mmap_run", op_mmap_run, 4 },
	[OP_MAP] = { "map", op_map, 4 },
	[OP_UNMAP] = { "unmap", op_unmap, 4 },
	[OP_IOCTL_VALID] = { "ioctl_valid", op_ioctl_valid, 640 },
	[OP_IOCTL_RANDOM] = { "ioctl_random", op_ioctl_random, 520 },
	[OP_OTHER_FD] = { "other_fd", op_other_fd, 6 },
	[OP_DESTROY_DEVICE] = { "destroy_device", op_destroy_device, 40 },
	[OP_DEVICE_INPUT] = { "device_input", op_device_input, 20 },
	[OP_PLATFORM] = { "platform", op_platform, 1 },
	[OP_STATS_FD] = { "stats_fd", op_stats_fd, 20 },
	[OP_STATS_READ] = { "stats_read", op_stats_read, 300 },
	[OP_VM_NAME] = { "vm_name", op_vm_name, 50 },
	[OP_VM_INFO] = { "vm_info", op_vm_info, 100 },
	[OP_LIST_VMS] = { "list_vms", op_list_vms, 30 },
	[OP_STATS_BY_ID] = { "stats_by_id", op_stats_by_id, 49 },
};

static atomic_long op_ok[NR_OPS];
static atomic_long op_tried[NR_OPS];
static atomic_long op_us[NR_OPS];	/* time spent in each kind */

static struct fuzz_thread threads[NR_THREADS];

static long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static long now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
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
				 ops[op].name, errno, strerror(errno));
	}
}

/* A fixed number of calls, whatever the machine's speed. */
static bool next_call_allowed(void)
{
	return atomic_fetch_sub(&calls_left, 1) > 0;
}

static enum op pick_op(struct fuzz_thread *t)
{
	unsigned int total = 0, i, r;

	for (i = 0; i < NR_OPS; i++)
		total += ops[i].weight;
	r = rnd_below(t, total);
	for (i = 0; i < NR_OPS; i++) {
		if (r < ops[i].weight)
			return i;
		r -= ops[i].weight;
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

	t->os_tid = syscall(SYS_gettid);
	sev._sigev_un._tid = t->os_tid;
	TEST_ASSERT(!timer_create(CLOCK_MONOTONIC, &sev, &t->run_timer),
		    "timer_create");
	while (next_call_allowed()) {
		enum op op = pick_op(t);
		long ret, start = now_us();

		t->current_op = op;
		t->detail = 0;
		t->last_progress = now_seconds();
		errno = 0;
		ret = ops[op].fn(t);
		op_us[op] += now_us() - start;
		note_result(t, op, ret);
		calls_done++;
	}
	t->current_op = -1;
	timer_delete(t->run_timer);
	return NULL;
}

/*
 * A RUN that does not return: do its vCPU's exits go on (the kernel keeps
 * re-entering) or not (stuck in the guest or in one exit)? The stats fd
 * needs no vCPU mutex.
 */
static void show_run_progress(int vcpu)
{
	static const char *const names[] = { "exits", "exits_npf", "exits_extint",
					     "user_exits" };
	uint64_t before[4];
	struct vx_stats *s;
	int fd = ioctl(vcpu, VSNIX_GET_VCPU_STATS_FD, 0);
	unsigned int i;

	/* vx_stats_parse closes the fd when it fails. */
	if (fd < 0 || vx_stats_parse(fd, &s))
		return;
	for (i = 0; i < 4 && !vx_stats_read(s); i++)
		before[i] = vx_stats_get(s, names[i]);
	sleep(1);
	if (i == 4 && !vx_stats_read(s))
		for (i = 0; i < 4; i++)
			tap_diag("  vCPU fd %d: %s %llu (+%llu in 1 s)", vcpu, names[i],
				 (unsigned long long)vx_stats_get(s, names[i]),
				 (unsigned long long)(vx_stats_get(s, names[i]) - before[i]));
	vx_stats_free(s);
}

/* Where each thread is: its call and its kernel stack (as root). */
static void show_threads(void)
{
	char path[64], line[256];
	unsigned int i;
	FILE *f;

	for (i = 0; i < NR_THREADS; i++) {
		struct fuzz_thread *t = &threads[i];
		int op = t->current_op;

		tap_diag("thread %u: %s request 0x%lx, %ld s since it began", i,
			 op < 0 ? "done" : ops[op].name, (unsigned long)t->detail,
			 now_seconds() - t->last_progress);
		snprintf(path, sizeof(path), "/proc/self/task/%d/stack", (int)t->os_tid);
		f = fopen(path, "re");
		while (f && fgets(line, sizeof(line), f)) {
			line[strcspn(line, "\n")] = 0;
			tap_diag("  %s", line);
		}
		if (f)
			fclose(f);
		if (op == OP_PLATFORM || op == OP_RUN)
			show_run_progress(t->run_fd);
	}
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
					 ops[op].name, STUCK_SECONDS);
				show_threads();
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
	/* Bochs: ~100x slower than QEMU (selftests/README.md) */
	if (machine && !strcmp(machine, "vmx"))
		return 5000;
	/* svm, svm-6.12 (stock kernels): the debug kernel makes the 100,000 */
	if (machine && !strncmp(machine, "svm", 3) && strcmp(machine, "svm-debug"))
		return 50000;
	return 100000;		/* svm-debug (KASAN/lockdep/kmemleak) */
}

/* The pool, made by the main thread before the fuzzing threads start. */
static unsigned int build_pool(uint64_t seed)
{
	static struct fuzz_thread setup;
	struct sigevent sev = {
		.sigev_notify = SIGEV_THREAD_ID,
		.sigev_signo = SIGUSR1,
	};
	unsigned int failed;

	setup.index = NR_THREADS;
	setup.rng = seed * 0x9e3779b97f4a7c15ull + NR_THREADS + 1;
	sev._sigev_un._tid = syscall(SYS_gettid);
	TEST_ASSERT(!timer_create(CLOCK_MONOTONIC, &sev, &setup.run_timer),
		    "timer_create");
	failed = pool_build(&setup);
	timer_delete(setup.run_timer);
	return failed;
}

int main(void)
{
	struct sigaction sa = { .sa_handler = on_timer };
	const char *seed_env = getenv("VSNIX_FUZZ_SEED");
	uint64_t seed = seed_env ? strtoull(seed_env, NULL, 0) : (uint64_t)time(NULL);
	long total = default_calls(), start;
	unsigned int i, pool_failed;
	int fds_before;
	bool finished;

	run_area_size = ioctl(vsnix_dev_fd(), VSNIX_GET_VCPU_MMAP_SIZE, 0);
	TEST_ASSERT(run_area_size >= 4096, "GET_VCPU_MMAP_SIZE");
	fds_before = count_open_fds();
	fuzz_backends_init();
	platform_sys_fd = open("/dev/vsnix", O_RDWR | O_CLOEXEC);
	TEST_ASSERT(platform_sys_fd >= 0, "open /dev/vsnix");
	tap_plan(5);
	tap_diag("%ld calls, %d threads, seed 0x%llx (VSNIX_FUZZ_SEED replays), %s tap",
		 total, NR_THREADS, (unsigned long long)seed,
		 backends.tap >= 0 ? "a" : "no");
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	pool_failed = build_pool(seed);
	tap_ok(!pool_failed, "the pool: one valid call of each kind succeeded (%u failed)",
	       pool_failed);
	atomic_store(&calls_left, total);
	start = now_us();
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
	tap_diag("%ld calls in %ld ms", (long)calls_done, (now_us() - start) / 1000);
	tap_ok(finished && calls_done == total, "every call returned (%ld of %ld made)",
	       (long)calls_done, total);
	if (!finished)
		tap_finish();	/* the threads stay stuck: the rig sees it */
	for (i = 0; i < NR_THREADS; i++)
		pthread_join(threads[i].tid, NULL);
	close_tables();
	pool_close();
	close(platform_sys_fd);
	fuzz_backends_close();

	for (i = 0; i < NR_OPS; i++)
		tap_diag("%-14s %7ld tried %7ld ok %8ld ms", ops[i].name,
			 (long)op_tried[i], (long)op_ok[i], (long)op_us[i] / 1000);
	tap_ok(!stats_header_bad, "every stats header read was sane (%d not)",
	       (int)stats_header_bad);
	tap_ok(!bad_errno_seen, "no errno outside the documented set (%d seen)",
	       (int)bad_errno_seen);
	tap_ok(kernel_healthy() && count_open_fds() == fds_before,
	       "kernel not tainted by an oops or WARN; every fd closed");
	tap_finish();
}
