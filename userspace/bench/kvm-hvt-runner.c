// SPDX-License-Identifier: GPL-2.0
/*
 * kvm-hvt-runner: the comparison point of Documentation/benchmarks.rst.
 * Boots a device-less Solo5 hvt unikernel on /dev/kvm with the same guest
 * layout as vsnixctl (page tables, GDT, boot info at 0x10000, manifest,
 * command line) and serves WALLTIME, PUTS, POLL and HALT in userspace, as
 * Solo5's own tender does: every hypercall is an exit to this process.
 *
 * usage: kvm-hvt-runner KERNEL [MEM_MIB] [CMDLINE]   (exit: guest status)
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <linux/kvm.h>

#include <linux/vsnix_hvt.h>

#define PTE_P	1ULL
#define PTE_RW	2ULL
#define PTE_PS	0x80ULL

static uint8_t *mem;
static uint64_t mem_size;

static void die(const char *what)
{
	fprintf(stderr, "kvm-hvt-runner: %s: %s\n", what, strerror(errno));
	exit(120);
}

/* The one bounds check for guest addresses. */
static void *gpa(uint64_t addr, uint64_t len)
{
	if (addr > mem_size || len > mem_size - addr) {
		fprintf(stderr, "kvm-hvt-runner: guest address %#llx+%#llx outside RAM\n",
			(unsigned long long)addr, (unsigned long long)len);
		exit(121);
	}
	return mem + addr;
}

/* PT_LOAD segments at their physical addresses; returns e_entry. */
static uint64_t load_elf(const char *path, uint64_t *end)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	int fd = open(path, O_RDONLY), i;

	if (fd < 0 || pread(fd, &eh, sizeof(eh), 0) != sizeof(eh))
		die(path);
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_machine != EM_X86_64 || eh.e_phentsize != sizeof(ph)) {
		fprintf(stderr, "kvm-hvt-runner: %s: not an x86-64 ELF64\n", path);
		exit(120);
	}
	*end = 0;
	for (i = 0; i < eh.e_phnum; i++) {
		if (pread(fd, &ph, sizeof(ph), eh.e_phoff + i * sizeof(ph)) != sizeof(ph))
			die("program header");
		if (ph.p_type != PT_LOAD)
			continue;
		if (ph.p_paddr < HVT_GUEST_MIN_BASE || ph.p_filesz > ph.p_memsz) {
			fprintf(stderr, "kvm-hvt-runner: bad segment %d\n", i);
			exit(120);
		}
		if (pread(fd, gpa(ph.p_paddr, ph.p_memsz), ph.p_filesz, ph.p_offset) !=
		    (ssize_t)ph.p_filesz)
			die("segment");
		if (ph.p_paddr + ph.p_memsz > *end)
			*end = ph.p_paddr + ph.p_memsz;
	}
	close(fd);
	return eh.e_entry;
}

static void setup_memory(uint64_t kernel_end, const char *cmdline)
{
	uint64_t *pml4 = gpa(HVT_PML4_BASE, 4096), *pdpt = gpa(HVT_PDPTE_BASE, 4096);
	uint64_t *pd = gpa(HVT_PDE_BASE, 4 * 4096), *pt0 = gpa(HVT_PT0_BASE, 4096);
	uint64_t *gdt = gpa(HVT_GDT_BASE, 24), a;
	struct hvt_boot_info *bi = gpa(HVT_BOOT_INFO_BASE, sizeof(*bi));
	struct mft *mft = gpa(HVT_BOOT_INFO_BASE + sizeof(*bi),
			      sizeof(*mft) + sizeof(struct mft_entry));
	uint64_t cmdline_gpa = HVT_BOOT_INFO_BASE + sizeof(*bi) + sizeof(*mft) +
			       sizeof(struct mft_entry);
	struct timespec t0, t1;
	uint64_t c0, c1;
	uint32_t lo, hi;
	int i;

	pml4[0] = HVT_PDPTE_BASE | PTE_P | PTE_RW;
	for (i = 0; i < 4; i++)
		pdpt[i] = (HVT_PDE_BASE + i * 4096ULL) | PTE_P | PTE_RW;
	pd[0] = HVT_PT0_BASE | PTE_P | PTE_RW;
	for (a = HVT_BOOT_INFO_BASE; a < HVT_GUEST_PAGE_SIZE; a += 4096)
		pt0[a >> 12] = a | PTE_P | (a >= HVT_GUEST_MIN_BASE ? PTE_RW : 0);
	for (a = HVT_GUEST_PAGE_SIZE; a < mem_size; a += HVT_GUEST_PAGE_SIZE)
		pd[a / HVT_GUEST_PAGE_SIZE] = a | PTE_P | PTE_RW | PTE_PS;
	gdt[0] = 0;
	gdt[1] = 0x00af9b000000ffffULL;	/* 64-bit code, accessed */
	gdt[2] = 0x00cf93000000ffffULL;	/* data, accessed */

	/* TSC rate, measured the same way vsnixctl does. */
	clock_gettime(CLOCK_MONOTONIC_RAW, &t0);
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	c0 = ((uint64_t)hi << 32) | lo;
	nanosleep(&(struct timespec){ 0, 20000000 }, NULL);
	clock_gettime(CLOCK_MONOTONIC_RAW, &t1);
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	c1 = ((uint64_t)hi << 32) | lo;

	memset(bi, 0, sizeof(*bi));
	bi->mem_size = mem_size;
	bi->kernel_end = kernel_end;
	bi->cpu_cycle_freq = (c1 - c0) * 1e9 /
		((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec));
	bi->mft = HVT_BOOT_INFO_BASE + sizeof(*bi);
	bi->cmdline = cmdline_gpa;
	mft->version = MFT_VERSION;
	mft->entries = 1;
	memset(&mft->e[0], 0, sizeof(mft->e[0]));
	mft->e[0].type = MFT_RESERVED_FIRST;
	strncpy(gpa(cmdline_gpa, HVT_CMDLINE_SIZE), cmdline, HVT_CMDLINE_SIZE - 1);
}

static void set_seg(struct kvm_segment *s, uint16_t sel, uint8_t type, int l)
{
	*s = (struct kvm_segment){ .base = 0, .limit = 0xffffffff, .selector = sel,
		.type = type, .present = 1, .s = 1, .g = 1, .l = l, .db = !l };
}

/* Serves one hypercall; returns 1 when the guest halted. */
static int hypercall(unsigned int nr, uint32_t arg, int *status)
{
	switch (nr) {
	case HVT_HYPERCALL_WALLTIME: {
		struct hvt_hc_walltime *hc = gpa(arg, sizeof(*hc));
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		hc->nsecs = ts.tv_sec * 1000000000ULL + ts.tv_nsec;
		return 0;
	}
	case HVT_HYPERCALL_PUTS: {
		struct hvt_hc_puts *hc = gpa(arg, sizeof(*hc));

		if (write(1, gpa(hc->data, hc->len), hc->len) < 0)
			return 0;
		return 0;
	}
	case HVT_HYPERCALL_POLL: {
		struct hvt_hc_poll *hc = gpa(arg, sizeof(*hc));
		struct timespec ts = { hc->timeout_nsecs / 1000000000ULL,
				       hc->timeout_nsecs % 1000000000ULL };

		nanosleep(&ts, NULL);
		hc->ready_set = 0;
		hc->ret = 0;
		return 0;
	}
	case HVT_HYPERCALL_HALT: {
		struct hvt_hc_halt *hc = gpa(arg, sizeof(*hc));

		*status = hc->exit_status;
		return 1;
	}
	default:
		fprintf(stderr, "kvm-hvt-runner: hypercall %u not served here\n", nr);
		exit(121);
	}
}

int main(int argc, char **argv)
{
	struct kvm_userspace_memory_region region = { 0 };
	struct kvm_sregs sregs;
	struct kvm_regs regs = { 0 };
	struct kvm_run *run;
	uint64_t entry, end;
	int kvm, vm, vcpu, status = 0;
	long run_size;

	if (argc < 2) {
		fprintf(stderr, "usage: kvm-hvt-runner KERNEL [MEM_MIB] [CMDLINE]\n");
		return 120;
	}
	mem_size = (argc > 2 ? strtoull(argv[2], NULL, 0) : 32) << 20;
	mem_size &= ~(HVT_GUEST_PAGE_SIZE - 1);
	if (!mem_size || mem_size > HVT_GUEST_MAX_MEM) {
		fprintf(stderr, "kvm-hvt-runner: bad memory size\n");
		return 120;
	}
	mem = mmap(NULL, mem_size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED)
		die("mmap");
	entry = load_elf(argv[1], &end);
	setup_memory(end, argc > 3 ? argv[3] : "");

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		die("/dev/kvm");
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		die("KVM_CREATE_VM");
	region.memory_size = mem_size;
	region.userspace_addr = (uintptr_t)mem;
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		die("KVM_SET_USER_MEMORY_REGION");
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vcpu < 0 || run_size <= 0)
		die("KVM_CREATE_VCPU");
	run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		die("mmap kvm_run");
	{
		struct kvm_cpuid2 *cpuid = calloc(1, sizeof(*cpuid) +
						  100 * sizeof(cpuid->entries[0]));

		cpuid->nent = 100;
		if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, cpuid) < 0 ||
		    ioctl(vcpu, KVM_SET_CPUID2, cpuid) < 0)
			die("CPUID");
		free(cpuid);
	}
	if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
		die("KVM_GET_SREGS");
	set_seg(&sregs.cs, 0x08, 0xb, 1);
	set_seg(&sregs.ds, 0x10, 0x3, 0);
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	sregs.gdt.base = HVT_GDT_BASE;
	sregs.gdt.limit = 23;
	sregs.cr0 = 0x80010021;		/* PG WP NE PE */
	sregs.cr3 = HVT_PML4_BASE;
	sregs.cr4 = 0x620;		/* OSXMMEXCPT OSFXSR PAE */
	sregs.efer = 0x500;		/* LMA LME */
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0)
		die("KVM_SET_SREGS");
	regs.rip = entry;
	regs.rflags = 2;
	regs.rsp = mem_size - 8;
	regs.rdi = HVT_BOOT_INFO_BASE;
	if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
		die("KVM_SET_REGS");

	for (;;) {
		if (ioctl(vcpu, KVM_RUN, 0) < 0) {
			if (errno == EINTR)
				continue;
			die("KVM_RUN");
		}
		if (run->exit_reason == KVM_EXIT_IO &&
		    run->io.direction == KVM_EXIT_IO_OUT && run->io.size == 4 &&
		    run->io.port >= HVT_HYPERCALL_PIO_BASE &&
		    run->io.port < HVT_HYPERCALL_PIO_BASE + HVT_HYPERCALL_MAX) {
			uint32_t arg = *(uint32_t *)((uint8_t *)run + run->io.data_offset);

			if (hypercall(run->io.port - HVT_HYPERCALL_PIO_BASE, arg, &status))
				return status & 0xff;
			continue;
		}
		fprintf(stderr, "kvm-hvt-runner: unexpected exit %u (port %#x)\n",
			run->exit_reason, run->io.port);
		return 121;
	}
}
