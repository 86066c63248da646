// SPDX-License-Identifier: GPL-2.0
/*
 * VSNIX_MEM_NOEXEC: a guest reads and writes a no-execute slot, but a jump
 * into it ends RUN with a MEMORY_FAULT exit (the fetch's GPA, access EXEC,
 * RIP at the target) and the code there never runs, again on a second RUN.
 * The same code in an ordinary slot runs. (Solo5's test_xnow/test_wnox.)
 */
#include <sys/mman.h>

#include "vsnix_util.h"

#define X_GPA		0x98000000ul	/* ordinary slot: code runs */
#define NX_GPA		0x98010000ul	/* no-execute slot */
#define RONX_GPA	0x98020000ul	/* read-only and no-execute */
#define PAGE		4096ul
#define OPCODE_RET	0xc3

static void guest_code(void)
{
	volatile uint8_t *nx = (volatile uint8_t *)NX_GPA;

	((void (*)(void))X_GPA)();
	GUEST_SYNC(1);
	GUEST_SYNC2(2, nx[0] | (uint64_t)*(volatile uint8_t *)RONX_GPA << 8);
	nx[8] = 0x5a;
	GUEST_SYNC(3);
	((void (*)(void))NX_GPA)();
	GUEST_SYNC(4);		/* reached only if the fetch ran */
}

static void *code_page(void)
{
	uint8_t *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	TEST_ASSERT(p != MAP_FAILED, "mmap");
	memset(p, OPCODE_RET, PAGE);
	return p;
}

static bool run_expect_fetch_fault(struct vsnix_test_vcpu *vcpu)
{
	struct vsnix_run *run = vcpu->run;
	struct vsnix_regs regs;

	if (vcpu_run_raw(vcpu) || run->exit_reason != VSNIX_EXIT_MEMORY_FAULT) {
		tap_diag("want MEMORY_FAULT: %s", vcpu_exit_str(vcpu));
		return false;
	}
	vcpu_get_regs(vcpu, &regs);
	if (run->memory_fault.gpa != NX_GPA ||
	    run->memory_fault.access != VSNIX_MEMORY_FAULT_EXEC || regs.rip != NX_GPA) {
		tap_diag("gpa 0x%llx access %u rip 0x%llx",
			 (unsigned long long)run->memory_fault.gpa,
			 run->memory_fault.access, (unsigned long long)regs.rip);
		return false;
	}
	return true;
}

int main(void)
{
	struct vsnix_test_vcpu *vcpu;
	struct vsnix_test_vm *vm;
	uint8_t *x, *nx, *ronx;
	struct ucall uc;

	vsnix_dev_fd();
	tap_plan(8);
	/* Both vendors can: EPT bit 2, NPT bit 63 with the host's NX. */
	tap_ok(vsnix_cap(VSNIX_CAP_NOEXEC_MEM) == 1, "VSNIX_CAP_NOEXEC_MEM is 1");

	x = code_page();
	nx = code_page();
	ronx = code_page();
	vm = vm_create_long(0);
	vm_set_region(vm, 1, 0, X_GPA, PAGE, x);
	vm_set_region(vm, 2, VSNIX_MEM_NOEXEC, NX_GPA, PAGE, nx);
	vm_set_region(vm, 3, VSNIX_MEM_NOEXEC | VSNIX_MEM_READONLY, RONX_GPA, PAGE, ronx);
	vcpu = vcpu_create_long(vm, 0, guest_code);

	tap_ok(vcpu_run_sync_is(vcpu, &uc, 1), "code in an ordinary slot runs");
	tap_ok(vcpu_run_sync_is(vcpu, &uc, 2) && uc.args[1] == (OPCODE_RET | OPCODE_RET << 8),
	       "guest reads no-execute slots");
	tap_ok(vcpu_run_sync_is(vcpu, &uc, 3) && nx[8] == 0x5a, "guest writes a no-execute slot");
	tap_ok(run_expect_fetch_fault(vcpu),
	       "jump into a no-execute slot: MEMORY_FAULT exit, access EXEC, RIP there");
	tap_ok(run_expect_fetch_fault(vcpu), "RUN again faults again, the code never ran");
	vm_destroy(vm);

	/* A flag the kernel does not know is still refused. */
	vm = vm_create_long(0);
	tap_ok(expect_errno(vm_set_region_raw(vm, 1, 1u << 31, X_GPA, PAGE, x), EINVAL,
			    "SET_MEMORY_REGION with flag bit 31"),
	       "unknown memory flag: EINVAL");
	vm_destroy(vm);
	tap_ok(kernel_healthy(), "kernel not tainted by an oops or WARN");
	tap_finish();
}
