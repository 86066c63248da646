/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vSnix selftest library, guest side: code that runs inside a 64-bit guest
 * (ucalls, assertions, port I/O, MSR access with #GP recovery) and the
 * guest-physical layout shared with the host side.
 *
 * Guest code is ordinary code of the test binary, run at its link address
 * (the binary is static and non-PIE; see README.md). It must not call libc:
 * libc's string functions are resolved at startup for the host CPU and may
 * use instructions the guest has not enabled.
 */
#ifndef VSNIX_SELFTEST_GUEST_H
#define VSNIX_SELFTEST_GUEST_H

#include <stdint.h>

/* ------------------------------------------------- guest-physical layout */

#define GUEST_GDT_GPA		0x1000ul
#define GUEST_IDT_GPA		0x2000ul
#define GUEST_TSS_GPA		0x3000ul
#define GUEST_PML4_GPA		0x10000ul	/* + PDPT + 4 PDs: 0-4 GiB */
#define GUEST_STACKS_GPA	0x100000ul	/* one GUEST_STACK_SIZE each */
#define GUEST_STACK_SIZE	0x10000ul
#define GUEST_STACKS_END	0x300000ul
/* The binary's image starts at or above this (non-PIE x86-64: 0x400000). */
#define GUEST_IMAGE_MIN_GPA	GUEST_STACKS_END

#define GUEST_SEL_CODE64	0x08
#define GUEST_SEL_DATA		0x10
#define GUEST_SEL_TSS		0x18
#define GUEST_SEL_CODE32	0x28
#define GUEST_SEL_CODE16	0x30
#define GUEST_SEL_DATA16	0x38
#define GUEST_GDT_ENTRIES	8	/* TSS takes 2 */

/* Exceptions the library's IDT catches (vectors 0-31). */
#define GUEST_NR_VECTORS	32

/* ------------------------------------------------------------- ucall */

/* The port of ucalls: a 32-bit OUT of the GPA of a struct ucall. */
#define UCALL_PORT		0x1000

enum {
	UCALL_NONE,
	UCALL_SYNC,	/* args[0..]: stage, values */
	UCALL_DONE,
	UCALL_ABORT,	/* args: file, line, expression text, a, b, kind */
};

/* args[5] of UCALL_ABORT */
enum {
	UCALL_ABORT_ASSERT,		/* GUEST_ASSERT: a, b unused */
	UCALL_ABORT_ASSERT_EQ,		/* GUEST_ASSERT_EQ: a != b */
	UCALL_ABORT_EXCEPTION,		/* line = vector, a = error code, b = RIP */
};

#define UCALL_NR_ARGS	6

struct ucall {
	uint64_t cmd;
	uint64_t args[UCALL_NR_ARGS];
};

void guest_ucall(uint64_t cmd, uint64_t a0, uint64_t a1, uint64_t a2,
		 uint64_t a3, uint64_t a4, uint64_t a5);

#define GUEST_SYNC(stage)		guest_ucall(UCALL_SYNC, (stage), 0, 0, 0, 0, 0)
#define GUEST_SYNC2(stage, v)		guest_ucall(UCALL_SYNC, (stage), (v), 0, 0, 0, 0)
#define GUEST_SYNC3(stage, v, w)	guest_ucall(UCALL_SYNC, (stage), (v), (w), 0, 0, 0)
#define GUEST_DONE()			guest_ucall(UCALL_DONE, 0, 0, 0, 0, 0, 0)

#define GUEST_ASSERT(cond)							\
	do {									\
		if (!(cond))							\
			guest_ucall(UCALL_ABORT, (uintptr_t)__FILE__, __LINE__,	\
				    (uintptr_t)#cond, 0, 0, UCALL_ABORT_ASSERT);\
	} while (0)

#define GUEST_ASSERT_EQ(a, b)							\
	do {									\
		uint64_t __a = (uint64_t)(a), __b = (uint64_t)(b);		\
		if (__a != __b)							\
			guest_ucall(UCALL_ABORT, (uintptr_t)__FILE__, __LINE__,	\
				    (uintptr_t)(#a " == " #b), __a, __b,	\
				    UCALL_ABORT_ASSERT_EQ);			\
	} while (0)

/* ------------------------------------------------------- instructions */

static inline void guest_outb(uint16_t port, uint8_t v)
{
	asm volatile("outb %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

static inline void guest_outw(uint16_t port, uint16_t v)
{
	asm volatile("outw %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

static inline void guest_outl(uint16_t port, uint32_t v)
{
	asm volatile("outl %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

static inline void guest_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t *eax,
			       uint32_t *ebx, uint32_t *ecx, uint32_t *edx)
{
	asm volatile("cpuid"
		     : "=a"(*eax), "=b"(*ebx), "=c"(*ecx), "=d"(*edx)
		     : "a"(leaf), "c"(subleaf));
}

static inline void guest_wrmsr(uint32_t index, uint64_t v)
{
	asm volatile("wrmsr" : : "c"(index), "a"((uint32_t)v),
		     "d"((uint32_t)(v >> 32)) : "memory");
}

static inline uint64_t guest_rdtsc(void)
{
	uint32_t lo, hi;

	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

/* Busy-waits at least cycles TSC cycles. */
static inline void guest_spin_cycles(uint64_t cycles)
{
	uint64_t end = guest_rdtsc() + cycles;

	while (guest_rdtsc() < end)
		asm volatile("pause");
}

/*
 * Exceptions in guest code: the library's IDT stubs record the vector in
 * guest_exception_vector and, when guest_fixup_rip is set, resume there
 * instead of reporting an unexpected exception (UCALL_ABORT).
 */
#define GUEST_NO_EXCEPTION	0xff
extern volatile uint64_t guest_fixup_rip;
extern volatile uint64_t guest_exception_vector;
extern volatile uint64_t guest_exception_error_code;

/* RDMSR/WRMSR that return the exception vector or GUEST_NO_EXCEPTION. */
uint8_t guest_rdmsr_safe(uint32_t index, uint64_t *value);
uint8_t guest_wrmsr_safe(uint32_t index, uint64_t value);

/* The library's exception stubs (16 bytes each) and the return trap. */
extern char guest_exception_stubs[];
extern char guest_return_trap[];

#endif /* VSNIX_SELFTEST_GUEST_H */
