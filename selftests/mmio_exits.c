// SPDX-License-Identifier: GPL-2.0
/*
 * MMIO exits: reads and writes of 1, 2, 4 and 8 bytes at a GPA no slot
 * maps, immediate stores, REX registers, MOVZX/MOVSX, the data both ways,
 * how read data lands in the register (8/16-bit loads keep the upper bits,
 * 32-bit loads zero-extend: Intel SDM Vol 1, 3.4.1.1) and resumption.
 */
#include "vsnix_util.h"

#define MMIO_GPA	0xc0000000ul
#define K		0x1122334455667788ul

static void guest_mmio(void)
{
	volatile uint8_t *mmio = (volatile uint8_t *)MMIO_GPA;
	register uint64_t r9 asm("r9") = 0xfeedfacecafebeeful;
	uint64_t v;

	asm volatile("movb $0x11, (%0)" : : "r"(mmio) : "memory");
	asm volatile("movw %w1, 2(%0)" : : "r"(mmio), "r"(0x2233) : "memory");
	asm volatile("movl %k1, 4(%0)" : : "r"(mmio), "r"(0x44556677) : "memory");
	asm volatile("movq %1, 8(%0)" : : "r"(mmio), "r"(0x8899aabbccddeeffull) : "memory");
	asm volatile("movl $0x12345678, 16(%0)" : : "r"(mmio) : "memory");
	asm volatile("movq %1, 24(%0)" : : "r"(mmio), "r"(r9) : "memory");

	v = K;
	asm volatile("movb 32(%1), %b0" : "+q"(v) : "r"(mmio) : "memory");
	GUEST_ASSERT_EQ(v, 0x11223344556677a1ul);
	v = K;
	asm volatile("movw 34(%1), %w0" : "+r"(v) : "r"(mmio) : "memory");
	GUEST_ASSERT_EQ(v, 0x112233445566a2a3ul);
	v = K;
	asm volatile("movl 36(%1), %k0" : "+r"(v) : "r"(mmio) : "memory");
	GUEST_ASSERT_EQ(v, 0xa4a5a6a7ul);
	v = K;
	asm volatile("movq 40(%1), %0" : "+r"(v) : "r"(mmio) : "memory");
	GUEST_ASSERT_EQ(v, 0xa8a9aaabacadaeafull);
	v = K;
	asm volatile("movzbl 48(%1), %k0" : "+r"(v) : "r"(mmio) : "memory");
	GUEST_ASSERT_EQ(v, 0xf0);
	v = K;
	asm volatile("movzwq 50(%1), %0" : "+r"(v) : "r"(mmio) : "memory");
	GUEST_ASSERT_EQ(v, 0xfedc);
	v = K;
	asm volatile("movsbq 52(%1), %0" : "+r"(v) : "r"(mmio) : "memory");
	GUEST_ASSERT_EQ(v, 0xffffffffffffff80ul);
	v = K;
	asm volatile("movq 56(%1), %%r10\n\tmovq %%r10, %0"
		     : "=r"(v) : "r"(mmio) : "r10", "memory");
	GUEST_ASSERT_EQ(v, 0x0102030405060708ul);
	GUEST_DONE();
}

struct mmio_access {
	const char *what;
	uint64_t offset;
	uint32_t len;
	bool is_write;
	uint64_t data;	/* written by the guest, or returned to it */
};

static const struct mmio_access accesses[] = {
	{ "MOV byte store (imm)", 0, 1, true, 0x11 },
	{ "MOV word store", 2, 2, true, 0x2233 },
	{ "MOV dword store", 4, 4, true, 0x44556677 },
	{ "MOV qword store", 8, 8, true, 0x8899aabbccddeeffull },
	{ "MOV dword store (imm32)", 16, 4, true, 0x12345678 },
	{ "MOV qword store of R9 (REX.R)", 24, 8, true, 0xfeedfacecafebeefull },
	{ "MOV byte load", 32, 1, false, 0xa1 },
	{ "MOV word load", 34, 2, false, 0xa2a3 },
	{ "MOV dword load", 36, 4, false, 0xa4a5a6a7 },
	{ "MOV qword load", 40, 8, false, 0xa8a9aaabacadaeafull },
	{ "MOVZX byte load", 48, 1, false, 0xf0 },
	{ "MOVZX word load", 50, 2, false, 0xfedc },
	{ "MOVSX byte load", 52, 1, false, 0x80 },
	{ "MOV qword load to R10", 56, 8, false, 0x0102030405060708ull },
};

#define NR_ACCESSES	(sizeof(accesses) / sizeof(accesses[0]))

int main(void)
{
	struct vsnix_test_vcpu *vcpu;
	struct vsnix_test_vm *vm;
	struct vsnix_run *run;
	struct ucall uc;
	unsigned int i;

	vsnix_dev_fd();
	tap_plan(NR_ACCESSES + 2);
	vm = vm_create_long(0);
	vcpu = vcpu_create_long(vm, 0, guest_mmio);
	run = vcpu->run;

	for (i = 0; i < NR_ACCESSES; i++) {
		const struct mmio_access *a = &accesses[i];
		uint64_t data = 0;
		bool ok;

		ok = vcpu_run_raw(vcpu) == 0 && run->exit_reason == VSNIX_EXIT_MMIO &&
		     run->mmio.phys_addr == MMIO_GPA + a->offset && run->mmio.len == a->len &&
		     !!run->mmio.is_write == a->is_write;
		if (ok && a->is_write) {
			memcpy(&data, run->mmio.data, a->len);
			ok = data == a->data;
		} else if (ok) {
			memset(run->mmio.data, 0xee, sizeof(run->mmio.data));
			memcpy(run->mmio.data, &a->data, a->len);
		}
		if (!ok)
			tap_diag("%s: %s data 0x%lx", a->what, vcpu_exit_str(vcpu),
				 (unsigned long)data);
		tap_ok(ok, "%s: gpa +%lu, %u bytes%s", a->what, (unsigned long)a->offset,
		       a->len, a->is_write ? ", data" : "");
	}
	tap_ok(vcpu_run_ucall_soft(vcpu, &uc) == UCALL_DONE,
	       "guest resumed after each exit and read the host's data into its registers");
	vm_destroy(vm);
	tap_ok(kernel_healthy(), "kernel not tainted by an oops or WARN");
	tap_finish();
}
