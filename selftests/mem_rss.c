// SPDX-License-Identifier: GPL-2.0
/*
 * Guest RAM costs what the guest touches: setting a 256 MiB slot adds no
 * host memory, a guest that writes 300 of its pages makes the VMM's RSS
 * grow by about 300 pages, and reading 300 other pages (the shared zero
 * page) adds about nothing. With the old whole-slot pinning the slot alone
 * cost 256 MiB.
 */
#include <sys/mman.h>

#include "vsnix_util.h"

#define DATA_GPA	0x40000000ul
#define DATA_SIZE	(256ul << 20)
#define TOUCH		300ul
#define STRIDE		((DATA_SIZE / TOUCH) & ~4095ul)

static void guest_touch(uint64_t base, uint64_t n, uint64_t stride)
{
	uint64_t i;

	for (i = 0; i < n; i++)
		*(volatile uint64_t *)(base + i * stride) = 0x5500 + i;
	GUEST_DONE();
}

static void guest_read(uint64_t base, uint64_t n, uint64_t stride)
{
	uint64_t i, sum = 0;

	for (i = 0; i < n; i++)
		sum += *(volatile uint64_t *)(base + i * stride);
	GUEST_SYNC2(1, sum);
	GUEST_DONE();
}

#define THP_ENABLED	"/sys/kernel/mm/transparent_hugepage/enabled"
static char thp_old[32];

static void write_thp(const char *mode)
{
	FILE *f = fopen(THP_ENABLED, "we");

	TEST_ASSERT(f, "open " THP_ENABLED);
	fprintf(f, "%s\n", mode);
	fclose(f);
}

/*
 * No THP for the region: MADV_NOHUGEPAGE, or where the kernel has no
 * madvise() (the debug kernel's tinyconfig), THP "never" until the end.
 */
static void no_thp(void *p, size_t len)
{
	char line[128], *a, *b;
	FILE *f;

	if (!madvise(p, len, MADV_NOHUGEPAGE))
		return;
	TEST_ASSERT(errno == ENOSYS, "MADV_NOHUGEPAGE: %s", strerror(errno));
	f = fopen(THP_ENABLED, "re");
	if (!f)
		return;		/* no THP at all */
	TEST_ASSERT(fgets(line, sizeof(line), f), "read " THP_ENABLED);
	fclose(f);
	a = strchr(line, '[');
	b = a ? strchr(a, ']') : NULL;
	TEST_ASSERT(a && b && b - a < (long)sizeof(thp_old), "THP mode in '%s'", line);
	memcpy(thp_old, a + 1, b - a - 1);
	write_thp("never");
}

int main(void)
{
	struct vsnix_test_vcpu *writer, *reader;
	struct vsnix_test_vm *vm;
	long rss0, rss1, rss2, rss3;
	struct ucall uc;
	uint8_t *data;
	uint64_t i, bad = 0;

	vsnix_dev_fd();
	if (vsnix_cap(VSNIX_CAP_MEM_ON_DEMAND) != 1)
		tap_skip_all("no VSNIX_CAP_MEM_ON_DEMAND");
	tap_plan(5);
	vm = vm_create_long(0);
	data = mmap(NULL, DATA_SIZE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	TEST_ASSERT(data != MAP_FAILED, "mmap 256 MiB");
	/* 4 KiB host pages, so that one touch is one page of RSS. */
	no_thp(data, DATA_SIZE);
	writer = vcpu_create_long(vm, 0, guest_touch);
	vcpu_set_args(writer, 3, DATA_GPA, TOUCH, STRIDE);
	reader = vcpu_create_long(vm, 1, guest_read);
	vcpu_set_args(reader, 3, DATA_GPA + STRIDE / 2, TOUCH, STRIDE);

	rss0 = proc_status_kb("RssAnon");
	vm_set_region(vm, 1, 0, DATA_GPA, DATA_SIZE, data);
	rss1 = proc_status_kb("RssAnon");
	tap_ok(rss1 - rss0 < 1024, "a 256 MiB slot costs no host memory when set (%ld KiB)",
	       rss1 - rss0);

	TEST_ASSERT(vcpu_run_ucall(writer, &uc) == UCALL_DONE, "writer done");
	rss2 = proc_status_kb("RssAnon");
	tap_ok(rss2 - rss1 >= (long)TOUCH * 4 && rss2 - rss1 <= (long)TOUCH * 4 + 512,
	       "guest wrote %lu pages: RSS grew by %ld KiB (want %lu..%lu)",
	       TOUCH, rss2 - rss1, TOUCH * 4, TOUCH * 4 + 512);
	for (i = 0; i < TOUCH; i++)
		bad += *(uint64_t *)(data + i * STRIDE) != 0x5500 + i;
	tap_ok(!bad, "the host sees the guest's %lu words (%lu wrong)", TOUCH, bad);

	/* Other pages, only read: the zero page, no new memory. */
	rss2 = proc_status_kb("RssAnon");
	TEST_ASSERT(vcpu_run_ucall(reader, &uc) == UCALL_SYNC, "reader sync");
	TEST_ASSERT(vcpu_run_ucall(reader, &uc) == UCALL_DONE, "reader done");
	rss3 = proc_status_kb("RssAnon");
	tap_ok(rss3 - rss2 < 256, "guest read %lu untouched pages: RSS grew by %ld KiB",
	       TOUCH, rss3 - rss2);
	vm_destroy(vm);
	munmap(data, DATA_SIZE);
	if (thp_old[0])
		write_thp(thp_old);
	tap_ok(kernel_healthy(), "kernel not tainted by an oops or WARN");
	tap_finish();
}
