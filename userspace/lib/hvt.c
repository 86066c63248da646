// SPDX-License-Identifier: GPL-2.0
/*
 * libvsnix: boots a Solo5 hvt unikernel (ABI version 2) the way Solo5's
 * hvt tender lays the guest out, so unikernels built by Solo5 run as is:
 *
 *   0x1000   GDT (null, code, data)
 *   0x2000   PML4, 0x3000 PDPT, 0x4000-0x7fff PDs, 0x8000 PT of the first
 *            2 MiB (pages below 0x10000 absent, below 1 MiB read-only)
 *   0x10000  struct hvt_boot_info, then the manifest copy, then cmdline
 *   1 MiB    the ELF, at its physical addresses; stack at the top of RAM
 *
 * The hypercalls themselves are served in the kernel (VSNIX_DEV_HVT2).
 * Use: vx_hvt_open(), then for each device vx_hvt_check_device() (before
 * opening its backing) and vx_hvt_attach_*(), then vx_hvt_load().
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>

#include <linux/vsnix_hvt.h>
#include "vsnix/libvsnix.h"
#include "vsnix/elf.h"
#include "vsnix/boot.h"

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
#define NET_MTU		1500	/* when the backing names no interface */

struct vx_hvt {
	struct vx_elf_image *img;
	struct mft *mft;
	size_t mft_size;
	int fds[MFT_MAX_ENTRIES];	/* host backing per manifest entry */
};

static ssize_t find_note(struct vx_elf_image *img, uint32_t type, size_t align,
			 void *buf, size_t size)
{
	return vx_elf_find_note(img, SOLO5_NOTE_NAME, type, align, buf, size);
}

int vx_hvt_is_hvt(struct vx_elf_image *img)
{
	struct abi1_info abi;
	ssize_t n = find_note(img, SOLO5_NOTE_ABI1, ABI1_DESC_ALIGN, &abi, sizeof(abi));

	return n < 0 ? n : n > 0;
}

static int check_abi(struct vx_elf_image *img)
{
	struct abi1_info abi;
	ssize_t n;

	n = find_note(img, SOLO5_NOTE_ABI1, ABI1_DESC_ALIGN, &abi, sizeof(abi));
	if (n != sizeof(abi))
		return vx_fail(EINVAL, "%s: Solo5 ABI note missing or malformed", img->path);
	if (abi.abi_target != HVT_ABI_TARGET)
		return vx_fail(EINVAL, "%s: built for Solo5 target %u, not hvt", img->path,
			       abi.abi_target);
	if (abi.abi_version != HVT_ABI_VERSION)
		return vx_fail(EINVAL, "%s: wants hvt ABI version %u, vsnixctl speaks %u",
			       img->path, abi.abi_version, HVT_ABI_VERSION);
	return 0;
}

/* Reads and checks the manifest as Solo5 does: it is untrusted input. */
static int read_manifest(struct vx_hvt *h)
{
	struct vx_elf_image *img = h->img;
	struct mft *mft = calloc(1, MFT_MAX_SIZE);
	const char *why = NULL;
	ssize_t n;
	uint32_t i;

	if (!mft)
		return vx_fail(ENOMEM, "out of memory");
	n = find_note(img, SOLO5_NOTE_MFT1, MFT1_DESC_ALIGN, mft, MFT_MAX_SIZE);
	if (n < 0) {
		free(mft);
		return n;
	}
	if (n == 0)
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
		free(mft);
		return vx_fail(EINVAL, "%s: invalid Solo5 manifest: %s", img->path, why);
	}
	h->mft = mft;
	h->mft_size = n;
	return 0;
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

int vx_hvt_check_device(struct vx_hvt *h, const char *name, bool net)
{
	uint32_t idx;
	struct mft_entry *e = mft_find(h->mft, name, net ? MFT_DEV_NET_BASIC :
				       MFT_DEV_BLOCK_BASIC, &idx);

	if (!e || e->attached)
		return vx_fail(e ? EEXIST : ENOENT, "%s: %s device '%s' is %s", h->img->path,
			       net ? "network" : "block", name,
			       e ? "attached twice" : "not declared in the manifest");
	return idx;
}

/* Sector size: a power of 2 from 512 to 32 KiB; the size a multiple. */
int vx_hvt_attach_block(struct vx_hvt *h, const char *name, int fd, uint64_t size,
			uint32_t sector)
{
	int idx = vx_hvt_check_device(h, name, false);
	struct mft_entry *e;

	if (idx < 0)
		return idx;
	sector = sector ?: BLOCK_SIZE;
	if (sector < 512 || sector > MAX_SECTOR_SIZE || (sector & (sector - 1)))
		return vx_fail(EINVAL, "block device '%s': sector size %u is not a power of 2 from 512 to %d",
			       name, sector, MAX_SECTOR_SIZE);
	if (size == 0 || size % sector)
		return vx_fail(EINVAL, "block device '%s': size %llu is not a non-zero multiple of the sector size %u",
			       name, (unsigned long long)size, sector);
	e = &h->mft->e[idx];
	h->fds[idx] = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (h->fds[idx] < 0)
		return vx_fail(errno, "dup of block device '%s': %s", name, strerror(errno));
	e->u.block_basic.capacity = size;
	e->u.block_basic.block_size = sector;
	e->attached = 1;
	return 0;
}

/*
 * The MTU the guest is told: the interface's own, as Solo5's tender reads
 * it (SIOCGIFMTU of the tap it attaches). The backing is a tap fd (its
 * name from TUNGETIFF) or an AF_PACKET socket (its bound ifindex).
 */
static int net_backing_mtu(int fd, const char *name, uint16_t *mtu)
{
	struct sockaddr_ll sll;
	socklen_t sl = sizeof(sll);
	struct ifreq ifr;
	int sock, r;

	memset(&ifr, 0, sizeof(ifr));
	if (ioctl(fd, TUNGETIFF, &ifr) < 0) {
		if (getsockname(fd, (struct sockaddr *)&sll, &sl) < 0 ||
		    sll.sll_family != AF_PACKET || !sll.sll_ifindex ||
		    !if_indextoname(sll.sll_ifindex, ifr.ifr_name)) {
			*mtu = NET_MTU;
			return 0;
		}
	}
	sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return vx_fail(errno, "network device '%s': socket: %s", name, strerror(errno));
	r = ioctl(sock, SIOCGIFMTU, &ifr);
	close(sock);
	if (r < 0)
		return vx_fail(errno, "network device '%s': MTU of %s: %s", name,
			       ifr.ifr_name, strerror(errno));
	/* The manifest holds 16 bits; Linux caps an Ethernet MTU lower. */
	if (ifr.ifr_mtu <= 0 || ifr.ifr_mtu > UINT16_MAX)
		return vx_fail(ERANGE, "network device '%s': %s has MTU %d", name,
			       ifr.ifr_name, ifr.ifr_mtu);
	*mtu = ifr.ifr_mtu;
	return 0;
}

int vx_hvt_attach_net(struct vx_hvt *h, const char *name, int fd, const uint8_t mac[6])
{
	int idx = vx_hvt_check_device(h, name, true);
	struct mft_entry *e;
	uint16_t mtu = NET_MTU;
	int r;

	if (idx < 0)
		return idx;
	r = net_backing_mtu(fd, name, &mtu);
	if (r < 0)
		return r;
	e = &h->mft->e[idx];
	h->fds[idx] = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (h->fds[idx] < 0)
		return vx_fail(errno, "dup of network device '%s': %s", name, strerror(errno));
	memcpy(e->u.net_basic.mac, mac, 6);
	e->u.net_basic.mtu = mtu;
	e->attached = 1;
	return 0;
}

/* Solo5 refuses to start with a declared device left unattached. */
static int check_attached(struct vx_hvt *h)
{
	struct mft *mft = h->mft;
	uint32_t i;

	for (i = 1; i < mft->entries; i++) {
		const char *kind = mft->e[i].type == MFT_DEV_BLOCK_BASIC ? "block" : "net";

		if (mft->e[i].type >= MFT_RESERVED_FIRST || mft->e[i].attached)
			continue;
		return vx_fail(ENODEV, "%s: device '%s' (%s) declared in the manifest but not attached (use --%s %s=...)",
			       h->img->path, mft->e[i].name, kind, kind, mft->e[i].name);
	}
	return 0;
}

/*
 * The VSNIX_DEV_HVT2 entries: one per attached device, named by its
 * manifest index (its handle). Returns how many, or -errno.
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
		if (n == VSNIX_HVT_MAX_HANDLE || strlen(e->name) >= VSNIX_DEV_NAME_LEN)
			return vx_fail(E2BIG, "%s: vsnix takes %d devices with names under %d characters",
				       path, VSNIX_HVT_MAX_HANDLE, VSNIX_DEV_NAME_LEN);
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
static uint8_t *segment_page_flags(struct vx_vm *vm, struct vx_elf_image *img)
{
	uint8_t dflt = vx_check_cap(vm->sys_fd, VSNIX_CAP_NOEXEC_MEM) > 0 ?
		       VSNIX_MEM_NOEXEC : 0;
	uint64_t npages = vm->mem_size >> 12, p;
	uint8_t *flags = malloc(npages), *set = calloc(npages, 1);
	unsigned int i;

	if (!flags || !set) {
		vx_fail(ENOMEM, "out of memory");
		goto fail;
	}
	memset(flags, dflt, npages);
	for (i = 0; i < img->phnum; i++) {
		const struct vx_elf_segment *s = &img->seg[i];
		uint8_t f = 0;

		if (s->type != PT_LOAD || s->memsz == 0)
			continue;
		if (!(s->flags & PF_W))
			f |= VSNIX_MEM_READONLY;
		if (!(s->flags & PF_X))
			f |= dflt;
		/* vx_elf_load_segments() checked the range against RAM. */
		for (p = s->paddr >> 12; p < (s->paddr + s->memsz + 0xfff) >> 12; p++) {
			if (set[p] && flags[p] != f) {
				vx_fail(EINVAL, "%s: invalid ELF: segment %u shares page %#llx with a segment of other permissions",
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
static int setup_page_tables(struct vx_vm *vm)
{
	uint64_t *pml4 = vx_gpa(vm, HVT_PML4_BASE, 0x1000);
	uint64_t *pdpt = vx_gpa(vm, HVT_PDPTE_BASE, 0x1000);
	uint64_t *pd = vx_gpa(vm, HVT_PDE_BASE, 0x4000);
	uint64_t *pt0 = vx_gpa(vm, HVT_PT0_BASE, 0x1000);
	uint64_t addr;
	int i;

	if (!pml4 || !pdpt || !pd || !pt0)
		return vx_fail(EINVAL, "guest memory too small for the hvt page tables");
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

static int write_boot_info(struct vx_hvt *h, struct vx_vm *vm, uint64_t kernel_end,
			   const char *cmdline)
{
	uint64_t mft_gpa = HVT_BOOT_INFO_BASE + sizeof(struct hvt_boot_info);
	uint64_t cmdline_gpa = mft_gpa + h->mft_size;
	struct hvt_boot_info *bi;
	struct mft *copy;
	char *cl;
	uint32_t i;

	bi = vx_gpa(vm, HVT_BOOT_INFO_BASE, sizeof(*bi));
	copy = vx_gpa(vm, mft_gpa, h->mft_size);
	cl = vx_gpa(vm, cmdline_gpa, HVT_CMDLINE_SIZE);
	if (!bi || !copy || !cl || cmdline_gpa + HVT_CMDLINE_SIZE > HVT_GUEST_MIN_BASE)
		return vx_fail(EINVAL, "no room for the hvt boot info");
	if (strlen(cmdline) >= HVT_CMDLINE_SIZE)
		return vx_fail(E2BIG, "command line too long (max %d characters)",
			       HVT_CMDLINE_SIZE - 1);
	memset(bi, 0, sizeof(*bi));
	bi->mem_size = vm->mem_size;
	bi->kernel_end = kernel_end;
	bi->cpu_cycle_freq = vx_tsc_hz();
	bi->mft = mft_gpa;
	bi->cmdline = cmdline_gpa;
	memcpy(copy, h->mft, h->mft_size);
	/* Host-private backing fields stay blank in the guest's copy. */
	for (i = 0; i < copy->entries; i++)
		copy->e[i].b.data = 0;
	memset(cl, 0, HVT_CMDLINE_SIZE);
	strcpy(cl, cmdline);
	return 0;
}

static int check_segments(struct vx_elf_image *img)
{
	unsigned int i;

	for (i = 0; i < img->phnum; i++) {
		if (img->seg[i].type == PT_LOAD &&
		    img->seg[i].vaddr != img->seg[i].paddr)
			return vx_fail(EINVAL, "%s: invalid ELF: segment %u has p_vaddr %#llx != p_paddr %#llx (hvt guests are identity mapped)",
				       img->path, i, (unsigned long long)img->seg[i].vaddr,
				       (unsigned long long)img->seg[i].paddr);
	}
	return 0;
}

int vx_hvt_mem_size(uint64_t asked, uint64_t *mem_size)
{
	uint64_t mem = asked & ~(HVT_GUEST_PAGE_SIZE - 1);

	if (mem == 0)
		mem = HVT_GUEST_PAGE_SIZE;
	if (mem > HVT_GUEST_MAX_MEM)
		return vx_fail(EINVAL, "--mem %llu MiB is more than the hvt maximum of %llu MiB",
			       (unsigned long long)(asked >> 20),
			       (unsigned long long)(HVT_GUEST_MAX_MEM >> 20));
	*mem_size = mem;
	return 0;
}

int vx_hvt_open(struct vx_elf_image *img, struct vx_hvt **out)
{
	struct vx_hvt *h = calloc(1, sizeof(*h));
	unsigned int i;
	int r;

	if (!h)
		return vx_fail(ENOMEM, "out of memory");
	h->img = img;
	for (i = 0; i < MFT_MAX_ENTRIES; i++)
		h->fds[i] = -1;
	r = check_abi(img);
	if (!r)
		r = check_segments(img);
	if (!r)
		r = read_manifest(h);
	if (r) {
		vx_hvt_close(h);
		return r;
	}
	*out = h;
	return 0;
}

void vx_hvt_close(struct vx_hvt *h)
{
	unsigned int i;

	if (!h)
		return;
	for (i = 0; i < MFT_MAX_ENTRIES; i++)
		if (h->fds[i] >= 0)
			close(h->fds[i]);
	free(h->mft);
	free(h);
}

/* RAM, the ELF, page tables, boot info, GDT: the guest's memory. */
static int load_memory(struct vx_hvt *h, struct vx_vm *vm, struct vx_boot *b,
		       struct vsnix_sregs *sregs)
{
	struct vx_elf_image *img = h->img;
	uint64_t mem_size = 0, kernel_end = 0;
	int r;

	r = vx_hvt_mem_size(b->mem_size, &mem_size);
	if (!r)
		r = vx_vm_alloc_ram(vm, VX_MEM_ANON, mem_size);
	/*
	 * A unikernel touches little of its RAM: with THP "always" each first
	 * touch would take a whole 2 MiB page (Documentation/benchmarks.rst,
	 * host memory per idle VM). Best effort: no THP, no error.
	 */
	if (!r)
		(void)madvise(vm->mem, vm->mem_size, MADV_NOHUGEPAGE);
	if (!r)
		r = vx_elf_load_segments(img, vm, HVT_GUEST_MIN_BASE, &kernel_end);
	if (r)
		return r;
	if (img->entry < HVT_GUEST_MIN_BASE)
		return vx_fail(EINVAL, "%s: invalid ELF: entry point below 1 MiB", img->path);
	r = setup_page_tables(vm);
	if (!r)
		r = write_boot_info(h, vm, kernel_end, b->cmdline ? b->cmdline : "");
	if (!r)
		r = vx_write_flat_gdt(vm, HVT_GDT_BASE, true, sregs);
	return r;
}

/* The vCPU, CPUID and the hypercall device. */
static int create_vcpu_and_device(struct vx_hvt *h, struct vx_vm *vm, struct vx_boot *b,
				  const struct vsnix_regs *regs,
				  const struct vsnix_sregs *sregs)
{
	struct vsnix_device_config dev = { .type = VSNIX_DEV_HVT2,
					   .console_fd = b->console_fd };
	struct vsnix_hvt_dev devs[VSNIX_HVT_MAX_HANDLE];
	uint8_t *page_flags;
	int ndevs, r;

	ndevs = hvt_dev_list(h->mft, h->fds, devs, h->img->path);
	if (ndevs < 0)
		return ndevs;
	dev.hvt2.devices = (uintptr_t)devs;
	dev.hvt2.nr_devices = ndevs;
	page_flags = segment_page_flags(vm, h->img);
	if (!page_flags)
		return -EINVAL;
	r = vx_vm_map_ram(vm, page_flags);
	free(page_flags);
	if (!r)
		r = vx_vcpu_create(vm, 0, &b->vcpu);
	if (r)
		return r;
	b->default_cpuid = vx_vm_set_cpuid_host(vm) != 0;
	r = vx_vcpu_set_state(b->vcpu, regs, sregs);
	return r ? r : vx_vm_create_device(vm, &dev);
}

int vx_hvt_load(struct vx_hvt *h, struct vx_vm *vm, struct vx_boot *b)
{
	struct vsnix_sregs sregs = { 0 };
	struct vsnix_regs regs = { 0 };
	int r;

	if (b->nr_cpus > 1)
		return vx_fail(EINVAL, "an hvt unikernel has one vCPU");
	r = check_attached(h);
	if (!r)
		r = load_memory(h, vm, b, &sregs);
	if (r)
		return r;
	sregs.cr0 = X86_CR0_PE | X86_CR0_NE | X86_CR0_WP | X86_CR0_PG;
	sregs.cr3 = HVT_PML4_BASE;
	sregs.cr4 = X86_CR4_PAE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT;
	sregs.efer = X86_EFER_LME | X86_EFER_LMA;
	regs.rip = h->img->entry;
	regs.rflags = 0x2;		/* bit 1 is reserved, always 1 */
	/* SysV x86-64: (rsp + 8) % 16 == 0 at function entry. */
	regs.rsp = vm->mem_size - 8;
	regs.rdi = HVT_BOOT_INFO_BASE;
	return create_vcpu_and_device(h, vm, b, &regs, &sregs);
}
