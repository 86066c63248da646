// SPDX-License-Identifier: GPL-2.0
/*
 * libvsnix's guest memory kinds and flat loader (userspace/lib): a flat
 * real-mode binary loaded with vx_load_flat() runs in anonymous, memfd and
 * hugetlb RAM and its write is seen through the host mapping (and, for a
 * memfd, through a second mapping of the same file); failures return
 * -errno with a message that names the call.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vsnix_util.h"
#include <vsnix/boot.h>

#define NR_TESTS	7
#define LOAD_GPA	0x7000
#define MARK_GPA	0x500
#define MARK		0x5a17

/* Real mode: [0x500] = MARK, then OUT MARK to port 0x10. */
extern char flat_start[], flat_end[];
asm(".pushsection .rodata\n"
    ".code16\n"
    "flat_start:\n"
    "	movw $0x5a17, %ax\n"
    "	movw %ax, 0x500\n"
    "	outw %ax, $0x10\n"
    "	hlt\n"
    "flat_end:\n"
    ".code64\n"
    ".popsection\n");

/* The flat binary as a file, as a VMM would get it. */
static int flat_file(void)
{
	int fd = memfd_create("flat", MFD_CLOEXEC);

	TEST_ASSERT(fd >= 0 && write(fd, flat_start, flat_end - flat_start) ==
		    flat_end - flat_start, "flat file");
	return fd;
}

/* Runs the flat binary in a VM with RAM of this kind; the VM, or NULL. */
static struct vx_vm *run_flat(enum vx_mem_kind kind, const char *what, int *err)
{
	struct vx_vcpu *vcpu;
	struct vx_vm *vm;
	uint64_t size = 0;
	int fd = flat_file();
	bool ok;

	vm = vm_create_bare();
	*err = vx_vm_add_ram(vm, kind, 2 << 20);
	if (*err) {
		tap_diag("%s: %s", what, vx_errmsg());
		vm_destroy(vm);
		close(fd);
		return NULL;
	}
	TEST_ASSERT(!vx_load_flat(vm, fd, LOAD_GPA, &size), "%s", vx_errmsg());
	close(fd);
	vcpu = vcpu_create(vm, 0);
	vcpu_setup_real_mode(vcpu, LOAD_GPA >> 4, 0);
	ok = size == (uint64_t)(flat_end - flat_start) &&
	     vcpu_run_expect_out(vcpu, 0x10, 2, MARK) &&
	     *(uint16_t *)(vm->mem + MARK_GPA) == MARK;
	tap_ok(ok, "%s RAM: the flat binary (%lu bytes) ran and its write is in the host mapping",
	       what, (unsigned long)size);
	return vm;
}

static void test_memfd(void)
{
	struct vx_vm *vm;
	uint16_t *again;
	int err;

	vm = run_flat(VX_MEM_MEMFD, "memfd", &err);
	TEST_ASSERT(vm && vm->mem_fd >= 0, "memfd RAM: %s", vx_errmsg());
	again = mmap(NULL, 4096, PROT_READ, MAP_SHARED, vm->mem_fd, 0);
	TEST_ASSERT(again != MAP_FAILED, "second mapping of the memfd");
	tap_ok(again[MARK_GPA / 2] == MARK, "memfd RAM: a second mapping of the file sees the guest's write");
	munmap(again, 4096);
	vm_destroy(vm);
}

/* Reserves one 2 MiB page if none is; returns the old count. */
static long reserve_huge_page(void)
{
	FILE *f = fopen("/proc/sys/vm/nr_hugepages", "r+e");
	long nr = -1;

	if (f && fscanf(f, "%ld", &nr) == 1 && nr == 0) {
		rewind(f);
		fprintf(f, "1\n");
	}
	if (f)
		fclose(f);
	return nr;
}

static void test_hugetlb(void)
{
	long nr = reserve_huge_page();
	struct vx_vm *vm;
	int err;
	FILE *f;

	vm = run_flat(VX_MEM_HUGETLB, "hugetlb", &err);
	if (vm)
		vm_destroy(vm);
	else
		tap_skip("no 2 MiB huge page could be reserved", "hugetlb RAM (%s)",
			 strerror(-err));
	if (nr == 0 && (f = fopen("/proc/sys/vm/nr_hugepages", "we"))) {
		fprintf(f, "0\n");
		fclose(f);
	}
}

static void test_errors(void)
{
	struct vx_vm *vm = vm_create(1 << 20);
	uint64_t size;
	int fd = flat_file(), r;

	r = vx_load_flat(vm, fd, (1 << 20) - 4, &size);
	tap_ok(r == -EINVAL && strstr(vx_errmsg(), "does not fit"),
	       "a flat image past the end of RAM: -EINVAL, \"%s\"", vx_errmsg());
	r = vx_vm_set_region(vm, 0, 0, 0x1001, 4096, vm->mem);
	tap_ok(r == -EINVAL && strstr(vx_errmsg(), "VSNIX_SET_MEMORY_REGION"),
	       "an unaligned region: -EINVAL, \"%s\"", vx_errmsg());
	close(fd);
	vm_destroy(vm);
}

int main(void)
{
	struct vx_vm *vm;
	int err;

	vsnix_dev_fd();
	if (!vsnix_cap(VSNIX_CAP_REAL_MODE))
		tap_skip_all("VSNIX_CAP_REAL_MODE is 0: this host cannot run real-mode guests");
	tap_plan(NR_TESTS);
	vm = run_flat(VX_MEM_ANON, "anonymous", &err);
	TEST_ASSERT(vm, "anonymous RAM: %s", vx_errmsg());
	vm_destroy(vm);
	test_memfd();
	test_hugetlb();
	test_errors();
	tap_ok(kernel_healthy(), "kernel not tainted by an oops or WARN");
	tap_finish();
}
