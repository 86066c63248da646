// SPDX-License-Identifier: GPL-2.0
/*
 * Multiboot test kernel: programs the UART divisor (whose bytes must not
 * reach the console), reports what the loader gave it (magic, command
 * line, modules, memory map) and what fw_cfg says, then writes "exit=N"
 * from its command line to the exit port; "crash=1" triple-faults first;
 * "smp=1" starts the other CPUs with INIT/SIPI/SIPI and counts them.
 */
#include <stddef.h>
#include <stdint.h>

#define COM1		0x3f8
#define EXIT_PORT	0xf4
#define FW_CFG_SEL	0x510
#define FW_CFG_DATA	0x511

struct mb_info {
	uint32_t flags, mem_lower, mem_upper, boot_device, cmdline;
	uint32_t mods_count, mods_addr, syms[4], mmap_length, mmap_addr;
	uint32_t drives_length, drives_addr, config_table, boot_loader_name;
};

struct mb_module {
	uint32_t mod_start, mod_end, string, reserved;
};

struct mb_mmap_entry {
	uint32_t size;
	uint64_t base_addr, length;
	uint32_t type;
} __attribute__((packed));

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

/* 16550: 115200 8N1 (divisor 1, written with LCR.DLAB set). */
static void uart_init(void)
{
	outb(COM1 + 1, 0x00);		/* IER: no interrupts */
	outb(COM1 + 3, 0x80);		/* LCR: DLAB */
	outb(COM1 + 0, 0x01);		/* DLL */
	outb(COM1 + 1, 0x00);		/* DLM */
	outb(COM1 + 3, 0x03);		/* LCR: 8N1, DLAB off */
	outb(COM1 + 2, 0xc7);		/* FCR: FIFO on, cleared */
	outb(COM1 + 4, 0x0b);		/* MCR: DTR RTS OUT2 */
}

static void putc_uart(char c)
{
	int spin = 100000;

	while (!(inb(COM1 + 5) & 0x20) && --spin)	/* LSR.THRE */
		;
	outb(COM1, c);
}

static void puts_uart(const char *s)
{
	while (*s)
		putc_uart(*s++);
}

static void put_dec(uint64_t v)
{
	char d[24];
	int n = 0;

	do {
		d[n++] = '0' + v % 10;
		v /= 10;
	} while (v);
	while (n)
		putc_uart(d[--n]);
}

static void put_printable(const char *s, uint32_t len)
{
	for (; len && *s; len--, s++)
		putc_uart(*s >= 0x20 && *s < 0x7f ? *s : '?');
}

static long cmdline_number(const char *s, const char *key)
{
	size_t klen = 0;
	long v = 0;

	while (key[klen])
		klen++;
	for (; *s; s++) {
		size_t i = 0;

		while (i < klen && s[i] == key[i])
			i++;
		if (i == klen && s[klen] == '=') {
			s += klen + 1;
			while (*s >= '0' && *s <= '9')
				v = v * 10 + (*s++ - '0');
			return v;
		}
	}
	return 0;
}

static uint64_t fw_cfg_read(uint16_t key, unsigned int len)
{
	uint64_t v = 0;
	unsigned int i;

	outw(FW_CFG_SEL, key);
	for (i = 0; i < len; i++)
		v |= (uint64_t)inb(FW_CFG_DATA) << (8 * i);
	return v;
}

#define APIC_ICR	0xfee00300u
#define AP_COUNT	0x7000u		/* each AP adds one here */
#define AP_START	0x8000u		/* SIPI vector 0x08 */

static void apic_icr(uint32_t v)
{
	*(volatile uint32_t *)(uintptr_t)APIC_ICR = v;
}

/*
 * The MP start-up (Intel SDM Vol 3, 8.4.4.1): INIT, then two SIPIs, all
 * to "all excluding self"; each AP counts itself from real mode and halts.
 */
static void start_aps(uint64_t cpus)
{
	static const uint8_t trampoline[] = {
		0xf0, 0xff, 0x06, AP_COUNT & 0xff, AP_COUNT >> 8,	/* lock inc word [0x7000] */
		0xfa, 0xf4, 0xeb, 0xfd,				/* cli; hlt; jmp hlt */
	};
	volatile uint16_t *count = (volatile uint16_t *)(uintptr_t)AP_COUNT;
	uint32_t i, spin;

	for (i = 0; i < sizeof(trampoline); i++)
		((volatile uint8_t *)(uintptr_t)AP_START)[i] = trampoline[i];
	*count = 0;
	apic_icr(0x000c4500);			/* INIT, assert, all but self */
	apic_icr(0x000c4600 | (AP_START >> 12));	/* SIPI */
	apic_icr(0x000c4600 | (AP_START >> 12));	/* second SIPI: ignored */
	for (spin = 0; spin < 200000000 && *count < cpus - 1; spin++)
		__asm__ volatile("pause");
	puts_uart("smp aps=");
	put_dec(*count);
	puts_uart("\n");
}

static void report_mmap(const struct mb_info *mbi)
{
	uint32_t off = 0, n = 0;
	uint64_t prev_end = 0, usable = 0, above_1m = 0;
	int sane = 1;

	while (off + 4 <= mbi->mmap_length) {
		const struct mb_mmap_entry *e =
			(const void *)(uintptr_t)(mbi->mmap_addr + off);

		if (e->size < 20 || e->base_addr < prev_end || !e->length)
			sane = 0;
		prev_end = e->base_addr + e->length;
		if (e->type == 1)
			usable += e->length;
		if (e->type == 1 && e->base_addr == 0x100000)
			above_1m = e->length;
		off += e->size + 4;
		n++;
	}
	if (above_1m != (uint64_t)mbi->mem_upper * 1024)
		sane = 0;
	puts_uart("mmap entries=");
	put_dec(n);
	puts_uart(" usable=");
	put_dec(usable);
	puts_uart(sane && n ? " sane\n" : " BAD\n");
}

/*
 * echo=1: prints "ready", then reads the UART (polled) up to a '.', and
 * prints what came: "echo=[...]". Gives up after about 50M polls.
 */
static void echo_input(void)
{
	unsigned long spins = 0;
	char buf[64];
	uint32_t n = 0;
	char c;

	puts_uart("ready\n");
	while (n < sizeof(buf) && spins < 50000000) {
		if (!(inb(COM1 + 5) & 0x01)) {		/* LSR.DR */
			spins++;
			continue;
		}
		c = inb(COM1);
		if (c == '.')
			break;
		buf[n++] = c;
	}
	puts_uart("echo=[");
	put_printable(buf, n);
	puts_uart(spins < 50000000 ? "]\n" : "] timeout\n");
}

void mb_main(uint32_t magic, const struct mb_info *mbi)
{
	const char *cmdline = "";
	uint32_t i;
	char sig[5];

	uart_init();
	puts_uart(magic == 0x2BADB002 ? "multiboot magic ok\n" : "multiboot magic BAD\n");
	if (mbi->flags & (1 << 2))
		cmdline = (const char *)(uintptr_t)mbi->cmdline;
	puts_uart("cmdline=[");
	puts_uart(cmdline);
	puts_uart("]\n");
	if (mbi->flags & (1 << 0)) {
		puts_uart("mem_lower=");
		put_dec(mbi->mem_lower);
		puts_uart(" mem_upper=");
		put_dec(mbi->mem_upper);
		puts_uart("\n");
	}
	if (mbi->flags & (1 << 6))
		report_mmap(mbi);
	if (mbi->flags & (1 << 3)) {
		const struct mb_module *m = (const void *)(uintptr_t)mbi->mods_addr;

		puts_uart("mods_count=");
		put_dec(mbi->mods_count);
		puts_uart("\n");
		for (i = 0; i < mbi->mods_count; i++) {
			puts_uart("module string=[");
			puts_uart((const char *)(uintptr_t)m[i].string);
			puts_uart("] size=");
			put_dec(m[i].mod_end - m[i].mod_start);
			puts_uart(m[i].mod_start & 0xfff ? " unaligned" : " aligned");
			puts_uart(" data=[");
			put_printable((const char *)(uintptr_t)m[i].mod_start,
				      m[i].mod_end - m[i].mod_start < 64 ?
				      m[i].mod_end - m[i].mod_start : 64);
			puts_uart("]\n");
		}
	}
	for (i = 0; i < 4; i++)
		sig[i] = fw_cfg_read(0x0000, 4) >> (8 * i);
	sig[4] = 0;
	puts_uart("fw_cfg signature=");
	puts_uart(sig);
	puts_uart(" cpus=");
	put_dec(fw_cfg_read(0x0005, 2));
	puts_uart(" ram=");
	put_dec(fw_cfg_read(0x0003, 8));
	puts_uart("\n");
	if (cmdline_number(cmdline, "echo"))
		echo_input();
	if (cmdline_number(cmdline, "smp"))
		start_aps(fw_cfg_read(0x0005, 2));
	if (cmdline_number(cmdline, "crash")) {
		/* An empty IDT: the #UD escalates to a triple fault. */
		static const struct { uint16_t limit; uint32_t base; }
			__attribute__((packed)) no_idt = { 0, 0 };

		puts_uart("crashing\n");
		__asm__ volatile("lidt %0; ud2" : : "m"(no_idt));
	}
	if (cmdline_number(cmdline, "kbdreset")) {
		/* The 8042's pulse-reset command: a reboot to vsnixctl. */
		puts_uart("kbd reset\n");
		outb(0x64, 0xfe);
	}
	outl(EXIT_PORT, cmdline_number(cmdline, "exit"));
}
