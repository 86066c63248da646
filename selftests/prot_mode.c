// SPDX-License-Identifier: GPL-2.0
/*
 * A 32-bit protected-mode guest without paging, set up through SET_SREGS:
 * flat segments from the library's GDT, stack, CALL/RET, segment reloads,
 * IN/OUT of every size, an MMIO store decoded in 32-bit mode, and HLT.
 */
#include "vsnix_util.h"

#define RAM_SIZE	(1ul << 20)
#define PM_LOAD_GPA	0x8000ul
#define MMIO_GPA	0xc0000000ul

extern char pm_code_start[], pm_code_end[];

asm(".pushsection .text\n"
	".code32\n"
	"pm_code_start:\n"
	"  mov $5, %ecx\n"
	"  xor %eax, %eax\n"
	"1:\n"
	"  add %ecx, %eax\n"
	"  loop 1b\n"
	"  call 2f\n"			/* EAX += 100 */
	"  out %eax, $0x20\n"		/* 115 */
	"  mov $0x10, %bx\n"
	"  mov %bx, %ds\n"			/* reload from the GDT */
	"  mov %bx, %es\n"
	"  push $0xabcd1234\n"
	"  pop %ebx\n"
	"  mov %ebx, 0x9000\n"
	"  in $0x21, %eax\n"		/* host gives 0x89abcdef */
	"  xor $0xffffffff, %eax\n"
	"  out %eax, $0x22\n"		/* 0x76543210 */
	"  mov $0x4321, %ax\n"
	"  out %ax, $0x23\n"
	"  mov $0x99, %al\n"
	"  out %al, $0x24\n"
	"  movl $0x11223344, 0xc0000000\n"	/* MMIO */
	"  hlt\n"
	"2:\n"
	"  add $100, %eax\n"
	"  ret\n"
	"pm_code_end:\n"
	".code64\n"
	".popsection\n");

int main(void)
{
	struct vsnix_test_vcpu *vcpu;
	struct vsnix_test_vm *vm;
	struct vsnix_run *run;
	struct vsnix_sregs sregs;
	uint32_t data = 0;
	bool ok;

	vsnix_dev_fd();
	tap_plan(9);
	vm = vm_create(RAM_SIZE);
	vcpu = vcpu_create(vm, 0);
	run = vcpu->run;
	vm_write(vm, PM_LOAD_GPA, pm_code_start, pm_code_end - pm_code_start);
	vcpu_setup_prot_mode(vcpu, PM_LOAD_GPA, 0x7000);

	tap_ok(vcpu_run_expect_out(vcpu, 0x20, 4, 115), "loop, CALL/RET and OUT of EAX (115)");
	ok = vcpu_run_raw(vcpu) == 0 && vcpu_is_io(vcpu, 0x21, VSNIX_EXIT_IO_IN, 4);
	if (ok)
		memcpy(vcpu_io_data(vcpu), &(uint32_t){ 0x89abcdef }, 4);
	else
		tap_diag("want in port 0x21: %s", vcpu_exit_str(vcpu));
	tap_ok(ok && *(uint32_t *)(vm->mem + 0x9000) == 0xabcd1234,
	       "segment reload, PUSH/POP and a store to RAM");
	tap_ok(vcpu_run_expect_out(vcpu, 0x22, 4, 0x76543210), "IN EAX got the host's value");
	tap_ok(vcpu_run_expect_out(vcpu, 0x23, 2, 0x4321), "OUT of AX");
	tap_ok(vcpu_run_expect_out(vcpu, 0x24, 1, 0x99), "OUT of AL");
	ok = vcpu_run_raw(vcpu) == 0 && run->exit_reason == VSNIX_EXIT_MMIO &&
	     run->mmio.phys_addr == MMIO_GPA && run->mmio.len == 4 && run->mmio.is_write;
	if (ok)
		memcpy(&data, run->mmio.data, 4);
	else
		tap_diag("want MMIO write: %s", vcpu_exit_str(vcpu));
	tap_ok(ok && data == 0x11223344, "32-bit MMIO store decoded (data 0x%x)", data);
	ok = vcpu_run_raw(vcpu) == 0 && run->exit_reason == VSNIX_EXIT_HLT;
	tap_ok(ok, "HLT exit after the MMIO store completed (%s)", vcpu_exit_str(vcpu));
	vcpu_get_sregs(vcpu, &sregs);
	tap_ok((sregs.cr0 & 1) && !(sregs.cr0 & (1ul << 31)) && sregs.cs.db == 1 &&
	       sregs.ds.selector == 0x10 && !(sregs.efer & (1 << 10)),
	       "state is 32-bit protected mode without paging (cr0 0x%llx)",
	       (unsigned long long)sregs.cr0);
	vm_destroy(vm);
	tap_ok(kernel_healthy(), "kernel not tainted by an oops or WARN");
	tap_finish();
}
