// SPDX-License-Identifier: GPL-2.0
/*
 * The host swaps out an idle guest's memory and the guest reads its data
 * back correct. Swap is a zram device (the rig's root is an initramfs, no
 * place for a swap file); MADV_PAGEOUT makes the reclaim deterministic
 * where a memory cgroup limit would depend on timing. The MMU notifier
 * takes each page out of NPT/EPT before it goes to swap; the guest's reads
 * fault it back in (counted with a kprobe on the fault handler).
 */
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/swap.h>
#include <unistd.h>

#include "kprobe.h"
#include "vsnix_util.h"

#define DATA_GPA	0x40000000ul
#define DATA_PAGES	1024ul
#define DATA_SIZE	(DATA_PAGES * 4096)
#define ZRAM		"/dev/zram0"

static uint64_t pattern(uint64_t i)
{
	return (i + 1) * 0x9e3779b97f4a7c15ull;
}

static void guest_fill(uint64_t base, uint64_t pages)
{
	uint64_t i, j;

	for (i = 0; i < pages; i++)
		for (j = 0; j < 4096; j += 512)
			*(volatile uint64_t *)(base + i * 4096 + j) = pattern(i) ^ j;
	GUEST_DONE();
}

static void guest_check(uint64_t base, uint64_t pages)
{
	uint64_t i, j, bad = 0;

	for (i = 0; i < pages; i++)
		for (j = 0; j < 4096; j += 512)
			bad += *(volatile uint64_t *)(base + i * 4096 + j) !=
			       (pattern(i) ^ j);
	GUEST_SYNC2(1, bad);
	GUEST_DONE();
}

static bool write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	bool ok = fd >= 0 && write(fd, s, strlen(s)) == (ssize_t)strlen(s);

	if (fd >= 0)
		close(fd);
	return ok;
}

/* 32 MiB of swap on zram; skip the test where the kernel has none. */
static void swap_setup(void)
{
	if (access("/sys/block/zram0", F_OK) &&
	    system("modprobe zram num_devices=1 2>/dev/null") &&
	    system("hostrun modprobe zram num_devices=1 >/dev/null 2>&1"))
		tap_skip_all("no zram module to swap to");
	TEST_ASSERT(!access("/sys/block/zram0", F_OK), "zram0 after modprobe");
	write_file("/sys/block/zram0/reset", "1");
	TEST_ASSERT(write_file("/sys/block/zram0/disksize", "32M"), "zram disksize");
	TEST_ASSERT(!system("mkswap " ZRAM " >/dev/null"), "mkswap");
	TEST_ASSERT(!swapon(ZRAM, 0), "swapon: %s", strerror(errno));
}

int main(void)
{
	struct vsnix_test_vcpu *filler, *checker;
	long swapped, faults0, faults1;
	struct vsnix_test_vm *vm;
	struct ucall uc;
	uint8_t *data;
	int kp;

	vsnix_dev_fd();
	if (vsnix_cap(VSNIX_CAP_MEM_ON_DEMAND) != 1)
		tap_skip_all("no VSNIX_CAP_MEM_ON_DEMAND");
	swap_setup();
	tap_plan(5);
	vm = vm_create_long(0);
	data = mmap(NULL, DATA_SIZE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	TEST_ASSERT(data != MAP_FAILED, "mmap");
	TEST_ASSERT(!madvise(data, DATA_SIZE, MADV_NOHUGEPAGE), "MADV_NOHUGEPAGE");
	vm_set_region(vm, 1, 0, DATA_GPA, DATA_SIZE, data);
	filler = vcpu_create_long(vm, 0, guest_fill);
	vcpu_set_args(filler, 2, DATA_GPA, DATA_PAGES);
	checker = vcpu_create_long(vm, 1, guest_check);
	vcpu_set_args(checker, 2, DATA_GPA, DATA_PAGES);
	TEST_ASSERT(vcpu_run_ucall(filler, &uc) == UCALL_DONE, "filler done");

	/* The guest is idle: the host reclaims its memory. */
	TEST_ASSERT(!madvise(data, DATA_SIZE, MADV_PAGEOUT), "MADV_PAGEOUT: %s",
		    strerror(errno));
	swapped = proc_status_kb("VmSwap");
	tap_ok(swapped >= (long)DATA_SIZE / 1024 * 3 / 4,
	       "the idle guest's memory went to swap (VmSwap %ld KiB of %lu)",
	       swapped, DATA_SIZE / 1024);

	kp = kprobe_counter_open("vsnix_x86_tdp_fault");
	faults0 = kp >= 0 ? kprobe_counter_read(kp) : -1;
	TEST_ASSERT(vcpu_run_ucall(checker, &uc) == UCALL_SYNC, "checker sync");
	faults1 = kp >= 0 ? kprobe_counter_read(kp) : -1;
	tap_ok(uc.args[1] == 0, "the guest reads its data back correct (%lu words wrong)",
	       (unsigned long)uc.args[1]);
	TEST_ASSERT(vcpu_run_ucall(checker, &uc) == UCALL_DONE, "checker done");
	if (kp < 0)
		tap_ok(false, "kprobe on vsnix_x86_tdp_fault: %s", strerror(errno));
	else
		tap_ok(faults1 - faults0 >= (long)DATA_PAGES * 3 / 4,
		       "the guest faulted its pages back in (%ld NPT/EPT faults)",
		       faults1 - faults0);
	tap_ok(proc_status_kb("VmSwap") < swapped,
	       "swapped in again (VmSwap %ld KiB)", proc_status_kb("VmSwap"));
	vm_destroy(vm);
	munmap(data, DATA_SIZE);
	swapoff(ZRAM);
	write_file("/sys/block/zram0/reset", "1");
	tap_ok(kernel_healthy(), "kernel not tainted by an oops or WARN");
	tap_finish();
}
