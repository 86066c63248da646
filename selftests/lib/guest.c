// SPDX-License-Identifier: GPL-2.0
/*
 * vSnix selftest library: code that runs inside 64-bit guests. Nothing here
 * may call libc (see guest.h).
 */
#include "guest.h"

volatile uint64_t guest_fixup_rip;
volatile uint64_t guest_exception_vector = GUEST_NO_EXCEPTION;
volatile uint64_t guest_exception_error_code;

static void __attribute__((noreturn)) guest_halt_forever(void)
{
	for (;;)
		asm volatile("hlt");
}

void guest_ucall(uint64_t cmd, uint64_t a0, uint64_t a1, uint64_t a2,
		 uint64_t a3, uint64_t a4, uint64_t a5)
{
	/* On the guest stack: identity-mapped RAM the host can read. */
	struct ucall uc = {
		.cmd = cmd,
		.args = { a0, a1, a2, a3, a4, a5 },
	};

	asm volatile("outl %0, %w1"
		     : : "a"((uint32_t)(uintptr_t)&uc), "d"(UCALL_PORT) : "memory");
	if (cmd == UCALL_ABORT)
		guest_halt_forever();
}

/* Called by the exception stubs when no fixup is armed. */
void __attribute__((noreturn, used))
guest_unexpected_exception(uint64_t vector, uint64_t error_code, uint64_t rip)
{
	guest_ucall(UCALL_ABORT, (uintptr_t)"unexpected exception", vector, 0,
		    error_code, rip, UCALL_ABORT_EXCEPTION);
	guest_halt_forever();
}

/* The guest function returned: that ends the guest (UCALL_DONE). */
void __attribute__((noreturn, used)) guest_returned(void)
{
	GUEST_DONE();
	guest_halt_forever();
}

/*
 * IDT stubs for vectors 0-31, 16 bytes apart. Vectors without a hardware
 * error code push a zero so that the frame is the same for all (Intel SDM
 * Vol 3, 6.13 lists the vectors that push one). In 64-bit mode the CPU
 * aligns RSP to 16 before pushing the frame (SDM Vol 3, 6.14.2), so after
 * 8 pushes the C call below is ABI-aligned.
 */
asm(".pushsection .text\n"
	".balign 16\n"
	".globl guest_exception_stubs\n"
	"guest_exception_stubs:\n"
	".irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,"
	"24,25,26,27,28,29,30,31\n"
	"  .balign 16\n"
	"  .if (\\v != 8) && (\\v != 10) && (\\v != 11) && (\\v != 12) && "
	"(\\v != 13) && (\\v != 14) && (\\v != 17) && (\\v != 21) && "
	"(\\v != 29) && (\\v != 30)\n"
	"  pushq $0\n"
	"  .endif\n"
	"  pushq $\\v\n"
	"  jmp guest_exception_common\n"
	".endr\n"
	"guest_exception_common:\n"
	"  pushq %rax\n"
	"  movq 8(%rsp), %rax\n"
	"  movq %rax, guest_exception_vector(%rip)\n"
	"  movq 16(%rsp), %rax\n"
	"  movq %rax, guest_exception_error_code(%rip)\n"
	"  movq guest_fixup_rip(%rip), %rax\n"
	"  testq %rax, %rax\n"
	"  jz 1f\n"
	"  movq %rax, 24(%rsp)\n"
	"  movq $0, guest_fixup_rip(%rip)\n"
	"  popq %rax\n"
	"  addq $16, %rsp\n"
	"  iretq\n"
	"1:\n"
	"  movq 8(%rsp), %rdi\n"
	"  movq 16(%rsp), %rsi\n"
	"  movq 24(%rsp), %rdx\n"
	"  call guest_unexpected_exception\n"
	"2: hlt\n"
	"  jmp 2b\n"
    /* Return address of a guest function: realign, report DONE. */
	".globl guest_return_trap\n"
	"guest_return_trap:\n"
	"  andq $-16, %rsp\n"
	"  call guest_returned\n"
	"3: hlt\n"
	"  jmp 3b\n"
	".popsection\n");

uint8_t guest_rdmsr_safe(uint32_t index, uint64_t *value)
{
	uint32_t lo = 0, hi = 0;

	guest_exception_vector = GUEST_NO_EXCEPTION;
	asm volatile("leaq 1f(%%rip), %%r11\n\t"
		     "movq %%r11, guest_fixup_rip(%%rip)\n\t"
		     "rdmsr\n\t"
		     "1:\n\t"
		     "movq $0, guest_fixup_rip(%%rip)"
		     : "+a"(lo), "+d"(hi) : "c"(index) : "r11", "memory");
	*value = (uint64_t)hi << 32 | lo;
	return (uint8_t)guest_exception_vector;
}

uint8_t guest_wrmsr_safe(uint32_t index, uint64_t value)
{
	guest_exception_vector = GUEST_NO_EXCEPTION;
	asm volatile("leaq 1f(%%rip), %%r11\n\t"
		     "movq %%r11, guest_fixup_rip(%%rip)\n\t"
		     "wrmsr\n\t"
		     "1:\n\t"
		     "movq $0, guest_fixup_rip(%%rip)"
		     : : "c"(index), "a"((uint32_t)value),
		       "d"((uint32_t)(value >> 32)) : "r11", "memory");
	return (uint8_t)guest_exception_vector;
}
