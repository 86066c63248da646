// SPDX-License-Identifier: GPL-2.0
/*
 * 2 MiB NPT/EPT entries where the host backs guest RAM with a huge page:
 * a guest writing every 4 KiB page of 4 MiB of THP-backed memory takes a
 * handful of NPT/EPT faults (one per 2 MiB), of hugetlb-backed memory one
 * per 2 MiB too, and of 4 KiB-backed memory one per page. Faults are
 * counted with a kprobe on the x86 fault handler.
 */
#include <sys/mman.h>

#include "kprobe.h"
#include "vsnix_util.h"

#define THP_GPA		0x40000000ul
#define SMALL_GPA	0x48000000ul
#define HTLB_GPA	0x50000000ul
#define SIZE		(4ul << 20)
#define HUGE		(2ul << 20)

static void guest_touch_all(uint64_t base, uint64_t size)
{
	uint64_t off;

	for (off = 0; off < size; off += 4096)
		*(volatile uint64_t *)(base + off) = off;
	GUEST_DONE();
}

static int kp;

/* NPT/EPT faults taken by a fresh vCPU writing every page of the slot. */
static long faults_for(struct vsnix_test_vm *vm, uint32_t id, uint64_t gpa,
		       uint64_t size)
{
	struct vsnix_test_vcpu *vcpu = vcpu_create_long(vm, id, guest_touch_all);
	struct ucall uc;
	long before;

	vcpu_set_args(vcpu, 2, gpa, size);
	before = kp >= 0 ? kprobe_counter_read(kp) : 0;
	TEST_ASSERT(vcpu_run_ucall(vcpu, &uc) == UCALL_DONE, "guest done");
	return kp >= 0 ? kprobe_counter_read(kp) - before : -1;
}

/* A fault count in range; skipped where the kernel has no kprobes. */
static void check_faults(long f, long lo, long hi, const char *what)
{
	if (kp < 0)
		tap_skip("no kprobes to count faults", "%s: NPT/EPT faults", what);
	else
		tap_ok(f >= lo && f <= hi, "%s: NPT/EPT faults %ld (want %ld..%ld)",
		       what, f, lo, hi);
}

static uint8_t *map_aligned(size_t size, int flags)
{
	uint8_t *p = mmap(NULL, size + HUGE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | flags, -1, 0);

	TEST_ASSERT(p != MAP_FAILED, "mmap");
	return (uint8_t *)(((uintptr_t)p + HUGE - 1) & ~(HUGE - 1));
}

static long smaps_kb(const uint8_t *addr, const char *field)
{
	char line[256], want[64];
	unsigned long lo, hi;
	bool in = false;
	long val = -1;
	FILE *f = fopen("/proc/self/smaps", "re");

	TEST_ASSERT(f, "open smaps");
	snprintf(want, sizeof(want), "%s:", field);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2)
			in = (uintptr_t)addr >= lo && (uintptr_t)addr < hi;
		else if (in && !strncmp(line, want, strlen(want)))
			val = strtol(line + strlen(want), NULL, 10);
	}
	fclose(f);
	return val;
}

/* vm.nr_hugepages: set it to n (n >= 0) and return the old value. */
static long set_nr_hugepages(long n)
{
	FILE *f = fopen("/proc/sys/vm/nr_hugepages", "r+e");
	long old = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%ld", &old) == 1 && n >= 0 && n != old) {
		rewind(f);
		fprintf(f, "%ld\n", n);
	}
	fclose(f);
	return old;
}

int main(void)
{
	struct vsnix_test_vm *vm;
	uint8_t *thp, *small, *htlb;
	long f, nr_huge;

	vsnix_dev_fd();
	if (vsnix_cap(VSNIX_CAP_HUGE_TDP) != 1)
		tap_skip_all("no VSNIX_CAP_HUGE_TDP");
	kp = kprobe_counter_open("vsnix_x86_tdp_fault");
	if (kp < 0)
		tap_diag("no kprobe on vsnix_x86_tdp_fault: %s", strerror(errno));
	thp = map_aligned(SIZE, 0);
	if (madvise(thp, SIZE, MADV_HUGEPAGE)) {
		if (errno == ENOSYS)
			tap_skip_all("no madvise() (CONFIG_ADVISE_SYSCALLS) to ask for THP or 4 KiB pages");
		TEST_FAIL("MADV_HUGEPAGE: %s", strerror(errno));
	}
	tap_plan(5);
	vm = vm_create_long(0);

	vm_set_region(vm, 1, 0, THP_GPA, SIZE, thp);
	f = faults_for(vm, 0, THP_GPA, SIZE);
	tap_ok(smaps_kb(thp, "AnonHugePages") >= 2048,
	       "the host backs the THP slot with huge pages (AnonHugePages %ld KiB)",
	       smaps_kb(thp, "AnonHugePages"));
	/* Two for the data, a few for the new vCPU's stack in slot 0. */
	check_faults(f, 2, 32, "THP, 1024 pages written");

	small = map_aligned(SIZE, 0);
	TEST_ASSERT(!madvise(small, SIZE, MADV_NOHUGEPAGE), "MADV_NOHUGEPAGE");
	vm_set_region(vm, 2, 0, SMALL_GPA, SIZE, small);
	f = faults_for(vm, 1, SMALL_GPA, SIZE);
	check_faults(f, 1024, 1100, "4 KiB pages, 1024 written");

	nr_huge = set_nr_hugepages(-1);
	if (nr_huge == 0)
		set_nr_hugepages(1);
	htlb = mmap(NULL, HUGE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (htlb == MAP_FAILED) {
		tap_skip("no 2 MiB huge page could be reserved", "hugetlb, 512 pages written");
	} else {
		vm_set_region(vm, 3, 0, HTLB_GPA, HUGE, htlb);
		f = faults_for(vm, 2, HTLB_GPA, HUGE);
		check_faults(f, 1, 32, "hugetlb, 512 pages written");
		munmap(htlb, HUGE);
	}
	vm_set_region(vm, 3, 0, 0, 0, NULL);
	set_nr_hugepages(nr_huge);
	vm_destroy(vm);
	tap_ok(kernel_healthy(), "kernel not tainted by an oops or WARN");
	tap_finish();
}
