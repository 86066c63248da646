// SPDX-License-Identifier: GPL-2.0
/*
 * An unprivileged user with RLIMIT_MEMLOCK of 1 MiB runs a guest with
 * 64 MiB of RAM: unpinned guest memory is not locked memory. A slot with
 * VSNIX_MEM_PIN is still charged and refused over the limit.
 */
#include <grp.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "vsnix_util.h"

#define DATA_GPA	0x40000000ul
#define DATA_SIZE	(64ul << 20)
#define NOBODY		65534

static void guest_touch(uint64_t base, uint64_t n, uint64_t stride)
{
	uint64_t i;

	for (i = 0; i < n; i++)
		*(volatile uint64_t *)(base + i * stride) = 0x6600 + i;
	GUEST_DONE();
}

int main(void)
{
	struct rlimit rl = { 1 << 20, 1 << 20 };
	struct vsnix_test_vcpu *vcpu;
	struct vsnix_test_vm *vm;
	struct ucall uc;
	uint8_t *data;
	uint64_t i, bad = 0;

	vsnix_dev_fd();		/* opened as root, kept across the drop */
	if (vsnix_cap(VSNIX_CAP_MEM_ON_DEMAND) != 1)
		tap_skip_all("no VSNIX_CAP_MEM_ON_DEMAND");
	tap_plan(5);
	TEST_ASSERT(!setrlimit(RLIMIT_MEMLOCK, &rl), "setrlimit");
	if (getuid() == 0)
		TEST_ASSERT(!setgroups(0, NULL) && !setgid(NOBODY) && !setuid(NOBODY),
			    "drop to uid %d", NOBODY);
	tap_ok(geteuid() != 0 && getrlimit(RLIMIT_MEMLOCK, &rl) == 0 &&
	       rl.rlim_cur == 1 << 20,
	       "unprivileged (uid %d), RLIMIT_MEMLOCK 1 MiB", (int)geteuid());

	vm = vm_create_long(0);
	data = mmap(NULL, DATA_SIZE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	TEST_ASSERT(data != MAP_FAILED, "mmap");
	tap_ok(expect_errno(vm_set_region_raw(vm, 1, VSNIX_MEM_PIN, DATA_GPA,
					      DATA_SIZE, data),
			    ENOMEM, "a pinned 64 MiB slot"),
	       "a VSNIX_MEM_PIN slot over RLIMIT_MEMLOCK: ENOMEM");
	vm_set_region(vm, 1, 0, DATA_GPA, DATA_SIZE, data);
	vcpu = vcpu_create_long(vm, 0, guest_touch);
	vcpu_set_args(vcpu, 3, DATA_GPA, 64ul, 1ul << 20);
	TEST_ASSERT(vcpu_run_ucall(vcpu, &uc) == UCALL_DONE, "guest done");
	for (i = 0; i < 64; i++)
		bad += *(uint64_t *)(data + (i << 20)) != 0x6600 + i;
	tap_ok(!bad, "the guest wrote all over its 64 MiB (%lu wrong)", bad);
	tap_ok(proc_status_kb("VmLck") == 0, "no locked memory charged (VmLck %ld KiB)",
	       proc_status_kb("VmLck"));
	vm_destroy(vm);
	tap_ok(kernel_healthy(), "kernel not tainted by an oops or WARN");
	tap_finish();
}
