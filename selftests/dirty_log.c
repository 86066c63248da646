// SPDX-License-Identifier: GPL-2.0
/*
 * Dirty-page logging (VSNIX_MEM_LOG_DIRTY, VSNIX_GET_DIRTY_LOG): a guest
 * writes a known set of pages of a logged slot and reads others; the
 * bitmap shows exactly the written ones. After the fetch cleared it, only
 * the pages written since show, including one written before (the fetch
 * write-protected it again).
 */
#include <sys/mman.h>

#include "vsnix_util.h"

#define DATA_GPA	0x40000000ul
#define NPAGES		200
#define PAGE		4096ul
#define WORDS		((NPAGES + 63) / 64)

/* Writes the pages listed in w[0..nw), reads those in r[0..nr). */
static void guest_write_pages(const uint16_t *w, uint64_t nw,
			      const uint16_t *r, uint64_t nr)
{
	volatile uint64_t sum = 0;
	uint64_t i;

	for (i = 0; i < nr; i++)
		sum += *(volatile uint64_t *)(DATA_GPA + r[i] * PAGE);
	for (i = 0; i < nw; i++)
		*(volatile uint64_t *)(DATA_GPA + w[i] * PAGE + 8) = 0x1234 + i;
	GUEST_DONE();
}

static int get_log(int vm_fd, uint32_t slot, uint64_t *bitmap)
{
	struct vsnix_dirty_log log = {
		.slot = slot,
		.dirty_bitmap = (uintptr_t)bitmap,
	};

	memset(bitmap, 0xee, WORDS * 8);
	return ioctl(vm_fd, VSNIX_GET_DIRTY_LOG, &log);
}

/* The bitmap holds exactly the pages in set[0..n). */
static bool bitmap_is(const uint64_t *bitmap, const uint16_t *set, int n)
{
	uint64_t want[WORDS] = { 0 };
	int i;

	for (i = 0; i < n; i++)
		want[set[i] / 64] |= 1ull << (set[i] % 64);
	for (i = 0; i < WORDS; i++) {
		if (bitmap[i] != want[i]) {
			tap_diag("word %d: got %#llx want %#llx", i,
				 (unsigned long long)bitmap[i],
				 (unsigned long long)want[i]);
			return false;
		}
	}
	return true;
}

static void run_guest(struct vsnix_test_vm *vm, struct vsnix_test_vcpu *vcpu,
		      const uint16_t *w, int nw, const uint16_t *r, int nr)
{
	struct ucall uc;
	uint64_t wg = vm_alloc(vm, PAGE), rg = vm_alloc(vm, PAGE);

	vm_write(vm, wg, w, nw * sizeof(*w));
	vm_write(vm, rg, r, nr * sizeof(*r));
	vcpu_set_args(vcpu, 4, wg, (uint64_t)nw, rg, (uint64_t)nr);
	TEST_ASSERT(vcpu_run_ucall(vcpu, &uc) == UCALL_DONE, "guest done");
}

int main(void)
{
	static const uint16_t w1[] = { 0, 1, 5, 63, 64, 100, 199 };
	static const uint16_t r1[] = { 2, 3, 6, 150 };
	static const uint16_t w2[] = { 1, 7, 128 };
	static const uint16_t r2[] = { 0, 5, 199 };
	uint64_t bitmap[WORDS];
	struct vsnix_test_vcpu *vcpu;
	struct vsnix_test_vm *vm;
	uint8_t *data;

	vsnix_dev_fd();
	if (vsnix_cap(VSNIX_CAP_DIRTY_LOG) != 1)
		tap_skip_all("no VSNIX_CAP_DIRTY_LOG");
	tap_plan(8);
	vm = vm_create_long(0);
	data = mmap(NULL, NPAGES * PAGE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	TEST_ASSERT(data != MAP_FAILED, "mmap");
	vm_set_region(vm, 1, VSNIX_MEM_LOG_DIRTY, DATA_GPA, NPAGES * PAGE, data);

	tap_ok(get_log(vm->fd, 1, bitmap) == 0 && bitmap_is(bitmap, NULL, 0),
	       "a fresh slot's bitmap is empty");

	vcpu = vcpu_create_long(vm, 0, guest_write_pages);
	run_guest(vm, vcpu, w1, 7, r1, 4);
	tap_ok(get_log(vm->fd, 1, bitmap) == 0 && bitmap_is(bitmap, w1, 7),
	       "bitmap shows exactly the 7 pages written (not the 4 read)");
	tap_ok(get_log(vm->fd, 1, bitmap) == 0 && bitmap_is(bitmap, NULL, 0),
	       "fetching cleared it");

	/* Page 1 was written before: the fetch write-protected it again. */
	vcpu = vcpu_create_long(vm, 1, guest_write_pages);
	run_guest(vm, vcpu, w2, 3, r2, 3);
	tap_ok(get_log(vm->fd, 1, bitmap) == 0 && bitmap_is(bitmap, w2, 3),
	       "after the clear only the new writes show (page 1 written twice)");
	tap_ok(*(uint64_t *)(data + 128 * PAGE + 8) == 0x1234 + 2 &&
	       *(uint64_t *)(data + 199 * PAGE + 8) == 0x1234 + 6,
	       "the guest's writes reached the host memory");

	/* Bad requests. */
	tap_ok(expect_errno(ioctl(vm->fd, VSNIX_GET_DIRTY_LOG,
				  &(struct vsnix_dirty_log){ .slot = 0,
				  .dirty_bitmap = (uintptr_t)bitmap }),
			    ENOENT, "GET_DIRTY_LOG of a slot without logging") &&
	       expect_errno(ioctl(vm->fd, VSNIX_GET_DIRTY_LOG,
				  &(struct vsnix_dirty_log){ .slot = 1, .flags = 1,
				  .dirty_bitmap = (uintptr_t)bitmap }),
			    EINVAL, "GET_DIRTY_LOG with flags") &&
	       expect_errno(ioctl(vm->fd, VSNIX_GET_DIRTY_LOG,
				  &(struct vsnix_dirty_log){ .slot = 1 << 20,
				  .dirty_bitmap = (uintptr_t)bitmap }),
			    EINVAL, "GET_DIRTY_LOG of slot 2^20") &&
	       expect_errno(ioctl(vm->fd, VSNIX_GET_DIRTY_LOG,
				  &(struct vsnix_dirty_log){ .slot = 1,
				  .dirty_bitmap = 8 }),
			    EFAULT, "GET_DIRTY_LOG to a bad pointer"),
	       "bad requests: ENOENT, EINVAL, EFAULT");
	vm_destroy(vm);
	munmap(data, NPAGES * PAGE);
	tap_ok(vsnix_cap(VSNIX_CAP_MEM_ON_DEMAND) == 1, "VSNIX_CAP_MEM_ON_DEMAND");
	tap_ok(kernel_healthy(), "kernel not tainted by an oops or WARN");
	tap_finish();
}
