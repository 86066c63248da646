// SPDX-License-Identifier: GPL-2.0
/*
 * Real-mode guests: a vCPU straight from reset runs the code at the reset
 * vector (CS base 0xFFFF0000, IP 0xFFF0: Intel SDM Vol 3, 9.1.4); a vCPU set
 * to CS:IP 0800:0000 uses the stack, segments, 32-bit operands and IN/OUT;
 * then the guest switches itself to protected mode (SDM Vol 3, 9.9.1).
 */
#include <sys/mman.h>

#include "vsnix_util.h"

#define RAM_SIZE	(1ul << 20)
#define ROM_GPA		0xffff0000ul
#define ROM_SIZE	0x10000ul
#define RM_LOAD_GPA	0x8000ul

extern char rm_reset_start[], rm_reset_end[];
extern char rm_code_start[], rm_code_end[], rm_to_pm[];

/* Reset code, loaded at ROM offset 0xF000; a jump at 0xFFF0 leads to it. */
asm(".pushsection .text\n"
	".code16\n"
	"rm_reset_start:\n"
	"  mov $0x1234, %ax\n"
	"  mov %ax, 0x500\n"		/* DS base 0 after reset */
	"  mov $0x10, %dx\n"
	"  out %ax, %dx\n"
	"  mov %cs, %ax\n"
	"  out %ax, %dx\n"
	"  hlt\n"
	"rm_reset_end:\n"

    /* Loaded at RM_LOAD_GPA and run as 0800:0000. */
	"rm_code_start:\n"
	"  mov $0x9000, %ax\n"
	"  mov %ax, %ss\n"
	"  mov $0xfffe, %sp\n"
	"  call 1f\n"
	"  mov %cx, %ax\n"
	"  out %ax, $0x11\n"		/* 55 */
	"  mov $0x1000, %ax\n"
	"  mov %ax, %es\n"
	"  movw $0xbeef, %es:0x10\n"	/* GPA 0x10010 */
	"  mov $0x4400, %ax\n"
	"  in $0x12, %al\n"		/* host gives 0x77: AX = 0x4477 */
	"  out %ax, $0x13\n"
	"  mov $0x12345678, %eax\n"
	"  out %eax, $0x14\n"
	"  hlt\n"
	"1:\n"				/* CX = 10 + 9 + ... + 1 */
	"  xor %cx, %cx\n"
	"  mov $10, %bx\n"
	"2:\n"
	"  add %bx, %cx\n"
	"  dec %bx\n"
	"  jnz 2b\n"
	"  ret\n"

    /* Entered as 0800:(rm_to_pm - rm_code_start). */
	"rm_to_pm:\n"
	"  cli\n"
	"  lgdtl %cs:(rm_gdtr - rm_code_start)\n"
	"  mov %cr0, %eax\n"
	"  or $1, %eax\n"
	"  mov %eax, %cr0\n"
	"  ljmpl $0x28, $(0x8000 + rm_pm32 - rm_code_start)\n"
	".code32\n"
	"rm_pm32:\n"
	"  mov $0x10, %ax\n"
	"  mov %ax, %ds\n"
	"  mov %ax, %ss\n"
	"  mov $0x7000, %esp\n"
	"  movl $0x600dc0de, 0x20000\n"
	"  mov %cr0, %eax\n"
	"  out %eax, $0x15\n"
	"  hlt\n"
	".balign 8\n"
	"rm_gdtr:\n"
	"  .word 8 * 8 - 1\n"		/* GUEST_GDT_ENTRIES */
	"  .long 0x1000\n"		/* GUEST_GDT_GPA */
	"rm_code_end:\n"
	".code64\n"
	".popsection\n");

static bool run_expect_hlt(struct vsnix_test_vcpu *vcpu)
{
	if (!vcpu_run_raw(vcpu) && vcpu->run->exit_reason == VSNIX_EXIT_HLT)
		return true;
	tap_diag("want HLT: %s", vcpu_exit_str(vcpu));
	return false;
}

static void test_reset_vector(void)
{
	struct vsnix_test_vm *vm = vm_create(RAM_SIZE);
	uint8_t *rom = mmap(NULL, ROM_SIZE, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct vsnix_test_vcpu *vcpu;
	struct vsnix_sregs sregs;
	struct vsnix_regs regs;
	int16_t rel;

	TEST_ASSERT(rom != MAP_FAILED, "mmap");
	memcpy(rom + 0xf000, rm_reset_start, rm_reset_end - rm_reset_start);
	rom[0xfff0] = 0xe9;			/* JMP rel16 to 0xF000 */
	rel = 0xf000 - 0xfff3;
	memcpy(rom + 0xfff1, &rel, 2);
	vm_set_region(vm, 1, 0, ROM_GPA, ROM_SIZE, rom);

	vcpu = vcpu_create(vm, 0);
	vcpu_get_sregs(vcpu, &sregs);
	vcpu_get_regs(vcpu, &regs);
	tap_ok(sregs.cs.selector == 0xf000 && sregs.cs.base == 0xffff0000 &&
	       regs.rip == 0xfff0 && !(sregs.cr0 & 1) && regs.rflags == 2,
	       "a new vCPU is in the reset state (CS %04x base 0x%llx IP 0x%llx)",
	       sregs.cs.selector, (unsigned long long)sregs.cs.base,
	       (unsigned long long)regs.rip);
	tap_ok(vcpu_run_expect_out(vcpu, 0x10, 2, 0x1234) && vm->mem[0x500] == 0x34 &&
	       vm->mem[0x501] == 0x12, "reset vector code ran and wrote RAM through DS");
	tap_ok(vcpu_run_expect_out(vcpu, 0x10, 2, 0xf000), "CS is still F000 at the reset code");
	tap_ok(run_expect_hlt(vcpu), "HLT exit from real mode");
	vm_destroy(vm);
	munmap(rom, ROM_SIZE);
}

static void test_real_mode_code(void)
{
	struct vsnix_test_vm *vm = vm_create(RAM_SIZE);
	struct vsnix_test_vcpu *vcpu = vcpu_create(vm, 0);
	bool ok;

	vm_write(vm, RM_LOAD_GPA, rm_code_start, rm_code_end - rm_code_start);
	vcpu_setup_real_mode(vcpu, RM_LOAD_GPA >> 4, 0);
	tap_ok(vcpu_run_expect_out(vcpu, 0x11, 2, 55), "CALL/RET on a real-mode stack, loop sum 55");
	ok = vcpu_run_raw(vcpu) == 0 && vcpu_is_io(vcpu, 0x12, VSNIX_EXIT_IO_IN, 1);
	if (ok)
		*(uint8_t *)vcpu_io_data(vcpu) = 0x77;
	else
		tap_diag("want in port 0x12: %s", vcpu_exit_str(vcpu));
	tap_ok(ok && *(uint16_t *)(vm->mem + 0x10010) == 0xbeef,
	       "ES segment write landed at ES*16 + offset");
	tap_ok(vcpu_run_expect_out(vcpu, 0x13, 2, 0x4477), "IN AL in real mode kept AH");
	tap_ok(vcpu_run_expect_out(vcpu, 0x14, 4, 0x12345678), "32-bit operand OUT in real mode");
	tap_ok(run_expect_hlt(vcpu), "HLT");
	vm_destroy(vm);
}

static void test_real_to_protected(void)
{
	struct vsnix_test_vm *vm = vm_create(RAM_SIZE);
	struct vsnix_test_vcpu *vcpu = vcpu_create(vm, 0);
	struct vsnix_sregs sregs;
	bool ok;

	vm_write_gdt(vm);
	vm_write(vm, RM_LOAD_GPA, rm_code_start, rm_code_end - rm_code_start);
	vcpu_setup_real_mode(vcpu, RM_LOAD_GPA >> 4, rm_to_pm - rm_code_start);
	ok = vcpu_run_raw(vcpu) == 0 && vcpu_is_io(vcpu, 0x15, VSNIX_EXIT_IO_OUT, 4) &&
	     (*(uint32_t *)vcpu_io_data(vcpu) & 1);
	if (!ok)
		tap_diag("want out port 0x15 with CR0.PE: %s", vcpu_exit_str(vcpu));
	tap_ok(ok, "guest entered protected mode itself (LGDT, CR0.PE, far JMP)");
	vcpu_get_sregs(vcpu, &sregs);
	tap_ok(*(uint32_t *)(vm->mem + 0x20000) == 0x600dc0de && sregs.cs.selector == 0x28 &&
	       sregs.cs.db == 1 && (sregs.cr0 & 1),
	       "32-bit code ran after the switch (CS %x db %u)", sregs.cs.selector, sregs.cs.db);
	tap_ok(run_expect_hlt(vcpu), "HLT in protected mode");
	vm_destroy(vm);
}

int main(void)
{
	vsnix_dev_fd();
	if (!vsnix_cap(VSNIX_CAP_REAL_MODE))
		tap_skip_all("VSNIX_CAP_REAL_MODE is 0: this host cannot run real-mode guests");
	tap_plan(13);
	test_reset_vector();
	test_real_mode_code();
	test_real_to_protected();
	tap_ok(kernel_healthy(), "kernel not tainted by an oops or WARN");
	tap_finish();
}
