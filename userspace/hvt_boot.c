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
 * The hypercalls themselves are served in the kernel (VSNIX_DEV_HVT).
 */
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hvt_abi.h"
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
#define BLOCK_SIZE	512
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
static int attach_devices(struct mft *mft, const struct run_options *opt,
			  struct vsnix_hvt_config *hc, const char *path)
{
	int block_fd[MFT_MAX_ENTRIES], net_fd[MFT_MAX_ENTRIES];
	uint8_t net_mac[MFT_MAX_ENTRIES][6];
	uint32_t i, idx;
	int fail = 0;

	for (i = 0; i < MFT_MAX_ENTRIES; i++)
		block_fd[i] = net_fd[i] = -1;

	for (i = 0; i < opt->nr_block; i++) {
		struct mft_entry *e = mft_find(mft, opt->block[i].name,
					       MFT_DEV_BLOCK_BASIC, &idx);
		uint64_t size;

		if (!e || e->attached) {
			fprintf(stderr, "vsnixctl: %s: block device '%s' is %s\n",
				path, opt->block[i].name,
				e ? "attached twice" : "not declared in the manifest");
			return -1;
		}
		block_fd[idx] = block_open(opt->block[i].path, &size);
		if (block_fd[idx] < 0)
			return -1;
		if (size == 0 || size % BLOCK_SIZE) {
			fprintf(stderr, "vsnixctl: %s: size %llu is not a non-zero multiple of %u\n",
				opt->block[i].path, (unsigned long long)size,
				BLOCK_SIZE);
			return -1;
		}
		e->u.block_basic.capacity = size;
		e->u.block_basic.block_size = BLOCK_SIZE;
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
		net_fd[idx] = tap_open(opt->net[i].path);
		if (net_fd[idx] < 0)
			return -1;
		if (opt->net[i].has_mac)
			memcpy(net_mac[idx], opt->net[i].mac, 6);
		else
			random_mac(net_mac[idx]);
		memcpy(e->u.net_basic.mac, net_mac[idx], 6);
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
	if (fail)
		return -1;

	/* A guest names a device by its manifest index: its handle. */
	for (i = 1; i < mft->entries; i++) {
		struct mft_entry *e = &mft->e[i];

		if (e->type == MFT_DEV_BLOCK_BASIC) {
			struct vsnix_hvt_block *b = &hc->block[hc->nr_block];

			if (hc->nr_block == VSNIX_HVT_MAX_BLOCK ||
			    strlen(e->name) >= VSNIX_DEV_NAME_LEN)
				goto too_many;
			hc->block_handle[hc->nr_block] = i;
			b->fd = block_fd[i];
			b->sector_size = BLOCK_SIZE;
			strcpy(b->name, e->name);
			hc->nr_block++;
		} else if (e->type == MFT_DEV_NET_BASIC) {
			struct vsnix_hvt_net *n = &hc->net[hc->nr_net];

			if (hc->nr_net == VSNIX_HVT_MAX_NET ||
			    strlen(e->name) >= VSNIX_DEV_NAME_LEN)
				goto too_many;
			hc->net_handle[hc->nr_net] = i;
			n->fd = net_fd[i];
			memcpy(n->mac, net_mac[i], 6);
			strcpy(n->name, e->name);
			hc->nr_net++;
		}
	}
	return 0;
too_many:
	fprintf(stderr, "vsnixctl: %s: vsnix supports %d block and %d net devices"
		" with names under %d characters\n",
		path, VSNIX_HVT_MAX_BLOCK, VSNIX_HVT_MAX_NET, VSNIX_DEV_NAME_LEN);
	return -1;
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
	struct vsnix_device_config dev = { .type = VSNIX_DEV_HVT,
					   .console_fd = vm->console_fd };
	struct vsnix_sregs sregs = { 0 };
	struct vsnix_regs regs = { 0 };
	uint64_t mem_size = opt->mem_size, kernel_end;
	struct mft *mft;
	size_t mft_size;
	unsigned int i;
	int ret = -1;

	vm->kind = GUEST_HVT;
	if (check_abi(img) || check_segments(img) || check_mem_size(&mem_size))
		return -1;
	mft = read_manifest(img, &mft_size);
	if (!mft)
		return -1;
	for (i = 0; i < VSNIX_HVT_MAX_BLOCK; i++)
		dev.hvt.block[i].fd = -1;
	for (i = 0; i < VSNIX_HVT_MAX_NET; i++)
		dev.hvt.net[i].fd = -1;
	if (attach_devices(mft, opt, &dev.hvt, img->path))
		goto out;
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

	dev.hvt.mem_size = vm->mem_size;
	if (vm_map_memory(vm) || vm_create_vcpu(vm))
		goto out;
	if (vm_set_cpuid(vm))
		fprintf(stderr, "vsnixctl: warning: running with the default CPUID\n");
	if (vm_set_state(vm, &regs, &sregs) ||
	    vm_create_device(vm, &dev, "hvt"))
		goto out;
	ret = 0;
out:
	/* The kernel holds its own references to the files now. */
	for (i = 0; i < dev.hvt.nr_block; i++)
		close(dev.hvt.block[i].fd);
	for (i = 0; i < dev.hvt.nr_net; i++)
		close(dev.hvt.net[i].fd);
	free(mft);
	return ret;
}
