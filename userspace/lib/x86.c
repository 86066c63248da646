// SPDX-License-Identifier: GPL-2.0
/*
 * libvsnix: x86 set-up shared by the boot paths (flat segments and a
 * matching GDT for hvt's 64-bit and multiboot's 32-bit entry) and names
 * for exit reasons.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "vsnix/libvsnix.h"
#include "vsnix/boot.h"

#define GDT_CODE_SEL	0x08
#define GDT_DATA_SEL	0x10
#define GDT_ENTRIES	3

#define SEG_TYPE_CODE	0xb	/* execute/read, accessed */
#define SEG_TYPE_DATA	0x3	/* read/write, accessed */
#define SEG_TYPE_TSS	0xb	/* busy TSS */

/*
 * Base 0, limit 4 GiB, DPL 0. The accessed bit is preset: VM entry checks
 * demand it for usable segments (Intel SDM 26.3.1.2).
 */
void vx_segment_flat(struct vsnix_segment *s, uint16_t selector, bool code,
		     bool long_mode)
{
	memset(s, 0, sizeof(*s));
	s->base = 0;
	s->limit = 0xffffffff;
	s->selector = selector;
	s->type = code ? SEG_TYPE_CODE : SEG_TYPE_DATA;
	s->present = 1;
	s->s = 1;
	s->g = 1;
	/* A 64-bit code segment has L=1 and must have D=0 (SDM 3.4.5). */
	s->l = code && long_mode;
	s->db = !(code && long_mode);
}

/* Encodes a segment descriptor (Intel SDM Vol 3A, 3.4.5, Figure 3-8). */
uint64_t vx_gdt_descriptor(const struct vsnix_segment *s)
{
	uint32_t limit = s->g ? s->limit >> 12 : s->limit;
	uint64_t d = 0;

	d |= limit & 0xffffULL;
	d |= (s->base & 0xffffffULL) << 16;
	d |= (uint64_t)(s->type & 0xf) << 40;
	d |= (uint64_t)(s->s & 1) << 44;
	d |= (uint64_t)(s->dpl & 3) << 45;
	d |= (uint64_t)(s->present & 1) << 47;
	d |= (uint64_t)((limit >> 16) & 0xf) << 48;
	d |= (uint64_t)(s->avl & 1) << 52;
	d |= (uint64_t)(s->l & 1) << 53;
	d |= (uint64_t)(s->db & 1) << 54;
	d |= (uint64_t)(s->g & 1) << 55;
	d |= ((s->base >> 24) & 0xffULL) << 56;
	return d;
}

/*
 * Writes a null/code/data GDT at gdt_gpa and fills the segment registers
 * of sregs to match, so that a guest reloading a selector gets the same
 * segment back.
 */
int vx_write_flat_gdt(struct vx_vm *vm, uint64_t gdt_gpa, bool long_mode,
		      struct vsnix_sregs *sregs)
{
	uint64_t *gdt = vx_gpa(vm, gdt_gpa, GDT_ENTRIES * 8);

	if (!gdt)
		return vx_fail(EINVAL, "GDT at %#llx is outside guest memory",
			       (unsigned long long)gdt_gpa);
	vx_segment_flat(&sregs->cs, GDT_CODE_SEL, true, long_mode);
	vx_segment_flat(&sregs->ds, GDT_DATA_SEL, false, long_mode);
	sregs->es = sregs->ds;
	sregs->fs = sregs->ds;
	sregs->gs = sregs->ds;
	sregs->ss = sregs->ds;

	gdt[0] = 0;
	gdt[1] = vx_gdt_descriptor(&sregs->cs);
	gdt[2] = vx_gdt_descriptor(&sregs->ds);
	sregs->gdt.base = gdt_gpa;
	sregs->gdt.limit = GDT_ENTRIES * 8 - 1;
	sregs->idt.base = 0;
	sregs->idt.limit = 0;

	/* VM entry needs a usable busy TSS in TR even if never used. */
	memset(&sregs->tr, 0, sizeof(sregs->tr));
	sregs->tr.type = SEG_TYPE_TSS;
	sregs->tr.present = 1;
	sregs->tr.limit = 0x67;
	memset(&sregs->ldt, 0, sizeof(sregs->ldt));
	sregs->ldt.unusable = 1;
	return 0;
}

const char *vx_exit_reason_str(uint32_t reason)
{
	static const char *const names[] = {
		[VSNIX_EXIT_UNKNOWN] = "UNKNOWN",
		[VSNIX_EXIT_IO] = "IO",
		[VSNIX_EXIT_MMIO] = "MMIO",
		[VSNIX_EXIT_HLT] = "HLT",
		[VSNIX_EXIT_SHUTDOWN] = "SHUTDOWN",
		[VSNIX_EXIT_FAIL_ENTRY] = "FAIL_ENTRY",
		[VSNIX_EXIT_INTERNAL_ERROR] = "INTERNAL_ERROR",
		[VSNIX_EXIT_INTR] = "INTR",
		[VSNIX_EXIT_GUEST_EXIT] = "GUEST_EXIT",
		[VSNIX_EXIT_DEBUG] = "DEBUG",
		[VSNIX_EXIT_MEMORY_FAULT] = "MEMORY_FAULT",
	};

	if (reason < sizeof(names) / sizeof(names[0]) && names[reason])
		return names[reason];
	return "(invalid)";
}

const char *vx_internal_reason_str(uint32_t suberror)
{
	switch (suberror) {
	case VSNIX_INTERNAL_EMULATION:
		return "instruction could not be emulated";
	case VSNIX_INTERNAL_UNHANDLED_EXIT:
		return "unhandled exit";
	case VSNIX_INTERNAL_GUEST_FAULT:
		return "bad guest argument to a device (e.g. a pointer outside guest memory)";
	case VSNIX_INTERNAL_DEVICE_ERROR:
		return "host I/O error in a device";
	case VSNIX_INTERNAL_LOST_STATE:
		return "the VM exit saved the host's state in place of the guest's (emulator fault)";
	default:
		return "unknown";
	}
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/*
 * The guest reads the host TSC (plus an offset, no scaling), so its rate is
 * the host's. Linux does not export tsc_khz to userspace: measure it.
 */
uint64_t vx_tsc_hz(void)
{
	struct timespec pause = { 0, 20 * 1000 * 1000 };
	uint64_t t0, c0, t1, c1;

	t0 = now_ns();
	c0 = rdtsc();
	nanosleep(&pause, NULL);
	t1 = now_ns();
	c1 = rdtsc();
	if (t1 <= t0 || c1 <= c0)
		return 1000000000ULL;
	return (uint64_t)((double)(c1 - c0) * 1e9 / (double)(t1 - t0));
}

uint32_t vx_guest_tsc_khz(int sys_fd)
{
	size_t len = sizeof(struct vsnix_cpuid) +
		     VSNIX_MAX_CPUID_ENTRIES * sizeof(struct vsnix_cpuid_entry);
	struct vsnix_cpuid *cpuid = calloc(1, len);
	uint32_t khz = 0, i;

	if (!cpuid)
		return 0;
	cpuid->nent = VSNIX_MAX_CPUID_ENTRIES;
	if (ioctl(sys_fd, VSNIX_GET_SUPPORTED_CPUID, cpuid) == 0) {
		for (i = 0; i < cpuid->nent; i++)
			if (cpuid->entries[i].function == 0x40000010)
				khz = cpuid->entries[i].eax;
	}
	free(cpuid);
	return khz;
}

int vx_load_flat(struct vx_vm *vm, int fd, uint64_t gpa, uint64_t *size)
{
	uint64_t done = 0;
	struct stat st;
	uint8_t *dst;
	ssize_t n;

	if (fstat(fd, &st) < 0)
		return vx_fail(errno, "flat image: %s", strerror(errno));
	dst = vx_gpa(vm, gpa, st.st_size);
	if (!S_ISREG(st.st_mode) || !dst)
		return vx_fail(EINVAL, "flat image of %lld bytes: %s", (long long)st.st_size,
			       dst ? "not a regular file" : "does not fit in guest memory there");
	while (done < (uint64_t)st.st_size) {
		n = pread(fd, dst + done, st.st_size - done, done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return vx_fail(n ? errno : EIO, "flat image: short read");
		done += n;
	}
	*size = done;
	return 0;
}
