// SPDX-License-Identifier: GPL-2.0
/*
 * The ioctl fuzzer's pool: a few VMs and vCPUs made once, before the
 * threads start, that most calls act on. Making and tearing down a VM is
 * the slowest call on the debug kernel (KASAN, lockdep, kmemleak under
 * TCG), so it stays one kind of call among many (create_vm, platform,
 * close) instead of the way every other call finds an object. The pool is
 * never closed by the threads; the shared table's objects are, mid-call.
 *
 * Making the pool is also the fuzzer's fixed check: one valid call of each
 * kind (open, create, memory, device, input, stats, names, RUN, platform)
 * must succeed, whatever the seed.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"

#define POOL_VMS	2
#define POOL_VCPUS	2
#define POOL_MEM	(64u << 10)
#define POOL_CODE_SEG	0x100	/* the program at GPA 0x1000 */
#define POOL_PORT	0x80

static struct vsnix_test_vm *pool_vm[POOL_VMS];
static int pool_sys = -1;
static int pool_stats[POOL_VMS * (1 + POOL_VCPUS)];
static unsigned int nr_pool_stats;

/* A pool fd of the kind (FD_FREE: any), or -1 where the pool has none. */
int pool_pick(struct fuzz_thread *t, enum fd_kind kind)
{
	struct vsnix_test_vm *vm = pool_vm[rnd_below(t, POOL_VMS)];

	if (!vm || pool_sys < 0)
		return -1;
	if (kind == FD_FREE)
		kind = FD_SYS + rnd_below(t, 4);	/* SYS, VM, VCPU, STATS */
	switch (kind) {
	case FD_SYS:
		return pool_sys;
	case FD_VM:
		return vm->fd;
	case FD_VCPU:
		return vm->vcpus[rnd_below(t, POOL_VCPUS)]->fd;
	case FD_STATS:
		return nr_pool_stats ? pool_stats[rnd_below(t, nr_pool_stats)] : -1;
	default:
		return -1;
	}
}

static unsigned int pool_failed;

static void step(bool ok, const char *what)
{
	if (!ok) {
		pool_failed++;
		tap_diag("pool: %s failed: %s", what, strerror(errno));
	}
}

/* A UART's device id, or -1. */
static long uart(int vm, uint16_t base)
{
	struct vsnix_device_config c;

	memset(&c, 0, sizeof(c));
	c.type = VSNIX_DEV_UART16550;
	c.console_fd = backends.devnull;
	c.uart.base = base;
	return ioctl(vm, VSNIX_CREATE_DEVICE, &c) ? -1 : (long)c.id;
}

/* Devices on vm: a UART that takes input, a second one made and destroyed. */
static void pool_devices(int vm)
{
	struct vsnix_device_input in = { .len = 4, .data = (uintptr_t)"fuzz" };
	long id = uart(vm, 0x3f8), id2;

	step(id >= 0, "create_device (UART)");
	in.id = id;
	step(id >= 0 && ioctl(vm, VSNIX_DEVICE_INPUT, &in) >= 0, "device_input");
	id2 = uart(vm, 0x2f8);
	step(id2 >= 0 && !ioctl(vm, VSNIX_DESTROY_DEVICE, id2), "destroy_device");
}

static void pool_stats_fds(struct vsnix_test_vm *vm)
{
	struct vsnix_stats_header h;
	int fd = ioctl(vm->fd, VSNIX_GET_STATS_FD, 0);
	unsigned int i;

	step(fd >= 0, "stats_fd (VM)");
	if (fd >= 0)
		pool_stats[nr_pool_stats++] = fd;
	for (i = 0; i < POOL_VCPUS; i++) {
		fd = ioctl(vm->vcpus[i]->fd, VSNIX_GET_VCPU_STATS_FD, 0);
		step(fd >= 0, "stats_fd (vCPU)");
		if (fd >= 0)
			pool_stats[nr_pool_stats++] = fd;
	}
	step(nr_pool_stats && pread(pool_stats[0], &h, sizeof(h), 0) == sizeof(h) &&
	     h.magic == VSNIX_STATS_MAGIC, "stats_read (header)");
}

/* Names, info, the VM list and a stats fd found by VM id. */
static void pool_names(struct vsnix_test_vm *vm)
{
	struct vsnix_vm_info info, list[8];
	struct vsnix_vm_list l = { .nr = 8, .entries = (uintptr_t)list };
	struct vsnix_stats_fd_req r = { .vcpu = VSNIX_STATS_VM };
	struct vsnix_vm_name n;
	int fd;

	memset(&n, 0, sizeof(n));
	snprintf(n.name, sizeof(n.name), "fuzz-pool");
	step(!ioctl(vm->fd, VSNIX_SET_VM_NAME, &n), "vm_name");
	step(!ioctl(vm->fd, VSNIX_GET_VM_INFO, &info) && info.nr_vcpus == POOL_VCPUS,
	     "vm_info");
	step(ioctl(pool_sys, VSNIX_LIST_VMS, &l) >= 0, "list_vms");
	r.vm_id = info.id;
	fd = ioctl(pool_sys, VSNIX_STATS_FD_BY_ID, &r);
	step(fd >= 0, "stats_by_id");
	step(fd >= 0 && !close(fd), "close");
}

/*
 * VM 0 runs a program (out to POOL_PORT, hlt, again) in real mode, VM 1
 * random bytes from a random CS:IP; mutated registers take both anywhere.
 */
static void pool_guest(struct fuzz_thread *t, struct vsnix_test_vm *vm,
		       unsigned int index)
{
	static const uint8_t prog[] = {
		0xe6, POOL_PORT,	/* out POOL_PORT, al */
		0xf4,			/* hlt */
		0xeb, 0xfb,		/* jmp back to the out */
	};
	unsigned int i;

	fill_random(t, vm->mem, POOL_MEM);
	if (!index)
		vm_write(vm, POOL_CODE_SEG << 4, prog, sizeof(prog));
	for (i = 0; i < POOL_VCPUS; i++)
		vcpu_setup_real_mode(vm->vcpus[i], index ?
				     rnd_below(t, POOL_MEM >> 4) : POOL_CODE_SEG, 0);
}

/* Returns how many of the pool's valid calls failed (0: all succeeded). */
unsigned int pool_build(struct fuzz_thread *t)
{
	struct vsnix_test_vcpu *vcpu;
	unsigned int v, i;

	pool_sys = open("/dev/vsnix", O_RDWR | O_CLOEXEC);
	step(pool_sys >= 0, "open");
	for (v = 0; v < POOL_VMS; v++) {
		/* create_vm, map, set_region, create_vcpu, mmap_run: fatal if not */
		pool_vm[v] = vm_create(POOL_MEM);
		for (i = 0; i < POOL_VCPUS; i++)
			vcpu_create(pool_vm[v], i);
		pool_guest(t, pool_vm[v], v);
		pool_devices(pool_vm[v]->fd);
		pool_stats_fds(pool_vm[v]);
	}
	pool_names(pool_vm[0]);
	vcpu = pool_vm[0]->vcpus[0];
	/* Its timer may cut the first RUN short (debug kernel): again. */
	for (i = 0; i < 100; i++)
		if (!run_with_timer(t, vcpu->fd) || errno != EINTR)
			break;
	step(i < 100 && vcpu_is_io(vcpu, POOL_PORT, VSNIX_EXIT_IO_OUT, 1),
	     "run (out to port 0x80)");
	step(!op_other_fd(t), "other_fd");
	step(!op_platform(t), "platform");
	return pool_failed;
}

void pool_close(void)
{
	unsigned int i;

	for (i = 0; i < nr_pool_stats; i++)
		close(pool_stats[i]);
	for (i = 0; i < POOL_VMS; i++)
		if (pool_vm[i])
			vm_destroy(pool_vm[i]);
	if (pool_sys >= 0)
		close(pool_sys);
}
