// SPDX-License-Identifier: GPL-2.0
/*
 * libvsnix: boots an ELF kernel by its PVH entry (Xen's
 * XEN_ELFNOTE_PHYS32_ENTRY note, type 18; the start state of Xen's
 * docs/misc/pvh.pandoc, arch/x86/platform/pvh in Linux): 32-bit protected
 * mode, paging off, EBX the physical address of struct hvm_start_info.
 *
 * Low memory: 0x1000 GDT, 0x6000 hvm_start_info and the module list,
 * 0x7000 memory map, 0x20000 command line; the initrd as high as low RAM
 * allows.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "vsnix/libvsnix.h"
#include "vsnix/elf.h"
#include "vsnix/boot.h"
#include "vsnix/pc.h"

#define PVH_NOTE_ENTRY		18	/* XEN_ELFNOTE_PHYS32_ENTRY */
#define PVH_MAGIC		0x336ec578
#define PVH_GDT_GPA		0x1000
#define PVH_INFO_GPA		0x6000
#define PVH_MODS_GPA		0x6800
#define PVH_MEMMAP_GPA		0x7000
#define PVH_CMDLINE_GPA		0x20000
#define PVH_CMDLINE_MAX		0x10000
#define PVH_KERNEL_MIN		0x100000

struct hvm_start_info {
	uint32_t magic;
	uint32_t version;	/* 1: memmap fields present */
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
};

struct hvm_memmap_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};

int vx_pvh_entry(struct vx_elf_image *img, uint64_t *entry)
{
	uint8_t desc[8] = { 0 };
	ssize_t n;

	n = vx_elf_find_note(img, "Xen", PVH_NOTE_ENTRY, 4, desc, sizeof(desc));
	if (n <= 0)
		return n;
	if (n != 4 && n != 8)
		return vx_fail(EINVAL, "%s: invalid PVH note: entry of %zd bytes (expected 4 or 8)",
			       img->path, n);
	*entry = 0;
	memcpy(entry, desc, n);
	if (*entry >= 0xffffffffull)
		return vx_fail(EINVAL, "%s: PVH entry %#llx is above 4 GiB", img->path,
			       (unsigned long long)*entry);
	return 1;
}

/* The initrd as the one module, as high in low RAM as it fits. */
static int pvh_initrd(struct vx_vm *vm, const char *path, uint64_t floor,
		      struct hvm_start_info *si)
{
	uint64_t low = vm->mem_size < PC_LOW_RAM_END ? vm->mem_size : PC_LOW_RAM_END;
	struct hvm_modlist_entry *mod = vx_gpa(vm, PVH_MODS_GPA, sizeof(*mod));
	struct stat st;
	uint64_t at;
	uint8_t *dst;
	int fd, e;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		e = fd < 0 ? errno : EINVAL;
		if (fd >= 0)
			close(fd);
		return vx_fail(e, "initrd %s: %s", path,
			       e == EINVAL ? "not a regular file" : strerror(e));
	}
	at = (low - st.st_size) & ~0xfffull;
	if ((uint64_t)st.st_size > low || at < floor) {
		close(fd);
		return vx_fail(ENOSPC, "initrd %s (%llu MiB) does not fit in guest RAM after the kernel; give --mem more",
			       path, (unsigned long long)(st.st_size >> 20));
	}
	dst = vx_gpa(vm, at, st.st_size);
	e = !dst || pread(fd, dst, st.st_size, 0) != st.st_size;
	close(fd);
	if (e)
		return vx_fail(EIO, "cannot read initrd %s", path);
	memset(mod, 0, sizeof(*mod));
	mod->paddr = at;
	mod->size = st.st_size;
	si->nr_modules = 1;
	si->modlist_paddr = PVH_MODS_GPA;
	return 0;
}

static int pvh_start_info(struct vx_vm *vm, const struct vx_boot *b, uint64_t end)
{
	struct hvm_start_info *si = vx_gpa(vm, PVH_INFO_GPA, sizeof(*si));
	struct hvm_memmap_entry *mm = vx_gpa(vm, PVH_MEMMAP_GPA, VX_E820_MAX * sizeof(*mm));
	const char *cmdline = b->cmdline ? b->cmdline : "";
	struct vx_e820_entry map[VX_E820_MAX];
	unsigned int i, n;
	char *cl;

	if (strlen(cmdline) >= PVH_CMDLINE_MAX)
		return vx_fail(E2BIG, "command line too long (max %d characters)",
			       PVH_CMDLINE_MAX - 1);
	cl = vx_gpa(vm, PVH_CMDLINE_GPA, strlen(cmdline) + 1);
	if (!si || !mm || !cl)
		return vx_fail(EINVAL, "guest RAM too small for the PVH start info");
	strcpy(cl, cmdline);
	memset(si, 0, sizeof(*si));
	si->magic = PVH_MAGIC;
	si->version = 1;
	si->cmdline_paddr = PVH_CMDLINE_GPA;
	n = vx_pc_e820(vm, map);
	for (i = 0; i < n; i++)
		mm[i] = (struct hvm_memmap_entry){ map[i].addr, map[i].size, map[i].type, 0 };
	si->memmap_paddr = PVH_MEMMAP_GPA;
	si->memmap_entries = n;
	return b->initrd ? pvh_initrd(vm, b->initrd, (end + 0xfff) & ~0xfffull, si) : 0;
}

int vx_pvh_load(struct vx_vm *vm, struct vx_elf_image *img, struct vx_boot *b)
{
	struct vsnix_sregs sregs = { 0 };
	struct vsnix_regs regs = { 0 };
	struct hvm_start_info *si;
	struct vx_pc pc = { 0 };
	uint64_t entry, end = 0;
	int r;

	r = vx_pvh_entry(img, &entry);
	if (r <= 0)
		return r ? r : vx_fail(EINVAL, "%s: no PVH entry note", img->path);
	if (b->mem_size < (32ull << 20))
		return vx_fail(EINVAL, "--mem must be at least 32 MiB for a Linux guest");
	r = vx_pc_ram(vm, b->mem_size);
	if (!r)
		r = vx_elf_load_segments(img, vm, PVH_KERNEL_MIN, &end);
	if (!r && end > PC_LOW_RAM_END)
		r = vx_fail(EINVAL, "%s: the kernel reaches above 3 GiB", img->path);
	if (!r)
		r = pvh_start_info(vm, b, end);
	if (!r)
		r = vx_pc_vcpus(vm, b, &pc);
	/* The PVH state: flat 32-bit segments, CR0.PE only, EBX the info. */
	if (!r)
		r = vx_write_flat_gdt(vm, PVH_GDT_GPA, false, &sregs);
	if (r)
		return r;
	si = vx_gpa(vm, PVH_INFO_GPA, sizeof(*si));
	si->rsdp_paddr = pc.rsdp;
	sregs.cr0 = 0x11;		/* PE | ET */
	regs.rip = entry;
	regs.rflags = 0x2;
	regs.rbx = PVH_INFO_GPA;
	return vx_vcpu_set_state(b->vcpu, &regs, &sregs);
}
