// SPDX-License-Identifier: GPL-2.0
/*
 * Start code and helpers of the test unikernels. No libc: the compiler is
 * told -ffreestanding, and these few helpers are all the guests need.
 */
#include "hvt_guest.h"

HVT_DECLARE_ABI_NOTE;

const struct hvt_boot_info *boot_info;

/* Entered from the tender with RDI = boot info, RSP = top of RAM - 8. */
__attribute__((section(".text.start"), noreturn)) void _start(const struct hvt_boot_info *bi)
{
	boot_info = bi;
	halt(guest_main((const char *)(uintptr_t)bi->cmdline));
}

void halt(int status)
{
	volatile struct hvt_hc_halt hc = { .cookie = 0, .exit_status = status };

	for (;;)
		hvt_hypercall(HVT_HYPERCALL_HALT, &hc);
}

/*
 * HALT with a cookie, RBX = rbx: a trap frame for a debugger (what Solo5's
 * bindings pass on an exception), and a register the core must show.
 */
void halt_cookie(int status, void *cookie, uint64_t rbx)
{
	volatile struct hvt_hc_halt hc = {
		.cookie = (uint64_t)(uintptr_t)cookie, .exit_status = status };

	for (;;)
		__asm__ volatile("outl %0, %1"
				 : : "a"((uint32_t)(uintptr_t)&hc),
				     "d"((uint16_t)(HVT_HYPERCALL_PIO_BASE +
						    HVT_HYPERCALL_HALT)),
				     "b"(rbx)
				 : "memory");
}

size_t str_len(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

int str_ncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (unsigned char)*a - (unsigned char)*b;
		if (!*a)
			return 0;
	}
	return 0;
}

const char *str_find(const char *hay, const char *needle)
{
	size_t n = str_len(needle);

	for (; *hay; hay++)
		if (!str_ncmp(hay, needle, n))
			return hay;
	return NULL;
}

void mem_set(void *p, int c, size_t n)
{
	volatile uint8_t *d = p;

	while (n--)
		*d++ = c;
}

void mem_copy(void *d, const void *s, size_t n)
{
	volatile uint8_t *dd = d;
	const uint8_t *ss = s;

	while (n--)
		*dd++ = *ss++;
}

int mem_cmp(const void *a, const void *b, size_t n)
{
	const uint8_t *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

void puts_n(const char *s, size_t len)
{
	volatile struct hvt_hc_puts hc = { .data = (uintptr_t)s, .len = len };

	hvt_hypercall(HVT_HYPERCALL_PUTS, &hc);
}

void puts_str(const char *s)
{
	puts_n(s, str_len(s));
}

static void put_number(const char *label, uint64_t v, unsigned int base)
{
	char buf[96];
	char digits[24];
	size_t n = 0, d = 0;

	while (*label && n < 64)
		buf[n++] = *label++;
	if (base == 16) {
		buf[n++] = '0';
		buf[n++] = 'x';
	}
	do {
		digits[d++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (d)
		buf[n++] = digits[--d];
	buf[n++] = '\n';
	puts_n(buf, n);
}

void put_dec(const char *label, uint64_t v)
{
	put_number(label, v, 10);
}

void put_hex(const char *label, uint64_t v)
{
	put_number(label, v, 16);
}

uint64_t walltime_ns(void)
{
	volatile struct hvt_hc_walltime hc = { 0 };

	hvt_hypercall(HVT_HYPERCALL_WALLTIME, &hc);
	return hc.nsecs;
}

long cmdline_number(const char *cmdline, const char *key, long def)
{
	const char *p = str_find(cmdline, key);
	long v = 0;

	if (!p)
		return def;
	p += str_len(key);
	if (*p++ != '=')
		return def;
	if (*p < '0' || *p > '9')
		return def;
	while (*p >= '0' && *p <= '9')
		v = v * 10 + (*p++ - '0');
	return v;
}

long mft_handle(const char *name, uint32_t type)
{
	const struct mft *m = (const struct mft *)(uintptr_t)boot_info->mft;
	uint32_t i;

	for (i = 0; i < m->entries; i++)
		if (m->e[i].type == type && !str_ncmp(m->e[i].name, name, MFT_NAME_SIZE))
			return i;
	return -1;
}

const struct mft_entry *mft_entry_at(long handle)
{
	const struct mft *m = (const struct mft *)(uintptr_t)boot_info->mft;

	return &m->e[handle];
}
