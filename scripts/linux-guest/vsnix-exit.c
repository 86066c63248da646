// SPDX-License-Identifier: GPL-2.0
/*
 * vsnix-exit [STATUS]: ends a vsnix guest through the exit port
 * (VSNIX_DEV_EXIT_PORT at 0xf4, a 32-bit OUT) with STATUS (default 0).
 * For guests without ACPI power-off. No libc: a few bytes in the initramfs.
 */
#define EXIT_PORT	0xf4
#define NR_IOPERM	173
#define NR_EXIT		60

static long sys3(long nr, long a, long b, long c)
{
	long ret;

	asm volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c)
		     : "rcx", "r11", "memory");
	return ret;
}

static unsigned int parse(const char *s)
{
	unsigned int v = 0;

	while (s && *s >= '0' && *s <= '9')
		v = v * 10 + (unsigned int)(*s++ - '0');
	return v;
}

__attribute__((used)) static void start_c(long *sp)
{
	long argc = sp[0];
	char **argv = (char **)(sp + 1);
	unsigned int status = argc > 1 ? parse(argv[1]) : 0;

	if (sys3(NR_IOPERM, EXIT_PORT, 4, 1) == 0)
		asm volatile("outl %0, %w1" : : "a"(status), "Nd"(EXIT_PORT));
	/* Not a vsnix guest (or no permission): fail visibly. */
	sys3(NR_EXIT, 1, 0, 0);
	for (;;)
		;
}

asm(".globl _start\n_start:\n\tmov %rsp, %rdi\n\tand $-16, %rsp\n\tcall start_c\n");
