// SPDX-License-Identifier: GPL-2.0
/*
 * vsnixctl: boots a Solo5 hvt unikernel (ABI version 2) the way Solo5's
 * hvt tender lays the guest out, so unikernels built by Solo5 run as is:
 *
 *   0x1000   GDT (null, code, data)
 *   0x2000   PML4, 0x3000 PDPT, 0x4000-0x7fff PDs, 0x8000 PT of the first
 *            2 MiB (pages below 0x10000 absent, below 1 MiB read-only)
 *   0x10000  struct hvt_boot_info, then the manifest copy, then cmdline
 *   1 MiB    the ELF, at its physical addresses; stack at the top of RAM
 *
 * The hypercalls themselves are served in the kernel (VSNIX_DEV_HVT2).
 */
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/vsnix_hvt.h>
#include "vsnixctl.h"

#define PTE_P		(1ULL << 0)
#define PTE_RW		(1ULL << 1)
#define PTE_PS		(1ULL << 7)

#define X86_CR0_PE	(1ULL << 0)
#define X86_CR0_NE	(1ULL << 5)
#define X86_CR0_WP	(1ULL << 16)
#define X86_CR0_PG	(1ULL << 31)
#define X86_CR4_PAE	(1ULL << 5)
#define X86_CR4_OSFXSR	(1ULL << 9)
#define X86_CR4_OSXMMEXCPT (1ULL << 10)
#define X86_EFER_LME	(1ULL << 8)
#define X86_EFER_LMA	(1ULL << 10)

#define MFT_MAX_SIZE	(sizeof(struct mft) + MFT_MAX_ENTRIES * sizeof(struct mft_entry))
#define BLOCK_SIZE	512	/* default sector size */
#define MAX_SECTOR_SIZE	32768	/* the manifest's block_size is 16 bits */
#define NET_MTU		1500

bool hvt_is_hvt_elf(struct elf_image *img)
{
	struct abi1_info abi;

	return elf_find_note(img, SOLO5_NOTE_NAME, SOLO5_NOTE_ABI1,
			     ABI1_DESC_ALIGN, &abi, sizeof(abi)) > 0;
}

static int check_abi(struct elf_image *img)
{
	struct abi1_info abi;
	ssize_t n;

	n = elf_find_note(img, SOLO5_NOTE_NAME, SOLO5_NOTE_ABI1,
			  ABI1_DESC_ALIGN, &abi, sizeof(abi));
	if (n != sizeof(abi)) {
		fprintf(stderr, "vsnixctl: %s: Solo5 ABI note missing or malformed\n",
			img->path);
		return -1;
	}
	if (abi.abi_target != HVT_ABI_TARGET) {
		fprintf(stderr, "vsnixctl: %s: built for Solo5 target %u, not hvt\n",
			img->path, abi.abi_target);
		return -1;
	}
	if (abi.abi_version != HVT_ABI_VERSION) {
		fprintf(stderr, "vsnixctl: %s: wants hvt ABI version %u, vsnixctl speaks %u\n",
			img->path, abi.abi_version, HVT_ABI_VERSION);
		return -1;
	}
	return 0;
}

/* Reads and checks the manifest as Solo5 does: it is untrusted input. */
static struct mft *read_manifest(struct elf_image *img, size_t *size)
{
	struct mft *mft = calloc(1, MFT_MAX_SIZE);
	const char *why = NULL;
	ssize_t n;
	uint32_t i;

	if (!mft)
		return NULL;
	n = elf_find_note(img, SOLO5_NOTE_NAME, SOLO5_NOTE_MFT1,
			  MFT1_DESC_ALIGN, mft, MFT_MAX_SIZE);
	if (n <= 0)
		why = "no Solo5 manifest note";
	else if ((size_t)n < sizeof(*mft) || mft->version != MFT_VERSION)
		why = "unknown manifest version";
	else if (mft->entries < 1 || mft->entries > MFT_MAX_ENTRIES)
		why = "manifest entry count out of range";
	else if ((size_t)n != sizeof(*mft) + mft->entries * sizeof(struct mft_entry))
		why = "manifest size does not match its entry count";
	else if (mft->e[0].type != MFT_RESERVED_FIRST || mft->e[0].name[0])
		why = "manifest does not start with the reserved entry";
	for (i = 0; !why && i < mft->entries; i++) {
		if (mft->e[i].name[MFT_NAME_SIZE - 1])
			why = "manifest entry name not NUL-terminated";
		else if (mft->e[i].attached)
			why = "manifest entry marked attached in the image";
	}
	if (why) {
		fprintf(stderr, "vsnixctl: %s: invalid Solo5 manifest: %s\n",
			img->path, why);
		free(mft);
		return NULL;
	}
	*size = n;
	return mft;
}

static struct mft_entry *mft_find(struct mft *mft, const char *name,
				  uint32_t type, uint32_t *index)
{
	uint32_t i;

	for (i = 1; i < mft->entries; i++) {
		if (mft->e[i].type == type &&
		    strncmp(mft->e[i].name, name, MFT_NAME_SIZE) == 0) {
			*index = i;
			return &mft->e[i];
		}
	}
	return NULL;
}

/*
 * Opens what the command line attaches and fills the manifest (capacity,
 * block size, MAC, MTU, attached). Host fds go into the device config in
 * manifest order, never into the guest's copy.
 */
/* Sector size: a power of 2 from 512 to 32 KiB; the size a multiple. */
static int check_block(const struct attach_spec *b, uint64_t size,
		       uint32_t sector)
{
	if (sector < 512 || sector > MAX_SECTOR_SIZE || (sector & (sector - 1))) {
		fprintf(stderr, "vsnixctl: block device '%s': sector size %u is not a power of 2"
			" from 512 to %d\n", b->name, sector, MAX_SECTOR_SIZE);
		return -1;
	}
	if (size == 0 || size % sector) {
		fprintf(stderr, "vsnixctl: %s: size %llu is not a non-zero multiple of the"
			" sector size %u\n", b->path, (unsigned long long)size, sector);
		return -1;
	}
	return 0;
}

static int attach_devices(struct mft *mft, const struct run_options *opt,
			  int *fds, const char *path)
{
	uint32_t i, idx;
	int fail = 0;

	for (i = 0; i < opt->nr_block; i++) {
		struct mft_entry *e = mft_find(mft, opt->block[i].name,
					       MFT_DEV_BLOCK_BASIC, &idx);
		uint32_t sector = opt->block[i].sector_size ?: BLOCK_SIZE;
		uint64_t size;

		if (!e || e->attached) {
			fprintf(stderr, "vsnixctl: %s: block device '%s' is %s\n",
				path, opt->block[i].name,
				e ? "attached twice" : "not declared in the manifest");
			return -1;
		}
		fds[idx] = block_open(opt->block[i].path, &size);
		if (fds[idx] < 0 || check_block(&opt->block[i], size, sector))
			return -1;
		e->u.block_basic.capacity = size;
		e->u.block_basic.block_size = sector;
		e->attached = 1;
	}
	for (i = 0; i < opt->nr_net; i++) {
		struct mft_entry *e = mft_find(mft, opt->net[i].name,
					       MFT_DEV_NET_BASIC, &idx);

		if (!e || e->attached) {
			fprintf(stderr, "vsnixctl: %s: network device '%s' is %s\n",
				path, opt->net[i].name,
				e ? "attached twice" : "not declared in the manifest");
			return -1;
		}
		fds[idx] = tap_open(opt->net[i].path);
		if (fds[idx] < 0)
			return -1;
		if (opt->net[i].has_mac)
			memcpy(e->u.net_basic.mac, opt->net[i].mac, 6);
		else
			random_mac(e->u.net_basic.mac);
		e->u.net_basic.mtu = NET_MTU;
		e->attached = 1;
	}

	/* Solo5 refuses to start with a declared device left unattached. */
	for (i = 1; i < mft->entries; i++) {
		if (mft->e[i].type >= MFT_RESERVED_FIRST || mft->e[i].attached)
			continue;
		fprintf(stderr, "vsnixctl: %s: device '%s' (%s) declared in the manifest"
			" but not attached (use --%s %s=...)\n",
			path, mft->e[i].name,
			mft->e[i].type == MFT_DEV_BLOCK_BASIC ? "block" : "net",
			mft->e[i].type == MFT_DEV_BLOCK_BASIC ? "block" : "net",
			mft->e[i].name);
		fail = 1;
	}
	return fail ? -1 : 0;
}

/*
 * The VSNIX_DEV_HVT2 entries: one per attached device, named by its
 * manifest index (its handle). Returns how many, or -1.
 */
static int hvt_dev_list(const struct mft *mft, const int *fds,
			struct vsnix_hvt_dev *devs, const char *path)
{
	uint32_t i;
	int n = 0;

	for (i = 1; i < mft->entries; i++) {
		const struct mft_entry *e = &mft->e[i];

		if (e->type != MFT_DEV_BLOCK_BASIC && e->type != MFT_DEV_NET_BASIC)
			continue;
		if (n == VSNIX_HVT_MAX_HANDLE || strlen(e->name) >= VSNIX_DEV_NAME_LEN) {
			fprintf(stderr, "vsnixctl: %s: vsnix takes %d devices with names"
				" under %d characters\n",
				path, VSNIX_HVT_MAX_HANDLE, VSNIX_DEV_NAME_LEN);
			return -1;
		}
		memset(&devs[n], 0, sizeof(devs[n]));
		devs[n].fd = fds[i];
		devs[n].handle = i;
		strcpy(devs[n].name, e->name);
		if (e->type == MFT_DEV_BLOCK_BASIC) {
			devs[n].kind = VSNIX_HVT_DEV_BLOCK;
			devs[n].sector_size = e->u.block_basic.block_size;
		} else {
			devs[n].kind = VSNIX_HVT_DEV_NET;
		}
		n++;
	}
	return n;
}

/*
 * Each PT_LOAD's pages get its own permissions in the TDP tables: text
 * read+execute, rodata read-only, data and bss read+write without
 * execute; the rest of RAM (boot area, heap, stack) read+write without
 * execute. Solo5's KVM tender gets the write protection from mprotect()
 * of its host mapping; vsnix pins guest memory, so it uses slot flags.
 */
static uint8_t *segment_page_flags(struct vm *vm, struct elf_image *img)
{
	uint8_t dflt = vm_has_noexec(vm) ? VSNIX_MEM_NOEXEC : 0;
	uint64_t npages = vm->mem_size >> 12, p;
	uint8_t *flags = malloc(npages), *set = calloc(npages, 1);
	unsigned int i;

	if (!flags || !set)
		goto fail;
	memset(flags, dflt, npages);
	for (i = 0; i < img->phnum; i++) {
		const struct elf_segment *s = &img->seg[i];
		uint8_t f = 0;

		if (s->type != PT_LOAD || s->memsz == 0)
			continue;
		if (!(s->flags & PF_W))
			f |= VSNIX_MEM_READONLY;
		if (!(s->flags & PF_X))
			f |= dflt;
		/* elf_load_segments() checked the range against RAM. */
		for (p = s->paddr >> 12; p < (s->paddr + s->memsz + 0xfff) >> 12; p++) {
			if (set[p] && flags[p] != f) {
				fprintf(stderr, "vsnixctl: %s: invalid ELF: segment %u shares page %#llx"
					" with a segment of other permissions\n",
					img->path, i, (unsigned long long)(p << 12));
				goto fail;
			}
			flags[p] = f;
			set[p] = 1;
		}
	}
	free(set);
	return flags;
fail:
	free(flags);
	free(set);
	return NULL;
}

/* Identity map of all guest RAM, laid out as Solo5's tender does. */
static int setup_page_tables(struct vm *vm)
{
	uint64_t *pml4 = vm_gpa(vm, HVT_PML4_BASE, 0x1000);
	uint64_t *pdpt = vm_gpa(vm, HVT_PDPTE_BASE, 0x1000);
	uint64_t *pd = vm_gpa(vm, HVT_PDE_BASE, 0x4000);
	uint64_t *pt0 = vm_gpa(vm, HVT_PT0_BASE, 0x1000);
	uint64_t addr;
	int i;

	if (!pml4 || !pdpt || !pd || !pt0)
		return -1;
	pml4[0] = HVT_PDPTE_BASE | PTE_P | PTE_RW;
	for (i = 0; i < 4; i++)
		pdpt[i] = (HVT_PDE_BASE + i * 0x1000ULL) | PTE_P | PTE_RW;
	pd[0] = HVT_PT0_BASE | PTE_P | PTE_RW;
	/*
	 * Below 0x10000 (GDT, page tables) nothing is mapped; the boot info
	 * area up to 1 MiB is read-only: the guest only takes input there.
	 */
	for (addr = HVT_BOOT_INFO_BASE; addr < HVT_GUEST_PAGE_SIZE; addr += 0x1000)
		pt0[addr >> 12] = addr | PTE_P |
				  (addr >= HVT_GUEST_MIN_BASE ? PTE_RW : 0);
	for (addr = HVT_GUEST_PAGE_SIZE; addr < vm->mem_size; addr += HVT_GUEST_PAGE_SIZE)
		pd[addr / HVT_GUEST_PAGE_SIZE] = addr | PTE_P | PTE_RW | PTE_PS;
	return 0;
}

static int write_boot_info(struct vm *vm, uint64_t kernel_end,
			   const struct mft *mft, size_t mft_size,
			   const char *cmdline)
{
	uint64_t mft_gpa = HVT_BOOT_INFO_BASE + sizeof(struct hvt_boot_info);
	uint64_t cmdline_gpa = mft_gpa + mft_size;
	struct hvt_boot_info *bi;
	struct mft *copy;
	char *cl;
	uint32_t i;

	bi = vm_gpa(vm, HVT_BOOT_INFO_BASE, sizeof(*bi));
	copy = vm_gpa(vm, mft_gpa, mft_size);
	cl = vm_gpa(vm, cmdline_gpa, HVT_CMDLINE_SIZE);
	if (!bi || !copy || !cl || cmdline_gpa + HVT_CMDLINE_SIZE > HVT_GUEST_MIN_BASE)
		return -1;
	if (strlen(cmdline) >= HVT_CMDLINE_SIZE) {
		fprintf(stderr, "vsnixctl: command line too long (max %d characters)\n",
			HVT_CMDLINE_SIZE - 1);
		return -1;
	}
	memset(bi, 0, sizeof(*bi));
	bi->mem_size = vm->mem_size;
	bi->kernel_end = kernel_end;
	bi->cpu_cycle_freq = tsc_frequency_hz();
	bi->mft = mft_gpa;
	bi->cmdline = cmdline_gpa;
	memcpy(copy, mft, mft_size);
	/* Host-private backing fields stay blank in the guest's copy. */
	for (i = 0; i < copy->entries; i++)
		copy->e[i].b.data = 0;
	memset(cl, 0, HVT_CMDLINE_SIZE);
	strcpy(cl, cmdline);
	return 0;
}

static int check_segments(struct elf_image *img)
{
	unsigned int i;

	for (i = 0; i < img->phnum; i++) {
		if (img->seg[i].type == PT_LOAD &&
		    img->seg[i].vaddr != img->seg[i].paddr) {
			fprintf(stderr, "vsnixctl: %s: invalid ELF: segment %u has p_vaddr %#llx"
				" != p_paddr %#llx (hvt guests are identity mapped)\n",
				img->path, i, (unsigned long long)img->seg[i].vaddr,
				(unsigned long long)img->seg[i].paddr);
			return -1;
		}
	}
	return 0;
}

static int check_mem_size(uint64_t *mem_size)
{
	uint64_t mem = *mem_size & ~(HVT_GUEST_PAGE_SIZE - 1);

	if (mem == 0)
		mem = HVT_GUEST_PAGE_SIZE;
	if (mem > HVT_GUEST_MAX_MEM) {
		fprintf(stderr, "vsnixctl: --mem %llu MiB is more than the hvt maximum of %llu MiB\n",
			(unsigned long long)(*mem_size >> 20),
			(unsigned long long)(HVT_GUEST_MAX_MEM >> 20));
		return -1;
	}
	if (mem != *mem_size)
		fprintf(stderr, "vsnixctl: memory rounded to %llu MiB (a multiple of 2 MiB)\n",
			(unsigned long long)(mem >> 20));
	*mem_size = mem;
	return 0;
}

int hvt_setup(struct vm *vm, struct elf_image *img,
	      const struct run_options *opt)
{
	struct vsnix_device_config dev = { .type = VSNIX_DEV_HVT2,
					   .console_fd = vm->console_fd };
	struct vsnix_hvt_dev devs[VSNIX_HVT_MAX_HANDLE];
	int fds[MFT_MAX_ENTRIES], ndevs, ret = -1;
	struct vsnix_sregs sregs = { 0 };
	struct vsnix_regs regs = { 0 };
	uint64_t mem_size = opt->mem_size, kernel_end;
	uint8_t *page_flags = NULL;
	struct mft *mft;
	size_t mft_size;
	unsigned int i;

	vm->kind = GUEST_HVT;
	if (check_abi(img) || check_segments(img) || check_mem_size(&mem_size))
		return -1;
	mft = read_manifest(img, &mft_size);
	if (!mft)
		return -1;
	for (i = 0; i < MFT_MAX_ENTRIES; i++)
		fds[i] = -1;
	if (attach_devices(mft, opt, fds, img->path))
		goto out;
	ndevs = hvt_dev_list(mft, fds, devs, img->path);
	if (ndevs < 0)
		goto out;
	dev.hvt2.devices = (uintptr_t)devs;
	dev.hvt2.nr_devices = ndevs;
	if (vm_alloc_memory(vm, mem_size) ||
	    elf_load_segments(img, vm, HVT_GUEST_MIN_BASE, &kernel_end))
		goto out;
	if (img->entry < HVT_GUEST_MIN_BASE) {
		fprintf(stderr, "vsnixctl: %s: invalid ELF: entry point below 1 MiB\n",
			img->path);
		goto out;
	}
	if (setup_page_tables(vm) ||
	    write_boot_info(vm, kernel_end, mft, mft_size,
			    opt->cmdline ? opt->cmdline : "") ||
	    x86_write_flat_gdt(vm, HVT_GDT_BASE, true, &sregs))
		goto out;

	sregs.cr0 = X86_CR0_PE | X86_CR0_NE | X86_CR0_WP | X86_CR0_PG;
	sregs.cr3 = HVT_PML4_BASE;
	sregs.cr4 = X86_CR4_PAE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT;
	sregs.efer = X86_EFER_LME | X86_EFER_LMA;
	regs.rip = img->entry;
	regs.rflags = 0x2;		/* bit 1 is reserved, always 1 */
	/* SysV x86-64: (rsp + 8) % 16 == 0 at function entry. */
	regs.rsp = vm->mem_size - 8;
	regs.rdi = HVT_BOOT_INFO_BASE;

	page_flags = segment_page_flags(vm, img);
	if (!page_flags || vm_map_memory_prot(vm, page_flags) ||
	    vm_create_vcpu(vm))
		goto out;
	if (vm_set_cpuid(vm))
		fprintf(stderr, "vsnixctl: warning: running with the default CPUID\n");
	if (vm_set_state(vm, &regs, &sregs) ||
	    vm_create_device(vm, &dev, "hvt"))
		goto out;
	ret = 0;
out:
	/* The kernel holds its own references to the files now. */
	for (i = 0; i < MFT_MAX_ENTRIES; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(page_flags);
	free(mft);
	return ret;
}
