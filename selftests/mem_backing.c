// SPDX-License-Identifier: GPL-2.0
/*
 * What may back guest memory (Documentation/api.rst, SET_MEMORY_REGION):
 * anonymous, shmem (memfd, MAP_SHARED|MAP_ANONYMOUS, a tmpfs file) and
 * hugetlb memory are accepted; a mapping of any other file (here ramfs,
 * which is not shmem) is refused with EOPNOTSUPP, shared or private,
 * writable or read-only, alone or behind an anonymous part of the range.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <unistd.h>
#include "vsnix_util.h"

#define NR_TESTS	11
#define SIZE		(64 * 1024ul)
#define HUGE_SIZE	(2ul << 20)

static struct vsnix_test_vm *vm;

static int set_slot(uint32_t flags, void *hva, uint64_t size)
{
	return vm_set_region_raw(vm, 0, flags, 0, size, hva);
}

static void del_slot(void)
{
	vm_set_region(vm, 0, 0, 0, 0, NULL);
}

static bool accepts(void *hva, uint64_t size, const char *what)
{
	int ret;

	TEST_ASSERT(hva != MAP_FAILED, "mmap for %s: %s", what, strerror(errno));
	ret = set_slot(0, hva, size);
	if (ret)
		tap_diag("%s: %s", what, strerror(errno));
	else
		del_slot();
	munmap(hva, size);
	return tap_ok(ret == 0, "%s: accepted", what);
}

static bool refuses(void *hva, uint64_t size, uint32_t flags, const char *what)
{
	int ret;

	TEST_ASSERT(hva != MAP_FAILED, "mmap for %s: %s", what, strerror(errno));
	ret = set_slot(flags, hva, size);
	if (!ret)
		del_slot();
	munmap(hva, size);
	return tap_ok(expect_errno(ret, EOPNOTSUPP, what), "%s: refused with EOPNOTSUPP", what);
}

/* A file of SIZE bytes in a fresh mount of fstype; the mount is detached. */
static int file_on(const char *fstype)
{
	char dir[] = "/tmp/vsnix-memXXXXXX", path[64];
	int fd;

	TEST_ASSERT(mkdtemp(dir), "mkdtemp");
	TEST_ASSERT(mount("none", dir, fstype, 0, NULL) == 0, "mount %s: %s", fstype,
		    strerror(errno));
	snprintf(path, sizeof(path), "%s/mem", dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	TEST_ASSERT(fd >= 0 && ftruncate(fd, SIZE) == 0, "file on %s", fstype);
	umount2(dir, MNT_DETACH);
	rmdir(dir);
	return fd;
}

static void *map_fd(int fd, int flags, int prot)
{
	return mmap(NULL, SIZE, prot, flags, fd, 0);
}

/* A 2 MiB hugetlb mapping, reserving one huge page if none is. */
static void hugetlb_case(void)
{
	FILE *f = fopen("/proc/sys/vm/nr_hugepages", "r+e");
	long nr = -1;
	void *p;

	if (f && fscanf(f, "%ld", &nr) == 1 && nr == 0) {
		rewind(f);
		fprintf(f, "1\n");
		fflush(f);
	}
	p = mmap(NULL, HUGE_SIZE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (p == MAP_FAILED)
		tap_skip("no 2 MiB huge page could be reserved", "hugetlb (MAP_HUGETLB)");
	else
		accepts(p, HUGE_SIZE, "hugetlb (MAP_HUGETLB)");
	if (f && nr == 0) {
		rewind(f);
		fprintf(f, "0\n");
	}
	if (f)
		fclose(f);
}

int main(void)
{
	int ramfs, tmpfs, memfd;
	uint8_t *p;

	vsnix_dev_fd();
	tap_plan(NR_TESTS);
	vm = vm_create_bare();

	accepts(mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
		SIZE, "anonymous (MAP_PRIVATE|MAP_ANONYMOUS)");
	accepts(mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0),
		SIZE, "shmem (MAP_SHARED|MAP_ANONYMOUS)");
	memfd = memfd_create("guest", MFD_CLOEXEC);
	TEST_ASSERT(memfd >= 0 && ftruncate(memfd, SIZE) == 0, "memfd");
	accepts(map_fd(memfd, MAP_SHARED, PROT_READ | PROT_WRITE), SIZE, "shmem (memfd, MAP_SHARED)");
	tmpfs = file_on("tmpfs");
	accepts(map_fd(tmpfs, MAP_SHARED, PROT_READ | PROT_WRITE), SIZE,
		"shmem (a file on tmpfs, MAP_SHARED)");
	hugetlb_case();

	ramfs = file_on("ramfs");
	refuses(map_fd(ramfs, MAP_SHARED, PROT_READ | PROT_WRITE), SIZE, 0,
		"a file on ramfs, MAP_SHARED");
	refuses(map_fd(ramfs, MAP_PRIVATE, PROT_READ | PROT_WRITE), SIZE, 0,
		"a file on ramfs, MAP_PRIVATE");
	refuses(map_fd(ramfs, MAP_SHARED, PROT_READ), SIZE, VSNIX_MEM_READONLY,
		"a file on ramfs, MAP_SHARED, read-only slot");

	/* Anonymous first half, ramfs second half: every VMA is checked. */
	p = mmap(NULL, 2 * SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	TEST_ASSERT(p != MAP_FAILED, "mmap");
	TEST_ASSERT(mmap(p + SIZE, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
			 ramfs, 0) == p + SIZE, "mmap ramfs behind anonymous memory");
	refuses(p, 2 * SIZE, 0, "anonymous memory followed by a ramfs MAP_SHARED mapping");

	/* A hole stays EFAULT. */
	p = mmap(NULL, 2 * SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	TEST_ASSERT(p != MAP_FAILED && munmap(p + SIZE, SIZE) == 0, "mmap with a hole");
	tap_ok(expect_errno(set_slot(0, p, 2 * SIZE), EFAULT, "hole"),
	       "a range with an unmapped hole: EFAULT");
	munmap(p, SIZE);

	close(ramfs);
	close(tmpfs);
	close(memfd);
	vm_destroy(vm);
	tap_ok(kernel_healthy(), "no oops or WARN");
	tap_finish();
}
